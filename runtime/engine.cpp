#include "runtime/engine.hpp"

#include <fmt/format.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <unordered_map>

#include "compiler/versions.hpp"
#include "runtime/timer_wheel.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::rt {

const char* to_string(TraceKind k) {
  switch (k) {
    case TraceKind::Event:
      return "event";
    case TraceKind::Raised:
      return "raised";
    case TraceKind::Rule:
      return "rule";
    case TraceKind::Enter:
      return "enter";
    case TraceKind::NoEnter:
      return "no_enter";
    case TraceKind::Leave:
      return "leave";
    case TraceKind::Branch:
      return "branch";
    case TraceKind::Split:
      return "split";
    case TraceKind::Wait:
      return "wait";
    case TraceKind::Case:
      return "case";
    case TraceKind::Send:
      return "send";
    case TraceKind::Action:
      return "action";
    case TraceKind::Goal:
      return "goal";
    case TraceKind::End:
      return "end";
    case TraceKind::Error:
      return "error";
  }
  return "?";
}

std::optional<std::int64_t> set_mask(const ast::Expr& e, const std::vector<std::string>& values) {
  const auto* set = std::get_if<ast::SetLit>(&ast::strip_parens(e).v);
  if (set == nullptr) return std::nullopt;
  std::uint64_t m = 0;
  for (const auto& item : set->items) {
    if (const auto* n = std::get_if<ast::NameRef>(&ast::strip_parens(*item).v)) {
      for (std::size_t i = 0; i < values.size() && i < 64; ++i) {
        if (values[i] == n->name) m |= std::uint64_t{1} << i;
      }
    }
  }
  return static_cast<std::int64_t>(m);
}

std::string delivery_key(std::string_view friend_id, std::string_view flow, std::uint32_t instance,
                         std::string_view node, std::uint32_t occurrence) {
  std::string buf;
  buf.reserve(friend_id.size() + flow.size() + node.size() + 24);
  buf.append(friend_id).push_back('\0');
  buf.append(flow).push_back('\0');
  buf.append(std::to_string(instance)).push_back('\0');
  buf.append(node).push_back('\0');
  buf.append(std::to_string(occurrence));
  const XXH128_hash_t h = XXH3_128bits(buf.data(), buf.size());
  std::uint8_t b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<std::uint8_t>(h.high64 >> (56 - 8 * i));
    b[8 + i] = static_cast<std::uint8_t>(h.low64 >> (56 - 8 * i));
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x80);  // version 8
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // variant 10
  static const char* const kHex = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t k = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++k;
    out[k++] = kHex[b[i] >> 4];
    out[k++] = kHex[b[i] & 15];
  }
  return out;
}

int split_bucket(std::string_view friend_id, std::string_view scenario, std::string_view split_node) {
  std::string buf;
  buf.append(friend_id).push_back('\0');
  buf.append(scenario).push_back('\0');
  buf.append(split_node);
  return static_cast<int>(XXH64(buf.data(), buf.size(), 0) % 100);
}

std::string format_time(std::int64_t seconds, const stdlib::Zone& zone) {
  const std::int64_t off = zone.offset_at(seconds);
  const std::int64_t local = seconds + off;
  std::int64_t days = local / 86400;
  std::int64_t rem = local % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const CivilDate d = civil_from_days(days);
  const std::int64_t aoff = off < 0 ? -off : off;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", d.year, d.month, d.day, rem / 3600, rem / 60 % 60,
                     rem % 60, off < 0 ? '-' : '+', aoff / 3600, aoff / 60 % 60);
}

namespace {

constexpr std::uint32_t kNoTimer = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();
constexpr int kMaxDepth = 64;
constexpr std::uint32_t kMaxSteps = 100000;

enum Status : std::uint8_t { kNever = 0, kInside = 1, kDone = 2 };

struct Instance {
  std::uint32_t timer = kNoTimer;
  std::uint32_t node = 0;
  std::int64_t entered_at = 0;
  std::int64_t wake = 0;  // the pending timer's deadline
  std::int64_t goal_deadline = 0;
  std::uint32_t goal_node = 0;
  std::uint16_t times = 0;
  std::uint16_t seq = 0;
  std::uint8_t status = kNever;
  bool goal_armed = false;
  bool converted = false;
  bool when_prev = false;
  bool wait_unknown = false;
};

struct XEdge {
  std::uint32_t to = 0;
  const ast::Expr* cond = nullptr;  // Then: the arm's condition
  int type = -1;  // an `on EVENT` case: the event's type number
  EdgeKind kind = EdgeKind::Next;
  std::int32_t pred = -1;
  std::int64_t percent = 0;
  std::string arm;
  const ast::WaitCase* wc = nullptr;
  std::string label;
};

struct XNode {
  StepKind kind = StepKind::Action;
  const StepNode* sn = nullptr;
  std::vector<XEdge> out;  // in decision order
  std::vector<std::uint32_t> msgs;
  std::int32_t until_value = -1;  // wait until <expr>
  TypeKind until_type = TypeKind::Error;
  std::int32_t goal_pred = -1;
  std::int64_t goal_within = 0;
};

struct StartOnX {
  const ast::EventPattern* pattern = nullptr;
  std::int32_t pred = -1;
  int type = -1;
  std::string text;
  std::string cause;  // "`start on …`", for the trace
};

struct Flow {
  const StepGraph* g = nullptr;
  bool broadcast = false;
  const ast::ScenarioDecl* sc = nullptr;
  const ast::BroadcastDecl* bc = nullptr;
  std::vector<XNode> nodes;
  std::vector<std::pair<std::int32_t, std::string>> stop_when;
  std::vector<StartOnX> start_on;
  std::vector<std::pair<std::int32_t, std::string>> start_when;
  // Broadcasts.
  std::int64_t at = 0;
  std::int32_t target = -1;
  std::int64_t throttle_count = 0;
  std::int64_t throttle_unit = 0;  // seconds
};

struct Rule {
  const ast::RuleDecl* decl = nullptr;
  int type = -1;
  std::int32_t pred = -1;
  std::string id;
  std::string text;
};

// The event being handled (an input event, a raised one, or a timer).
struct Ctx {
  bool replyable = false;  // friend_added / message_received / postback: a fresh reply token
  bool token_used = false;
  std::string_view token;  // the event's reply token, when it carried one
  int depth = 0;
};

// Event types by number: the built-in ones first, in this order, then custom events.
enum BuiltinType : int {
  kFriendAdded, kFriendBlocked, kFriendUnblocked, kMessageReceived, kPostback, kLinkClicked, kMessageOpened, kWebVisited,
  kFormSubmitted, kTagAdded, kTagRemoved, kFieldChanged, kBuiltinTypes
};
constexpr const char* kBuiltinTypeNames[] = {"friend_added", "friend_blocked", "friend_unblocked", "message_received",
                                             "postback", "link_clicked", "message_opened", "web_visited",
                                             "form_submitted", "tag_added", "tag_removed", "field_changed"};

struct Raised {
  int type_id = -1;
  std::string_view type;  // an input event's own strings, or a literal and a name of the program
  std::string_view arg;
  const InputEvent* input = nullptr;  // the input event itself (first in the queue)
};

std::string value_text(const Value& v, const Type& t, const TypeTable& types, const stdlib::Zone& zone) {
  if (!v.known) return "unknown";
  switch (t.kind) {
    case TypeKind::Bool:
      return v.i != 0 ? "true" : "false";
    case TypeKind::Text:
      return fmt::format("\"{}\"", v.text);
    case TypeKind::Date:
      return format_date(civil_from_days(v.i));
    case TypeKind::DateTime: {
      std::string s = format_time(v.i, zone);
      return s.substr(0, 10) + " " + s.substr(11, 5);
    }
    case TypeKind::Duration:
      return format_duration(v.i);
    case TypeKind::Time:
      return okuri::format_time(static_cast<MinuteOfDay>(v.i));
    case TypeKind::Enum: {
      const auto& vals = types.enum_def(t.enum_id).values;
      return v.i >= 0 && static_cast<std::size_t>(v.i) < vals.size() ? vals[static_cast<std::size_t>(v.i)] : "?";
    }
    case TypeKind::Set: {
      const auto& vals = types.enum_def(t.enum_id).values;
      std::string s = "[";
      for (std::size_t i = 0; i < vals.size() && i < 64; ++i) {
        if (((static_cast<std::uint64_t>(v.i) >> i) & 1) != 0) s += (s.size() > 1 ? ", " : "") + vals[i];
      }
      return s + "]";
    }
    default:
      return std::to_string(v.i);
  }
}

}  // namespace

struct Engine::Impl {
  const Program& p;
  EngineOptions opt;
  ir::Schema schema;
  std::unique_ptr<stdlib::Zone> zone;
  std::vector<ir::Predicate> preds;   // boolean conditions
  std::vector<ir::Predicate> values;  // value expressions
  std::unordered_map<const ast::Expr*, std::int32_t> pred_of, value_of;
  std::vector<Flow> flows;
  std::vector<Rule> rules;
  std::vector<std::int32_t> broadcast_order;  // flows that are broadcasts, by time
  std::vector<std::size_t> timed_starts;  // flows whose `start when` can become true with time alone
  std::int64_t next_tick = 0;             // the next local midnight, when they are evaluated for every friend
  std::size_t next_broadcast = 0;
  std::unique_ptr<FriendStore> store;
  std::vector<Instance> inst;
  std::vector<std::int64_t> next_free;
  std::vector<std::int64_t> push_day;
  std::vector<std::uint32_t> push_count;
  std::vector<std::uint32_t> rule_seq;
  std::vector<std::uint32_t> dirty;  // rows whose state changed since take_dirty()
  std::vector<bool> dirty_mark;
  void touch(std::uint32_t row) {
    if (row >= dirty_mark.size()) dirty_mark.resize(store->size(), false);
    if (!dirty_mark[row]) {
      dirty_mark[row] = true;
      dirty.push_back(row);
    }
  }
  TimerWheel wheel{0};
  std::int64_t now = 0;
  bool started = false;
  std::int64_t throttle_floor = 0;
  // Row functions (JIT) and their bindings.
  std::vector<RowFn> rows;
  ColumnBinding cols;
  std::size_t bound_rows = static_cast<std::size_t>(-1), bound_texts = static_cast<std::size_t>(-1);
  EventBinding ebind;
  // Outputs.
  std::vector<Delivery> deliveries;
  std::vector<MenuLink> menu_links;
  std::uint64_t menu_links_made = 0;
  std::vector<TraceEntry> trace;
  std::vector<FlowStats> stats;
  std::uint64_t events = 0, notifications = 0, cascade_stops = 0, delivery_total = 0;
  EventValues evvals;

