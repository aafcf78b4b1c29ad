// The language server's binding (clangd's ClangdLSPServer): the LSP 3.17
// lifecycle, one function per request method, and the JSON of each answer,
// over the scheduler (lsp/scheduler.hpp), which owns the open documents, the
// compiled Programs and the worker threads, and the features
// (lsp/features.hpp), which answer in byte offsets and plain structs.
//
// Threads (see docs/design/lsp.md): the caller of run() reads messages,
// applies document changes at once and stages requests, each with a snapshot
// of the open documents taken when it arrived (so a later edit never shifts
// its positions); the scheduler's request worker answers them in order, and
// its diagnostics worker re-checks a project once no edit has arrived for the
// debounce delay. The server links the compiler only: it never waits on LLVM.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "lsp/transport.hpp"

namespace okuri::lsp {

struct ServerOptions {
  // URI prefix of docs/diagnostics/ for codeDescription.href, ending in "/".
  std::string docs_base = "docs/diagnostics/";
  // How long the server waits after an edit before it re-checks.
  std::chrono::milliseconds debounce{50};
};

class Server {
 public:
  Server(Transport& transport, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until `exit` or the end of input. Returns the process exit code:
  // 0 after shutdown + exit, 1 otherwise (as LSP asks).
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace okuri::lsp
