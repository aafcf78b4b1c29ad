#include "compiler/versions.hpp"

#include <fmt/format.h>

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "compiler/formatter.hpp"
#include "compiler/lexer.hpp"
#include "compiler/text_width.hpp"

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

// A piece of source as its tokens, without comments, line breaks and `;`: two pieces
// that differ only in layout compare equal.
std::string tokens_key(std::string_view text) {
  std::string out;
  for (const auto& t : lex::tokenize(text)) {
    if (t.kind == lex::Kind::Comment || t.kind == lex::Kind::Newline) continue;
    if (t.kind == lex::Kind::Punct && t.text(text) == ";") continue;
    out += t.text(text);
    out += '\x1f';
  }
  return out;
}

// A piece of source on one line in the canonical spacing, cut at 120 characters, for people.
std::string one_line(std::string_view text) {
  std::string clean;
  for (const auto& t : lex::tokenize(text)) {
    if (t.kind == lex::Kind::Comment) continue;
    if (t.kind == lex::Kind::Newline) {
      clean += '\n';
      continue;
    }
    if (!clean.empty() && clean.back() != '\n') clean += ' ';
    clean += t.text(text);
  }
  const std::string formatted = format_source(clean);
  std::string out;
  for (std::size_t i = 0; i < formatted.size(); ++i) {
    if (formatted[i] == '\n') {
      while (i + 1 < formatted.size() && formatted[i + 1] == ' ') ++i;
      if (!out.empty() && i + 1 < formatted.size()) out += ' ';
      continue;
    }
    out += formatted[i];
  }
  const std::u32string u = to_u32(out);
  if (u.size() > 120) out = to_utf8(u.substr(0, 119)) + "…";
  return out;
}

std::string text_of(const Program& p, Span s) { return std::string(p.sources.text(s)); }

// The header of a scenario, or the `at` and `to` of a broadcast, setting by setting.
std::vector<std::pair<std::string, std::string>> settings_of(const Program& p, const StepGraph& g) {
  std::vector<std::pair<std::string, std::string>> out;
  if (g.decl == nullptr) return out;
  if (const auto* bc = std::get_if<ast::BroadcastDecl>(&g.decl->v)) {
    out.emplace_back("at", text_of(p, bc->at_span));
    out.emplace_back("to", bc->target ? text_of(p, bc->target->span) : std::string());
    return out;
  }
  const auto& sc = std::get<ast::ScenarioDecl>(g.decl->v);
  std::string start;
  for (const auto& so : sc.start_on) start += (start.empty() ? "" : "; ") + text_of(p, so.span);
  for (const auto& w : sc.start_when) start += (start.empty() ? "" : "; ") + ("start when " + text_of(p, w->span));
  out.emplace_back("start", start);
  switch (sc.restart) {
    case ast::RestartPolicy::Never:
      out.emplace_back("restart", "never");
      break;
    case ast::RestartPolicy::Always:
      out.emplace_back("restart", "always");
      break;
    case ast::RestartPolicy::After:
      out.emplace_back("restart", "after " + format_duration(sc.restart_after));
      break;
  }
  std::string stop;
  for (const auto& w : sc.stop_when) stop += (stop.empty() ? "" : "; ") + text_of(p, w->span);
  out.emplace_back("stop when", stop);
  out.emplace_back("on_update", sc.on_update ? sc.on_update->text : "continue");
  return out;
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
    const auto old_settings = settings_of(old_p, *og);
    const auto new_settings = settings_of(new_p, *ng);
    for (std::size_t k = 0; k < old_settings.size() && k < new_settings.size(); ++k) {
      if (tokens_key(old_settings[k].second) == tokens_key(new_settings[k].second)) continue;
      d.settings.push_back({old_settings[k].first, one_line(old_settings[k].second), one_line(new_settings[k].second)});
    }
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

namespace {

struct DeclText {
  std::string kind;
  std::string name;
  std::string text;
};

// The declarations `diff_declarations` compares, keyed by kind and name, in source order.
std::vector<DeclText> decl_texts(const Program& p) {
  std::vector<DeclText> out;
  std::map<std::string, int> rule_seen;
  for (const auto& f : p.ast.files) {
    for (const auto& d : f.decls) {
      const std::string whole = text_of(p, d.span);
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, ast::FieldDecl>) {
              out.push_back({"field", v.name.text, whole});
            } else if constexpr (std::is_same_v<T, ast::ListDecl>) {
              const char* kind = v.kind == ast::ListKind::Tag        ? "tag"
                                 : v.kind == ast::ListKind::Score    ? "score"
                                 : v.kind == ast::ListKind::Audience ? "audience"
                                                                     : "form";
              for (const auto& n : v.names) out.push_back({kind, n.text, std::string(kind) + " " + n.text});
            } else if constexpr (std::is_same_v<T, ast::LinkDecl>) {
              out.push_back({"link", v.name.text, whole});
            } else if constexpr (std::is_same_v<T, ast::MessageDecl>) {
              out.push_back({"message", v.name.text, whole});
            } else if constexpr (std::is_same_v<T, ast::EventDecl>) {
              out.push_back({"event", v.name.text, whole});
            } else if constexpr (std::is_same_v<T, ast::SegmentDecl>) {
              out.push_back({"segment", v.name.text, whole});
            } else if constexpr (std::is_same_v<T, ast::RuleDecl>) {
              // Rules have no names: `on EVENT [when …]`, numbered when the same header repeats.
              std::string head = "on " + one_line(text_of(p, v.event.span));
              if (v.when) head += " when " + one_line(text_of(p, v.when->span));
              const int n = ++rule_seen[head];
              out.push_back({"rule", n == 1 ? head : fmt::format("{} ({})", head, n), whole});
            }
          },
          d.v);
    }
  }
  // The account settings as they apply (defaults included), wherever the block stands.
  const auto& a = p.account;
  out.push_back({"account", "timezone", a.timezone});
  out.push_back({"account", "quiet_hours",
                 a.quiet_from && a.quiet_to ? format_time(*a.quiet_from) + " - " + format_time(*a.quiet_to) : ""});
  out.push_back({"account", "daily_limit", a.daily_limit ? std::to_string(*a.daily_limit) : ""});
  out.push_back({"account", "plan", a.plan});
  std::string staff;
  for (const auto& id : a.staff) staff += (staff.empty() ? "" : ", ") + id;
  out.push_back({"account", "staff", staff});
  return out;
}

}  // namespace

