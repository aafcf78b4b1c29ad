#include "report/overview_svg.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>

#include "report/graphviz_svg.hpp"

namespace okuri::report {

namespace {

// What an action raises: `tag_added(vip)`, `field_changed(plan)` … as (event type, argument).
using Raised = std::pair<int, std::string>;

struct Effects {
  std::set<Raised> raised;
  std::set<std::int32_t> started;  // flows a `start` names
};

void collect(const plan::Plan& plan, const std::vector<plan::Op>& ops, Effects& out) {
  const int tag_added = plan.event_type("tag_added");
  const int tag_removed = plan.event_type("tag_removed");
  const int field_changed = plan.event_type("field_changed");
  for (const auto& op : ops) {
    switch (op.kind) {
      case plan::OpKind::Tag:
        for (const auto& n : op.names) out.raised.insert({tag_added, n});
        break;
      case plan::OpKind::Untag:
        for (const auto& n : op.names) out.raised.insert({tag_removed, n});
        break;
      case plan::OpKind::SetField:
      case plan::OpKind::ClearField:
        out.raised.insert({field_changed, op.target_name});
        break;
      case plan::OpKind::Start:
        for (const auto f : op.items) out.started.insert(f);
        break;
      case plan::OpKind::If:
        for (const auto& arm : op.arms) collect(plan, arm.body, out);
        if (op.else_body) collect(plan, *op.else_body, out);
        break;
      default:
        break;
    }
  }
}

bool matches(const plan::EventMatch& m, const Raised& r) { return m.type == r.first && (!m.arg || *m.arg == r.second); }

std::string event_label(const plan::Plan& plan, const plan::EventMatch& m) {
  std::string s = plan.event_types[static_cast<std::size_t>(m.type)];
  if (m.arg) s += "(" + *m.arg + ")";
  if (m.url_pattern) s += "(\"" + *m.url_pattern + "\")";
  if (m.from) s += " from \"" + *m.from + "\"";
  return s;
}

}  // namespace

std::string overview_svg(const plan::Plan& plan, bool ja) {
  // Every reactor (rule or scenario) with what it reacts to, and every emitter with what it raises.
  struct Reactor {
    std::string node;
    const plan::EventMatch* match;
  };
  std::vector<Reactor> reactors;
  std::string dot =
      "digraph overview {\n  graph [rankdir=LR, nodesep=0.25, ranksep=0.5, bgcolor=transparent];\n"
      "  node [fontname=\"sans-serif\", fontsize=11, margin=\"0.12,0.06\"];\n"
      "  edge [fontname=\"sans-serif\", fontsize=10, color=\"#888888\"];\n";
  for (std::size_t f = 0; f < plan.flows.size(); ++f) {
    const auto& fl = plan.flows[f];
    std::string label = (fl.broadcast ? (ja ? "配信 " : "broadcast ") : (ja ? "シナリオ " : "scenario ")) + fl.name;
    dot +=
        fmt::format("  f{} [id={}, label={}, shape=box, style=\"rounded,filled\", fillcolor={}];\n", f,
                    dot_quote(fmt::format("ov-{}", f)), dot_quote(label), fl.broadcast ? "\"#eef3ff\"" : "\"#e8f8ee\"");
    for (const auto& s : fl.start_on) reactors.push_back({fmt::format("f{}", f), &s.match});
  }
  for (std::size_t r = 0; r < plan.rules.size(); ++r) {
    dot += fmt::format("  r{} [label={}, shape=box, style=filled, fillcolor=\"#fff7e6\"];\n", r,
                       dot_quote((ja ? "ルール " : "rule ") + plan.rules[r].text));
    reactors.push_back({fmt::format("r{}", r), &plan.rules[r].match});
  }
  std::set<std::string> edges;
  auto edge = [&](const std::string& from, const std::string& to, const std::string& label) {
    if (edges.insert(from + ">" + to + ">" + label).second) {
      dot += fmt::format("  {} -> {}{};\n", from, to, label.empty() ? "" : " [label=" + dot_quote(label) + "]");
    }
  };
  // What an emitter's actions raise leads to every reactor that matches it.
  std::set<std::string> internal;  // event labels raised inside the account
  auto emit = [&](const std::string& from, const Effects& fx) {
    for (const auto& r : fx.raised) {
      for (const auto& re : reactors) {
        if (matches(*re.match, r)) {
          edge(from, re.node, event_label(plan, *re.match));
          internal.insert(event_label(plan, *re.match));
        }
      }
    }
    for (const auto f : fx.started) edge(from, fmt::format("f{}", f), ja ? "開始" : "start");
  };
  for (std::size_t f = 0; f < plan.flows.size(); ++f) {
    Effects fx;
    for (const auto& n : plan.flows[f].nodes) collect(plan, n.ops, fx);
    emit(fmt::format("f{}", f), fx);
  }
  for (std::size_t r = 0; r < plan.rules.size(); ++r) {
    Effects fx;
    collect(plan, plan.rules[r].body, fx);
    emit(fmt::format("r{}", r), fx);
  }
  // Events from outside: one oval per distinct trigger no action inside raises.
  std::map<std::string, std::size_t> outside;
  for (const auto& re : reactors) {
    const std::string label = event_label(plan, *re.match);
    const int t = re.match->type;
    const bool raised_inside = t == plan.event_type("tag_added") || t == plan.event_type("tag_removed") ||
                               t == plan.event_type("field_changed");
    if (raised_inside && internal.count(label) > 0) continue;
    auto [it, fresh] = outside.emplace(label, outside.size());
    if (fresh)
      dot += fmt::format("  e{} [label={}, shape=oval, style=filled, fillcolor=\"#f2f2f2\"];\n", it->second,
                         dot_quote(label));
    edge(fmt::format("e{}", it->second), re.node, "");
  }
  dot += "}\n";
  return svg_from_dot(dot, ja ? "全体図" : "the overview");
}

}  // namespace okuri::report
