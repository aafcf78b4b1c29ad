// The service's HTTP server (Boost.Beast on Asio): connections are read asynchronously, so a
// slow or idle client holds a socket, never a thread. Each request — its header and its body
// together — must arrive within a deadline; bodies are limited whatever their transfer encoding
// (chunked included) and, when compressed, while they inflate; connections beyond a cap are
// closed as they arrive. Only a request read whole reaches a handler, on a pool of threads of
// its own (handlers may wait for a commit).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace okuri::svc {

struct HttpRequest {
  std::string method;                               // GET, POST, HEAD …
  std::string target;                               // as sent: /l/abc?utm=x
  std::string path;                                 // the target without its query
  std::map<std::string, std::string> headers;       // names in lower case
  std::string body;                                 // inflated when it came compressed
  std::vector<std::string> matches;                 // the route pattern's groups (matches[1] is the first)
  std::string header(std::string_view name) const;  // empty when absent (any case)
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  void set_content(std::string b, std::string type) {
    body = std::move(b);
    set_header("Content-Type", std::move(type));
  }
  void set_header(std::string name, std::string value);
};

class HttpServer {
 public:
  struct Options {
    std::size_t max_body = 1 << 20;      // bytes, as the handler sees them (after inflation)
    int request_seconds = 10;            // a request's header and body must arrive within this
    int idle_seconds = 60;               // a kept-alive connection waits this long for its next request
    std::size_t max_connections = 4096;  // beyond: closed as they arrive
    int handler_threads = 16;            // requests handled at once (the rest wait, read whole)
    int io_threads = 1;
  };
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
  // Why a request never reached a handler: too_large, malformed, timeout, too_many_connections, encoding.
  using Reject = std::function<void(const std::string& why)>;

  HttpServer(Options options, Reject reject);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern`: an ECMAScript regular expression the whole path must match; its groups become
  // HttpRequest::matches. GET routes answer HEAD too (without the body).
  void route(std::string method, const std::string& pattern, Handler handler);
  // Binds (port 0: any free port); returns the port, or -1.
  int bind(const std::string& host, int port);
  // Serves until stop(); then waits for the handlers running.
  void run();
  // Safe from any thread, also before run().
  void stop();

  struct Counts {
    std::size_t connections = 0;  // open now
    std::uint64_t refused = 0;    // closed at the cap
  };
  Counts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace okuri::svc
