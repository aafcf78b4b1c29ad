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
      "(renders in GitHub Markdown inside one ```mermaid block: the whole project is one flowchart with a\n"
      "subgraph each) or Graphviz DOT (`dot -Tsvg`; one digraph each). The start node shows what starts a\n"
      "scenario (start on, start when, restart, stop when) or a broadcast's time and target; nodes show the\n"
      "step kind, messages and wait lengths; edges show conditions, case names and split percentages;\n"
      "named steps stand out. `okuri simulate --html` draws the same graphs with their counts.");
  cmd->add_option("path", opts->path, "Project folder or .okuri file")->required();
  cmd->add_option("--scenario", opts->scenario, "Only this scenario or broadcast");
  cmd->add_option("--format", opts->format, "mermaid (default) or dot")->check(CLI::IsMember({"mermaid", "dot"}));
  cmd->callback([opts, &status] {
    auto p = compile_for_command(opts->path, "graph", status);
    if (!p) return;
    bool found = false;
    if (opts->scenario.empty() && opts->format == "mermaid") {
      // One flowchart with a subgraph each: it renders pasted into one ```mermaid block.
      found = !p->graphs.empty();
      if (found) std::cout << to_mermaid_project(*p);
    }
    for (const auto& g : p->graphs) {
      if (opts->scenario.empty() && opts->format == "mermaid") break;
      if (!opts->scenario.empty() && g.name != opts->scenario) continue;
      found = true;
      if (opts->format == "dot") {
        std::cout << to_dot(g, start_details(*p, g));
      } else {
        std::cout << to_mermaid(g, start_details(*p, g));
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