  EventCatalog catalog;
  std::map<std::pair<std::uint32_t, std::size_t>, std::string> forced_arms;  // (row, flow) → arm, set by tests
  std::vector<std::string> type_names{std::begin(kBuiltinTypeNames), std::end(kBuiltinTypeNames)};
  int type_id(std::string_view t) const {
    for (std::size_t i = 0; i < type_names.size(); ++i) {
      if (type_names[i].size() == t.size() && type_names[i] == t) return static_cast<int>(i);
    }
    return -1;
  }
  int intern_type(const std::string& t) {
    const int id = type_id(t);
    if (id >= 0) return id;
    type_names.push_back(t);
    return static_cast<int>(type_names.size() - 1);
  }

  Impl(const Program& prog, EngineOptions o) : p(prog), opt(std::move(o)), catalog(prog) {
    schema = ir::make_schema(p);
    zone = std::make_unique<stdlib::Zone>(p.account.timezone.c_str());
    lower_all();
    store = std::make_unique<FriendStore>(schema);
    if (opt.compile_rows && !preds.empty()) {
      std::vector<RowFn> fns;
      if (opt.compile_rows(preds, schema, fns) && fns.size() == preds.size()) rows = std::move(fns);
    }
  }

  // ---------------------------------------------------------------- lowering

  std::int32_t cond(const ast::Expr* e, const std::string& name) {
    if (e == nullptr) return -1;
    if (auto it = pred_of.find(e); it != pred_of.end()) return it->second;
    preds.push_back(ir::lower_predicate(p, schema, *e, name));
    const auto i = static_cast<std::int32_t>(preds.size() - 1);
    pred_of[e] = i;
    return i;
  }
  std::int32_t value(const ast::Expr* e, const std::string& name) {
    if (e == nullptr) return -1;
    if (auto it = value_of.find(e); it != value_of.end()) return it->second;
    values.push_back(ir::lower_predicate(p, schema, *e, name));
    const auto i = static_cast<std::int32_t>(values.size() - 1);
    value_of[e] = i;
    return i;
  }
  std::string src(Span s) const { return std::string(p.sources.text(s)); }

  void lower_actions(const ast::Block& b, const std::string& where) {
    for (const auto& s : b.stmts) {
      if (const auto* sc = std::get_if<ast::ScoreStmt>(&s->v)) value(sc->value.get(), where);
      if (const auto* st = std::get_if<ast::SetStmt>(&s->v)) value(st->value.get(), where);
      if (const auto* is = std::get_if<ast::IfStmt>(&s->v)) {
        for (const auto& a : is->arms) {
          cond(a.cond.get(), where);
          lower_actions(a.body, where);
        }
        if (is->else_body) lower_actions(*is->else_body, where);
      }
    }
  }

  // Whether a predicate's value can change with time alone (today, now, friend_days, `within`).
  static bool time_dependent(const ir::Predicate& pr) {
    for (const auto& n : pr.nodes) {
      if (n.op == ir::Op::Attr) {
        const auto a = static_cast<ir::Attr>(n.a);
        if (a == ir::Attr::Today || a == ir::Attr::Now || a == ir::Attr::FriendDays) return true;
      }
      if ((n.op == ir::Op::Clicked || n.op == ir::Op::Opened) && n.b != 0) return true;
    }
    return false;
  }

  void lower_all() {
    int rule_no = 0;
    for (const auto& f : p.ast.files) {
      for (const auto& d : f.decls) {
        if (const auto* r = std::get_if<ast::RuleDecl>(&d.v)) {
          Rule x;
          x.decl = r;
          x.id = fmt::format("rules/{}", ++rule_no);
          x.text = "on " + src(r->event.span) + (r->when ? " when " + src(r->when->span) : "");
          x.pred = cond(r->when.get(), x.id);
          x.type = intern_type(r->event.name.text);
          lower_actions(r->body, x.id);
          rules.push_back(std::move(x));
        } else if (const auto* t = std::get_if<ast::TestDecl>(&d.v)) {
          for (const auto& item : t->items) {
            if (const auto* ev = std::get_if<ast::ExpectValue>(&item.v)) {
              value(ev->value.get(), "test");
              value(ev->rhs.get(), "test");
            } else if (const auto* fr = std::get_if<ast::TestFriend>(&item.v)) {
              for (const auto& a : fr->attrs) value(a.value.get(), "test");
            } else if (const auto* te = std::get_if<ast::TestEvent>(&item.v)) {
              for (const auto& a : te->payload) value(a.value.get(), "test");
            }
          }
        }
      }
    }
    for (const auto& g : p.graphs) flows.push_back(lower_flow(g));
    stats.resize(flows.size());
    for (std::size_t i = 0; i < flows.size(); ++i) {
      stats[i].steps.resize(flows[i].nodes.size());
      if (flows[i].broadcast) broadcast_order.push_back(static_cast<std::int32_t>(i));
    }
    for (std::size_t i = 0; i < flows.size(); ++i) {
      for (const auto& [pr, text] : flows[i].start_when) {
        if (pr >= 0 && time_dependent(preds[static_cast<std::size_t>(pr)])) {
          timed_starts.push_back(i);
          break;
        }
      }
    }
    std::stable_sort(broadcast_order.begin(), broadcast_order.end(),
                     [&](std::int32_t a, std::int32_t b) { return flows[static_cast<std::size_t>(a)].at < flows[static_cast<std::size_t>(b)].at; });
  }

  static std::size_t arm_index(const ast::IfStmt& s, const ast::Expr* c) {
    for (std::size_t i = 0; i < s.arms.size(); ++i) {
      if (s.arms[i].cond.get() == c) return i;
    }
    return s.arms.size();
  }

  Flow lower_flow(const StepGraph& g) {
    Flow fl;
    fl.g = &g;
    fl.broadcast = g.is_broadcast;
    if (g.decl != nullptr) {
      fl.sc = std::get_if<ast::ScenarioDecl>(&g.decl->v);
      fl.bc = std::get_if<ast::BroadcastDecl>(&g.decl->v);
    }
    const std::string& name = g.name;
    if (fl.sc != nullptr) {
      for (const auto& e : fl.sc->stop_when) fl.stop_when.emplace_back(cond(e.get(), name + "/stop when"), src(e->span));
      for (const auto& s : fl.sc->start_on) {
        StartOnX x{&s.event, cond(s.when.get(), name + "/start on"), intern_type(s.event.name.text),
                   "start on " + src(s.event.span) + (s.when ? " when " + src(s.when->span) : ""), {}};
        x.cause = "`" + x.text + "`";
        fl.start_on.push_back(std::move(x));
      }
      for (const auto& e : fl.sc->start_when) fl.start_when.emplace_back(cond(e.get(), name + "/start when"), src(e->span));
    }
    if (fl.bc != nullptr) {
      fl.at = local_to_utc_seconds(fl.bc->at, p.account.timezone);
      fl.target = cond(fl.bc->target.get(), name + "/to");
      for (const auto& s : fl.bc->body.stmts) {
        if (const auto* t = std::get_if<ast::ThrottleStmt>(&s->v); t != nullptr && t->count > 0) {
          fl.throttle_count = t->count;
          fl.throttle_unit = t->unit.text == "s" ? 1 : t->unit.text == "h" ? 3600 : 60;
        }
      }
    }
    fl.nodes.resize(g.node_count());
    for (std::uint32_t i = 0; i < g.node_count(); ++i) {
      const StepNode& sn = g.node(i);
      XNode& x = fl.nodes[i];
      x.kind = sn.kind;
      x.sn = &sn;
      for (const auto& m : sn.messages) {
        const int idx = index_in(schema.messages, m);
        if (idx >= 0) x.msgs.push_back(static_cast<std::uint32_t>(idx));
      }
      const std::string where = name + "/" + sn.id;
      for (const auto& e : g.out_edges(i)) {
        XEdge xe;
        xe.to = e.to;
        xe.kind = e.kind;
        xe.percent = e.percent;
        xe.wc = e.wait_case;
        xe.label = e.label;
        if (e.kind == EdgeKind::Then) {
          xe.cond = e.cond;
          xe.pred = cond(e.cond, where);
        }
        if (e.kind == EdgeKind::Case && e.wait_case != nullptr) {
          xe.pred = cond(e.wait_case->cond.get(), where);
          if (e.wait_case->event) xe.type = intern_type(e.wait_case->event->name.text);
        }
        if (e.kind == EdgeKind::Arm) {
          const auto pos = e.label.find("% ");
          xe.arm = pos == std::string::npos ? e.label : e.label.substr(pos + 2);
        }
        x.out.push_back(std::move(xe));
      }
      if (sn.stmt == nullptr) continue;
      if (const auto* ifs = std::get_if<ast::IfStmt>(&sn.stmt->v)) {
        std::stable_sort(x.out.begin(), x.out.end(), [&](const XEdge& a, const XEdge& b) {
          auto rank = [&](const XEdge& e) { return e.kind == EdgeKind::Then ? arm_index(*ifs, e.cond) : 1000; };
          return rank(a) < rank(b);
        });
      } else if (const auto* sp = std::get_if<ast::SplitStmt>(&sn.stmt->v)) {
        auto rank = [&](const XEdge& e) {
          for (std::size_t k = 0; k < sp->arms.size(); ++k) {
            if (sp->arms[k].name.text == e.arm) return k;
          }
          return sp->arms.size();
        };
        std::stable_sort(x.out.begin(), x.out.end(), [&](const XEdge& a, const XEdge& b) { return rank(a) < rank(b); });
      } else if (const auto* w = std::get_if<ast::WaitStmt>(&sn.stmt->v)) {
        if (w->kind == ast::WaitKind::For) {
          auto rank = [&](const XEdge& e) {
            for (std::size_t k = 0; k < w->cases.size(); ++k) {
              if (&w->cases[k] == e.wc) return k;
            }
            return w->cases.size();
          };
          std::stable_sort(x.out.begin(), x.out.end(), [&](const XEdge& a, const XEdge& b) { return rank(a) < rank(b); });
        }
        if (w->kind == ast::WaitKind::Until && w->until) {
          x.until_type = p.type_of(w->until->id).kind;
          if (x.until_type != TypeKind::Time) x.until_value = value(w->until.get(), where);
        }
      } else if (const auto* gs = std::get_if<ast::GoalStmt>(&sn.stmt->v)) {
        x.goal_pred = cond(gs->cond.get(), where);
        x.goal_within = gs->within.value_or(0);
      } else {
        // Actions inside a scenario.
        if (const auto* sc = std::get_if<ast::ScoreStmt>(&sn.stmt->v)) value(sc->value.get(), where);
        if (const auto* st = std::get_if<ast::SetStmt>(&sn.stmt->v)) value(st->value.get(), where);
      }
    }
    return fl;
  }


