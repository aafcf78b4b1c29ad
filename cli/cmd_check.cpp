#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "compiler/diagnostic.hpp"
#include "compiler/fixes.hpp"
#include "compiler/workspace.hpp"

namespace okuri::cli {

void add_check_command(CLI::App& app, int& status) {
  struct Options {
    std::vector<std::string> paths;
    std::string format = "human";
    std::string color = "auto";
    bool werror = false;
    bool fix = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("check", "Compile projects and report diagnostics.");
  cmd->footer(
      "Compile each PATH (a project folder: all its .okuri files together; or a single .okuri file) and report\n"
      "errors and warnings. Human output goes to stderr, `--format json|sarif` to stdout.");
  cmd->add_option("paths", opts->paths, "Project folders or .okuri files (default: the current folder)");
  cmd->add_option("--format", opts->format, "Output form: human, json (one array) or sarif (SARIF 2.1.0)")
      ->check(CLI::IsMember({"human", "json", "sarif"}));
  cmd->add_option("--color", opts->color, "Colour in human output: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_flag("--werror", opts->werror, "Treat warnings as errors (exit 1 when there are any)");
  cmd->add_flag("--fix", opts->fix,
                "Rewrite the files with every fix that can only mean one thing (full-width characters typed for "
                "ASCII, an `and` at the start of a line, a quote inside a text), then report what is left");
  cmd->callback([opts, &status] {
    if (opts->paths.empty()) opts->paths.push_back(".");
    // Every project's diagnostics, in argument order.
    std::vector<std::unique_ptr<Program>> programs;
    for (const auto& path : opts->paths) {
      try {
        auto p = compile_path(path);
        // --fix: apply, compile again (a fixed line may parse further and show the next one), repeat.
        for (int round = 0; opts->fix && round < 20; ++round) {
          const auto fixed = apply_certain_fixes(*p);
          if (fixed.empty()) break;
          for (const auto& f : fixed) {
            const std::string& file = p->sources.file(f.file).path;
            if (!write_atomic(file, f.text)) {
              std::cerr << "okuri: cannot write " << file << "; it is unchanged\n";
              status = 2;
              return;
            }
            std::cerr << "fixed " << file << " (" << f.fixes << (f.fixes == 1 ? " fix" : " fixes") << ")\n";
          }
          p = compile_path(path);
        }
        programs.push_back(std::move(p));
      } catch (const LoadError& e) {
        std::cerr << "okuri: " << e.what() << "\n";
        status = 2;
        return;
      }
    }
    bool errors = false;
    bool warnings = false;
    std::vector<Diagnostic> all;
    for (const auto& p : programs) {
      errors = errors || p->diags.error_count() > 0;
      warnings = warnings || p->diags.warning_count() > 0;
    }
    if (opts->format == "human") {
      const bool color = want_color(opts->color, STDERR_FILENO);
      std::size_t e = 0;
      std::size_t w = 0;
      for (const auto& p : programs) {
        std::cerr << render_human(p->sources, p->diags.all(), RenderOptions{color});
        e += p->diags.error_count();
        w += p->diags.warning_count();
      }
      if (e + w > 0) {
        std::cerr << e << (e == 1 ? " error, " : " errors, ") << w << (w == 1 ? " warning" : " warnings") << "\n";
      }
    } else if (opts->format == "json") {
      if (programs.size() == 1) {
        std::cout << render_json(programs[0]->sources, programs[0]->diags.all());
      } else {
        // One array over all projects.
        std::string merged = "[";
        bool first = true;
        for (const auto& p : programs) {
          std::string one = render_json(p->sources, p->diags.all());
          const auto b = one.find('[');
          const auto en = one.rfind(']');
          std::string inner = one.substr(b + 1, en - b - 1);
          while (!inner.empty() && (inner.back() == '\n' || inner.back() == ' ')) inner.pop_back();
          while (!inner.empty() && (inner.front() == '\n')) inner.erase(0, 1);
          if (inner.empty()) continue;
          merged += first ? "\n" : ",\n";
          merged += inner;
          first = false;
        }
        merged += first ? "]\n" : "\n]\n";
        std::cout << merged;
      }
    } else {
      for (const auto& p : programs) std::cout << render_sarif(p->sources, p->diags.all());
    }
    status = errors || (opts->werror && warnings) ? 1 : 0;
  });
}

}  // namespace okuri::cli
