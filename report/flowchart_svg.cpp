#include "report/flowchart_svg.hpp"

#include <fmt/format.h>

#include "report/graphviz_svg.hpp"

namespace okuri::report {

namespace {

const char* shape_of(StepKind k) {
  switch (k) {
    case StepKind::Start:
      return "shape=box, style=\"rounded,filled\", fillcolor=\"#06c755\", fontcolor=white";
    case StepKind::End:
    case StepKind::Stop:
      return "shape=oval, style=filled, fillcolor=\"#f2f2f2\"";
    case StepKind::Wait:
      return "shape=hexagon, style=filled, fillcolor=\"#eef3ff\"";
    case StepKind::Branch:
    case StepKind::Split:
      return "shape=diamond, style=filled, fillcolor=\"#fff7e6\"";
    case StepKind::Send:
    case StepKind::Reply:
      return "shape=box, style=\"rounded,filled\", fillcolor=\"#e8f8ee\"";
    case StepKind::Goal:
      return "shape=box, style=\"rounded,filled,bold\", fillcolor=\"#fde8ef\"";
    case StepKind::Step:
      return "shape=box, style=\"rounded,bold,filled\", fillcolor=\"#fff3c4\"";
    default:
      return "shape=box, style=\"rounded,filled\", fillcolor=white";
  }
}

std::string counts_line(const NodeCounts& c, bool ja) {
  std::string s = ja ? fmt::format("到達 {} · 通過 {}", c.entered, c.passed)
                     : fmt::format("entered {} · passed {}", c.entered, c.passed);
  if (c.waiting > 0) s += ja ? fmt::format(" · 待機 {}", c.waiting) : fmt::format(" · waiting {}", c.waiting);
  if (c.left > 0) s += ja ? fmt::format(" · 離脱 {}", c.left) : fmt::format(" · left {}", c.left);
  if (c.converted > 0) s += ja ? fmt::format(" · CV {}", c.converted) : fmt::format(" · converted {}", c.converted);
  return s;
}

}  // namespace

std::string flowchart_svg(const StepGraph& g, std::size_t flow_index, const std::vector<std::string>& details,
                          const std::vector<NodeCounts>& counts, bool ja) {
  std::string dot =
      "digraph flow {\n  graph [rankdir=TB, nodesep=0.3, ranksep=0.35, bgcolor=transparent];\n"
      "  node [fontname=\"sans-serif\", fontsize=11, margin=\"0.12,0.06\"];\n"
      "  edge [fontname=\"sans-serif\", fontsize=10, color=\"#888888\"];\n";
  for (std::uint32_t i = 0; i < g.node_count(); ++i) {
    const StepNode& n = g.node(i);
    std::string label = n.label;
    if (n.kind == StepKind::Start) {
      label = (g.is_broadcast ? "broadcast " : "scenario ") + n.label;
      for (const auto& d : details) label += "\n" + d;
    }
    if (i < counts.size()) label += "\n" + counts_line(counts[i], ja);
    dot +=
        fmt::format("  n{} [id={}, label={}, tooltip={}, {}];\n", i, dot_quote(fmt::format("fc-{}-{}", flow_index, i)),
                    dot_quote(label), dot_quote(n.id), shape_of(n.kind));
  }
  for (const auto& e : g.edges()) {
    std::string attrs;
    if (!e.label.empty()) attrs = "label=" + dot_quote(e.label);
    if (e.kind == EdgeKind::Jump || e.kind == EdgeKind::Loop)
      attrs += std::string(attrs.empty() ? "" : ", ") + "style=dashed";
    dot += fmt::format("  n{} -> n{} [{}];\n", e.from, e.to, attrs);
  }
  dot += "}\n";

  return svg_from_dot(dot, fmt::format("`{}`", g.name));
}

}  // namespace okuri::report