  static int index_in(const std::vector<std::string>& v, std::string_view n) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == n) return static_cast<int>(i);
    }
    return -1;
  }

  // ---------------------------------------------------------------- state

  std::uint32_t ensure_friend(const std::string& id) {
    if (auto r = store->find(id)) return *r;
    const auto row = store->add(id);
    grow();
    return row;
  }

  void grow() {
    const std::size_t n = store->size();
    if (next_free.size() >= n) return;
    inst.resize(n * flows.size());
    next_free.resize(n, std::numeric_limits<std::int64_t>::min());
    push_day.resize(n, std::numeric_limits<std::int64_t>::min());
    push_count.resize(n, 0);
    rule_seq.resize(n, 0);
  }

  Instance& in(std::uint32_t row, std::size_t f) { return inst[row * flows.size() + f]; }

  EvalEnv env() const {
    EvalEnv e;
    e.now = now;
    e.today = zone->local_days(now);
    e.zone = zone.get();
    return e;
  }

  void fill_event(const InputEvent* ev, const Raised& r) {
    (void)r;
    evvals.resize(schema.event_fields.size());
    for (auto& v : evvals) v.known = false;
    if (ev == nullptr || ev->fields.empty()) return;
    for (std::size_t i = 0; i < schema.event_fields.size(); ++i) {
      auto it = ev->fields.find(schema.event_fields[i]);
      if (it == ev->fields.end()) continue;
      evvals[i].known = true;
      evvals[i].i = it->second.i;
      evvals[i].text = it->second.text;
    }
  }

  bool test(std::int32_t pred, std::uint32_t row, const EventValues* ev) {
    if (pred < 0) return true;
    const EvalEnv e = env();
    if (!rows.empty()) {
      if (bound_rows != store->size() || bound_texts != store->texts.size()) {
        cols.bind(*store);
        bound_rows = store->size();
        bound_texts = store->texts.size();
      }
      EnvAbi abi{e.now, e.today, e.zone};
      const EventAbi* eabi = nullptr;
      if (ev != nullptr && preds[static_cast<std::size_t>(pred)].uses_event()) {
        ebind.bind(*ev);
        eabi = &ebind.abi;
      }
      return rows[static_cast<std::size_t>(pred)](cols.slots.data(), &abi, row, eabi) != 0;
    }
    return eval_row(preds[static_cast<std::size_t>(pred)], *store, row, e, ev);
  }

  Value val(std::int32_t v, std::uint32_t row, const EventValues* ev) {
    if (v < 0) return {};
    return eval_value(values[static_cast<std::size_t>(v)], *store, row, env(), ev);
  }

  bool tracing(std::uint32_t row) const { return opt.trace && (!opt.trace_row || *opt.trace_row == row); }

  void note(std::uint32_t row, TraceKind k, std::int32_t flow, std::string node, std::string text) {
    if (!tracing(row)) return;
    trace.push_back(TraceEntry{now, row, k, flow, std::move(node), std::move(text)});
  }

  // "age=24, region=tokyo": the loads of a predicate and their values now.
  std::string inputs(const ir::Predicate& pr, std::uint32_t row, const EventValues* ev) {
    std::string out;
    std::vector<std::string> seen;
    for (const auto& n : pr.nodes) {
      std::string name;
      switch (n.op) {
        case ir::Op::Attr: {
          static const char* const kNames[] = {"gender", "age",   "region", "friend_days", "source", "display_name",
                                               "language", "blocked", "score", "today", "now"};
          name = kNames[n.a];
          if (name == "today" || name == "now") {
            if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
            seen.push_back(name);
            const std::string t = format_time(now, *zone);
            out += (out.empty() ? "" : ", ") + name + "=" + (name == "today" ? t.substr(0, 10) : t.substr(0, 10) + " " + t.substr(11, 5));
            continue;
          }
          break;
        }
        case ir::Op::Field:
          name = n.a >= 0 ? schema.fields[static_cast<std::size_t>(n.a)].name : "?";
          break;
        case ir::Op::NamedScore:
          name = n.a >= 0 ? fmt::format("score({})", schema.scores[static_cast<std::size_t>(n.a)]) : "score(?)";
          break;
        case ir::Op::Tagged:
          name = n.a >= 0 ? fmt::format("tagged({})", schema.tags[static_cast<std::size_t>(n.a)]) : "tagged(?)";
          break;
        case ir::Op::InAudience:
          name = n.a >= 0 ? fmt::format("in_audience({})", schema.audiences[static_cast<std::size_t>(n.a)]) : "?";
          break;
        case ir::Op::Clicked:
          name = n.a >= 0 ? fmt::format("clicked({}{})", schema.links[static_cast<std::size_t>(n.a)],
                                        n.b ? ", within " + format_duration(n.b) : "")
                          : "?";
          break;
        case ir::Op::Clicks:
          name = n.a >= 0 ? fmt::format("clicks({})", schema.links[static_cast<std::size_t>(n.a)]) : "?";
          break;
        case ir::Op::Opened:
          name = n.a >= 0 ? fmt::format("opened({}{})", schema.messages[static_cast<std::size_t>(n.a)],
                                        n.b ? ", within " + format_duration(n.b) : "")
                          : "?";
          break;
        case ir::Op::Sent:
          name = n.a >= 0 ? fmt::format("sent({})", schema.messages[static_cast<std::size_t>(n.a)]) : "?";
          break;
        case ir::Op::Visited:
          name = fmt::format("visited(\"{}\")", schema.visit_patterns[static_cast<std::size_t>(n.a)]);
          break;
        case ir::Op::EventField:
          name = "event." + n.text;
          break;
        default:
          continue;
      }
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
      seen.push_back(name);
      ir::Predicate one;
      one.nodes.push_back(n);
      one.nodes.back().nkids = 0;
      const Value v = eval_value(one, *store, row, env(), ev);
      out += (out.empty() ? "" : ", ") + name + "=" + show(n, v);
    }
    return out;
  }

  std::string show(const ir::Node& n, const Value& v) const {
    if (!v.known) return "unknown";
    if (n.type == ir::VType::Bool) return v.i != 0 ? "true" : "false";
    if (n.type == ir::VType::Text) return fmt::format("\"{}\"", v.text);
    if (n.op == ir::Op::Attr) {
      const auto a = static_cast<ir::Attr>(n.a);
      if (a == ir::Attr::Gender) {
        static const char* const kG[] = {"male", "female", "other"};
        return v.i >= 0 && v.i < 3 ? kG[v.i] : "?";
      }
      if (a == ir::Attr::Region) {
        const auto& pf = stdlib::prefectures();
        return v.i >= 0 && static_cast<std::size_t>(v.i) < pf.size() ? std::string(pf[static_cast<std::size_t>(v.i)].name) : "?";
      }
    }
    if (n.op == ir::Op::Field && n.a >= 0) {
      const auto& f = schema.fields[static_cast<std::size_t>(n.a)];
      return value_text(v, f.type, p.types, *zone);
    }
    if (n.op == ir::Op::EventField && !n.declared.is_error()) return value_text(v, n.declared, p.types, *zone);
    if (n.op == ir::Op::Clicked || n.op == ir::Op::Opened) return v.i != 0 ? "true" : "false";
    return std::to_string(v.i);
  }

  // ---------------------------------------------------------------- events

  bool matches(const ast::EventPattern& pat, int pat_type, const Raised& r, const InputEvent* ev) const {
    if (pat_type != r.type_id) return false;
    if (pat.arg && pat.arg->text != r.arg) return false;
    if (pat.arg_text) {
      if (ev == nullptr) return false;
      auto it = ev->fields.find("url");
      if (it == ev->fields.end()) return false;
      if (okuri_std_url_matches(pat.arg_text->data(), pat.arg_text->size(), it->second.text.data(), it->second.text.size()) == 0) {
        return false;
      }
    }
    if (pat.from) {
      if (ev == nullptr) return false;
      auto it = ev->fields.find("source");
      if (it == ev->fields.end() || it->second.text != *pat.from) return false;
    }
    return true;
  }

  // Step 1: built-in state and history.
  void update_state(std::uint32_t row, const InputEvent& e, int t) {
    FriendStore& s = *store;
    if (t == kFriendAdded) {
      s.friend_since[row] = static_cast<std::int32_t>(zone->local_days(now));
      if (auto it = e.fields.find("source"); it != e.fields.end()) s.source[row] = s.texts.intern(it->second.text);
      s.blocked.set(row, false);
    } else if (t == kFriendBlocked) {
      s.blocked.set(row, true);
    } else if (t == kFriendUnblocked) {
      s.blocked.set(row, false);
    } else if (t == kLinkClicked) {
      const int l = index_in(schema.links, e.arg);
      if (l >= 0) {
        auto& h = s.links[static_cast<std::size_t>(l)];
        ++h.clicks[row];
        h.last[row] = now;
      }
    } else if (t == kMessageOpened) {
      const int m = index_in(schema.messages, e.arg);
      if (m >= 0) {
        auto& h = s.messages[static_cast<std::size_t>(m)];
        ++h.opened[row];
        h.last_opened[row] = now;
      }
    } else if (t == kWebVisited) {
      if (auto it = e.fields.find("url"); it != e.fields.end()) {
        for (std::size_t i = 0; i < schema.visit_patterns.size(); ++i) {
          const auto& pat = schema.visit_patterns[i];
          if (okuri_std_url_matches(pat.data(), pat.size(), it->second.text.data(), it->second.text.size()) != 0) {
            s.visited[i].set(row, true);
          }
        }
      }
    }
  }

  void handle(const InputEvent& e) {
    const std::int64_t t = e.time_ms >= 0 ? e.time_ms / 1000 : -((-e.time_ms + 999) / 1000);
    if (!started) start_at(t);
    run_until(t);
    const std::uint32_t row = ensure_friend(e.friend_id);
    store->prefetch(row);
    if (!flows.empty()) {
      const char* first = reinterpret_cast<const char*>(&inst[row * flows.size()]);
      for (std::size_t k = 0; k < flows.size() * sizeof(Instance); k += 64) __builtin_prefetch(first + k);
    }
    ++events;
    Ctx ctx;
    const int type = type_id(e.type);
    ctx.replyable = type == kFriendAdded || type == kMessageReceived || type == kPostback;
    if (e.reply_token) ctx.token = *e.reply_token;
    process(row, Raised{type, e.type, e.arg, &e}, ctx);
  }

  std::vector<Raised> queue;  // the event being handled and the events its actions raised

  void process(std::uint32_t row, Raised first, Ctx& ctx) {
    touch(row);
    queue.clear();
    queue.push_back(first);
    auto& q = queue;
    std::uint32_t count = 0;
    for (std::size_t qi = 0; qi < queue.size(); ++qi) {
      const Raised r = queue[qi];
      if (++count > opt.cascade_limit) {
        ++cascade_stops;
        if (tracing(row)) note(row, TraceKind::Error, -1, {},
             fmt::format("stopped a cascade of more than {} raised events (rules that keep raising each other)", opt.cascade_limit));
        break;
      }
      const InputEvent* ev = r.input;
      if (ev != nullptr) {
        update_state(row, *ev, r.type_id);
        if (tracing(row)) note(row, TraceKind::Event, -1, {}, describe(*ev));
      } else {
        if (tracing(row)) note(row, TraceKind::Raised, -1, {}, r.arg.empty() ? std::string(r.type) : fmt::format("{}({})", r.type, r.arg));
      }
      fill_event(ev, r);
      const EventValues& evs = evvals;
      // 2. Rules in source order.
      for (const auto& rule : rules) {
        if (!matches(rule.decl->event, rule.type, r, ev)) continue;
        if (!test(rule.pred, row, &evs)) {
          if (tracing(row) && rule.pred >= 0) {
            if (tracing(row)) note(row, TraceKind::Rule, -1, rule.id,
                 fmt::format("`{}` did not fire: condition false ({})", rule.text, inputs(preds[static_cast<std::size_t>(rule.pred)], row, &evs)));
          }
          continue;
        }
        if (tracing(row)) note(row, TraceKind::Rule, -1, rule.id, fmt::format("`{}` fired", rule.text));
        for (const auto& s : rule.decl->body.stmts) action(row, *s, ctx, -1, rule.id, &evs);
      }
      // 3. Instances: stop when, then a waiting `wait … for` tries its cases.
      for (std::size_t f = 0; f < flows.size(); ++f) {
        Instance& i = in(row, f);
        if (i.status != kInside) continue;
        if (check_stop(row, f, &evs)) continue;
        const XNode& n = flows[f].nodes[i.node];
        if (n.kind != StepKind::Wait || (i.timer == kNoTimer && !i.wait_unknown)) continue;
        const auto* w = std::get_if<ast::WaitStmt>(&n.sn->stmt->v);
        if (w->kind == ast::WaitKind::For) {
          for (const auto& e : n.out) {
            if (e.kind != EdgeKind::Case || e.wc == nullptr) continue;
            if (e.wc->kind == ast::CaseKind::On && !(e.wc->event && matches(*e.wc->event, e.type, r, ev))) continue;
            if (!test(e.pred, row, &evs)) continue;
            take_case(row, f, e, ctx);
            break;
          }
        } else if (i.wait_unknown) {
          // `wait until <expr>` whose value was unknown: the value may be known now.
          resume_wait(row, f, ctx, &evs);
        }
      }
      // 4. Start on.
      for (std::size_t f = 0; f < flows.size(); ++f) {
        for (const auto& s : flows[f].start_on) {
          if (!matches(*s.pattern, s.type, r, ev)) continue;
          if (!test(s.pred, row, &evs)) {
            if (tracing(row)) {
              if (tracing(row)) note(row, TraceKind::NoEnter, static_cast<std::int32_t>(f), {},
                   fmt::format("`{}`: condition false ({})", s.text, inputs(preds[static_cast<std::size_t>(s.pred)], row, &evs)));
            }
            continue;
          }
          enter(row, f, ctx, s.cause);
          break;
        }
      }
      settle(row, ctx, &evs);
      // Raised events go on the queue behind this one.
      for (auto& x : pending_raised) q.push_back(x);
      pending_raised.clear();
    }
  }

  std::vector<Raised> pending_raised;

  std::string describe(const InputEvent& e) const {
    std::string s = e.type;
    if (!e.arg.empty()) s += "(" + e.arg + ")";
    const EventCatalog::Spec* spec = catalog.find(e.type);
    for (const auto& [k, v] : e.fields) {
      std::string shown = v.is_text ? "\"" + v.text + "\"" : std::to_string(v.i);
      if (spec != nullptr && !v.is_text) {
        if (auto it = spec->fields.find(k); it != spec->fields.end()) {
          const auto& fs = it->second;
          if (fs.type.kind == TypeKind::Enum) {
            shown = v.i >= 0 && static_cast<std::size_t>(v.i) < fs.values.size() ? fs.values[static_cast<std::size_t>(v.i)] : "?";
          } else if (fs.type.kind != TypeKind::Set) {
            shown = value_text(Value{true, v.i, {}}, fs.type, p.types, *zone);
          }
        }
      }
      s += fmt::format(" {}={}", k, shown);
    }
    if (!e.origin.empty()) s += " [" + e.origin + "]";
    return s;
  }

  // After anything changed a friend: stop when, start when (edge-triggered), goals.
  void settle(std::uint32_t row, Ctx& ctx, const EventValues* evs) {
    for (std::size_t f = 0; f < flows.size(); ++f) {
      Instance& i = in(row, f);
      if (i.status == kInside) check_stop(row, f, evs);
      if (!flows[f].start_when.empty()) {
        bool now_true = false;
        std::string why;
        for (const auto& [pred, text] : flows[f].start_when) {
          if (test(pred, row, evs)) {
            now_true = true;
            why = text;
            break;
          }
        }
        const bool was = in(row, f).when_prev;
        in(row, f).when_prev = now_true;
        if (now_true && !was) enter(row, f, ctx, fmt::format("`start when {}` became true", why));
      }
      Instance& j = in(row, f);
      if (j.goal_armed && !j.converted) check_goal(row, f, evs);
    }
  }

  bool check_stop(std::uint32_t row, std::size_t f, const EventValues* evs) {
    for (const auto& [pred, text] : flows[f].stop_when) {
      if (test(pred, row, evs)) {
        std::string why = fmt::format("`stop when {}` held", text);
        if (tracing(row)) why += " (" + inputs(preds[static_cast<std::size_t>(pred)], row, evs) + ")";
        leave(row, f, why);
        return true;
      }
    }
    return false;
  }

  void check_goal(std::uint32_t row, std::size_t f, const EventValues* evs) {
    Instance& i = in(row, f);
    const XNode& gn = flows[f].nodes[i.goal_node];
    if (i.goal_deadline != kForever && now > i.goal_deadline) {
      i.goal_armed = false;
      if (tracing(row)) {
        trace.push_back(TraceEntry{i.goal_deadline, row, TraceKind::Goal, static_cast<std::int32_t>(f), gn.sn->id,
                                   "goal window closed without a conversion"});
      }
      return;
    }
    if (!test(gn.goal_pred, row, evs)) return;
    i.converted = true;
    i.goal_armed = false;
    ++stats[f].converted;
    const std::uint32_t at = i.status == kInside ? i.node : i.goal_node;
    ++stats[f].steps[at].converted;
    if (tracing(row)) note(row, TraceKind::Goal, static_cast<std::int32_t>(f), gn.sn->id, fmt::format("converted: {}", gn.sn->label));
  }

  void leave(std::uint32_t row, std::size_t f, const std::string& why) {
    Instance& i = in(row, f);
    if (i.status != kInside) return;
    if (i.timer != kNoTimer) wheel.cancel(i.timer);
    i.timer = kNoTimer;
    i.wait_unknown = false;
    i.status = kDone;
    ++stats[f].stopped;
    ++stats[f].steps[i.node].left;
    if (tracing(row)) note(row, TraceKind::Leave, static_cast<std::int32_t>(f), flows[f].nodes[i.node].sn->id, why);
  }

  void enter(std::uint32_t row, std::size_t f, Ctx& ctx, const std::string& cause) {
    Flow& fl = flows[f];
    if (fl.broadcast) return;
    Instance& i = in(row, f);
    const ast::ScenarioDecl* sc = fl.sc;
    if (i.status != kNever) {
      const char* where = i.status == kInside ? "still inside" : "entered before";
      switch (sc->restart) {
        case ast::RestartPolicy::Never:
          if (tracing(row)) note(row, TraceKind::NoEnter, static_cast<std::int32_t>(f), {},
               fmt::format("{} matched, but `restart never` and the friend {} (at {})", cause, where, format_time(i.entered_at, *zone)));
          return;
        case ast::RestartPolicy::After:
          if (now - i.entered_at < sc->restart_after) {
            if (tracing(row)) note(row, TraceKind::NoEnter, static_cast<std::int32_t>(f), {},
                 fmt::format("{} matched, but `restart after {}`: last entered at {}", cause, format_duration(sc->restart_after),
                             format_time(i.entered_at, *zone)));
            return;
          }
          break;
        case ast::RestartPolicy::Always:
          break;
      }
      if (i.status == kInside) leave(row, f, "restarted: " + cause);
    }
    if (ctx.depth >= kMaxDepth) {
      ++cascade_stops;
      if (tracing(row)) note(row, TraceKind::Error, static_cast<std::int32_t>(f), {}, "scenarios start each other too deeply; stopped");
      return;
    }
    begin(row, f, cause);
    ++ctx.depth;
    run(row, f, 0, ctx);
    --ctx.depth;
  }

  void begin(std::uint32_t row, std::size_t f, const std::string& cause) {
    touch(row);
    Instance& i = in(row, f);
    i.status = kInside;
    i.times = static_cast<std::uint16_t>(i.times + 1);
    i.seq = 0;
    i.entered_at = now;
    i.node = 0;
    i.goal_armed = false;
    i.converted = false;
    i.wait_unknown = false;
    ++stats[f].entered;
    if (tracing(row)) note(row, TraceKind::Enter, static_cast<std::int32_t>(f), flows[f].g->node(0).id, cause);
  }

  // ---------------------------------------------------------------- actions

  void raise(int type, std::string_view arg) { pending_raised.push_back(Raised{type, kBuiltinTypeNames[type], arg, nullptr}); }

  void action(std::uint32_t row, const ast::Stmt& s, Ctx& ctx, std::int32_t flow, const std::string& node,
              const EventValues* evs) {
    FriendStore& st = *store;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::SendStmt> || std::is_same_v<T, ast::ReplyStmt>) {
            std::vector<std::uint32_t> msgs;
            for (const auto& m : v.messages) {
              const int idx = index_in(schema.messages, m.text);
              if (idx >= 0) msgs.push_back(static_cast<std::uint32_t>(idx));
            }
            emit(row, msgs, std::is_same_v<T, ast::ReplyStmt>, ctx, flow, node, nullptr);
          } else if constexpr (std::is_same_v<T, ast::TagStmt>) {
            for (const auto& t : v.tags) {
              const int idx = schema.tag_index(t.text);
              if (idx < 0) continue;
              auto& bm = st.tags[static_cast<std::size_t>(idx)];
              if (bm.get(row) == !v.remove) continue;
              bm.set(row, !v.remove);
              if (tracing(row)) note(row, TraceKind::Action, flow, node, fmt::format("{} {}", v.remove ? "untag" : "tag", t.text));
              raise(v.remove ? kTagRemoved : kTagAdded, t.text);
            }
          } else if constexpr (std::is_same_v<T, ast::ScoreStmt>) {
            const Value x = val(value_of.count(v.value.get()) ? value_of[v.value.get()] : -1, row, evs);
            std::int64_t* slot = &st.score[row];
            if (v.score) {
              const int idx = index_in(schema.scores, v.score->text);
              if (idx < 0) return;
              slot = &st.named_scores[static_cast<std::size_t>(idx)][row];
            }
            const std::int64_t n = x.known ? x.i : 0;
            const std::int64_t before = *slot;
            switch (v.op) {
              case ast::ScoreOp::Add:
                *slot += n;
                break;
              case ast::ScoreOp::Sub:
                *slot -= n;
                break;
              case ast::ScoreOp::Assign:
                *slot = n;
                break;
            }
            if (!v.score) st.score8[row] = narrow_value(*slot);  // the scan column follows
            if (tracing(row)) note(row, TraceKind::Action, flow, node,
                 fmt::format("{} {} → {}", v.score ? "score(" + v.score->text + ")" : std::string("score"), before, *slot));
          } else if constexpr (std::is_same_v<T, ast::SetStmt>) {
            const int idx = schema.field_index(v.field.text);
            if (idx < 0) return;
            Value x = val(value_of.count(v.value.get()) ? value_of[v.value.get()] : -1, row, evs);
            if (auto m = set_mask(*v.value, schema.fields[static_cast<std::size_t>(idx)].values)) x = Value{true, *m, {}};
            auto& col = st.fields[static_cast<std::size_t>(idx)];
            if (v.op != ast::SetOp::Assign) {
              // `add` to an unknown set starts it; `remove` from one leaves it unknown.
              const bool known = col.known.get(row);
              if (!known && v.op == ast::SetOp::Remove) return;
              const std::int64_t before = known ? col.values[row] : 0;
              x.i = v.op == ast::SetOp::Add ? (before | x.i) : (before & ~x.i);
            }
            const Type ft = schema.fields[static_cast<std::size_t>(idx)].type;
            std::int64_t nv = x.i;
            if (ft.kind == TypeKind::Text && x.known) nv = st.texts.intern(x.text);
            const bool was = col.known.get(row);
            const bool changed = was != x.known || (x.known && col.values[row] != nv);
            if (x.known) col.values[row] = nv;
            col.known.set(row, x.known);
            if (tracing(row)) {
              const std::string now_text = value_text(x, ft, p.types, *zone);
              note(row, TraceKind::Action, flow, node,
                   v.op == ast::SetOp::Assign
                       ? fmt::format("set {} = {}", v.field.text, now_text)
                       : fmt::format("{} {} {} {} → {}", v.op == ast::SetOp::Add ? "add" : "remove", src(v.value->span),
                                     v.op == ast::SetOp::Add ? "to" : "from", v.field.text, now_text));
            }
            if (changed) raise(kFieldChanged, v.field.text);
          } else if constexpr (std::is_same_v<T, ast::ClearStmt>) {
            const int idx = schema.field_index(v.field.text);
            if (idx < 0) return;
            auto& col = st.fields[static_cast<std::size_t>(idx)];
            const bool was = col.known.get(row);
            col.known.set(row, false);
            if (tracing(row)) note(row, TraceKind::Action, flow, node, "clear " + v.field.text);
            if (was) raise(kFieldChanged, v.field.text);
          } else if constexpr (std::is_same_v<T, ast::StartStmt>) {
            for (std::size_t f = 0; f < flows.size(); ++f) {
              if (flows[f].g->name == v.scenario.text && !flows[f].broadcast) enter(row, f, ctx, fmt::format("`start {}` at {}", v.scenario.text, node));
            }
          } else if constexpr (std::is_same_v<T, ast::StopStmt>) {
            if (!v.scenario) return;
            for (std::size_t f = 0; f < flows.size(); ++f) {
              if (flows[f].g->name == v.scenario->text) leave(row, f, fmt::format("`stop {}` at {}", v.scenario->text, node));
            }
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            // `if` inside a rule: the first arm whose condition holds, else the `else` block.
            const ast::Block* chosen = nullptr;
            for (const auto& a : v.arms) {
              const auto it = pred_of.find(a.cond.get());
              const std::int32_t pr = it == pred_of.end() ? -1 : it->second;
              const bool ok = pr >= 0 && test(pr, row, evs);
              if (tracing(row) && pr >= 0) {
                if (tracing(row)) note(row, TraceKind::Branch, flow, node,
                     fmt::format("`if {}`: {} ({})", src(a.cond->span), ok ? "true" : "false", inputs(preds[static_cast<std::size_t>(pr)], row, evs)));
              }
              if (ok) {
                chosen = &a.body;
                break;
              }
            }
            if (chosen == nullptr && v.else_body) chosen = &*v.else_body;
            if (chosen != nullptr) {
              for (const auto& st2 : chosen->stmts) action(row, *st2, ctx, flow, node, evs);
            }
          } else if constexpr (std::is_same_v<T, ast::MenuStmt>) {
            if (tracing(row)) note(row, TraceKind::Action, flow, node, "menu " + v.richmenu);
            menu_links.push_back(MenuLink{now, row, v.richmenu,
                                          delivery_key(store->id_of(row), "menu", static_cast<std::uint32_t>(menu_links_made), node,
                                                       rule_seq[row]++)});
            ++menu_links_made;
          } else if constexpr (std::is_same_v<T, ast::NotifyStmt>) {
            ++notifications;
            if (tracing(row)) note(row, TraceKind::Action, flow, node, fmt::format("notify \"{}\"", v.text));
          }
        },
        s.v);
  }

  // The first moment a push may go out: after the friend's earlier pushes, outside quiet hours, within the daily limit.
  std::int64_t schedule_push(std::uint32_t row, std::int64_t t, std::string& why) {
    const auto& acc = p.account;
    auto limited = [&](std::int64_t d) {
      return acc.daily_limit && (push_day[row] == zone->local_days(d) ? push_count[row] : 0) >= static_cast<std::uint64_t>(*acc.daily_limit);
    };
    std::int64_t d = std::max({t, next_free[row], throttle_floor});
    // The reason is what stood in the way at the moment the scenario sent it.
    if (acc.in_quiet_hours(static_cast<MinuteOfDay>(zone->local_minute(t)))) {
      why = "quiet hours";
    } else if (limited(t)) {
      why = "daily limit";
    } else if (d > t) {
      why = d == throttle_floor ? "throttle" : "earlier pushes";
    }
    for (int guard = 0; guard < 8; ++guard) {
      const std::int64_t day = zone->local_days(d);
      const auto minute = static_cast<MinuteOfDay>(zone->local_minute(d));
      if (acc.in_quiet_hours(minute)) {
        std::int64_t end = zone->to_utc(day, *acc.quiet_to);
        if (end <= d) end = zone->to_utc(day + 1, *acc.quiet_to);
        d = end;
        if (why.empty()) why = "quiet hours";
        continue;
      }
      if (limited(d)) {
        d = zone->to_utc(day + 1, 0);
        if (why.empty()) why = "daily limit";
        continue;
      }
      break;
    }
    const std::int64_t day = zone->local_days(d);
    if (push_day[row] != day) {
      push_day[row] = day;
      push_count[row] = 0;
    }
    ++push_count[row];
    next_free[row] = d;
    return d;
  }

  void emit(std::uint32_t row, const std::vector<std::uint32_t>& msgs, bool reply_stmt, Ctx& ctx, std::int32_t flow,
            const std::string& node, Instance* ins) {
    Delivery d;
    d.logical = now;
    d.row = row;
    d.messages = msgs;
    d.flow = flow;
    d.node = node;
    const bool blocked = store->blocked.get(row);
    std::string how;
    if (ctx.replyable && !ctx.token_used && !blocked) {
      d.reply = true;
      d.reply_token = std::string(ctx.token);
      ctx.token_used = true;
    } else if (reply_stmt) {
      how = ctx.replyable ? " (the reply token was used already: sent as a push)" : " (no reply token: sent as a push)";
    }
    if (blocked) {
      d.skipped = true;
      d.time = now;
    } else if (d.reply) {
      d.time = now;
    } else {
      d.time = schedule_push(row, now, d.deferred_by);
    }
    const std::string fid = store->id_of(row);
    if (ins != nullptr) {
      d.key = delivery_key(fid, flows[static_cast<std::size_t>(flow)].g->name, ins->times, node, ins->seq++);
    } else {
      d.key = delivery_key(fid, "rules", 0, node, rule_seq[row]++);
    }
    if (!d.skipped) {
      for (auto m : msgs) ++store->messages[m].sent[row];
    }
    if (tracing(row)) {
      std::string names;
      for (auto m : msgs) names += (names.empty() ? "" : ", ") + schema.messages[m];
      std::string text;
      if (d.skipped) {
        text = fmt::format("{} not sent: the friend has blocked the account (skipped)", names);
      } else if (d.reply) {
        text = fmt::format("reply {}", names);
      } else if (d.time != d.logical) {
        text = fmt::format("push {}{}, deferred by {} to {}", names, how, d.deferred_by, format_time(d.time, *zone));
      } else {
        text = fmt::format("push {}{}", names, how);
      }
      if (tracing(row)) note(row, TraceKind::Send, flow, node, text);
    }
    ++delivery_total;
    if (opt.keep_deliveries) deliveries.push_back(std::move(d));
  }

  // ---------------------------------------------------------------- running

  std::optional<std::uint32_t> edge_of(const XNode& n, EdgeKind k) const {
    for (const auto& e : n.out) {
      if (e.kind == k) return e.to;
    }
    return std::nullopt;
  }
  // Where the flow goes on after a step: the next statement, the loop back of a `repeat`, or a `goto`.
  std::optional<std::uint32_t> next_of(const XNode& n) const {
    for (const auto& e : n.out) {
      if (e.kind == EdgeKind::Next || e.kind == EdgeKind::Loop || e.kind == EdgeKind::Jump) return e.to;
    }
    return std::nullopt;
  }

  void take_case(std::uint32_t row, std::size_t f, const XEdge& e, Ctx& ctx) {
    Instance& i = in(row, f);
    if (i.timer != kNoTimer) wheel.cancel(i.timer);
    i.timer = kNoTimer;
    ++stats[f].steps[i.node].passed;
    if (tracing(row)) note(row, TraceKind::Case, static_cast<std::int32_t>(f), flows[f].nodes[i.node].sn->id, fmt::format("case `{}` taken", e.label));
    run(row, f, e.to, ctx);
  }

  void resume_wait(std::uint32_t row, std::size_t f, Ctx& ctx, const EventValues* evs) {
    Instance& i = in(row, f);
    const XNode& n = flows[f].nodes[i.node];
    auto dl = deadline(row, n, evs);
    if (!dl) return;
    i.wait_unknown = false;
    if (*dl <= now) {
      ++stats[f].steps[i.node].passed;
      if (auto nx = next_of(n)) run(row, f, *nx, ctx);
      return;
    }
    set_timer(row, f, *dl);
  }

  void set_timer(std::uint32_t row, std::size_t f, std::int64_t dl) {
    Instance& i = in(row, f);
    i.wake = dl;
    i.timer = wheel.add(static_cast<std::uint32_t>(dl), static_cast<std::uint32_t>(row * flows.size() + f));
    if (tracing(row)) note(row, TraceKind::Wait, static_cast<std::int32_t>(f), flows[f].nodes[i.node].sn->id,
         fmt::format("{} → wakes at {}", flows[f].nodes[i.node].sn->label, format_time(dl, *zone)));
  }

  // The moment a wait ends (nullopt: `until` an unknown value).
  std::optional<std::int64_t> deadline(std::uint32_t row, const XNode& n, const EventValues* evs) {
    const auto& w = std::get<ast::WaitStmt>(n.sn->stmt->v);
    const std::int64_t today = zone->local_days(now);
    switch (w.kind) {
      case ast::WaitKind::Relative:
      case ast::WaitKind::For:
        return now + w.seconds;
      case ast::WaitKind::DayAt:
        return zone->to_utc(today + w.seconds / 86400, w.at.value_or(0));
      case ast::WaitKind::Until: {
        if (n.until_type == TypeKind::Time) {
          const auto* tl = w.until ? std::get_if<ast::TimeLit>(&ast::strip_parens(*w.until).v) : nullptr;
          const MinuteOfDay m = tl != nullptr ? tl->minute : 0;
          std::int64_t t = zone->to_utc(today, m);
          if (t <= now) t = zone->to_utc(today + 1, m);
          return t;
        }
        const Value v = val(n.until_value, row, evs);
        if (!v.known) return std::nullopt;
        if (n.until_type == TypeKind::Date) return zone->to_utc(v.i, w.at.value_or(0));
        if (w.at) return zone->to_utc(zone->local_days(v.i), *w.at);
        return v.i;
      }
    }
    return now;
  }

  void run(std::uint32_t row, std::size_t f, std::uint32_t node, Ctx& ctx) {
    Flow& fl = flows[f];
    const auto fi = static_cast<std::int32_t>(f);
    for (std::uint32_t steps = 0;; ++steps) {
      Instance& i = in(row, f);
      if (i.status != kInside) return;
      if (steps > kMaxSteps) {
        ++cascade_stops;
        if (tracing(row)) note(row, TraceKind::Error, fi, fl.nodes[node].sn->id, "more than 100000 steps without a wait: stopped");
        leave(row, f, "stopped by the engine: a loop without a wait");
        return;
      }
      i.node = node;
      const XNode& n = fl.nodes[node];
      ++stats[f].steps[node].entered;
      std::optional<std::uint32_t> next;
      switch (n.kind) {
        case StepKind::Start:
        case StepKind::Step:
        case StepKind::Repeat:
          next = next_of(n);
          break;
        case StepKind::Send:
        case StepKind::Reply:
          emit(row, n.msgs, n.kind == StepKind::Reply, ctx, fi, n.sn->id, &i);
          next = next_of(n);
          break;
        case StepKind::Action: {
          action(row, *n.sn->stmt, ctx, fi, n.sn->id, nullptr);
          if (in(row, f).status != kInside || in(row, f).node != node) return;  // stopped or restarted by its own action
          next = next_of(n);
          break;
        }
        case StepKind::Goal:
          i.goal_armed = true;
          i.converted = false;
          i.goal_node = node;
          i.goal_deadline = n.goal_within > 0 ? now + n.goal_within : kForever;
          check_goal(row, f, nullptr);
          next = next_of(n);
          break;
        case StepKind::Goto:
          next = edge_of(n, EdgeKind::Jump);
          break;
        case StepKind::Branch: {
          bool taken = false;
          for (const auto& e : n.out) {
            if (e.kind == EdgeKind::Then) {
              if (test(e.pred, row, nullptr)) {
                if (tracing(row)) {
                  if (tracing(row)) note(row, TraceKind::Branch, fi, n.sn->id,
                       fmt::format("`if {}`: true ({})", e.label, inputs(preds[static_cast<std::size_t>(e.pred)], row, nullptr)));
                }
                next = e.to;
                taken = true;
                break;
              }
              if (tracing(row)) {
                if (tracing(row)) note(row, TraceKind::Branch, fi, n.sn->id,
                     fmt::format("`if {}`: false ({})", e.label, inputs(preds[static_cast<std::size_t>(e.pred)], row, nullptr)));
              }
            }
          }
          if (!taken) {
            next = edge_of(n, EdgeKind::Else);
            if (tracing(row)) note(row, TraceKind::Branch, fi, n.sn->id, "else");
          }
          break;
        }
        case StepKind::Split: {
          if (const auto forced = forced_arms.find({row, f}); forced != forced_arms.end()) {
            for (const auto& e : n.out) {
              if (e.kind == EdgeKind::Arm && e.arm == forced->second) next = e.to;
            }
            if (next) {
              if (tracing(row))
                note(row, TraceKind::Split, fi, n.sn->id, fmt::format("arm `{}` (chosen by the test)", forced->second));
              break;
            }
          }
          const int bucket = split_bucket(store->id_of(row), fl.g->name, n.sn->id);
          std::int64_t acc = 0;
          for (const auto& e : n.out) {
            if (e.kind != EdgeKind::Arm) continue;
            acc += e.percent;
            if (bucket < acc) {
              next = e.to;
              if (tracing(row)) note(row, TraceKind::Split, fi, n.sn->id, fmt::format("arm `{}` ({}%; the friend's bucket is {})", e.arm, e.percent, bucket));
              break;
            }
          }
          break;
        }
        case StepKind::Wait: {
          const auto& w = std::get<ast::WaitStmt>(n.sn->stmt->v);
          const auto dl = deadline(row, n, nullptr);
          if (!dl) {
            i.wait_unknown = true;
            if (tracing(row)) note(row, TraceKind::Wait, fi, n.sn->id,
                 fmt::format("{}: the date is unknown ({}); waiting until it is known", n.sn->label,
                             w.until ? inputs(values[static_cast<std::size_t>(n.until_value)], row, nullptr) : ""));
            return;
          }
          if (w.kind == ast::WaitKind::For) {
            // `when` cases that already hold are taken at once.
            for (const auto& e : n.out) {
              if (e.kind == EdgeKind::Case && e.wc != nullptr && e.wc->kind == ast::CaseKind::When && test(e.pred, row, nullptr)) {
                if (tracing(row)) note(row, TraceKind::Case, fi, n.sn->id, fmt::format("case `{}` held on arrival", e.label));
                next = e.to;
                break;
              }
            }
            if (next) break;
          }
          if (*dl <= now) {
            if (tracing(row)) note(row, TraceKind::Wait, fi, n.sn->id, fmt::format("{}: already past, goes on at once", n.sn->label));
            next = next_of(n);
            break;
          }
          set_timer(row, f, *dl);
          return;
        }
        case StepKind::Stop:
          i.status = kDone;
          ++stats[f].stopped;
          ++stats[f].steps[node].left;
          if (tracing(row)) note(row, TraceKind::Leave, fi, n.sn->id, "`stop`");
          return;
        case StepKind::End:
          i.status = kDone;
          ++stats[f].completed;
          if (tracing(row)) note(row, TraceKind::End, fi, n.sn->id, "reached the end");
          return;
      }
      if (!next) {
        i.status = kDone;
        ++stats[f].completed;
        if (tracing(row)) note(row, TraceKind::End, fi, n.sn->id, "reached the end");
        return;
      }
      ++stats[f].steps[node].passed;
      node = *next;
    }
  }

  void on_timer(std::uint32_t payload) {
    const std::uint32_t row = payload / static_cast<std::uint32_t>(flows.size());
    const std::size_t f = payload % flows.size();
    Instance& i = in(row, f);
    i.timer = kNoTimer;
    if (i.status != kInside) return;
    touch(row);
    Ctx ctx;
    const XNode& n = flows[f].nodes[i.node];
    if (tracing(row)) note(row, TraceKind::Event, static_cast<std::int32_t>(f), n.sn->id, fmt::format("timer: {}", n.sn->label));
    if (check_stop(row, f, nullptr)) {
      settle(row, ctx, nullptr);
      return;
    }
    const auto& w = std::get<ast::WaitStmt>(n.sn->stmt->v);
    std::optional<std::uint32_t> next;
    if (w.kind == ast::WaitKind::For) {
      for (const auto& e : n.out) {
        if (e.kind == EdgeKind::Timeout) {
          next = e.to;
          break;
        }
      }
      if (tracing(row)) note(row, TraceKind::Case, static_cast<std::int32_t>(f), n.sn->id, "timeout");
    } else {
      next = next_of(n);
    }
    ++stats[f].steps[i.node].passed;
    if (next) {
      run(row, f, *next, ctx);
    } else {
      i.status = kDone;
      ++stats[f].completed;
    }
    settle(row, ctx, nullptr);
  }

  void run_broadcast(std::size_t f) {
    Flow& fl = flows[f];
    std::uint64_t k = 0;
    const std::size_t n = store->size();
    for (std::uint32_t row = 0; row < n; ++row) {
      if (!test(fl.target, row, nullptr)) continue;
      if (fl.throttle_count > 0) {
        throttle_floor = fl.at + static_cast<std::int64_t>(k * static_cast<std::uint64_t>(fl.throttle_unit) /
                                                           static_cast<std::uint64_t>(fl.throttle_count));
      }
      ++k;
      Ctx ctx;
      Instance& i = in(row, f);
      if (i.status == kInside) leave(row, f, "broadcast again");
      begin(row, f, fmt::format("broadcast `{}` at {}", fl.g->name, format_time(fl.at, *zone)));
      run(row, f, 0, ctx);
      settle(row, ctx, nullptr);
    }
    throttle_floor = 0;
  }

  void start_at(std::int64_t t) {
    if (started) return;
    started = true;
    now = t;
    wheel.advance(static_cast<std::uint32_t>(std::max<std::int64_t>(t, 0)), [](std::uint32_t, std::uint32_t, std::uint32_t) {});
    // Broadcasts scheduled before the start are in the past: not sent.
    while (next_broadcast < broadcast_order.size() && flows[static_cast<std::size_t>(broadcast_order[next_broadcast])].at < t) {
      ++next_broadcast;
    }
    grow();
  }

  // At local midnight: `start when` conditions that depend on the date, for every friend.
  void tick() {
    const std::size_t n = store->size();
    for (std::uint32_t row = 0; row < n; ++row) {
      for (std::size_t f : timed_starts) {
        bool now_true = false;
        std::string why;
        for (const auto& [pred, text] : flows[f].start_when) {
          if (test(pred, row, nullptr)) {
            now_true = true;
            why = text;
            break;
          }
        }
        Instance& i = in(row, f);
        const bool was = i.when_prev;
        i.when_prev = now_true;
        if (now_true && !was) {
          Ctx ctx;
          enter(row, f, ctx, fmt::format("`start when {}` became true (a new day)", why));
          settle(row, ctx, nullptr);
        }
      }
    }
  }

  void run_until(std::int64_t t) {
    if (!started) start_at(t);
    grow();
    while (true) {
      std::int64_t until = t;
      bool bc = next_broadcast < broadcast_order.size() &&
                flows[static_cast<std::size_t>(broadcast_order[next_broadcast])].at <= t;
      if (bc) until = flows[static_cast<std::size_t>(broadcast_order[next_broadcast])].at;
      bool daily = false;
      if (!timed_starts.empty() && next_tick <= until) {
        until = next_tick;
        daily = true;
        bc = bc && flows[static_cast<std::size_t>(broadcast_order[next_broadcast])].at <= until;
      }
      {
        wheel.advance(static_cast<std::uint32_t>(until), [&](std::uint32_t deadline, std::uint32_t payload, std::uint32_t) {
          now = deadline;
          on_timer(payload);
        });
      }
      now = std::max(now, until);
      if (daily) {
        tick();
        next_tick = zone->to_utc(zone->local_days(now) + 1, 0);
        if (!bc) continue;
      }
      if (!bc) break;
      run_broadcast(static_cast<std::size_t>(broadcast_order[next_broadcast]));
      ++next_broadcast;
    }
  }
};

