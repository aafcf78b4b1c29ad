#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "compiler/step_graph.hpp"
#include "compiler/workspace.hpp"

namespace okuri::cli {

void add_graph_command(CLI::App& app, int& status) {
  struct Options {
    std::string path;
    std::string scenario;
    std::string format = "mermaid";
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("graph", "Print the step graph of scenarios as a picture source.");
  cmd->footer(
      "Print the step graph of each scenario and broadcast of PATH (or only --scenario S) as Mermaid\n"
      "(renders in GitHub Markdown inside a ```mermaid block) or Graphviz DOT (`dot -Tsvg`). Nodes show the\n"
      "step kind, messages and wait lengths; edges show conditions, case names and split percentages;\n"
      "named steps stand out.");
  cmd->add_option("path", opts->path, "Project folder or .okuri file")->required();
  cmd->add_option("--scenario", opts->scenario, "Only this scenario or broadcast");
  cmd->add_option("--format", opts->format, "mermaid (default) or dot")->check(CLI::IsMember({"mermaid", "dot"}));
  cmd->callback([opts, &status] {
    auto p = compile_for_command(opts->path, "graph", status);
    if (!p) return;
    bool found = false;
    for (const auto& g : p->graphs) {
      if (!opts->scenario.empty() && g.name != opts->scenario) continue;
      if (found && opts->format == "mermaid") std::cout << "\n";
      found = true;
      if (opts->format == "dot") {
        std::cout << to_dot(g);
      } else {
        std::cout << "%% " << (g.is_broadcast ? "broadcast " : "scenario ") << g.name << "\n" << to_mermaid(g);
      }
    }
    if (!found) {
      std::cerr << "okuri graph: no scenario or broadcast"
                << (opts->scenario.empty() ? std::string() : " named `" + opts->scenario + "`") << " in " << opts->path
                << "\n";
      status = 2;
    }
  });
}

}  // namespace okuri::cli
