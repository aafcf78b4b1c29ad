#include "lsp/server.hpp"

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "compiler/query.hpp"
#include "lsp/features.hpp"
#include "lsp/protocol.hpp"
#include "lsp/scheduler.hpp"

namespace okuri::lsp {
namespace {

namespace fs = std::filesystem;

// A request as it was read, with the open documents at that moment.
struct Job {
  Json id;
  std::string method;
  Json params;
  std::shared_ptr<const Snapshot> snapshot;
};

}  // namespace

struct Server::Impl {
  Transport& io;
  ServerOptions opts;
  PositionEncoding enc = PositionEncoding::Utf16;

  // Lifecycle (reader thread only, except shutdown_requested which workers read).
  bool initialized = false;
  std::atomic<bool> shutdown_requested{false};

  // Shown diagnostics: project → URIs with diagnostics (the diagnostics worker only).
  std::map<std::string, std::set<std::string>> published;

  Scheduler scheduler;

  Impl(Transport& t, ServerOptions o)
      : io(t),
        opts(std::move(o)),
        scheduler(opts.debounce, Scheduler::Callbacks{
                                     [this](const std::string& body) { send(body); },
                                     [this](const Snapshot& snap, const std::string& project, const Compiled& c) {
                                       publish(snap, project, c);
                                     },
                                     [this](const std::string& line) { log(line); },
                                 }) {}

  void log(const std::string& s) { io.log_line(s); }
  void send(const std::string& body) { io.write(body); }

  // ---------------------------------------------------------------- projects

  static std::string path_of_uri(const std::string& uri) {
    if (auto p = uri_to_path(uri)) return fs::path(*p).lexically_normal().string();
    return uri;
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

  void did_open(const Json& params) {
    auto p = parse_did_open(params);
    auto d = std::make_shared<Document>();
    d->uri = p.uri;
    d->path = path_of_uri(p.uri);
    d->text = std::move(p.text);
    d->version = p.version;
    scheduler.update(p.uri, std::move(d));
  }

  void did_change(const Json& params) {
    auto p = parse_did_change(params);
    const auto snap = scheduler.snapshot();
    const Document* old = snap->find_uri(p.uri);
    if (old == nullptr) {
      log("didChange for a document that is not open: " + p.uri);
      return;
    }
    auto d = std::make_shared<Document>(*old);
    for (const auto& c : p.changes) apply_change(d->text, c, enc);
    d->version = p.version;
    scheduler.update(p.uri, std::move(d));
  }

  void did_close(const Json& params) { scheduler.update(parse_document_uri(params), nullptr); }

  void handle_notification(const Message& m) {
    if (m.method == "$/cancelRequest") {
      scheduler.cancel(id_key(parse_cancel_id(m.params)));
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
      scheduler.recheck_all();
    }
    // initialized, $/setTrace, workspace/didChangeConfiguration, …: nothing to do.
  }

  // Returns false when the request was answered at once.
  bool admit_request(const Message& m) {
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
    auto job = std::make_shared<const Job>(Job{m.id, m.method, m.params, scheduler.snapshot()});
    scheduler.stage(Scheduler::Request{
        id_key(m.id),
        [this, job] { return answer(*job); },
        [job] { return error_response(job->id, error_code::kRequestCancelled, "the request was cancelled"); },
    });
    return true;
  }

  int run() {
    scheduler.start();
    int exit_code = 1;
    bool done = false;
    while (!done) {
      // Read every message that is already available (up to 64) before
      // releasing the requests among them, so that a cancellation sent right
      // after a request is always seen before that request starts.
      bool first = true;
      for (int read = 0; !done && (first || (io.input_pending() && read < 64)); ++read) {
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
            admit_request(m);
          }
        } catch (const ProtocolError& e) {
          log(m.method + ": " + e.what());
          if (m.kind == Message::Kind::Request) send(error_response(m.id, e.code, e.what()));
        } catch (const std::exception& e) {
          log(m.method + ": internal error: " + e.what());
          if (m.kind == Message::Kind::Request) send(error_response(m.id, error_code::kInternalError, e.what()));
        }
      }
      scheduler.release();
    }
    stop();
    return exit_code;
  }

  void stop() { scheduler.stop(); }

  // ---------------------------------------------------------------- requests (on the scheduler's request worker)

  // The whole response to a request: its result, or the error it failed with.
  std::string answer(const Job& j) {
    try {
      return response(j.id, handle_request(j));
    } catch (const ProtocolError& e) {
      return error_response(j.id, e.code, e.what());
    } catch (const std::exception& e) {
      log(j.method + ": internal error: " + e.what());
      return error_response(j.id, error_code::kInternalError, e.what());
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
    c.compiled = scheduler.compile(snap, c.key);
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
    auto [names, good] = scheduler.recent(key);
    if (!names) {
      auto c = scheduler.compile(snap, key);
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

  // ---------------------------------------------------------------- diagnostics (on the scheduler's diagnostics worker)

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
    std::set<std::string> before = std::move(published[key]);
    published[key] = now;
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