Engine::Engine(const Program& p, EngineOptions options) : impl_(std::make_unique<Impl>(p, std::move(options))) {}
Engine::~Engine() = default;
FriendStore& Engine::store() { return *impl_->store; }
const FriendStore& Engine::store() const { return *impl_->store; }
const ir::Schema& Engine::schema() const { return impl_->schema; }
const Program& Engine::program() const { return impl_->p; }
bool Engine::jit() const { return !impl_->rows.empty(); }
void Engine::start_at(std::int64_t t) { impl_->start_at(t); }
void Engine::run_until(std::int64_t t) { impl_->run_until(t); }
void Engine::handle(const InputEvent& e) { impl_->handle(e); }

void Engine::prefetch(const InputEvent& e, int stage) const {
  const Impl& m = *impl_;
  if (stage == 0) {
    m.store->prefetch_id(e.friend_id);
    return;
  }
  const auto row = m.store->peek(e.friend_id);
  if (!row || *row >= m.store->size()) return;
  __builtin_prefetch(&m.store->ids[*row]);
  m.store->prefetch(*row);
  if (!m.flows.empty() && *row * m.flows.size() < m.inst.size()) {
    const char* first = reinterpret_cast<const char*>(&m.inst[*row * m.flows.size()]);
    for (std::size_t k = 0; k < m.flows.size() * sizeof(Instance); k += 64) __builtin_prefetch(first + k);
  }
}

