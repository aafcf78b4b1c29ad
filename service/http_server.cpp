#include "service/http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/zlib/inflate_stream.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>

namespace okuri::svc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A compressed body inflated, stopping as soon as it would pass `limit` bytes. Empty optional
// with `over` set: too large; without: not a valid stream.
std::optional<std::string> inflate(const std::string& in, bool gzip, std::size_t limit, bool& over) {
  std::size_t start = 0;
  if (gzip) {
    // RFC 1952's header, then a raw deflate stream (Beast's inflater reads raw deflate only).
    if (in.size() < 18 || static_cast<unsigned char>(in[0]) != 0x1f || static_cast<unsigned char>(in[1]) != 0x8b ||
        in[2] != 8) {
      return std::nullopt;
    }
    const auto flags = static_cast<unsigned char>(in[3]);
    start = 10;
    if (flags & 4) {  // FEXTRA
      if (start + 2 > in.size()) return std::nullopt;
      start += 2 + (static_cast<unsigned char>(in[start]) | static_cast<unsigned char>(in[start + 1]) << 8);
    }
    for (const unsigned bit : {8u, 16u}) {  // FNAME, FCOMMENT: zero-terminated
      if (flags & bit) {
        while (start < in.size() && in[start] != '\0') ++start;
        ++start;
      }
    }
    if (flags & 2) start += 2;  // FHCRC
    if (start >= in.size()) return std::nullopt;
  } else if (in.size() >= 2 && (static_cast<unsigned char>(in[0]) & 0x0f) == 8 &&
             ((static_cast<unsigned char>(in[0]) << 8) | static_cast<unsigned char>(in[1])) % 31 == 0) {
    start = 2;  // a zlib header (what `deflate` means in HTTP), before the raw stream
  }
  beast::zlib::inflate_stream z;
  z.reset(15);
  std::string out;
  char buf[16384];
  beast::zlib::z_params p;
  p.next_in = in.data() + start;
  p.avail_in = in.size() - start;
  while (true) {
    p.next_out = buf;
    p.avail_out = sizeof buf;
    beast::error_code ec;
    z.write(p, beast::zlib::Flush::sync, ec);
    const std::size_t made = sizeof buf - p.avail_out;
    if (out.size() + made > limit) {
      over = true;
      return std::nullopt;
    }
    out.append(buf, made);
    if (ec == beast::zlib::error::end_of_stream) return out;
    if (ec && ec != beast::zlib::error::need_buffers) return std::nullopt;
    if (made == 0 && p.avail_in == 0) return out;  // all input used: what it made is the body
    if (made == 0 && ec == beast::zlib::error::need_buffers) return std::nullopt;
  }
}

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

