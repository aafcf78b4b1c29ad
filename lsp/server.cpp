#include "lsp/server.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "compiler/incremental.hpp"
#include "compiler/query.hpp"
#include "compiler/workspace.hpp"
#include "lsp/features.hpp"
#include "lsp/protocol.hpp"

namespace okuri::lsp {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Document {
  std::string uri;
  std::string path;  // the path the Program shows (a file path, or the URI for other schemes)
  std::string text;
  std::int64_t version = 0;
};

// The open documents at one moment. Immutable once published.
struct Snapshot {
  std::map<std::string, std::shared_ptr<const Document>> by_uri;
  std::uint64_t generation = 0;

  const Document* find_path(const std::string& path) const {
    for (const auto& [uri, d] : by_uri) {
      if (d->path == path) return d.get();
    }
    return nullptr;
  }
};

// What a project compile reads: the folder and every file's text.
struct ProjectInputs {
  std::string root;
  std::vector<std::pair<std::string, std::string>> files;  // sorted by path
  std::map<std::string, std::int64_t> versions;            // open documents among them
  friend bool operator==(const ProjectInputs& a, const ProjectInputs& b) {
    return a.root == b.root && a.files == b.files;
  }
};

struct Compiled {
  std::shared_ptr<const Program> program;
  std::shared_ptr<const Program> last_good;
  ProjectInputs inputs;
};

struct Job {
  Json id;
  std::string method;
  Json params;
  std::shared_ptr<const Snapshot> snapshot;
};

bool has_any_syntax_error(const Program& p) {
  for (const auto& d : p.diags.all()) {
    if (d.code == Code::E001) return true;
  }
  return false;
}

}  // namespace

struct Server::Impl {
  Transport& io;
  ServerOptions opts;
  PositionEncoding enc = PositionEncoding::Utf16;

  // Lifecycle (reader thread only, except shutdown_requested which workers read).
  bool initialized = false;
  std::atomic<bool> shutdown_requested{false};

  // Documents.
  std::mutex docs_mu;
  std::shared_ptr<const Snapshot> snapshot = std::make_shared<Snapshot>();

  // Compiled programs, shared by both workers.
  std::mutex cache_mu;
  std::deque<std::pair<ProjectInputs, std::shared_ptr<const Program>>> cache;  // most recent first
  std::map<std::string, std::shared_ptr<const Program>> latest;                // by project key
  std::map<std::string, std::shared_ptr<const Program>> last_good;             // by project key
  struct DiskFile {
    std::int64_t mtime = 0;
    std::int64_t size = -1;
    std::string text;
  };
  std::map<std::string, DiskFile> disk;
  // The diagnostics worker's incremental compilers, by project key (that thread only).
  std::map<std::string, std::unique_ptr<IncrementalCompiler>> incremental;

  // Requests.
  std::mutex jobs_mu;
  std::condition_variable jobs_cv;
  std::deque<Job> jobs;
  std::set<std::string> pending_ids;
  std::set<std::string> cancelled_ids;

  // Diagnostics.
  std::mutex diag_mu;
  std::condition_variable diag_cv;
  std::set<std::string> dirty;  // project keys
  Clock::time_point deadline{};
  std::map<std::string, std::set<std::string>> published;  // project key → URIs with diagnostics shown

  std::atomic<bool> stopping{false};
  std::thread request_thread;
  std::thread diag_thread;

  Impl(Transport& t, ServerOptions o) : io(t), opts(std::move(o)) {}

  void log(const std::string& s) { io.log_line(s); }
  void send(const std::string& body) { io.write(body); }

  // ---------------------------------------------------------------- projects

  static std::string path_of_uri(const std::string& uri) {
    if (auto p = uri_to_path(uri)) return fs::path(*p).lexically_normal().string();
    return uri;
  }

  static std::string project_key(const std::string& path) {
    if (path.empty() || path.front() != '/') return path;  // not a file: a project of its own
    return fs::path(path).parent_path().string();
  }