void Engine::handle_all(const std::vector<InputEvent>& events, const std::function<void(std::size_t)>& progress) {
  constexpr std::size_t kSlotAhead = 8, kRowAhead = 4;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i + kSlotAhead < events.size()) prefetch(events[i + kSlotAhead], 0);
    if (i + kRowAhead < events.size()) prefetch(events[i + kRowAhead], 1);
    impl_->handle(events[i]);
    if (progress && (i & 0xFFFF) == 0) progress(i);
  }
}
std::int64_t Engine::now() const { return impl_->now; }
const std::vector<Delivery>& Engine::deliveries() const { return impl_->deliveries; }
const std::vector<TraceEntry>& Engine::trace() const { return impl_->trace; }
const std::vector<FlowStats>& Engine::stats() const { return impl_->stats; }
std::uint64_t Engine::events_handled() const { return impl_->events; }
std::uint64_t Engine::delivery_count() const { return impl_->delivery_total; }
std::uint64_t Engine::notifications() const { return impl_->notifications; }
std::uint64_t Engine::cascade_stops() const { return impl_->cascade_stops; }
std::uint64_t Engine::timers_pending() const { return impl_->wheel.size(); }
std::size_t Engine::flow_count() const { return impl_->flows.size(); }
const StepGraph& Engine::flow(std::size_t i) const { return *impl_->flows[i].g; }