std::vector<DeclDiff> diff_declarations(const Program& old_p, const Program& new_p) {
  const auto olds = decl_texts(old_p);
  const auto news = decl_texts(new_p);
  auto find = [](const std::vector<DeclText>& v, const DeclText& x) -> const DeclText* {
    for (const auto& y : v) {
      if (y.kind == x.kind && y.name == x.name) return &y;
    }
    return nullptr;
  };
  std::vector<DeclDiff> out;
  for (const auto& n : news) {
    const DeclText* o = find(olds, n);
    if (o == nullptr) {
      out.push_back({n.kind, n.name, DeclDiff::Added, "", one_line(n.text)});
    } else if (tokens_key(o->text) != tokens_key(n.text)) {
      out.push_back({n.kind, n.name, DeclDiff::Changed, one_line(o->text), one_line(n.text)});
    }
  }
  for (const auto& o : olds) {
    if (find(news, o) == nullptr) out.push_back({o.kind, o.name, DeclDiff::Removed, one_line(o.text), ""});
  }
  return out;
}

std::string render_diff_human(const std::vector<ScenarioDiff>& diffs, const std::vector<DeclDiff>& decls) {
  std::string out;
  std::size_t changed = 0;
  for (const auto& d : diffs) {
    if (d.status == ScenarioDiff::Unchanged && d.settings.empty()) continue;
    ++changed;
    const char* what = d.broadcast ? "broadcast" : "scenario";
    if (d.status == ScenarioDiff::Unchanged) {
      // Only its header: who enters, and when, changes; friends inside stay where they are.
      out += fmt::format("{} `{}`: {} changed (no step changed: friends inside stay where they are)\n", what, d.name,
                         d.broadcast ? "time or target" : "header");
      for (const auto& s : d.settings) {
        out += fmt::format("  ~ {}: {} → {}\n", s.setting, s.old_value.empty() ? "(none)" : s.old_value,
                           s.new_value.empty() ? "(none)" : s.new_value);
      }
      continue;
    }
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
    for (const auto& s : d.settings) {
      out += fmt::format("  ~ {}: {} → {}\n", s.setting, s.old_value.empty() ? "(none)" : s.old_value,
                         s.new_value.empty() ? "(none)" : s.new_value);
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
  for (const auto& d : decls) {
    ++changed;
    static const char* const kStatus[] = {"added", "removed", "changed"};
    out += d.kind == "account" ? fmt::format("account `{}`: {}\n", d.name, kStatus[d.status])
                               : fmt::format("{} `{}`: {}\n", d.kind, d.name, kStatus[d.status]);
    if (d.kind == "account") {
      out += fmt::format("  ~ {} → {}\n", d.old_text.empty() ? "(none)" : d.old_text,
                         d.new_text.empty() ? "(none)" : d.new_text);
      continue;
    }
    if (!d.old_text.empty()) out += fmt::format("  - {}\n", d.old_text);
    if (!d.new_text.empty()) out += fmt::format("  + {}\n", d.new_text);
  }
  if (changed == 0)
    out += "nothing changed that decides who gets what: no scenario, broadcast, rule, segment, message or setting\n";
  return out;
}

std::string render_diff_json(const std::vector<ScenarioDiff>& diffs, const std::vector<DeclDiff>& decls) {
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
    auto st = json::array();
    for (const auto& s : d.settings) st.push_back({{"setting", s.setting}, {"old", s.old_value}, {"new", s.new_value}});
    j["settings"] = std::move(st);
    auto ls = json::array();
    for (const auto& l : d.landings) ls.push_back({{"from", l.from}, {"lands", kLanding[l.kind]}, {"to", l.to}, {"note", l.note}});
    j["waiting"] = std::move(ls);
    arr.push_back(std::move(j));
  }
  static const char* const kDeclStatus[] = {"added", "removed", "changed"};
  for (const auto& d : decls) {
    arr.push_back({{"kind", d.kind},
                   {"name", d.name},
                   {"status", kDeclStatus[d.status]},
                   {"old", d.old_text},
                   {"new", d.new_text}});
  }
  return arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace okuri