  std::string read_disk(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    {
      std::lock_guard lock(cache_mu);
      auto it = disk.find(path);
      if (it != disk.end() && it->second.mtime == mtime && it->second.size == st.st_size) return it->second.text;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::lock_guard lock(cache_mu);
    disk[path] = DiskFile{mtime, static_cast<std::int64_t>(st.st_size), ss.str()};
    return disk[path].text;
  }

  ProjectInputs gather(const Snapshot& snap, const std::string& key) {
    ProjectInputs in;
    std::vector<std::string> paths;
    std::error_code ec;
    if (!key.empty() && key.front() == '/' && fs::is_directory(key, ec)) {
      in.root = key;
      try {
        paths = project_files(key);
      } catch (const LoadError&) {
      }
    } else {
      in.root = ".";
    }
    std::set<std::string> seen;
    for (const auto& p : paths) {
      const std::string norm = fs::path(p).lexically_normal().string();
      seen.insert(norm);
      if (const Document* d = snap.find_path(norm)) {
        in.files.emplace_back(norm, d->text);
        in.versions[norm] = d->version;
      } else {
        in.files.emplace_back(norm, read_disk(norm));
      }
    }
    // Open documents of the folder that are not on disk (yet).
    for (const auto& [uri, d] : snap.by_uri) {
      if (project_key(d->path) != key || seen.count(d->path) != 0) continue;
      in.files.emplace_back(d->path, d->text);
      in.versions[d->path] = d->version;
    }
    std::sort(in.files.begin(), in.files.end());
    return in;
  }

  // `recheck`: the diagnostics worker's re-check, which compiles incrementally
  // from that project's previous re-check (same result as compile_sources).
  Compiled compile(const Snapshot& snap, const std::string& key, bool recheck = false) {
    Compiled c;
    c.inputs = gather(snap, key);
    {
      std::lock_guard lock(cache_mu);
      for (auto it = cache.begin(); it != cache.end(); ++it) {
        if (it->first == c.inputs) {
          c.program = it->second;
          break;
        }
      }
    }
    if (!c.program) {
      std::shared_ptr<const Program> p;
      if (recheck) {
        auto& inc = incremental[key];
        if (!inc) inc = std::make_unique<IncrementalCompiler>();
        p = inc->compile(c.inputs.root, c.inputs.files);
      } else {
        p = compile_sources(c.inputs.root, c.inputs.files);
      }
      std::lock_guard lock(cache_mu);
      cache.emplace_front(c.inputs, p);
      if (cache.size() > 8) cache.pop_back();
      c.program = std::move(p);
    }
    std::lock_guard lock(cache_mu);
    latest[key] = c.program;
    if (!has_any_syntax_error(*c.program)) last_good[key] = c.program;
    auto lg = last_good.find(key);
    if (lg != last_good.end()) c.last_good = lg->second;
    return c;
  }

  std::string uri_of(const Snapshot& snap, const std::string& path) const {
    if (const Document* d = snap.find_path(path)) return d->uri;
    if (!path.empty() && path.front() == '/') return path_to_uri(path);
    return path;
  }

  Converter converter(const Snapshot& snap, const Program& p) {
    return Converter(
        enc,
        [&p](const std::string& path) -> std::string_view {
          if (auto i = query::file_index(p, path)) return p.sources.file(*i).text;
          return {};
        },
        [this, &snap](const std::string& path) { return uri_of(snap, path); });
  }

  // ---------------------------------------------------------------- reader

  std::shared_ptr<const Snapshot> current_snapshot() {
    std::lock_guard lock(docs_mu);
    return snapshot;
  }

  // Replaces one document (or removes it when `doc` is null) and returns its project.
  std::string update_document(const std::string& uri, std::shared_ptr<const Document> doc) {
    std::string key;
    {
      std::lock_guard lock(docs_mu);
      auto next = std::make_shared<Snapshot>(*snapshot);
      next->generation++;
      auto it = next->by_uri.find(uri);
      key = project_key(doc ? doc->path : it != next->by_uri.end() ? it->second->path : path_of_uri(uri));
      if (doc) {
        next->by_uri[uri] = std::move(doc);
      } else if (it != next->by_uri.end()) {
        next->by_uri.erase(it);
      }
      snapshot = std::move(next);
    }
    schedule_check(key);
    return key;
  }

  void schedule_check(const std::string& key) {
    std::lock_guard lock(diag_mu);
    dirty.insert(key);
    deadline = Clock::now() + opts.debounce;
    diag_cv.notify_all();
  }

  void did_open(const Json& params) {
    auto p = parse_did_open(params);
    auto d = std::make_shared<Document>();
    d->uri = p.uri;
    d->path = path_of_uri(p.uri);
    d->text = std::move(p.text);
    d->version = p.version;
    update_document(p.uri, std::move(d));
  }

  void did_change(const Json& params) {
    auto p = parse_did_change(params);
    std::shared_ptr<const Document> old;
    {
      std::lock_guard lock(docs_mu);
      auto it = snapshot->by_uri.find(p.uri);
      if (it != snapshot->by_uri.end()) old = it->second;
    }
    if (!old) {
      log("didChange for a document that is not open: " + p.uri);
      return;
    }
    auto d = std::make_shared<Document>(*old);
    for (const auto& c : p.changes) apply_change(d->text, c, enc);
    d->version = p.version;
    update_document(p.uri, std::move(d));
  }

  void did_close(const Json& params) { update_document(parse_document_uri(params), nullptr); }

  void recheck_all() {
    auto snap = current_snapshot();
    std::set<std::string> keys;
    for (const auto& [uri, d] : snap->by_uri) keys.insert(project_key(d->path));
    for (const auto& k : keys) schedule_check(k);
  }

  void handle_notification(const Message& m) {
    if (m.method == "$/cancelRequest") {
      const std::string key = id_key(parse_cancel_id(m.params));
      std::lock_guard lock(jobs_mu);
      if (pending_ids.count(key) != 0) cancelled_ids.insert(key);
      return;
    }
    if (!initialized) return;  // notifications before initialize are dropped
    if (m.method == "textDocument/didOpen") {
      did_open(m.params);
    } else if (m.method == "textDocument/didChange") {
      did_change(m.params);
    } else if (m.method == "textDocument/didClose") {
      did_close(m.params);
    } else if (m.method == "textDocument/didSave" || m.method == "workspace/didChangeWatchedFiles") {
      recheck_all();
    }
    // initialized, $/setTrace, workspace/didChangeConfiguration, …: nothing to do.
  }

  // Returns false when the request was answered at once.
  bool admit_request(const Message& m, std::vector<Job>& batch) {
    if (m.method == "initialize") {
      if (initialized) {
        send(error_response(m.id, error_code::kInvalidRequest, "initialize was already called"));
        return false;
      }
      const auto p = parse_initialize(m.params);
      enc = p.client_offers_utf8 ? PositionEncoding::Utf8 : PositionEncoding::Utf16;
      initialized = true;
      send(response(m.id, initialize_result(enc)));
      return false;
    }
    if (!initialized) {
      send(error_response(m.id, error_code::kServerNotInitialized, "the server is not initialized"));
      return false;
    }
    if (shutdown_requested) {
      send(error_response(m.id, error_code::kInvalidRequest, "the server is shutting down"));
      return false;
    }
    if (m.method == "shutdown") shutdown_requested = true;
    {
      std::lock_guard lock(jobs_mu);
      pending_ids.insert(id_key(m.id));
    }
    batch.push_back(Job{m.id, m.method, m.params, current_snapshot()});
    return true;
  }

  int run() {
    request_thread = std::thread([this] { request_loop(); });
    diag_thread = std::thread([this] { diagnostics_loop(); });
    int exit_code = 1;
    bool done = false;
    while (!done) {
      // Read every message that is already available before queueing the
      // requests among them, so that a cancellation sent right after a
      // request is always seen before that request starts.
      std::vector<Job> batch;
      bool first = true;
      while (!done && (first || (io.input_pending() && batch.size() < 64))) {
        first = false;
        auto r = io.read();
        if (r.status == Transport::ReadStatus::Eof) {
          done = true;
          break;
        }
        if (r.status == Transport::ReadStatus::Malformed) {
          send(error_response(nullptr, error_code::kParseError, r.error));
          continue;
        }
        Message m;
        try {
          m = parse_message(r.body);
        } catch (const ProtocolError& e) {
          log(std::string("bad message: ") + e.what());
          send(error_response(nullptr, e.code, e.what()));
          continue;
        }
        try {
          if (m.kind == Message::Kind::Response) continue;  // this server sends no requests
          if (m.kind == Message::Kind::Notification) {
            if (m.method == "exit") {
              exit_code = shutdown_requested ? 0 : 1;
              done = true;
              break;
            }
            handle_notification(m);
          } else {
            admit_request(m, batch);
          }
        } catch (const ProtocolError& e) {
          log(m.method + ": " + e.what());
          if (m.kind == Message::Kind::Request) send(error_response(m.id, e.code, e.what()));
        } catch (const std::exception& e) {
          log(m.method + ": internal error: " + e.what());
          if (m.kind == Message::Kind::Request) send(error_response(m.id, error_code::kInternalError, e.what()));
        }
      }
      if (!batch.empty()) {
        std::lock_guard lock(jobs_mu);
        for (auto& j : batch) jobs.push_back(std::move(j));
        jobs_cv.notify_all();
      }
    }
    stop();
    return exit_code;
  }

  void stop() {
    stopping = true;
    {
      std::lock_guard lock(jobs_mu);
      jobs_cv.notify_all();
    }
    {
      std::lock_guard lock(diag_mu);
      diag_cv.notify_all();
    }
    if (request_thread.joinable()) request_thread.join();
    if (diag_thread.joinable()) diag_thread.join();
  }

  // ---------------------------------------------------------------- request worker

  bool is_cancelled(const Json& id) {
    std::lock_guard lock(jobs_mu);
    return cancelled_ids.count(id_key(id)) != 0;
  }

  void finish(const Job& j, const std::string& body) {
    {
      std::lock_guard lock(jobs_mu);
      const auto key = id_key(j.id);
      const bool cancelled = cancelled_ids.erase(key) != 0;
      pending_ids.erase(key);
      if (cancelled) {
        send(error_response(j.id, error_code::kRequestCancelled, "the request was cancelled"));
        return;
      }
    }
    send(body);
  }

  void request_loop() {
    for (;;) {
      Job j;
      {
        std::unique_lock lock(jobs_mu);
        jobs_cv.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;  // stopping, and nothing left to answer
        j = std::move(jobs.front());
        jobs.pop_front();
      }
      if (is_cancelled(j.id)) {
        finish(j, {});
        continue;
      }
      std::string body;
      try {
        body = response(j.id, handle_request(j));
      } catch (const ProtocolError& e) {
        body = error_response(j.id, e.code, e.what());
      } catch (const std::exception& e) {
        log(j.method + ": internal error: " + e.what());
        body = error_response(j.id, error_code::kInternalError, e.what());
      }
      finish(j, body);
    }
  }

  struct DocContext {
    std::string key;
    std::string path;
    Compiled compiled;
    DocumentView view;
  };

  // Compiles the project of a document (or reuses the cached compile of the same texts).
  std::optional<DocContext> document(const Snapshot& snap, const std::string& uri) {
    DocContext c;
    auto it = snap.by_uri.find(uri);
    c.path = it != snap.by_uri.end() ? it->second->path : path_of_uri(uri);
    c.key = project_key(c.path);
    c.compiled = compile(snap, c.key);
    auto idx = query::file_index(*c.compiled.program, c.path);
    if (!idx) return std::nullopt;
    c.view = DocumentView{c.compiled.program.get(), c.compiled.last_good.get(), *idx};
    return c;
  }

  std::uint32_t offset_in(const DocContext& c, Position pos) {
    const LineIndex idx(c.compiled.program->sources.file(c.view.file).text);
    return idx.offset(pos, enc);
  }

  // A request at a position of a document, as most features take it: the document's compile,
  // the offset of the position, and the converter back to LSP positions.
  struct At {
    DocContext c;
    std::uint32_t offset = 0;
    Converter conv;
  };
  std::optional<At> at(const Snapshot& snap, const Json& params) {
    const auto p = parse_document_position(params);
    auto c = document(snap, p.uri);
    if (!c) return std::nullopt;
    const std::uint32_t offset = offset_in(*c, p.position);
    Converter conv = converter(snap, *c->compiled.program);
    return At{std::move(*c), offset, std::move(conv)};
  }

  // One request method: the Job's params in, the result out (ProtocolError for a failure).
  using Method = Json (Impl::*)(const Snapshot&, const Job&);
  static const std::map<std::string, Method, std::less<>>& methods() {
    static const std::map<std::string, Method, std::less<>> table = {
        {"shutdown", &Impl::on_shutdown},
        {"textDocument/hover", &Impl::on_hover},
        {"textDocument/definition", &Impl::on_definition},
        {"textDocument/references", &Impl::on_references},
        {"textDocument/prepareRename", &Impl::on_prepare_rename},
        {"textDocument/rename", &Impl::on_rename},
        {"textDocument/documentSymbol", &Impl::on_document_symbol},
        {"textDocument/formatting", &Impl::on_formatting},
        {"textDocument/completion", &Impl::completion},
        {"textDocument/semanticTokens/full", &Impl::on_semantic_tokens},
        {"textDocument/codeAction", &Impl::on_code_action},
    };
    return table;
  }

  Json handle_request(const Job& j) {
    const auto it = methods().find(j.method);
    if (it == methods().end()) throw ProtocolError(error_code::kMethodNotFound, "unknown method " + j.method);
    return (this->*(it->second))(*j.snapshot, j);
  }

  Json on_shutdown(const Snapshot&, const Job&) { return nullptr; }

  Json on_hover(const Snapshot& snap, const Job& j) {
    auto a = at(snap, j.params);
    return a ? hover_json(a->conv, a->c.path, hover(a->c.view, a->offset)) : Json(nullptr);
  }

  Json on_definition(const Snapshot& snap, const Job& j) {
    auto a = at(snap, j.params);
    return a ? location_json(a->conv, definition(a->c.view, a->offset)) : Json(nullptr);
  }

  Json on_references(const Snapshot& snap, const Job& j) {
    auto a = at(snap, j.params);
    return a ? locations_json(a->conv, references(a->c.view, a->offset, parse_include_declaration(j.params)))
             : Json(nullptr);
  }

  Json on_prepare_rename(const Snapshot& snap, const Job& j) {
    auto a = at(snap, j.params);
    if (!a) return nullptr;
    const auto t = prepare_rename(a->c.view, a->offset);
    if (!t.error.empty()) throw ProtocolError(error_code::kRequestFailed, t.error);
    return prepare_rename_json(a->conv, a->c.path, t);
  }

  Json on_rename(const Snapshot& snap, const Job& j) {
    const auto new_name = parse_new_name(j.params);
    auto a = at(snap, j.params);
    if (!a) return nullptr;
    const auto r = rename(a->c.view, a->offset, new_name);
    if (!r.error.empty()) throw ProtocolError(error_code::kRequestFailed, r.error);
    return workspace_edit_json(a->conv, r.files);
  }

  Json on_document_symbol(const Snapshot& snap, const Job& j) {
    auto c = document(snap, parse_document_uri(j.params));
    if (!c) return nullptr;
    auto conv = converter(snap, *c->compiled.program);
    return document_symbols_json(conv, c->path, document_symbols(c->view));
  }

  // Formatting reads the document's own text: it needs no compile.
  Json on_formatting(const Snapshot& snap, const Job& j) {
    const std::string uri = parse_document_uri(j.params);
    auto it = snap.by_uri.find(uri);
    if (it == snap.by_uri.end()) return nullptr;
    const Document& d = *it->second;
    Converter conv(
        enc, [&d](const std::string&) -> std::string_view { return d.text; },
        [&](const std::string& path) { return uri_of(snap, path); });
    auto e = format_document(d.text);
    return text_edits_json(conv, d.path, e ? std::vector<TextEdit>{*e} : std::vector<TextEdit>{});
  }

  Json on_semantic_tokens(const Snapshot& snap, const Job& j) {
    auto c = document(snap, parse_document_uri(j.params));
    if (!c) return Json{{"data", Json::array()}};
    auto conv = converter(snap, *c->compiled.program);
    return semantic_tokens_json(conv, c->path, semantic_tokens(c->view));
  }

  Json on_code_action(const Snapshot& snap, const Job& j) {
    const auto p = parse_document_range(j.params);
    auto c = document(snap, p.uri);
    if (!c) return Json::array();
    const LineIndex idx(c->compiled.program->sources.file(c->view.file).text);
    const auto actions = code_actions(c->view, idx.offset(p.range.start, enc), idx.offset(p.range.end, enc));
    FileDiagnostics diags;
    for (auto& fd : diagnostics(*c->compiled.program)) {
      if (fd.path == c->path) diags = std::move(fd);
    }
    auto conv = converter(snap, *c->compiled.program);
    return code_actions_json(conv, c->path, actions, diags, opts.docs_base);
  }

  // Completion reads the current text for its context and any recent compile
  // for names, so that it never waits for a check of the text being typed.
  Json completion(const Snapshot& snap, const Job& j) {
    const auto p = parse_document_position(j.params);
    auto it = snap.by_uri.find(p.uri);
    if (it == snap.by_uri.end()) return Json{{"isIncomplete", false}, {"items", Json::array()}};
    const Document& d = *it->second;
    const std::string key = project_key(d.path);
    std::shared_ptr<const Program> names;
    std::shared_ptr<const Program> good;
    {
      std::lock_guard lock(cache_mu);
      if (auto l = latest.find(key); l != latest.end()) names = l->second;
      if (auto g = last_good.find(key); g != last_good.end()) good = g->second;
    }
    if (!names) {
      auto c = compile(snap, key);
      names = c.program;
      good = c.last_good;
    }
    const LineIndex idx(d.text);
    const auto r = complete(d.text, idx.offset(p.position, enc), names.get(), good.get());
    Converter conv(
        enc, [&d](const std::string&) -> std::string_view { return d.text; },
        [&](const std::string& path) { return uri_of(snap, path); });
    return completion_json(conv, d.path, r);
  }

  // ---------------------------------------------------------------- diagnostics worker

  void diagnostics_loop() {
    for (;;) {
      std::string key;
      {
        std::unique_lock lock(diag_mu);
        for (;;) {
          if (stopping) return;
          if (dirty.empty()) {
            diag_cv.wait(lock);
            continue;
          }
          if (Clock::now() < deadline) {
            diag_cv.wait_until(lock, deadline);
            continue;
          }
          break;
        }
        key = *dirty.begin();
        dirty.erase(dirty.begin());
      }
      auto snap = current_snapshot();
      Compiled c;
      try {
        c = compile(*snap, key, true);
      } catch (const std::exception& e) {
        log("check failed: " + std::string(e.what()));
        continue;
      }
      {
        // A newer edit of this project supersedes this check: publish only the next one.
        std::lock_guard lock(diag_mu);
        if (dirty.count(key) != 0) continue;
      }
      publish(*snap, key, c);
      // A project without open documents keeps no incremental state.
      if (std::none_of(snap->by_uri.begin(), snap->by_uri.end(),
                       [&](const auto& d) { return project_key(d.second->path) == key; })) {
        incremental.erase(key);
      } else if (auto it = incremental.find(key); it != incremental.end()) {
        // While the user types on: the copy the next re-check will edit in place.
        it->second->prepare();
      }
    }
  }

  void publish(const Snapshot& snap, const std::string& key, const Compiled& c) {
    auto conv = converter(snap, *c.program);
    std::set<std::string> now;
    for (const auto& fd : diagnostics(*c.program)) {
      const std::string uri = conv.uri(fd.path);
      std::optional<std::int64_t> version;
      if (auto v = c.inputs.versions.find(fd.path); v != c.inputs.versions.end()) version = v->second;
      send(notification("textDocument/publishDiagnostics", diagnostics_params(conv, fd, opts.docs_base, version)));
      now.insert(uri);
    }
    std::set<std::string> before;
    {
      std::lock_guard lock(diag_mu);
      before = std::move(published[key]);
      published[key] = now;
    }
    for (const auto& uri : before) {
      if (now.count(uri) == 0) {
        send(notification("textDocument/publishDiagnostics", Json{{"uri", uri}, {"diagnostics", Json::array()}}));
      }
    }
  }
};

Server::Server(Transport& transport, ServerOptions options)
    : impl_(std::make_unique<Impl>(transport, std::move(options))) {}

Server::~Server() { impl_->stop(); }

int Server::run() { return impl_->run(); }

}  // namespace okuri::lsp