std::optional<std::uint32_t> Engine::position(std::uint32_t row, std::size_t flow) const {
  impl_->grow();
  const Instance& i = impl_->in(row, flow);
  if (i.status != kInside) return std::nullopt;
  return i.node;
}

std::optional<std::int64_t> Engine::wake_time(std::uint32_t row, std::size_t flow) const {
  impl_->grow();
  const Instance& i = impl_->in(row, flow);
  if (i.status != kInside || i.timer == kNoTimer) return std::nullopt;
  return i.wake;
}

std::vector<std::uint64_t> Engine::waiting(std::size_t flow) const {
  impl_->grow();
  std::vector<std::uint64_t> out(impl_->flows[flow].nodes.size(), 0);
  const std::size_t n = impl_->store->size();
  for (std::uint32_t row = 0; row < n; ++row) {
    const Instance& i = impl_->in(row, flow);
    if (i.status == kInside) ++out[i.node];
  }
  return out;
}

bool Engine::ever_entered(std::uint32_t row, std::size_t flow) const {
  impl_->grow();
  return impl_->in(row, flow).status != kNever;
}

namespace {
template <typename T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <typename T>
void get(std::string_view& in, T& v) {
  if (in.size() < sizeof v) return;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
}
}  // namespace

// Format 1: attributes, texts (length-prefixed), tags, fields, scores, history, the push
// schedule and the scenario instances. Pending timers are re-armed from the instances.
std::string Engine::export_friend(std::uint32_t row) const {
  const Impl& m = *impl_;
  const FriendStore& s = *m.store;
  std::string out;
  put(out, std::uint8_t{1});
  auto text = [&](std::int32_t id) {
    const std::string_view t = id < 0 ? std::string_view() : s.texts.get(id);
    put(out, static_cast<std::int32_t>(id < 0 ? -1 : static_cast<std::int32_t>(t.size())));
    out.append(t);
  };
  put(out, s.gender[row]);
  put(out, s.age[row]);
  put(out, s.region[row]);
  put(out, s.friend_since[row]);
  text(s.source[row]);
  text(s.display_name[row]);
  text(s.language[row]);
  put(out, static_cast<std::uint8_t>(s.blocked.get(row)));
  put(out, s.score[row]);
  for (const auto& t : s.tags) put(out, static_cast<std::uint8_t>(t.get(row)));
  for (const auto& a : s.audiences) put(out, static_cast<std::uint8_t>(a.get(row)));
  for (const auto& v : s.visited) put(out, static_cast<std::uint8_t>(v.get(row)));
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    const auto& f = s.fields[i];
    const bool known = f.known.get(row);
    put(out, static_cast<std::uint8_t>(known));
    if (m.schema.fields[i].type.kind == TypeKind::Text) {
      text(known ? static_cast<std::int32_t>(f.values[row]) : -1);
    } else {
      put(out, f.values[row]);
    }
  }
  for (const auto& n : s.named_scores) put(out, n[row]);
  for (const auto& l : s.links) {
    put(out, l.clicks[row]);
    put(out, l.last[row]);
  }
  for (const auto& h : s.messages) {
    put(out, h.sent[row]);
    put(out, h.opened[row]);
    put(out, h.last_opened[row]);
  }
  put(out, m.next_free[row]);
  put(out, m.push_day[row]);
  put(out, m.push_count[row]);
  put(out, m.rule_seq[row]);
  for (std::size_t f = 0; f < m.flows.size(); ++f) put(out, m.inst[row * m.flows.size() + f]);
  return out;
}

