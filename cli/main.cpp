// okuri: the command line. Thin: every command calls into the libraries.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include "cli/commands.hpp"
#include "compiler/workspace.hpp"

namespace okuri::cli {

bool want_color(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  if (std::getenv("NO_COLOR") != nullptr) return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb") return false;
  return isatty(fd) != 0;
}

std::unique_ptr<Program> require_no_errors(std::unique_ptr<Program> p, const char* command, int& status) {
  if (p->diags.error_count() == 0) return p;
  std::vector<Diagnostic> errors;
  for (const auto& d : p->diags.all()) {
    if (d.severity == Severity::Error) errors.push_back(d);
  }
  std::cerr << render_human(p->sources, errors, RenderOptions{want_color("auto", STDERR_FILENO)});
  std::cerr << "okuri " << command << ": the project has errors; fix them first\n";
  status = 1;
  return nullptr;
}

std::unique_ptr<Program> compile_for_command(const std::string& path, const char* command, int& status) {
  try {
    return require_no_errors(compile_path(path), command, status);
  } catch (const LoadError& e) {
    std::cerr << "okuri: " << e.what() << "\n";
    status = 2;
    return nullptr;
  }
}

}  // namespace okuri::cli

int main(int argc, char** argv) {
  CLI::App app{
      "okuri — LINE delivery scenarios as code: check, format, draw and compare them; count segments;\n"
      "simulate, test and explain them on a virtual clock.\n"
      "Run `okuri COMMAND --help` for the options of a command.",
      "okuri"};
  app.set_version_flag("--version", "okuri 0.1.0");
  app.require_subcommand(0, 1);
  int status = 0;
  okuri::cli::add_check_command(app, status);
  okuri::cli::add_fmt_command(app, status);
  okuri::cli::add_graph_command(app, status);
  okuri::cli::add_diff_command(app, status);
  okuri::cli::add_segment_command(app, status);
  okuri::cli::add_run_commands(app, status);
  okuri::cli::add_preview_command(app, status);
  okuri::cli::add_send_test_command(app, status);
  okuri::cli::add_serve_command(app, status);
  okuri::cli::add_store_command(app, status);
  okuri::cli::add_report_command(app, status);
  okuri::cli::add_lsp_command(app, status);
  app.footer(
      "Exit status: 0 ok (warnings allowed), 1 errors or failed tests, 2 bad usage or unreadable input.\n"
      "Docs: docs/language.md (the language), docs/runtime.md (simulate, test, explain),\n"
      "docs/serve.md (running an account), docs/editors.md (VS Code, Neovim), docs/diagnostics/ (one page per code).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "okuri: " << e.what() << "\n";
    std::cerr << "Run `okuri --help` for usage.\n";
    return 2;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return 0;
  }
  return status;
}
