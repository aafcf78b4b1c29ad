#include "runtime/testing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>

#include "runtime/report.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::rt {
namespace {

constexpr std::int64_t kTail = 90LL * 86400;

std::string where(const Program& p, Span s) {
  const auto& f = p.sources.file(s.file);
  return fmt::format("{}:{}", f.path, f.line_col(s.begin).line);
}

std::string short_time(std::int64_t t, const stdlib::Zone& zone) {
  const std::string s = format_time(t, zone);
  return s.substr(0, 10) + " " + s.substr(11, 5);
}

std::string names_of(const Engine& e, const std::vector<std::uint32_t>& msgs) {
  std::string s;
  for (auto m : msgs) s += (s.empty() ? "" : ", ") + e.schema().messages[m];
  return s;
}

// The friend's deliveries as a timeline (what `expect send` is compared with).
std::string timeline(const Engine& e, std::uint32_t row, std::int64_t to, const stdlib::Zone& zone) {
  std::string out;
  for (const Delivery* d : sorted_deliveries(e, to)) {
    if (d->row != row) continue;
    const std::string from = d->flow < 0 ? d->node : e.flow(static_cast<std::size_t>(d->flow)).name + " " + d->node;
    out += fmt::format("      {} {} {} ({}{})\n", short_time(d->time, zone), d->reply ? "reply" : "send ", names_of(e, d->messages), from,
                       d->time != d->logical ? ", deferred by " + d->deferred_by : "");
    // What the friend read, rendered by the renderer simulate, explain and serve use.
    if (!d->rendered.empty()) {
      std::string text = "    " + indented_text(e, *d);
      for (std::size_t k = text.find('\n'); k != std::string::npos; k = text.find('\n', k + 1))
        text.insert(k + 1, "    ");
      out += text + "\n";
    }
  }
  if (out.empty()) out = "      (nothing)\n";
  return out;
}

FieldValue field_value(const Value& v, const Type& t) {
  FieldValue f;
  f.is_text = t.kind == TypeKind::Text;
  f.i = v.i;
  f.text = v.text;
  return f;
}

void set_attr(Engine& e, const Program& p, std::uint32_t row, const ast::TestAttr& a) {
  FriendStore& s = e.store();
  const std::string& n = a.name.text;
  if (n == "tags" || n == "audiences") {
    const ast::Expr& v = ast::strip_parens(*a.value);
    const auto& names = n == "tags" ? e.schema().tags : e.schema().audiences;
    auto& bitmaps = n == "tags" ? s.tags : s.audiences;
    if (const auto* set = std::get_if<ast::SetLit>(&v.v)) {
      for (const auto& item : set->items) {
        if (const auto* nr = std::get_if<ast::NameRef>(&ast::strip_parens(*item).v)) {
          const auto it = std::find(names.begin(), names.end(), nr->name);
          if (it != names.end()) bitmaps[static_cast<std::size_t>(it - names.begin())].set(row, true);
        }
      }
    }
    return;
  }
  if (n == "arm") {  // `arm: offer_test.b` or a list of them: the test chooses the split arm
    const ast::Expr& v = ast::strip_parens(*a.value);
    std::vector<const ast::Expr*> items;
    if (const auto* set = std::get_if<ast::SetLit>(&v.v)) {
      for (const auto& item : set->items) items.push_back(item.get());
    } else {
      items.push_back(&v);
    }
    for (const ast::Expr* item : items) {
      const auto* m = std::get_if<ast::Member>(&item->v);
      if (m == nullptr) continue;
      for (std::size_t f = 0; f < e.flow_count(); ++f) {
        if (e.flow(f).name == m->object.text) e.force_arm(row, f, m->field.text);
      }
    }
    return;
  }
  Value v = e.evaluate(*a.value, row);
  if (const int f = e.schema().field_index(n); f >= 0) {
    if (auto m = plan::set_mask(*a.value, e.schema().fields[static_cast<std::size_t>(f)].values))
      v = Value{true, *m, {}};
  }
  if (const auto* attr = stdlib::find_attribute(n)) {
    switch (attr->id) {
      case stdlib::AttrKind::Gender:
        s.gender[row] = v.known ? static_cast<std::uint8_t>(v.i + 1) : 0;
        return;
      case stdlib::AttrKind::Region:
        s.region[row] = v.known ? static_cast<std::uint8_t>(v.i + 1) : 0;
        return;
      case stdlib::AttrKind::Age:
        s.set_age(row, v.known ? static_cast<std::int16_t>(v.i) : kUnknownAge);
        return;
      case stdlib::AttrKind::Score:
        s.set_score(row, v.i);
        return;
      case stdlib::AttrKind::Blocked:
        s.blocked.set(row, v.i != 0);
        return;
      case stdlib::AttrKind::Source:
        s.source[row] = v.known ? s.texts.intern(v.text) : kUnknownText;
        return;
      case stdlib::AttrKind::DisplayName:
        s.display_name[row] = v.known ? s.texts.intern(v.text) : kUnknownText;
        return;
      case stdlib::AttrKind::Language:
        s.language[row] = v.known ? s.texts.intern(v.text) : kUnknownText;
        return;
      default:
        break;
    }
  }
  if (n == "friend_since") {
    s.friend_since[row] = v.known ? static_cast<std::int32_t>(v.i) : kUnknownDays;
    return;
  }
  if (const int f = e.schema().field_index(n); f >= 0) {
    auto& col = s.fields[static_cast<std::size_t>(f)];
    const Type t = e.schema().fields[static_cast<std::size_t>(f)].type;
    col.values[row] = t.kind == TypeKind::Text && v.known ? s.texts.intern(v.text) : v.i;
    col.known.set(row, v.known);
    return;
  }
  for (std::size_t i = 0; i < e.schema().scores.size(); ++i) {
    if (e.schema().scores[i] == n) s.named_scores[i][row] = v.i;
  }
  (void)p;
}

bool compare(const Value& a, const Value& b, ast::BinOp op, bool text) {
  if (!a.known || !b.known) return false;
  if (text) {
    const int c = a.text.compare(b.text);
    switch (op) {
      case ast::BinOp::Eq:
        return c == 0;
      case ast::BinOp::Ne:
        return c != 0;
      default:
        return false;
    }
  }
  switch (op) {
    case ast::BinOp::Eq:
      return a.i == b.i;
    case ast::BinOp::Ne:
      return a.i != b.i;
    case ast::BinOp::Lt:
      return a.i < b.i;
    case ast::BinOp::Le:
      return a.i <= b.i;
    case ast::BinOp::Gt:
      return a.i > b.i;
    case ast::BinOp::Ge:
      return a.i >= b.i;
    default:
      return false;
  }
}

std::string show_value(const Program& p, const Value& v, const Type& t, const stdlib::Zone& zone) {
  if (!v.known) return "unknown";
  switch (t.kind) {
    case TypeKind::Bool:
      return v.i != 0 ? "true" : "false";
    case TypeKind::Text:
      return "\"" + v.text + "\"";
    case TypeKind::Date:
      return format_date(civil_from_days(v.i));
    case TypeKind::DateTime:
      return short_time(v.i, zone);
    case TypeKind::Duration:
      return format_duration(v.i);
    case TypeKind::Enum: {
      const auto& vals = p.types.enum_def(t.enum_id).values;
      return v.i >= 0 && static_cast<std::size_t>(v.i) < vals.size() ? vals[static_cast<std::size_t>(v.i)] : "?";
    }
    default:
      return std::to_string(v.i);
  }
}

TestOutcome run_one(const Program& p, const ast::TestDecl& t, const EngineOptions& opts) {
  TestOutcome out;
  out.name = t.name;
  out.file = where(p, t.name_span);
  EngineOptions rendering = opts;
  rendering.render = true;  // a failure shows the texts the friend read
  Engine e(p, rendering);
  const stdlib::Zone zone(p.account.timezone.c_str());
  const std::string& tz = p.account.timezone;
  const EventCatalog catalog(p);  // what the events' fields hold (a set_of field: its values)
  std::int64_t first = std::numeric_limits<std::int64_t>::max();
  std::int64_t last = std::numeric_limits<std::int64_t>::min();
  std::optional<std::int64_t> cur;  // the test's clock, line by line (`after` counts from it)
  for (const auto& item : t.items) {
    if (const auto* ev = std::get_if<ast::TestEvent>(&item.v)) {
      const std::int64_t at = local_to_utc_seconds(ev->at, tz);
      first = std::min(first, at);
      last = std::max(last, at);
      cur = at;
    } else if (const auto* c = std::get_if<ast::TestClock>(&item.v)) {
      if (c->at) {
        cur = local_to_utc_seconds(*c->at, tz);
        first = std::min(first, *cur);
      } else if (cur) {
        *cur += c->after;
      }
      if (cur) last = std::max(last, *cur);
    } else if (const auto* ex = std::get_if<ast::ExpectSend>(&item.v); ex != nullptr && ex->at) {
      last = std::max(last, local_to_utc_seconds(*ex->at, tz));
    }
  }
  if (first == std::numeric_limits<std::int64_t>::max()) first = last = 0;
  e.start_at(first);
  std::vector<const ast::ExpectSend*> sends;
  for (const auto& item : t.items) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::TestFriend>) {
            const std::uint32_t row = e.friend_row(v.id.text);
            for (const auto& a : v.attrs) set_attr(e, p, row, a);
          } else if constexpr (std::is_same_v<T, ast::TestEvent>) {
            InputEvent ev;
            ev.time_ms = local_to_utc_seconds(v.at, tz) * 1000;
            ev.friend_id = v.friend_id.text;
            ev.type = v.event.name.text;
            if (v.event.arg) ev.arg = v.event.arg->text;
            if (v.event.arg_text) ev.fields["url"] = FieldValue{true, 0, *v.event.arg_text};
            if (v.event.from) ev.fields["source"] = FieldValue{true, 0, *v.event.from};
            ev.origin = where(p, item.span);
            const std::uint32_t row = e.friend_row(ev.friend_id);
            const EventCatalog::Spec* spec = catalog.find(ev.type);
            for (const auto& a : v.payload) {
              FieldValue& f = ev.fields[a.name.text];
              f = field_value(e.evaluate(*a.value, row), p.type_of(a.value->id));
              // `menus: [cut, color]` for a set_of field: its values' bits, as the events file gives them.
              if (spec == nullptr) continue;
              if (auto fs = spec->fields.find(a.name.text);
                  fs != spec->fields.end() && fs->second.type.kind == TypeKind::Set) {
                if (auto m = plan::set_mask(*a.value, fs->second.values)) f = FieldValue{false, *m, {}};
              }
            }
            e.handle(ev);
          } else if constexpr (std::is_same_v<T, ast::TestClock>) {
            // The clock moves on: timers and broadcasts due by then fire.
            e.run_until(v.at ? local_to_utc_seconds(*v.at, tz) : e.now() + v.after);
          } else if constexpr (std::is_same_v<T, ast::ExpectSend>) {
            sends.push_back(&v);
          } else if constexpr (std::is_same_v<T, ast::ExpectValue>) {
            const std::uint32_t row = e.friend_row(v.friend_id.text);
            const Value a = e.evaluate(*v.value, row);
            const Type ta = p.type_of(v.value->id);
            bool ok;
            std::string expected;
            if (v.rhs) {
              const Value b = e.evaluate(*v.rhs, row);
              ok = compare(a, b, v.op.value_or(ast::BinOp::Eq), ta.kind == TypeKind::Text);
              expected = std::string(p.sources.text(item.span));
            } else {
              ok = a.known && a.i != 0;
              expected = std::string(p.sources.text(item.span));
            }
            if (!ok) {
              out.passed = false;
              std::string inputs = e.inputs_of(*v.value, row);
              if (inputs.rfind(std::string(p.sources.text(v.value->span)) + "=", 0) == 0 && inputs.find(", ") == std::string::npos) {
                inputs.clear();  // the value itself: nothing more to say
              }
              out.failures.push_back(fmt::format("  {}: {}\n    at {}: `{}` is {}{}\n", where(p, item.span), expected,
                                                 short_time(e.now(), zone), p.sources.text(v.value->span), show_value(p, a, ta, zone),
                                                 inputs.empty() || !v.rhs ? (inputs.empty() ? "" : " (" + inputs + ")") : ""));
            }
          }
        },
        item.v);
  }
  const std::int64_t end = last + kTail;
  e.run_until(end);
  for (const ast::ExpectSend* x : sends) {
    const auto found = e.store().find(x->friend_id.text);
    std::vector<std::uint32_t> want;
    for (const auto& m : x->messages) {
      for (std::size_t i = 0; i < e.schema().messages.size(); ++i) {
        if (e.schema().messages[i] == m.text) want.push_back(static_cast<std::uint32_t>(i));
      }
    }
    const std::int64_t at = x->at ? local_to_utc_seconds(*x->at, tz) : 0;
    bool hit = false;
    if (found) {
      for (const Delivery* d : sorted_deliveries(e, end)) {
        if (d->row != *found) continue;
        if (x->at && d->time != at) continue;
        if (x->reply && !d->reply) continue;
        bool all = true, any = false;
        for (auto m : want) {
          const bool has = std::find(d->messages.begin(), d->messages.end(), m) != d->messages.end();
          all = all && has;
          any = any || has;
        }
        if (x->negated || x->any_of ? any : all) {
          hit = true;
          break;
        }
      }
    }
    if (hit != x->negated) continue;
    out.passed = false;
    const Span sp{x->friend_id.span.file, x->friend_id.span.begin, x->friend_id.span.end};
    std::string what;
    for (const auto& m : x->messages) what += (what.empty() ? "" : (x->any_of ? " or " : ", ")) + m.text;
    std::string expect = fmt::format("{}{} {} to {}{}", x->negated ? "no " : "", x->reply ? "reply" : "send", what, x->friend_id.text,
                                     x->at ? " at " + short_time(at, zone) : std::string());
    out.failures.push_back(fmt::format("  {}: expected {}\n    actual timeline of {} (until {}):\n{}", where(p, sp), expect,
                                       x->friend_id.text, short_time(end, zone),
                                       found ? timeline(e, *found, end, zone) : "      (no such friend in this test)\n"));
  }
  // In source order (value checks ran at their point in time, sends at the end).
  std::stable_sort(out.failures.begin(), out.failures.end(), [](const std::string& a, const std::string& b) {
    auto line = [](const std::string& s) {
      const auto colon = s.find(':');
      const auto stop = s.find(':', colon + 1);
      return colon == std::string::npos || stop == std::string::npos ? 0L : std::atol(s.substr(colon + 1, stop - colon - 1).c_str());
    };
    return line(a) < line(b);
  });
  return out;
}

}  // namespace