void HttpResponse::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (lower(k) == lower(name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

struct Route {
  std::string method;
  std::regex pattern;
  HttpServer::Handler handler;
};

struct HttpServer::Impl {
  Options opt;
  Reject reject;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<asio::thread_pool> handlers;
  std::vector<Route> routes;
  std::atomic<std::size_t> open{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<bool> stopping{false};
  std::vector<std::thread> io;

  void refuse(const std::string& why) {
    if (reject) reject(why);
  }

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) return;
        // Out of file descriptors (or another passing failure): try again shortly, not in a tight loop.
        auto later = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(50));
        later->async_wait([this, later](beast::error_code) { accept(); });
        return;
      }
      if (open.load() >= opt.max_connections) {
        // Past the cap: closed at once, before anything is read or allocated for it.
        ++refused;
        refuse("too_many_connections");
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
      } else {
        beast::error_code ignored;
        // An answer's header and body must not wait for the client's delayed ACK.
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(*this, std::move(socket))->start();
      }
      accept();
    });
  }

  static constexpr std::size_t kHeaderLimit = 16 * 1024;
  static constexpr std::size_t kMaxUnparsed = kHeaderLimit + 64 * 1024;

  struct Session : std::enable_shared_from_this<Session> {
    Impl& server;
    beast::tcp_stream stream;
    // What is read and not yet parsed: a header, a chunk's header line, a trailer section. Body
    // bytes move on into the body (limited by body_limit), so this bound holds every request,
    // and a chunk header line or trailers that never end fail the read instead of growing it.
    beast::flat_buffer buffer{kMaxUnparsed};
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> response;
    bool first = true;

    Session(Impl& s, tcp::socket socket) : server(s), stream(std::move(socket)) { ++server.open; }
    ~Session() { --server.open; }

    void start() {
      asio::dispatch(stream.get_executor(), [self = shared_from_this()] { self->read(); });
    }

    void read() {
      parser.emplace();
      parser->header_limit(kHeaderLimit);
      // A compressed body is limited again as it inflates; its compressed size is limited here.
      parser->body_limit(server.opt.max_body);
      // The whole request, header and body, within the deadline (a kept-alive connection first
      // waits for its next request up to the idle time). A slow client holds a socket, not a thread.
      stream.expires_after(std::chrono::seconds(first ? server.opt.request_seconds
                                                      : server.opt.idle_seconds + server.opt.request_seconds));
      first = false;
      http::async_read(stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) return close();
      if (ec == beast::error::timeout) {
        // A kept-alive connection that stays quiet is simply closed; one cut off mid-request is counted.
        if (parser->got_some()) server.refuse("timeout");
        return close();
      }
      if (ec == http::error::body_limit) {
        server.refuse("too_large");
        return answer_now(413, R"({"message":"the body is larger than the limit"})");
      }
      if (ec == http::error::buffer_overflow) {  // a chunk header line or trailers past kMaxUnparsed
        server.refuse("malformed");
        return answer_now(400, R"({"message":"a chunk's header line or the trailers are too long"})");
      }
      if (ec == http::error::header_limit) {
        server.refuse("malformed");
        return answer_now(431, R"({"message":"the request's header is too large"})");
      }
      if (ec) {
        if (parser->is_header_done() || buffer.size() > 0) {
          server.refuse("malformed");
          return answer_now(400, R"({"message":"the request could not be read"})");
        }
        return close();  // the client went away
      }
      stream.expires_never();  // the handler may wait for a commit; the write has its own deadline
      auto req = std::make_shared<HttpRequest>();
      auto msg = parser->release();
      req->method = std::string(msg.method_string());
      req->target = std::string(msg.target());
      req->path = req->target.substr(0, req->target.find('?'));
      for (const auto& f : msg) {
        req->headers[lower({f.name_string().data(), f.name_string().size()})] = std::string(f.value());
      }
      req->body = std::move(msg.body());
      const bool keep = msg.keep_alive();
      const std::string encoding = lower(req->header("Content-Encoding"));
      if (!encoding.empty() && encoding != "identity") {
        if (encoding != "gzip" && encoding != "x-gzip" && encoding != "deflate") {
          server.refuse("encoding");
          return answer_now(415, R"({"message":"unsupported Content-Encoding: gzip and deflate are read"})");
        }
        bool over = false;
        auto plain = inflate(req->body, encoding != "deflate", server.opt.max_body, over);
        if (!plain) {
          server.refuse(over ? "too_large" : "malformed");
          return answer_now(over ? 413 : 400, over ? R"({"message":"the body is larger than the limit"})"
                                                   : R"({"message":"the compressed body could not be inflated"})");
        }
        req->body = std::move(*plain);
      }
      // The handler runs on the handlers' pool; the answer is written back on this connection's strand.
      asio::post(*server.handlers, [self = shared_from_this(), req, keep] {
        HttpResponse res;
        self->server.dispatch(*req, res);
        asio::post(self->stream.get_executor(),
                   [self, res = std::move(res), keep, head = req->method == "HEAD"]() mutable {
                     self->write(std::move(res), keep, head);
                   });
      });
    }

    void answer_now(int status, std::string body) {
      HttpResponse res;
      res.status = status;
      res.set_content(std::move(body), "application/json");
      write(std::move(res), false, false);
    }

    void write(HttpResponse res, bool keep, bool head) {
      response = {};
      response.version(11);
      response.result(static_cast<unsigned>(res.status));
      response.set(http::field::server, "okuri");
      for (auto& [k, v] : res.headers) response.set(k, v);
      const bool close_after = !keep || server.stopping || res.status == 413;
      response.keep_alive(!close_after);
      if (head) {
        response.content_length(res.body.size());
      } else {
        response.body() = std::move(res.body);
        response.prepare_payload();
      }
      stream.expires_after(std::chrono::seconds(server.opt.request_seconds));
      if (head) {
        auto sr = std::make_shared<http::response_serializer<http::string_body>>(response);
        sr->split(true);
        http::async_write_header(stream, *sr,
                                 [self = shared_from_this(), sr, close_after](beast::error_code ec, std::size_t) {
                                   if (ec || close_after) return self->close();
                                   self->read();
                                 });
        return;
      }
      http::async_write(stream, response, [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
        if (ec || close_after) return self->close();
        self->read();
      });
    }

    // The answer is out; the client may still be sending (a body past the limit). Closing now
    // would reset the connection and could destroy the answer before the client reads it, so
    // what still arrives is read and dropped for a moment (nginx's lingering close), then closed.
    void close() {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream.expires_after(std::chrono::seconds(2));
      drain();
    }
    void drain() {
      auto sink = std::make_shared<std::array<char, 16384>>();
      stream.async_read_some(asio::buffer(*sink), [self = shared_from_this(), sink](beast::error_code ec, std::size_t) {
        if (ec) return self->stream.close();
        self->drain();
      });
    }
  };

  void dispatch(HttpRequest& req, HttpResponse& res) {
    const std::string method = req.method == "HEAD" ? "GET" : req.method;
    bool path_known = false;
    for (const auto& r : routes) {
      std::smatch m;
      if (!std::regex_match(req.path, m, r.pattern)) continue;
      path_known = true;
      if (r.method != method) continue;
      req.matches.assign(m.begin(), m.end());
      try {
        r.handler(req, res);
      } catch (const std::exception& e) {
        res = HttpResponse{};
        res.status = 500;
        res.set_content(R"({"message":"internal error"})", "application/json");
      }
      return;
    }
    res.status = path_known ? 405 : 404;
    res.set_content(path_known ? R"({"message":"method not allowed"})" : R"({"message":"not found"})",
                    "application/json");
  }
};

HttpServer::HttpServer(Options options, Reject reject) : impl_(std::make_unique<Impl>()) {
  impl_->opt = options;
  impl_->reject = std::move(reject);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string method, const std::string& pattern, Handler handler) {
  impl_->routes.push_back({std::move(method), std::regex(pattern), std::move(handler)});
}

int HttpServer::bind(const std::string& host, int port) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return -1;
  const tcp::endpoint at(address, static_cast<unsigned short>(port));
  impl_->acceptor.open(at.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(at, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->acceptor.close(ec);
    return -1;
  }
  return impl_->acceptor.local_endpoint().port();
}

void HttpServer::run() {
  Impl& m = *impl_;
  if (m.stopping) return;
  // Room for the connections allowed (each is a file descriptor), as far as the hard limit allows.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    const rlim_t want = static_cast<rlim_t>(m.opt.max_connections) + 256;
    if (files.rlim_cur < want) {
      files.rlim_cur = files.rlim_max == RLIM_INFINITY ? want : std::min(want, files.rlim_max);
      setrlimit(RLIMIT_NOFILE, &files);
    }
  }
  m.handlers = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(std::max(1, m.opt.handler_threads)));
  m.accept();
  auto work = asio::make_work_guard(m.ioc);
  for (int k = 1; k < std::max(1, m.opt.io_threads); ++k) m.io.emplace_back([&m] { m.ioc.run(); });
  m.ioc.run();
  for (auto& t : m.io) t.join();
  m.io.clear();
}

void HttpServer::stop() {
  Impl& m = *impl_;
  if (m.stopping.exchange(true)) return;
  // No new connections; the handlers running finish (they may be waiting for a commit), their
  // answers are written, then the loop ends.
  asio::post(m.ioc, [&m] {
    beast::error_code ignored;
    m.acceptor.close(ignored);
  });
  if (m.handlers) m.handlers->join();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the last answers' writes
  m.ioc.stop();
}

HttpServer::Counts HttpServer::counts() const { return {impl_->open.load(), impl_->refused.load()}; }

}  // namespace okuri::svc