void Engine::import_friend(std::uint32_t row, std::string_view in) {
  Impl& m = *impl_;
  FriendStore& s = *m.store;
  m.grow();
  std::uint8_t version = 0;
  get(in, version);
  if (version != 1) throw std::runtime_error("friend state: unknown format " + std::to_string(version));
  auto text = [&]() -> std::int32_t {
    std::int32_t n = -1;
    get(in, n);
    if (n < 0 || static_cast<std::size_t>(n) > in.size()) return kUnknownText;
    const std::int32_t id = s.texts.intern(in.substr(0, static_cast<std::size_t>(n)));
    in.remove_prefix(static_cast<std::size_t>(n));
    return id;
  };
  auto bit = [&](Bitmap& b) {
    std::uint8_t v = 0;
    get(in, v);
    b.set(row, v != 0);
  };
  get(in, s.gender[row]);
  std::int16_t age = s.age[row];  // (a short record leaves the value as it was)
  get(in, age);
  s.set_age(row, age);
  get(in, s.region[row]);
  get(in, s.friend_since[row]);
  s.source[row] = text();
  s.display_name[row] = text();
  s.language[row] = text();
  bit(s.blocked);
  std::int64_t score = s.score[row];
  get(in, score);
  s.set_score(row, score);
  for (auto& t : s.tags) bit(t);
  for (auto& a : s.audiences) bit(a);
  for (auto& v : s.visited) bit(v);
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    auto& f = s.fields[i];
    std::uint8_t known = 0;
    get(in, known);
    f.known.set(row, known != 0);
    if (m.schema.fields[i].type.kind == TypeKind::Text) {
      const std::int32_t id = text();
      f.values[row] = id < 0 ? 0 : id;
    } else {
      get(in, f.values[row]);
    }
  }
  for (auto& n : s.named_scores) get(in, n[row]);
  for (auto& l : s.links) {
    get(in, l.clicks[row]);
    get(in, l.last[row]);
  }
  for (auto& h : s.messages) {
    get(in, h.sent[row]);
    get(in, h.opened[row]);
    get(in, h.last_opened[row]);
  }
  get(in, m.next_free[row]);
  get(in, m.push_day[row]);
  get(in, m.push_count[row]);
  get(in, m.rule_seq[row]);
  for (std::size_t f = 0; f < m.flows.size(); ++f) {
    Instance& i = m.inst[row * m.flows.size() + f];
    if (i.timer != kNoTimer) m.wheel.cancel(i.timer);
    get(in, i);
    // A timer id from another process means nothing here: arm it again at its deadline
    // (one already past fires at the next run_until).
    i.timer = kNoTimer;
    if (i.status == kInside && i.wake > 0 && !i.wait_unknown && m.flows[f].nodes[i.node].kind == StepKind::Wait) {
      i.timer = m.wheel.add(static_cast<std::uint32_t>(i.wake), static_cast<std::uint32_t>(row * m.flows.size() + f));
    }
  }
}

namespace {
// For each name of `from`, its index in `to` (-1: gone).
std::vector<int> name_map(const std::vector<std::string>& from, const std::vector<std::string>& to) {
  std::unordered_map<std::string_view, int> at;
  for (std::size_t i = 0; i < to.size(); ++i) at.emplace(to[i], static_cast<int>(i));
  std::vector<int> out(from.size(), -1);
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (auto it = at.find(from[i]); it != at.end()) out[i] = it->second;
  }
  return out;
}
}  // namespace

