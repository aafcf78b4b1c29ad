// Drives `okuri lsp` as an editor would, over pipes, for two kinds of tests.
//
//   okuri_lsp_driver transcript OKURI SCRIPT EXPECTED [--update]
//     Runs the script (its commands are listed above run_transcript), prints every awaited
//     response and notification in a normalized form and compares the
//     result with EXPECTED (or rewrites EXPECTED with --update).
//
//   okuri_lsp_driver fuzz OKURI EXAMPLES_DIR SECONDS SEED
//     Random edit sequences (insertions of fragments of the example projects,
//     Japanese text included, and deletions) sent through didChange, with
//     requests in between; checks that every request is answered without an
//     internal error and that the diagnostics published last for the final
//     text equal those of `okuri check` on that text.
//
// Position conversions here are written independently of lsp/protocol.cpp,
// so that the two check each other.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string file_uri(const fs::path& p) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "file://";
  for (const unsigned char c : p.string()) {
    if (std::isalnum(c) != 0 || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

// ------------------------------------------------------------------ the server process

class Server {
 public:
  explicit Server(const std::string& okuri) {
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      execl(okuri.c_str(), okuri.c_str(), "lsp", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }
  ~Server() {
    if (in_ >= 0) close(in_);
    if (out_ >= 0) close(out_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  static std::string frame(const std::string& body) {
    return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  void write_raw(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(in_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) throw std::runtime_error("the server closed its input");
      done += static_cast<std::size_t>(n);
    }
  }
  void send(const Json& j) { write_raw(frame(j.dump())); }

  // The next message, or nullopt after `timeout`.
  std::optional<Json> next(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto m = parse_buffered()) return m;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Waits for a message matching `pred`; others are kept for later.
  std::optional<Json> wait_for(const std::function<bool(const Json&)>& pred, std::chrono::milliseconds timeout) {
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
      if (pred(*it)) {
        Json j = std::move(*it);
        kept_.erase(it);
        return j;
      }
    }
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto m = next(left);
      if (!m) return std::nullopt;
      if (pred(*m)) return m;
      kept_.push_back(std::move(*m));
    }
  }
  std::optional<Json> response(const Json& id) {
    return wait_for([&](const Json& j) { return j.contains("id") && j["id"] == id && !j.contains("method"); },
                    std::chrono::seconds(20));
  }
  // Drops kept messages that match `pred`.
  void drop(const std::function<bool(const Json&)>& pred) { std::erase_if(kept_, pred); }
  const std::deque<Json>& kept() const { return kept_; }

  // Closes the server's input and returns its exit status.
  int finish() {
    close(in_);
    in_ = -1;
    int status = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(10000);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  std::string buf_;
  std::deque<Json> kept_;

  std::optional<Json> parse_buffered() {
    const auto end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    const auto cl = buf_.find("Content-Length: ");
    if (cl != 0) throw std::runtime_error("bad header from the server: " + buf_.substr(0, 60));
    const std::size_t n = std::stoul(buf_.substr(16, end - 16));
    if (buf_.size() < end + 4 + n) return std::nullopt;
    Json j = Json::parse(buf_.substr(end + 4, n));
    buf_.erase(0, end + 4 + n);
    return j;
  }
};

// ------------------------------------------------------------------ printing

// JSON with short values (positions, ranges) on one line and longer objects one key per line,
// so that golden files stay short and diffs stay readable.
void pretty(const Json& j, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string pad2(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (j.is_structured()) {
    const std::string flat = j.dump(-1, ' ', false);
    if (flat.size() <= 100) {
      out += flat;
      return;
    }
  }
  if (j.is_object()) {
    if (j.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ",\n";
      first = false;
      out += pad2 + Json(it.key()).dump(-1, ' ', false) + ": ";
      pretty(it.value(), indent + 1, out);
    }
    out += "\n" + pad + "}";
  } else if (j.is_array()) {
    const bool flat = std::all_of(j.begin(), j.end(), [](const Json& x) { return !x.is_structured(); });
    if (flat) {
      out += j.dump(-1, ' ', false);
      return;
    }
    out += "[\n";
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i > 0) out += ",\n";
      out += pad2;
      pretty(j[i], indent + 1, out);
    }
    out += "\n" + pad + "]";
  } else {
    out += j.dump(-1, ' ', false);
  }
}

// ------------------------------------------------------------------ transcripts

// Script lines:
//   # comment
//   send JSON                 send a message; a request's response is awaited and printed
//   open FILE [VERSION]       didOpen of FILE of the project with its text on disk
//   change FILE VERSION JSON  didChange with the content changes JSON (an array)
//   diagnostics FILE VERSION  await publishDiagnostics of FILE for VERSION and print it
//   batch / end               the messages between are written in one piece; responses are awaited after `end`
//   raw TEXT                  write TEXT as it is (\r and \n are escapes), then await one response with id null
//   exit                      send `exit`, close the input and print the exit status
// $ROOT in a line stands for the project folder's URI.
int run_transcript(const std::string& okuri, const fs::path& script, const fs::path& expected, bool update) {
  const fs::path project = script.parent_path() / "project";
  const std::string root = file_uri(fs::absolute(project).lexically_normal());
  std::string out;
  Server server(okuri);
  std::vector<Json> batch;
  bool in_batch = false;
  std::string docs_prefix;

  auto normalize = [&](const Json& j) {
    std::string s;
    pretty(j, 0, s);
    replace_all(s, root, "$ROOT");
    // codeDescription links point into the source tree (or are relative): keep the code's page only.
    const std::string marker = "docs/diagnostics/";
    for (std::size_t pos = 0; (pos = s.find(marker, pos)) != std::string::npos;) {
      const std::size_t start = s.rfind('"', pos);
      s.replace(start + 1, pos + marker.size() - start - 1, "$DOCS/");
      pos = start + 7;
    }
    return s;
  };
  auto print = [&](const std::string& what, const Json& j) { out += "== " + what + "\n" + normalize(j) + "\n"; };
  auto await_response = [&](const Json& req) {
    auto r = server.response(req["id"]);
    if (!r) throw std::runtime_error("no response to " + req.dump());
    print(req.value("method", std::string("?")) + " #" + req["id"].dump(), *r);
  };
  auto submit = [&](const Json& j) {
    if (in_batch) {
      batch.push_back(j);
      return;
    }
    server.send(j);
    if (j.contains("id")) await_response(j);
  };

  std::ifstream in(script);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    replace_all(line, "$ROOT", root);
    std::istringstream ls(line);
    std::string cmd;
    ls >> cmd;
    std::string rest;
    std::getline(ls, rest);
    while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
    try {
      if (cmd == "send") {
        submit(Json::parse(rest));
      } else if (cmd == "open") {
        std::istringstream a(rest);
        std::string file;
        int version = 1;
        a >> file >> version;
        submit(Json{{"jsonrpc", "2.0"},
                    {"method", "textDocument/didOpen"},
                    {"params",
                     {{"textDocument",
                       {{"uri", root + "/" + file},
                        {"languageId", "okuri"},
                        {"version", version},
                        {"text", read_file(project / file)}}}}}});
      } else if (cmd == "change") {
        std::istringstream a(rest);
        std::string file;
        int version = 0;
        a >> file >> version;
        std::string changes;
        std::getline(a, changes);
        submit(Json{{"jsonrpc", "2.0"},
                    {"method", "textDocument/didChange"},
                    {"params",
                     {{"textDocument", {{"uri", root + "/" + file}, {"version", version}}},
                      {"contentChanges", Json::parse(changes)}}}});
      } else if (cmd == "diagnostics") {
        std::istringstream a(rest);
        std::string file;
        int version = 0;
        a >> file >> version;
        const std::string uri = root + "/" + file;
        auto d = server.wait_for(
            [&](const Json& j) {
              return j.value("method", "") == "textDocument/publishDiagnostics" && j["params"]["uri"] == uri &&
                     j["params"].value("version", -1) == version;
            },
            std::chrono::seconds(20));
        if (!d) throw std::runtime_error("no diagnostics for " + file + " version " + std::to_string(version));
        print("publishDiagnostics " + file + " v" + std::to_string(version), *d);
      } else if (cmd == "batch") {
        in_batch = true;
      } else if (cmd == "end") {
        in_batch = false;
        std::string bytes;
        for (const auto& j : batch) bytes += Server::frame(j.dump());
        server.write_raw(bytes);
        for (const auto& j : batch) {
          if (j.contains("id") && j.value("method", "") != "") await_response(j);
        }
        batch.clear();
      } else if (cmd == "raw") {
        replace_all(rest, "\\r", "\r");
        replace_all(rest, "\\n", "\n");
        server.write_raw(rest);
        auto r = server.wait_for([](const Json& j) { return j.contains("id") && j["id"].is_null(); },
                                 std::chrono::seconds(20));
        if (!r) throw std::runtime_error("no error response to raw input");
        print("raw", *r);
      } else if (cmd == "exit") {
        server.send(Json{{"jsonrpc", "2.0"}, {"method", "exit"}});
        out += "== exit status " + std::to_string(server.finish()) + "\n";
      } else {
        throw std::runtime_error("unknown command " + cmd);
      }
    } catch (const std::exception& e) {
      std::cerr << script.string() << ":" << lineno << ": " << e.what() << "\n";
      return 1;
    }
  }
  // Anything left that is not a diagnostics notification was not expected.
  server.drop([](const Json& j) { return j.value("method", "") == "textDocument/publishDiagnostics"; });
  for (const auto& j : server.kept()) print("unexpected", j);

  if (update) {
    std::ofstream(expected, std::ios::binary) << out;
    std::cout << "updated " << expected.string() << "\n";
    return 0;
  }
  const std::string want = read_file(expected);
  if (want == out) return 0;
  const fs::path actual = fs::temp_directory_path() / (expected.filename().string() + ".actual");
  std::ofstream(actual, std::ios::binary) << out;
  std::cerr << "transcript differs from " << expected.string() << "; actual output in " << actual.string() << "\n";
  std::string cmdline = "diff -u '" + expected.string() + "' '" + actual.string() + "' >&2";
  if (std::system(cmdline.c_str()) != 0) {
    // diff's status only says they differ
  }
  return 1;
}

// ------------------------------------------------------------------ fuzz

std::size_t char_len(const std::string& s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

// (line, character) of a byte offset at a character boundary. "\r\n" ends a
// line as a whole: an offset between its two bytes is the end of the line.
Json lsp_position(const std::string& text, std::size_t offset, bool utf8) {
  if (offset > 0 && offset < text.size() && text[offset] == '\n' && text[offset - 1] == '\r') --offset;
  std::size_t line = 0;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::size_t ch = 0;
  for (std::size_t i = line_start; i < offset;) {
    const std::size_t n = char_len(text, i);
    ch += utf8 ? n : (n == 4 ? 2 : 1);
    i += n;
  }
  return Json{{"line", line}, {"character", ch}};
}

// A byte offset moved back to the start of its character (and off the middle
// of a "\r\n", which no LSP position can name).
std::size_t boundary(const std::string& s, std::size_t i) {
  while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  if (i > 0 && i < s.size() && s[i] == '\n' && s[i - 1] == '\r') --i;
  return i;
}

struct Fuzz {
  std::string okuri;
  std::mt19937 rng;
  std::vector<std::string> corpus;  // texts fragments are cut from
  int failures = 0;

  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }

  std::string fragment() {
    static const char* const kExtra[] = {
        "🎉",       "𠮷野家", "予約",           "\n",        "{",      "}", "(",     "\"",       "send ", "on ",
        "tagged(", "# ",     "scenario x {\n", "wait 1d\n", "event.", "=", " and ", "[tokyo, ", "\r\n"};
    if (pick(4) == 0) return kExtra[pick(std::size(kExtra))];
    const std::string& src = corpus[pick(corpus.size())];
    std::size_t b = boundary(src, pick(src.size()));
    std::size_t e = boundary(src, std::min(src.size(), b + 1 + pick(40)));
    if (e <= b) e = std::min(src.size(), b + char_len(src, b));
    return src.substr(b, e - b);
  }

  // `okuri check --format json` on the folder, the entries of `file`, as (code, message, range) in LSP positions.
  std::vector<std::string> check(const fs::path& dir, const std::string& file, const std::string& text, bool utf8) {
    const fs::path out = dir.parent_path() / "check.json";
    const std::string cmd =
        "'" + okuri + "' check --format json '" + dir.string() + "' > '" + out.string() + "' 2>/dev/null";
    const int rc = std::system(cmd.c_str());
    static_cast<void>(rc);  // 1 when there are errors
    std::vector<std::string> res;
    const Json all = Json::parse(read_file(out));
    for (const auto& d : all) {
      if (fs::path(d["file"].get<std::string>()).filename() != file) continue;
      // Columns of `okuri check` count code points; convert to LSP positions.
      auto to_offset = [&](std::size_t line, std::size_t col) {
        std::size_t i = 0;
        for (std::size_t l = 1; l < line && i < text.size(); ++i) {
          if (text[i] == '\n') ++l;
        }
        for (std::size_t c = 1; c < col && i < text.size() && text[i] != '\n'; ++c) i += char_len(text, i);
        return i;
      };
      const auto b = to_offset(d["line"], d["column"]);
      const auto e = to_offset(d["end_line"], d["end_column"]);
      res.push_back(d["code"].get<std::string>() + " " + d["message"].get<std::string>() + " " +
                    lsp_position(text, b, utf8).dump() + lsp_position(text, e, utf8).dump());
    }
    std::sort(res.begin(), res.end());
    return res;
  }

  bool round(const fs::path& example, std::size_t edits, bool utf8, const fs::path& work) {
    fs::remove_all(work);
    fs::create_directories(work.parent_path());
    fs::copy(example, work, fs::copy_options::recursive);
    std::vector<std::string> okuri_files;
    for (const auto& e : fs::directory_iterator(work)) {
      if (e.path().extension() == ".okuri") okuri_files.push_back(e.path().filename().string());
    }
    std::sort(okuri_files.begin(), okuri_files.end());
    const std::string file = okuri_files[pick(okuri_files.size())];
    const std::string uri = file_uri(work / file);
    std::string text = read_file(work / file);

    Server server(okuri);
    int next_id = 1;
    auto request = [&](const std::string& method, const Json& params) {
      const int id = next_id++;
      server.send(Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
      return id;
    };
    Json caps = Json::object();
    if (utf8) caps = Json{{"general", {{"positionEncodings", {"utf-8", "utf-16"}}}}};
    const int init = request("initialize", Json{{"capabilities", caps}});
    auto r = server.response(init);
    if (!r || (*r)["result"]["capabilities"]["positionEncoding"] != (utf8 ? "utf-8" : "utf-16")) {
      std::cerr << "fuzz: initialize failed\n";
      return false;
    }
    server.send(Json{{"jsonrpc", "2.0"}, {"method", "initialized"}, {"params", Json::object()}});
    server.send(
        Json{{"jsonrpc", "2.0"},
             {"method", "textDocument/didOpen"},
             {"params", {{"textDocument", {{"uri", uri}, {"languageId", "okuri"}, {"version", 1}, {"text", text}}}}}});
    std::vector<int> pending;
    int version = 1;
    static const char* const kRequests[] = {
        "textDocument/hover",      "textDocument/completion",     "textDocument/definition",
        "textDocument/references", "textDocument/documentSymbol", "textDocument/semanticTokens/full",
        "textDocument/formatting", "textDocument/codeAction",     "textDocument/prepareRename"};
    for (std::size_t n = 0; n < edits; ++n) {
      // An edit: delete a range, insert a fragment, or both.
      const std::size_t b = boundary(text, pick(text.size() + 1));
      std::size_t e = b;
      if (pick(2) == 0 && b < text.size()) e = boundary(text, std::min(text.size(), b + 1 + pick(30)));
      if (e < b) e = b;
      std::string ins = pick(3) == 0 ? std::string() : fragment();
      const Json range{{"start", lsp_position(text, b, utf8)}, {"end", lsp_position(text, e, utf8)}};
      text.replace(b, e - b, ins);
      ++version;
      server.send(Json{{"jsonrpc", "2.0"},
                       {"method", "textDocument/didChange"},
                       {"params",
                        {{"textDocument", {{"uri", uri}, {"version", version}}},
                         {"contentChanges", Json::array({Json{{"range", range}, {"text", ins}}})}}}});
      if (pick(4) == 0) {
        const std::string method = kRequests[pick(std::size(kRequests))];
        const Json pos = lsp_position(text, boundary(text, pick(text.size() + 1)), utf8);
        Json params{{"textDocument", {{"uri", uri}}}};
        if (method == "textDocument/codeAction") {
          params["range"] = Json{{"start", pos}, {"end", pos}};
          params["context"] = Json{{"diagnostics", Json::array()}};
        } else if (method != "textDocument/documentSymbol" && method != "textDocument/semanticTokens/full" &&
                   method != "textDocument/formatting") {
          params["position"] = pos;
        }
        if (method == "textDocument/formatting") params["options"] = Json{{"tabSize", 2}, {"insertSpaces", true}};
        if (method == "textDocument/references") params["context"] = Json{{"includeDeclaration", true}};
        pending.push_back(request(method, params));
        if (pick(5) == 0)
          server.send(Json{{"jsonrpc", "2.0"}, {"method", "$/cancelRequest"}, {"params", {{"id", pending.back()}}}});
      }
      if (pick(25) == 0) usleep(static_cast<useconds_t>(20000 + pick(60000)));  // let a debounced check run
    }
    bool ok = true;
    for (const int id : pending) {
      auto resp = server.response(id);
      if (!resp) {
        std::cerr << "fuzz: no answer to request " << id << "\n";
        ok = false;
      } else if (resp->contains("error") && (*resp)["error"]["code"] != -32800 && (*resp)["error"]["code"] != -32803) {
        std::cerr << "fuzz: request " << id << " failed: " << resp->dump() << "\n";
        ok = false;
      }
    }
    auto last = server.wait_for(
        [&](const Json& j) {
          return j.value("method", "") == "textDocument/publishDiagnostics" && j["params"]["uri"] == uri &&
                 j["params"].value("version", -1) == version;
        },
        std::chrono::seconds(20));
    // Nothing may follow: the diagnostics of the final version must stay the last ones published.
    server.drop([&](const Json& j) { return j.value("method", "") == "textDocument/publishDiagnostics"; });
    const int after = request("textDocument/hover",
                              Json{{"textDocument", {{"uri", uri}}}, {"position", {{"line", 0}, {"character", 0}}}});
    if (!server.response(after)) ok = false;
    for (const auto& j : server.kept()) {
      if (j.value("method", "") == "textDocument/publishDiagnostics" && j["params"]["uri"] == uri &&
          j["params"].value("version", -1) != version) {
        std::cerr << "fuzz: stale diagnostics published after the final ones: " << j.dump() << "\n";
        ok = false;
      }
    }
    if (!last) {
      std::cerr << "fuzz: no diagnostics for the final version " << version << "\n";
      ok = false;
    } else {
      std::vector<std::string> got;
      for (const auto& d : (*last)["params"]["diagnostics"]) {
        got.push_back(d["code"].get<std::string>() + " " + d["message"].get<std::string>() + " " +
                      d["range"]["start"].dump() + d["range"]["end"].dump());
      }
      std::sort(got.begin(), got.end());
      std::ofstream(work / file, std::ios::binary) << text;
      const auto want = check(work, file, text, utf8);
      if (got != want) {
        std::cerr << "fuzz: published diagnostics differ from okuri check for " << file << "\n--- okuri check\n";
        for (const auto& w : want) std::cerr << w << "\n";
        std::cerr << "--- published\n";
        for (const auto& g : got) std::cerr << g << "\n";
        ok = false;
      }
    }
    const int shut = request("shutdown", nullptr);
    if (!server.response(shut)) ok = false;
    server.send(Json{{"jsonrpc", "2.0"}, {"method", "exit"}});
    if (server.finish() != 0) {
      std::cerr << "fuzz: the server did not exit cleanly\n";
      ok = false;
    }
    if (!ok) {
      const fs::path keep = work.parent_path() / ("failed-" + file);
      std::ofstream(keep, std::ios::binary) << text;
      std::cerr << "fuzz: final text kept in " << keep.string() << "\n";
    }
    return ok;
  }
};

int run_fuzz(const std::string& okuri, const fs::path& examples, double seconds, unsigned seed) {
  Fuzz f{okuri, std::mt19937(seed), {}, 0};
  std::vector<fs::path> projects;
  for (const auto& e : fs::directory_iterator(examples)) {
    if (!e.is_directory()) continue;
    projects.push_back(e.path());
    for (const auto& x : fs::directory_iterator(e.path())) {
      if (x.path().extension() == ".okuri") f.corpus.push_back(read_file(x.path()));
    }
  }
  std::sort(projects.begin(), projects.end());
  if (projects.empty() || f.corpus.empty()) {
    std::cerr << "fuzz: no example projects in " << examples.string() << "\n";
    return 1;
  }
  const fs::path work = fs::temp_directory_path() / ("okuri-lsp-fuzz-" + std::to_string(getpid()));
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  int rounds = 0;
  int failed = 0;
  do {
    const bool utf8 = rounds % 2 == 1;
    const fs::path project = projects[f.pick(projects.size())];
    if (!f.round(project, 40 + f.pick(120), utf8, work / "project")) ++failed;
    ++rounds;
  } while (std::chrono::steady_clock::now() < until && failed == 0);
  if (failed == 0) fs::remove_all(work);
  std::cout << "fuzz: " << rounds << " rounds, " << failed << " failed (seed " << seed << ")\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() >= 4 && args[0] == "transcript") {
      return run_transcript(args[1], args[2], args[3], args.size() > 4 && args[4] == "--update");
    }
    if (args.size() >= 5 && args[0] == "fuzz")
      return run_fuzz(args[1], args[2], std::stod(args[3]), static_cast<unsigned>(std::stoul(args[4])));
  } catch (const std::exception& e) {
    std::cerr << "okuri_lsp_driver: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: okuri_lsp_driver transcript OKURI SCRIPT EXPECTED [--update]\n"
               "       okuri_lsp_driver fuzz OKURI EXAMPLES_DIR SECONDS SEED\n";
  return 2;
}
