#include "compiler/versions.hpp"

#include <fmt/format.h>

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace okuri {
namespace {

// What a node does, for "changed": its kind, its label and where its edges go.
std::string signature(const StepGraph& g, std::uint32_t i) {
  const auto& n = g.node(i);
  std::string s = fmt::format("{}|{}", to_string(n.kind), n.label);
  std::vector<std::string> outs;
  for (const auto& e : g.out_edges(i)) outs.push_back(fmt::format("{}:{}:{}", to_string(e.kind), e.label, g.node(e.to).id));
  std::sort(outs.begin(), outs.end());
  for (const auto& o : outs) s += "|" + o;
  return s;
}

bool is_step(const StepNode& n) { return n.kind != StepKind::Start && n.kind != StepKind::End; }

std::string policy_of(const StepGraph& g) {
  if (g.is_broadcast || g.decl == nullptr) return "continue";
  const auto& sc = std::get<ast::ScenarioDecl>(g.decl->v);
  return sc.on_update ? sc.on_update->text : "continue";
}

}  // namespace

std::vector<ScenarioDiff> diff_programs(const Program& old_p, const Program& new_p) {
  std::map<std::string, const StepGraph*> olds;
  std::map<std::string, const StepGraph*> news;
  for (const auto& g : old_p.graphs) olds[g.name] = &g;
  for (const auto& g : new_p.graphs) news[g.name] = &g;
  std::set<std::string> names;
  for (const auto& [n, g] : olds) names.insert(n);
  for (const auto& [n, g] : news) names.insert(n);
  std::vector<ScenarioDiff> out;
  for (const auto& name : names) {
    ScenarioDiff d;
    d.name = name;
    const StepGraph* og = olds.count(name) ? olds[name] : nullptr;
    const StepGraph* ng = news.count(name) ? news[name] : nullptr;
    d.broadcast = (og ? og : ng)->is_broadcast;
    if (!og) {
      d.status = ScenarioDiff::Added;
      d.policy = policy_of(*ng);
      out.push_back(std::move(d));
      continue;
    }
    if (!ng) {
      d.status = ScenarioDiff::Removed;
      d.policy = "exit";
      for (std::uint32_t i = 0; i < og->node_count(); ++i) {
        if (og->node(i).kind == StepKind::Wait) {
          d.landings.push_back({og->node(i).id, Landing::Exit, "", "the scenario was removed: friends waiting here leave it"});
        }
      }
      out.push_back(std::move(d));
      continue;
    }
    d.policy = policy_of(*ng);
    for (std::uint32_t i = 0; i < og->node_count(); ++i) {
      const auto& n = og->node(i);
      if (!is_step(n)) continue;
      auto j = ng->find(n.id);
      if (!j) {
        d.changes.push_back({StepChange::Removed, n.id, n.label, ""});
      } else if (signature(*og, i) != signature(*ng, *j)) {
        const auto& nl = ng->node(*j).label;
        d.changes.push_back({StepChange::Changed, n.id, n.label, nl == n.label ? nl + " (what follows it changed)" : nl});
      }
    }
    for (std::uint32_t j = 0; j < ng->node_count(); ++j) {
      const auto& n = ng->node(j);
      if (is_step(n) && !og->find(n.id)) d.changes.push_back({StepChange::Added, n.id, "", n.label});
    }
    std::stable_sort(d.changes.begin(), d.changes.end(), [](const StepChange& a, const StepChange& b) { return a.id < b.id; });
    d.status = d.changes.empty() ? ScenarioDiff::Unchanged : ScenarioDiff::Changed;
    // Where friends waiting in the old version land. `on_update` is about a change to the
    // scenario itself: friends in a scenario that did not change stay where they are, whatever
    // its policy (an edit elsewhere in the project must not re-send or drop anything).
    for (std::uint32_t i = 0; i < og->node_count(); ++i) {
      const auto& n = og->node(i);
      if (n.kind != StepKind::Wait) continue;
      if (d.status == ScenarioDiff::Unchanged) {
        d.landings.push_back({n.id, Landing::Same, n.id, "the scenario did not change: continues at the same step"});
        continue;
      }
      if (d.policy == "restart") {
        d.landings.push_back({n.id, Landing::Restart, "", "restarts from the top of the new version"});
        continue;
      }
      if (d.policy == "exit") {
        d.landings.push_back({n.id, Landing::Exit, "", "leaves the scenario"});
        continue;
      }
      if (auto j = ng->find(n.id)) {
        const bool changed = signature(*og, i) != signature(*ng, *j);
        d.landings.push_back({n.id, Landing::Same, n.id,
                              changed ? fmt::format("continues at the same step, now `{}`", ng->node(*j).label)
                                      : "continues at the same step"});
        continue;
      }
      // Removed: the next step of the old version that survives (breadth first along the flow).
      std::vector<bool> seen(og->node_count(), false);
      std::deque<std::uint32_t> q;
      for (const auto& e : og->out_edges(i)) q.push_back(e.to);
      std::optional<std::string> found;
      while (!q.empty() && !found) {
        const auto k = q.front();
        q.pop_front();
        if (seen[k]) continue;
        seen[k] = true;
        const auto& m = og->node(k);
        if (is_step(m) && ng->find(m.id)) {
          found = m.id;
          break;
        }
        for (const auto& e : og->out_edges(k)) q.push_back(e.to);
      }
      if (found) {
        d.landings.push_back({n.id, Landing::Next, *found,
                              fmt::format("the step was removed: friends waiting here go on at the next surviving step `{}`", *found)});
      } else {
        d.landings.push_back({n.id, Landing::Exit, "", "the step was removed and nothing after it survives: friends waiting here leave"});
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::string render_diff_human(const std::vector<ScenarioDiff>& diffs) {
  std::string out;
  std::size_t changed = 0;
  for (const auto& d : diffs) {
    if (d.status == ScenarioDiff::Unchanged) continue;
    ++changed;
    const char* what = d.broadcast ? "broadcast" : "scenario";
    switch (d.status) {
      case ScenarioDiff::Added:
        out += fmt::format("{} `{}`: added\n", what, d.name);
        continue;
      case ScenarioDiff::Removed:
        out += fmt::format("{} `{}`: removed\n", what, d.name);
        break;
      default:
        out += fmt::format("{} `{}`: changed (on_update {})\n", what, d.name, d.policy);
        break;
    }
    for (const auto& c : d.changes) {
      switch (c.kind) {
        case StepChange::Added:
          out += fmt::format("  + {}  {}\n", c.id, c.new_label);
          break;
        case StepChange::Removed:
          out += fmt::format("  - {}  {}\n", c.id, c.old_label);
          break;
        case StepChange::Changed:
          out += fmt::format("  ~ {}  {} → {}\n", c.id, c.old_label, c.new_label);
          break;
      }
    }
    if (!d.landings.empty()) {
      out += "  friends waiting at:\n";
      for (const auto& l : d.landings) out += fmt::format("    {}: {}\n", l.from, l.note);
    }
  }
  if (changed == 0) out += "no scenario or broadcast changed\n";
  return out;
}

std::string render_diff_json(const std::vector<ScenarioDiff>& diffs) {
  using nlohmann::json;
  auto arr = json::array();
  static const char* const kStatus[] = {"added", "removed", "changed", "unchanged"};
  static const char* const kChange[] = {"added", "removed", "changed"};
  static const char* const kLanding[] = {"same", "next", "restart", "exit"};
  for (const auto& d : diffs) {
    json j{{"name", d.name}, {"kind", d.broadcast ? "broadcast" : "scenario"}, {"status", kStatus[d.status]}, {"on_update", d.policy}};
    auto ch = json::array();
    for (const auto& c : d.changes) ch.push_back({{"change", kChange[c.kind]}, {"id", c.id}, {"old", c.old_label}, {"new", c.new_label}});
    j["steps"] = std::move(ch);
    auto ls = json::array();
    for (const auto& l : d.landings) ls.push_back({{"from", l.from}, {"lands", kLanding[l.kind]}, {"to", l.to}, {"note", l.note}});
    j["waiting"] = std::move(ls);
    arr.push_back(std::move(j));
  }
  return arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace okuri
