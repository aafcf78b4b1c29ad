// `okuri graph`: the step graph as Graphviz DOT or Mermaid.
#include <fmt/format.h>

#include "compiler/step_graph.hpp"

namespace okuri {
namespace {

std::string escape_dot(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Mermaid labels go inside "…"; quotes become #quot;.
std::string escape_mermaid(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"') {
      out += "#quot;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string node_text(const StepNode& n) {
  if (n.kind == StepKind::Start) return "start: " + n.label;
  return n.label;
}

}  // namespace

std::string to_dot(const StepGraph& g) {
  std::string out = fmt::format("digraph \"{}\" {{\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=11];\n",
                                escape_dot(g.name));
  for (std::uint32_t i = 0; i < g.node_count(); ++i) {
    const auto& n = g.node(i);
    std::string attrs;
    switch (n.kind) {
      case StepKind::Start:
        attrs = ", shape=oval, style=filled, fillcolor=\"#06c755\", fontcolor=white";
        break;
      case StepKind::End:
      case StepKind::Stop:
        attrs = ", shape=oval";
        break;
      case StepKind::Wait:
        attrs = ", shape=hexagon";
        break;
      case StepKind::Branch:
      case StepKind::Split:
        attrs = ", shape=diamond, style=\"\"";
        break;
      case StepKind::Send:
      case StepKind::Reply:
        attrs = ", style=\"rounded,filled\", fillcolor=\"#e8f8ee\"";
        break;
      case StepKind::Step:
        attrs = ", style=\"rounded,bold,filled\", fillcolor=\"#fff3c4\", penwidth=2";
        break;
      default:
        break;
    }
    out += fmt::format("  n{} [label=\"{}\", tooltip=\"{}\"{}];\n", i, escape_dot(node_text(n)), escape_dot(n.id), attrs);
  }
  for (const auto& e : g.edges()) {
    std::string attrs;
    if (!e.label.empty()) attrs = fmt::format(" [label=\"{}\"", escape_dot(e.label));
    if (e.kind == EdgeKind::Jump || e.kind == EdgeKind::Loop) {
      attrs += attrs.empty() ? " [style=dashed" : ", style=dashed";
    }
    if (!attrs.empty()) attrs += "]";
    out += fmt::format("  n{} -> n{}{};\n", e.from, e.to, attrs);
  }
  out += "}\n";
  return out;
}

std::string to_mermaid(const StepGraph& g) {
  std::string out = "flowchart TD\n";
  for (std::uint32_t i = 0; i < g.node_count(); ++i) {
    const auto& n = g.node(i);
    const std::string t = escape_mermaid(node_text(n));
    switch (n.kind) {
      case StepKind::Start:
      case StepKind::End:
      case StepKind::Stop:
        out += fmt::format("  n{}([\"{}\"])\n", i, t);
        break;
      case StepKind::Wait:
        out += fmt::format("  n{}{{{{\"{}\"}}}}\n", i, t);
        break;
      case StepKind::Branch:
      case StepKind::Split:
        out += fmt::format("  n{}{{\"{}\"}}\n", i, t);
        break;
      case StepKind::Step:
        out += fmt::format("  n{}[[\"{}\"]]\n", i, t);
        break;
      default:
        out += fmt::format("  n{}[\"{}\"]\n", i, t);
        break;
    }
  }
  for (const auto& e : g.edges()) {
    const char* arrow = e.kind == EdgeKind::Jump || e.kind == EdgeKind::Loop ? "-.->" : "-->";
    if (e.label.empty()) {
      out += fmt::format("  n{} {} n{}\n", e.from, arrow, e.to);
    } else {
      out += fmt::format("  n{} {}|\"{}\"| n{}\n", e.from, arrow, escape_mermaid(e.label), e.to);
    }
  }
  out += "  classDef step fill:#fff3c4,stroke:#b08800,stroke-width:2px\n";
  out += "  classDef send fill:#e8f8ee,stroke:#06c755\n";
  std::string steps;
  std::string sends;
  for (std::uint32_t i = 0; i < g.node_count(); ++i) {
    if (g.node(i).kind == StepKind::Step) steps += fmt::format("{}n{}", steps.empty() ? "" : ",", i);
    if (g.node(i).kind == StepKind::Send || g.node(i).kind == StepKind::Reply) {
      sends += fmt::format("{}n{}", sends.empty() ? "" : ",", i);
    }
  }
  if (!steps.empty()) out += "  class " + steps + " step\n";
  if (!sends.empty()) out += "  class " + sends + " send\n";
  return out;
}

}  // namespace okuri