std::vector<TestOutcome> run_tests(const Program& p, const EngineOptions& engine, const std::string& filter) {
  std::vector<TestOutcome> out;
  for (const auto& f : p.ast.files) {
    for (const auto& d : f.decls) {
      const auto* t = std::get_if<ast::TestDecl>(&d.v);
      if (t == nullptr) continue;
      if (!filter.empty() && t->name.find(filter) == std::string::npos) continue;
      out.push_back(run_one(p, *t, engine));
    }
  }
  return out;
}

// ------------------------------------------------------------------ explain

std::string timeline_line(const Engine& e, const TraceEntry& t, const stdlib::Zone& zone) {
  std::string where;
  if (t.flow >= 0) where = e.flow(static_cast<std::size_t>(t.flow)).name;
  if (!t.node.empty() && t.node != where) where += (where.empty() ? "" : " ") + t.node;
  return fmt::format("{}  {:<8} {}{}", short_time(t.time, zone), to_string(t.kind), where.empty() ? "" : where + ": ", t.text);
}

std::string explain(Engine& e, std::uint32_t row, std::int64_t to, bool from_start) {
  const Program& p = e.program();
  const stdlib::Zone zone(p.account.timezone.c_str());
  const std::string who = e.store().id_of(row);
  std::string out = fmt::format("timeline of {}\n", who);
  for (const auto& t : e.trace()) {
    if (t.row == row) out += "  " + timeline_line(e, t, zone) + "\n";
  }
  // Messages received.
  std::set<std::uint32_t> got;
  out += "\nreceived\n";
  bool any = false;
  for (const Delivery* d : sorted_deliveries(e, to)) {
    if (d->row != row) continue;
    any = true;
    for (auto m : d->messages) got.insert(m);
    out += fmt::format("  {} {} {}\n", short_time(d->time, zone), d->reply ? "reply" : "push ", names_of(e, d->messages));
    if (!d->rendered.empty()) out += indented_text(e, *d) + "\n";
  }
  if (!any) out += "  nothing\n";
  out += "\nnot received\n";
  any = false;
  for (std::uint32_t m = 0; m < e.schema().messages.size(); ++m) {
    if (got.count(m) != 0) continue;
    any = true;
    const std::string& name = e.schema().messages[m];
    std::vector<std::string> reasons;
    // Blocked or deferred past the end.
    for (const auto& d : e.deliveries()) {
      if (d.row != row || std::find(d.messages.begin(), d.messages.end(), m) == d.messages.end()) continue;
      if (d.skipped) reasons.push_back(fmt::format("at {} the friend had blocked the account: skipped ({})", short_time(d.logical, zone), d.node));
      else if (d.time > to) reasons.push_back(fmt::format("deferred by {} to {}, after the end of the run", d.deferred_by, short_time(d.time, zone)));
    }
    // Every step that sends it.
    for (std::size_t f = 0; reasons.empty() && f < e.flow_count(); ++f) {
      const StepGraph& g = e.flow(f);
      std::vector<std::string> nodes;
      for (std::uint32_t n = 0; n < g.node_count(); ++n) {
        const auto& sn = g.node(n);
        if (std::find(sn.messages.begin(), sn.messages.end(), name) != sn.messages.end()) nodes.push_back(sn.id);
      }
      if (nodes.empty()) continue;
      std::string r = fmt::format("{} {} sends it at {}:", g.is_broadcast ? "broadcast" : "scenario", g.name, fmt::join(nodes, ", "));
      if (!e.ever_entered(row, f)) {
        std::string why;
        for (const auto& t : e.trace()) {
          if (t.row == row && t.flow == static_cast<std::int32_t>(f) && t.kind == TraceKind::NoEnter) why = fmt::format("at {} {}", short_time(t.time, zone), t.text);
        }
        if (why.empty() && g.is_broadcast) {
          const auto& bc = std::get<ast::BroadcastDecl>(g.decl->v);
          const std::int64_t when = local_to_utc_seconds(bc.at, p.account.timezone);
          std::int64_t first_seen = std::numeric_limits<std::int64_t>::max();
          for (const auto& t : e.trace()) {
            if (t.row == row) {
              first_seen = t.time;
              break;
            }
          }
          if (when > to) {
            why = fmt::format("it goes out at {}, after the end of the run", short_time(when, zone));
          } else if (!from_start && first_seen > when && first_seen != std::numeric_limits<std::int64_t>::max()) {
            why = fmt::format("it went out at {}, before the friend's first event ({})", short_time(when, zone), short_time(first_seen, zone));
          } else if (bc.target && !e.holds(*bc.target, row)) {
            why = fmt::format("not in the target `{}` ({})", p.sources.text(bc.target->span), e.inputs_of(*bc.target, row));
          } else {
            why = fmt::format("it went out at {}, before the run began", short_time(when, zone));
          }
        }
        if (why.empty()) {
          const auto& sc = std::get<ast::ScenarioDecl>(g.decl->v);
          std::vector<std::string> starts;
          for (const auto& s : sc.start_on) starts.push_back("`start on " + std::string(p.sources.text(s.event.span)) + "`");
          for (const auto& s : sc.start_when) starts.push_back("`start when " + std::string(p.sources.text(s->span)) + "`");
          std::vector<std::string> parts;
          if (!sc.start_on.empty()) {
            std::vector<std::string> on;
            for (const auto& s : sc.start_on) on.push_back("`start on " + std::string(p.sources.text(s.event.span)) + "`");
            parts.push_back(fmt::format("no event matched {}", fmt::join(on, " or ")));
          }
          for (const auto& s : sc.start_when) {
            parts.push_back(fmt::format("`start when {}` never became true (at the end: {})", p.sources.text(s->span), e.inputs_of(*s, row)));
          }
          why = starts.empty() ? std::string("nothing starts it but a `start` action, which never ran for this friend")
                               : "never entered: " + fmt::format("{}", fmt::join(parts, "; "));
        }
        reasons.push_back(r + " " + why);
        continue;
      }
      // The friend's last run through the flow: from its last entry on.
      std::size_t from = 0;
      for (std::size_t k = 0; k < e.trace().size(); ++k) {
        const auto& t = e.trace()[k];
        if (t.row == row && t.flow == static_cast<std::int32_t>(f) && t.kind == TraceKind::Enter) from = k;
      }
      std::vector<std::string> facts;
      for (std::size_t k = from; k < e.trace().size(); ++k) {
        const auto& t = e.trace()[k];
        if (t.row != row || t.flow != static_cast<std::int32_t>(f)) continue;
        if (t.kind == TraceKind::Branch || t.kind == TraceKind::Split || t.kind == TraceKind::Leave || t.kind == TraceKind::Case ||
            t.kind == TraceKind::NoEnter) {
          facts.push_back(fmt::format("{} {}: {}", short_time(t.time, zone), t.node, t.text));
        }
      }
      if (auto pos = e.position(row, f)) {
        const auto wake = e.wake_time(row, f);
        facts.push_back(fmt::format("at the end of the run the friend was still at {} ({}){}", g.node(*pos).id, g.node(*pos).label,
                                    wake ? "; it would go on at " + short_time(*wake, zone) : std::string()));
      }
      if (facts.empty()) facts.push_back("the run went another way");
      reasons.push_back(r + fmt::format("\n      {}", fmt::join(facts, "\n      ")));
    }
    if (reasons.empty()) {
      bool in_rule = false;
      for (const auto& fl : p.ast.files) {
        for (const auto& d : fl.decls) {
          if (const auto* rd = std::get_if<ast::RuleDecl>(&d.v)) {
            for (const auto& s : rd->body.stmts) {
              auto has = [&](const std::vector<ast::Name>& v) { return std::any_of(v.begin(), v.end(), [&](const ast::Name& x) { return x.text == name; }); };
              if (const auto* ss = std::get_if<ast::SendStmt>(&s->v); ss != nullptr && has(ss->messages)) in_rule = true;
              if (const auto* rs = std::get_if<ast::ReplyStmt>(&s->v); rs != nullptr && has(rs->messages)) in_rule = true;
            }
          }
        }
      }
      reasons.push_back(in_rule ? "the rule that sends it never fired for this friend (see the timeline)" : "nothing in the project sends it");
    }
    out += fmt::format("  {}\n", name);
    for (const auto& r : reasons) out += fmt::format("    {}\n", r);
  }
  if (!any) out += "  nothing: every message reached the friend\n";
  return out;
}

}  // namespace okuri::rt