Engine::TakeOver Engine::take_over(const Engine& old_engine) {
  Impl& m = *impl_;
  const Impl& o = *old_engine.impl_;
  if (!m.started) m.start_at(o.now);
  // Broadcasts the old version has sent (up to its last one) are not sent again, and
  // `start when` conditions that read the date are next evaluated when the old version's would be.
  if (o.next_broadcast > 0) {
    const std::int64_t sent_until = o.flows[static_cast<std::size_t>(o.broadcast_order[o.next_broadcast - 1])].at;
    while (m.next_broadcast < m.broadcast_order.size() &&
           m.flows[static_cast<std::size_t>(m.broadcast_order[m.next_broadcast])].at <= sent_until) {
      ++m.next_broadcast;
    }
  }
  if (o.next_tick > 0) m.next_tick = o.next_tick;
  TakeOver sum;
  const FriendStore& os = *o.store;
  FriendStore& s = *m.store;
  const auto tags = name_map(o.schema.tags, m.schema.tags);
  const auto audiences = name_map(o.schema.audiences, m.schema.audiences);
  const auto visited = name_map(o.schema.visit_patterns, m.schema.visit_patterns);
  const auto scores = name_map(o.schema.scores, m.schema.scores);
  const auto links = name_map(o.schema.links, m.schema.links);
  const auto messages = name_map(o.schema.messages, m.schema.messages);
  // Fields: by name, kept when the kind of value is the same; enum values and sets by value name.
  struct FieldMove {
    int to = -1;
    std::vector<int> values;  // enum value index → new index (-1: gone)
  };
  std::vector<FieldMove> fields(o.schema.fields.size());
  for (std::size_t i = 0; i < o.schema.fields.size(); ++i) {
    const auto& of = o.schema.fields[i];
    const int j = m.schema.field_index(of.name);
    if (j < 0 || m.schema.fields[static_cast<std::size_t>(j)].type.kind != of.type.kind) continue;
    fields[i].to = j;
    if (of.type.kind == TypeKind::Enum || of.type.kind == TypeKind::Set) {
      fields[i].values = name_map(of.values, m.schema.fields[static_cast<std::size_t>(j)].values);
    }
  }
  // Scenarios and broadcasts by name; where a friend waiting at each old step lands, as `okuri diff` says.
  std::vector<int> old_flow(m.flows.size(), -1);
  for (std::size_t f = 0; f < m.flows.size(); ++f) {
    for (std::size_t g = 0; g < o.flows.size(); ++g) {
      if (o.flows[g].g->name == m.flows[f].g->name && o.flows[g].broadcast == m.flows[f].broadcast) old_flow[f] = static_cast<int>(g);
    }
  }
  std::map<std::string, std::map<std::string, Landing>> landings;
  for (auto& d : diff_programs(o.p, m.p)) {
    for (auto& l : d.landings) landings[d.name].emplace(l.from, std::move(l));
  }
  std::vector<bool> kept_flow(o.flows.size(), false);
  for (const int g : old_flow) {
    if (g >= 0) kept_flow[static_cast<std::size_t>(g)] = true;
  }
  const std::string cause = "the project was updated";
  auto text = [&](std::int32_t id) { return id < 0 ? kUnknownText : s.texts.intern(os.texts.get(id)); };
  for (std::uint32_t r = 0; r < os.size(); ++r) {
    const std::uint32_t row = m.ensure_friend(os.id_of(r));
    m.touch(row);
    ++sum.friends;
    s.gender[row] = os.gender[r];
    s.set_age(row, os.age[r]);
    s.region[row] = os.region[r];
    s.friend_since[row] = os.friend_since[r];
    s.source[row] = text(os.source[r]);
    s.display_name[row] = text(os.display_name[r]);
    s.language[row] = text(os.language[r]);
    s.blocked.set(row, os.blocked.get(r));
    s.set_score(row, os.score[r]);
    for (std::size_t i = 0; i < tags.size(); ++i) {
      if (tags[i] >= 0) s.tags[static_cast<std::size_t>(tags[i])].set(row, os.tags[i].get(r));
    }
    for (std::size_t i = 0; i < audiences.size(); ++i) {
      if (audiences[i] >= 0) s.audiences[static_cast<std::size_t>(audiences[i])].set(row, os.audiences[i].get(r));
    }
    for (std::size_t i = 0; i < visited.size(); ++i) {
      if (visited[i] >= 0) s.visited[static_cast<std::size_t>(visited[i])].set(row, os.visited[i].get(r));
    }
    for (std::size_t i = 0; i < scores.size(); ++i) {
      if (scores[i] >= 0) s.named_scores[static_cast<std::size_t>(scores[i])][row] = os.named_scores[i][r];
    }
    for (std::size_t i = 0; i < links.size(); ++i) {
      if (links[i] < 0) continue;
      auto& l = s.links[static_cast<std::size_t>(links[i])];
      l.clicks[row] = os.links[i].clicks[r];
      l.last[row] = os.links[i].last[r];
    }
    for (std::size_t i = 0; i < messages.size(); ++i) {
      if (messages[i] < 0) continue;
      auto& h = s.messages[static_cast<std::size_t>(messages[i])];
      h.sent[row] = os.messages[i].sent[r];
      h.opened[row] = os.messages[i].opened[r];
      h.last_opened[row] = os.messages[i].last_opened[r];
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto& fm = fields[i];
      if (fm.to < 0 || !os.fields[i].known.get(r)) continue;
      auto& col = s.fields[static_cast<std::size_t>(fm.to)];
      std::int64_t v = os.fields[i].values[r];
      bool known = true;
      switch (o.schema.fields[i].type.kind) {
        case TypeKind::Text:
          v = s.texts.intern(os.texts.get(static_cast<std::int32_t>(v)));
          break;
        case TypeKind::Enum:
          known = v >= 0 && static_cast<std::size_t>(v) < fm.values.size() && fm.values[static_cast<std::size_t>(v)] >= 0;
          if (known) v = fm.values[static_cast<std::size_t>(v)];
          break;
        case TypeKind::Set: {
          std::int64_t mask = 0;
          for (std::size_t b = 0; b < fm.values.size() && b < 64; ++b) {
            if (((static_cast<std::uint64_t>(v) >> b) & 1) != 0 && fm.values[b] >= 0) mask |= std::int64_t{1} << fm.values[b];
          }
          v = mask;
          break;
        }
        default:
          break;
      }
      col.known.set(row, known);
      col.values[row] = known ? v : 0;
    }
    m.next_free[row] = o.next_free[r];
    m.push_day[row] = o.push_day[r];
    m.push_count[row] = o.push_count[r];
    m.rule_seq[row] = o.rule_seq[r];
    // Friends inside a scenario that the new version no longer has leave it.
    for (std::size_t g = 0; g < o.flows.size(); ++g) {
      if (!kept_flow[g] && o.inst[r * o.flows.size() + g].status == kInside) ++sum.exited;
    }
    Ctx ctx;
    for (std::size_t f = 0; f < m.flows.size(); ++f) {
      if (old_flow[f] < 0) continue;  // new: as if never entered
      const std::size_t g = static_cast<std::size_t>(old_flow[f]);
      const Flow& ofl = o.flows[g];
      const Flow& nfl = m.flows[f];
      Instance i = o.inst[r * o.flows.size() + g];
      i.timer = kNoTimer;
      // A goal in force stays in force where its step still exists.
      if (i.goal_armed) {
        if (auto j = nfl.g->find(ofl.g->node(i.goal_node).id)) {
          i.goal_node = *j;
        } else {
          i.goal_armed = false;
          i.goal_node = 0;
        }
      } else {
        i.goal_node = 0;
      }
      const std::uint8_t status = i.status;
      const std::string from = status == kInside ? ofl.g->node(i.node).id : std::string();
      if (status != kInside) i.node = 0;
      if (status == kInside) i.status = kDone;  // placed below
      m.in(row, f) = i;
      if (status != kInside) continue;
      const std::int32_t fi = static_cast<std::int32_t>(f);
      const Landing* land = nullptr;
      if (auto a = landings.find(nfl.g->name); a != landings.end()) {
        if (auto b = a->second.find(from); b != a->second.end()) land = &b->second;
      }
      Landing fallback{from, Landing::Exit, "", "nothing after this step survives"};
      if (land == nullptr) {
        // Not a wait of the old version (a friend is only ever held at waits): the same step if it is still there.
        if (nfl.g->find(from)) fallback = Landing{from, Landing::Same, from, "continues at the same step"};
        land = &fallback;
      }
      switch (land->kind) {
        case Landing::Restart:
          ++sum.restarted;
          m.begin(row, f, fmt::format("{}: `on_update restart`", cause));
          m.run(row, f, 0, ctx);
          break;
        case Landing::Exit: {
          ++sum.exited;
          Instance& ni = m.in(row, f);
          ni.status = kInside;
          ni.node = 0;
          m.leave(row, f, fmt::format("{}: {}", cause, land->note));
          break;
        }
        case Landing::Same:
        case Landing::Next: {
          const std::uint32_t to = *nfl.g->find(land->to);
          Instance& ni = m.in(row, f);
          ni.status = kInside;
          ni.node = to;
          if (land->kind == Landing::Same && nfl.nodes[to].kind == StepKind::Wait) {
            ++sum.waiting;
            if (i.wait_unknown) {
              ni.wait_unknown = true;
              m.resume_wait(row, f, ctx, nullptr);
            } else {
              ni.timer = m.wheel.add(static_cast<std::uint32_t>(std::max(i.wake, m.now)), static_cast<std::uint32_t>(row * m.flows.size() + f));
            }
            if (m.tracing(row)) m.note(row, TraceKind::Wait, fi, land->to, fmt::format("{}: {}", cause, land->note));
          } else {
            ++sum.moved;
            if (m.tracing(row)) m.note(row, TraceKind::Enter, fi, land->to, fmt::format("{}: {}", cause, land->note));
            m.run(row, f, to, ctx);
          }
          break;
        }
      }
    }
  }
  return sum;
}

std::vector<std::uint32_t> Engine::take_dirty() {
  Impl& m = *impl_;
  std::vector<std::uint32_t> out;
  out.swap(m.dirty);
  for (auto r : out) m.dirty_mark[r] = false;
  return out;
}

std::vector<MenuLink> Engine::take_menu_links() {
  std::vector<MenuLink> out;
  out.swap(impl_->menu_links);
  return out;
}

std::vector<Delivery> Engine::take_deliveries() {
  std::vector<Delivery> out;
  out.swap(impl_->deliveries);
  return out;
}

Value Engine::evaluate(const ast::Expr& e, std::uint32_t row) {
  impl_->grow();
  auto it = impl_->value_of.find(&e);
  if (it == impl_->value_of.end()) return {};
  return impl_->val(it->second, row, nullptr);
}

std::string Engine::inputs_of(const ast::Expr& e, std::uint32_t row) {
  impl_->grow();
  if (auto it = impl_->pred_of.find(&e); it != impl_->pred_of.end()) {
    return impl_->inputs(impl_->preds[static_cast<std::size_t>(it->second)], row, nullptr);
  }
  auto it = impl_->value_of.find(&e);
  if (it == impl_->value_of.end()) return {};
  return impl_->inputs(impl_->values[static_cast<std::size_t>(it->second)], row, nullptr);
}

bool Engine::holds(const ast::Expr& e, std::uint32_t row) {
  impl_->grow();
  auto it = impl_->pred_of.find(&e);
  if (it == impl_->pred_of.end()) return false;
  return impl_->test(it->second, row, nullptr);
}

std::uint32_t Engine::friend_row(const std::string& id) { return impl_->ensure_friend(id); }
void Engine::force_arm(std::uint32_t row, std::size_t flow, std::string arm) {
  impl_->forced_arms[{row, flow}] = std::move(arm);
}

}  // namespace okuri::rt
