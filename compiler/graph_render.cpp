// `okuri graph`: the step graph as Graphviz DOT or Mermaid.
#include <fmt/format.h>

#include "compiler/program.hpp"
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

std::string node_text(const StepGraph& g, const StepNode& n, const std::vector<std::string>& details) {
  if (n.kind != StepKind::Start) return n.label;
  std::string out = (g.is_broadcast ? "broadcast: " : "start: ") + n.label;
  for (const auto& d : details) out += "\n" + d;
  return out;
}

// Mermaid breaks a label's lines with <br>.
std::string mermaid_lines(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '\n') {
      out += "<br>";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> start_details(const Program& p, const StepGraph& g) {
  std::vector<std::string> out;
  if (g.decl == nullptr) return out;
  auto text = [&](Span s) { return std::string(p.sources.text(s)); };
  if (const auto* sc = std::get_if<ast::ScenarioDecl>(&g.decl->v)) {
    for (const auto& s : sc->start_on) out.push_back(text(s.span));
    for (const auto& e : sc->start_when) out.push_back("start when " + text(e->span));
    if (sc->restart != ast::RestartPolicy::Never) out.push_back(text(sc->restart_span));
    for (const auto& e : sc->stop_when) out.push_back("stop when " + text(e->span));
  } else if (const auto* bc = std::get_if<ast::BroadcastDecl>(&g.decl->v)) {
    out.push_back("at " + text(bc->at_span));
    out.push_back(bc->target ? "to " + text(bc->target->span) : "to every friend");
  }
  return out;
}

std::string to_dot(const StepGraph& g, const std::vector<std::string>& details) {
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
    std::string label = escape_dot(node_text(g, n, details));
    for (std::size_t k = label.find('\n'); k != std::string::npos; k = label.find('\n', k + 2)) label.replace(k, 1, "\\n");
    out += fmt::format("  n{} [label=\"{}\", tooltip=\"{}\"{}];\n", i, label, escape_dot(n.id), attrs);
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

namespace {

// The nodes, edges and classes of one graph, ids prefixed (unique across a project's subgraphs).
std::string mermaid_body(const StepGraph& g, const std::vector<std::string>& details, const std::string& id,
                         const std::string& indent) {
  std::string out;
  for (std::uint32_t i = 0; i < g.node_count(); ++i) {
    const auto& n = g.node(i);
    const std::string t = mermaid_lines(escape_mermaid(node_text(g, n, details)));
    switch (n.kind) {
      case StepKind::Start:
      case StepKind::End:
      case StepKind::Stop:
        out += fmt::format("{}{}n{}([\"{}\"])\n", indent, id, i, t);
        break;
      case StepKind::Wait:
        out += fmt::format("{}{}n{}{{{{\"{}\"}}}}\n", indent, id, i, t);
        break;
      case StepKind::Branch:
      case StepKind::Split:
        out += fmt::format("{}{}n{}{{\"{}\"}}\n", indent, id, i, t);
        break;
      case StepKind::Step:
        out += fmt::format("{}{}n{}[[\"{}\"]]\n", indent, id, i, t);
        break;
      default:
        out += fmt::format("{}{}n{}[\"{}\"]\n", indent, id, i, t);
        break;
    }
  }
  for (const auto& e : g.edges()) {
    const char* arrow = e.kind == EdgeKind::Jump || e.kind == EdgeKind::Loop ? "-.->" : "-->";
    if (e.label.empty()) {
      out += fmt::format("{}{}n{} {} {}n{}\n", indent, id, e.from, arrow, id, e.to);
    } else {
      out += fmt::format("{}{}n{} {}|\"{}\"| {}n{}\n", indent, id, e.from, arrow, escape_mermaid(e.label), id, e.to);
    }
  }
  return out;
}

std::string mermaid_classes(const std::vector<std::pair<const StepGraph*, std::string>>& graphs) {
  std::string out = "  classDef step fill:#fff3c4,stroke:#b08800,stroke-width:2px\n";
  out += "  classDef send fill:#e8f8ee,stroke:#06c755\n";
  std::string steps;
  std::string sends;
  for (const auto& [g, id] : graphs) {
    for (std::uint32_t i = 0; i < g->node_count(); ++i) {
      if (g->node(i).kind == StepKind::Step) steps += fmt::format("{}{}n{}", steps.empty() ? "" : ",", id, i);
      if (g->node(i).kind == StepKind::Send || g->node(i).kind == StepKind::Reply) {
        sends += fmt::format("{}{}n{}", sends.empty() ? "" : ",", id, i);
      }
    }
  }
  if (!steps.empty()) out += "  class " + steps + " step\n";
  if (!sends.empty()) out += "  class " + sends + " send\n";
  return out;
}

}  // namespace

std::string to_mermaid(const StepGraph& g, const std::vector<std::string>& details) {
  return "flowchart TD\n" + mermaid_body(g, details, "", "  ") + mermaid_classes({{&g, ""}});
}

std::string to_mermaid_project(const Program& p) {
  std::string out = "flowchart TD\n";
  std::vector<std::pair<const StepGraph*, std::string>> all;
  for (std::size_t k = 0; k < p.graphs.size(); ++k) {
    const auto& g = p.graphs[k];
    const std::string id = fmt::format("g{}_", k);
    all.emplace_back(&g, id);
    out += fmt::format("  subgraph {}sub[\"{} {}\"]\n", id, g.is_broadcast ? "broadcast" : "scenario",
                       escape_mermaid(g.name));
    out += mermaid_body(g, start_details(p, g), id, "    ");
    out += "  end\n";
  }
  return out + mermaid_classes(all);
}

}  // namespace okuri
