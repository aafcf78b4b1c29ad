// Checks on the step graph: E006 zero-time cycles, W101 unreachable steps,
// W106 `restart after` shorter than the time a friend can spend inside.
#include <fmt/format.h>

#include "compiler/program.hpp"
#include "compiler/step_graph.hpp"

namespace okuri {

void check_graphs(Program& p, const std::vector<StepGraph>& graphs) {
  for (const auto& g : graphs) check_graph(p, g);
}

void check_graph(Program& p, const StepGraph& g) {
  // E006
  for (const auto& cycle : g.zero_time_cycles()) {
    std::string path;
    for (auto n : cycle) {
      const auto& node = g.node(n);
      path += (path.empty() ? "" : " → ") + (node.named ? node.id : node.label);
    }
    const auto& head = g.node(cycle.front());
    auto& d = p.diags.report(Code::E006, head.span, fmt::format("zero-time cycle: {} never passes a wait", path));
    d.notes.push_back(Note{std::nullopt,
                           "every loop must pass a wait that always waits, such as `wait 1d` (a `wait until` a date "
                           "already past goes on at once)"});
  }
  // W101: the first unreachable node of each unreachable stretch.
  const auto seen = g.reachable();
  for (std::uint32_t i = 0; i < g.node_count(); ++i) {
    const auto& n = g.node(i);
    if (seen[i] || n.kind == StepKind::End || n.stmt == nullptr) continue;
    bool head = true;
    for (const auto& e : g.in_edges(i)) head = head && seen[e.from];
    if (!head) continue;
    if (n.named) {
      p.diags.report(Code::W101, n.span, fmt::format("step `{}` is unreachable: nothing leads to it and no `goto` jumps to it", n.id));
    } else {
      p.diags.report(Code::W101, n.span,
                     fmt::format("`{}` is unreachable: the flow before it stops, jumps away or repeats forever", n.label));
    }
  }
  // W106
  if (g.is_broadcast || g.decl == nullptr) return;
  const auto& sc = std::get<ast::ScenarioDecl>(g.decl->v);
  if (sc.restart != ast::RestartPolicy::After || sc.restart_after <= 0) return;
  const auto longest = g.longest_time();
  const std::string restart(p.sources.text(sc.restart_span));
  if (!longest) {
    p.diags.report(Code::W106, sc.restart_span,
                   fmt::format("`restart {}` is shorter than the time a friend can spend in `{}` (it repeats "
                               "forever): a friend could get the first messages twice",
                               restart, g.name));
  } else if (sc.restart_after < *longest) {
    p.diags.report(Code::W106, sc.restart_span,
                   fmt::format("`restart {}` is shorter than the longest path through `{}` ({}): a friend could "
                               "get the first messages twice",
                               restart, g.name, format_duration(*longest)));
  }
}

}  // namespace okuri
