#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "lsp/protocol.hpp"
#include "lsp/server.hpp"
#include "lsp/transport.hpp"

namespace okuri::cli {
namespace {

namespace fs = std::filesystem;

// docs/diagnostics/ of the source tree this binary belongs to: searched
// upwards from the executable (a build folder inside the tree), then the
// tree it was built from; a relative link when neither exists.
std::string docs_base() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      if (fs::exists(dir / "docs" / "diagnostics" / "E001.md", ec))
        return lsp::path_to_uri((dir / "docs" / "diagnostics").string()) + "/";
      if (dir == dir.root_path()) break;
    }
  }
#ifdef OKURI_DOCS_DIR
  if (fs::exists(fs::path(OKURI_DOCS_DIR) / "E001.md", ec)) return lsp::path_to_uri(OKURI_DOCS_DIR) + "/";
#endif
  return "docs/diagnostics/";
}

}  // namespace

void add_lsp_command(CLI::App& app, int& status) {
  struct Options {
    bool stdio = false;
    std::string log;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("lsp", "Run the language server (LSP 3.17 over stdin and stdout) for editors.");
  cmd->footer(
      "The language server gives an editor what `okuri check` finds, as you type, plus hover, completion,\n"
      "go to definition, find references, rename, document symbols, formatting, semantic tokens and\n"
      "quick fixes. Editors start it themselves and talk JSON-RPC on its stdin and stdout; configure\n"
      "the command `okuri lsp` for the file type `okuri` (*.okuri). The project of a file is every\n"
      ".okuri file in its folder, with unsaved editor text taking the place of the file on disk.\n"
      "Exit status: 0 after the editor's shutdown and exit, 1 when the input ends without them.");
  cmd->add_flag("--stdio", opts->stdio,
                "Talk over stdin and stdout (the default and only transport; accepted for editors that pass it)");
  cmd->add_option("--log", opts->log, "Write a debug log (every message in and out, and any problem) to FILE")
      ->type_name("FILE");
  cmd->callback([opts, &status] {
    // A client that goes away must end the server through the end of input,
    // not kill it with SIGPIPE in the middle of a write.
    std::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<std::ofstream> log;
    if (!opts->log.empty()) {
      log = std::make_unique<std::ofstream>(opts->log, std::ios::app);
      if (!*log) {
        std::cerr << "okuri: cannot write the log file " << opts->log << "\n";
        status = 2;
        return;
      }
    }
    lsp::Transport transport(STDIN_FILENO, STDOUT_FILENO, log.get(), log != nullptr);
    lsp::ServerOptions so;
    so.docs_base = docs_base();
    lsp::Server server(transport, so);
    status = server.run();
  });
}

}  // namespace okuri::cli
