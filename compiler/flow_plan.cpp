// Builds the flow plan from a checked program: rules and step graphs lowered to operations,
// conditions and values to predicate IR, texts to templates. The only place where the runtime's
// view of a project meets the AST.
#include "compiler/flow_plan.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/line_target.hpp"
#include "compiler/literals.hpp"
#include "compiler/text_template.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::plan {

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

std::optional<std::uint32_t> Flow::find(std::string_view id) const {
  for (std::uint32_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].id == id) return i;
  }
  return std::nullopt;
}

int Plan::event_type(std::string_view name) const {
  for (std::size_t i = 0; i < event_types.size(); ++i) {
    if (event_types[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::optional<std::size_t> Plan::flow_index(std::string_view name) const {
  for (std::size_t i = 0; i < flows.size(); ++i) {
    if (flows[i].name == name) return i;
  }
  return std::nullopt;
}

bool reads_line_estimates(const ast::Expr& e) {
  bool found = false;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ast::Member>) {
          if (x.object.text == "line") found = true;
        } else if constexpr (std::is_same_v<T, ast::Binary>) {
          found = reads_line_estimates(*x.lhs) || reads_line_estimates(*x.rhs);
        } else if constexpr (std::is_same_v<T, ast::Not> || std::is_same_v<T, ast::Neg>) {
          found = reads_line_estimates(*x.operand);
        } else if constexpr (std::is_same_v<T, ast::Paren>) {
          found = reads_line_estimates(*x.inner);
        }
      },
      e.v);
  return found;
}

namespace {

int index_in(const std::vector<std::string>& v, std::string_view n) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == n) return static_cast<int>(i);
  }
  return -1;
}

// Whether a predicate's value can change with time alone (today, now, friend_days, `within`).
bool reads_time(const ir::Predicate& pr) {
  for (const auto& n : pr.nodes) {
    if (n.op == ir::Op::Attr) {
      const auto a = static_cast<ir::Attr>(n.a);
      if (a == ir::Attr::Today || a == ir::Attr::Now || a == ir::Attr::FriendDays) return true;
    }
    if ((n.op == ir::Op::Clicked || n.op == ir::Op::Opened) && n.b != 0) return true;
  }
  return false;
}

class Builder {
 public:
  explicit Builder(const Program& p) : p_(p), out_(std::make_shared<Plan>()) {}

  std::shared_ptr<const Plan> build() {
    Plan& pl = *out_;
    pl.schema = ir::make_schema(p_);
    pl.account = p_.account;
    pl.root = p_.root;
    for (const auto& e : stdlib::events()) pl.event_types.emplace_back(e.name);
    for (const auto& f : p_.ast.files) {
      for (const auto& d : f.decls) {
        if (const auto* e = std::get_if<ast::EventDecl>(&d.v); e != nullptr && pl.event_type(e->name.text) < 0) {
          pl.event_types.push_back(e->name.text);
        }
      }
    }
    for (const auto& name : pl.schema.links) {
      const Symbol* s = p_.find(SymbolKind::Link, name);
      pl.links.push_back(Link{name, s != nullptr ? std::get<ast::LinkDecl>(s->decl->v).url : std::string()});
    }
    for (const auto& name : pl.schema.messages) pl.messages.push_back(message(name));
    int rule_no = 0;
    for (const auto& f : p_.ast.files) {
      for (const auto& d : f.decls) {
        if (const auto* r = std::get_if<ast::RuleDecl>(&d.v)) {
          Rule x;
          x.id = fmt::format("rules/{}", ++rule_no);
          x.text = "on " + src(r->event.span) + (r->when ? " when " + src(r->when->span) : "");
          x.when = cond(r->when.get(), x.id);
          x.match = match(r->event);
          x.body = ops(r->body, x.id, event_of(r->event), &r->event);
          pl.rules.push_back(std::move(x));
        } else if (const auto* t = std::get_if<ast::TestDecl>(&d.v)) {
          test_values(*t);
        }
      }
    }
    for (const auto& g : p_.graphs) pl.flows.push_back(flow(g));
    for (std::size_t i = 0; i < pl.flows.size(); ++i) {
      if (pl.flows[i].broadcast) pl.broadcast_order.push_back(static_cast<std::int32_t>(i));
      if (pl.flows[i].start_when_reads_time) pl.timed_starts.push_back(i);
    }
    std::stable_sort(pl.broadcast_order.begin(), pl.broadcast_order.end(), [&](std::int32_t a, std::int32_t b) {
      return pl.flows[static_cast<std::size_t>(a)].at < pl.flows[static_cast<std::size_t>(b)].at;
    });
    return out_;
  }

 private:
  const Program& p_;
  std::shared_ptr<Plan> out_;

  std::string src(Span s) const { return std::string(p_.sources.text(s)); }

  PredId cond(const ast::Expr* e, const std::string& name) {
    if (e == nullptr) return -1;
    if (auto it = out_->expr_preds.find(e->id); it != out_->expr_preds.end()) return it->second;
    out_->preds.push_back(ir::lower_predicate(p_, out_->schema, *e, name));
    const auto i = static_cast<PredId>(out_->preds.size() - 1);
    out_->expr_preds[e->id] = i;
    return i;
  }
  ValueId value(const ast::Expr* e, const std::string& name) {
    if (e == nullptr) return -1;
    if (auto it = out_->expr_values.find(e->id); it != out_->expr_values.end()) return it->second;
    out_->values.push_back(ir::lower_predicate(p_, out_->schema, *e, name));
    const auto i = static_cast<ValueId>(out_->values.size() - 1);
    out_->expr_values[e->id] = i;
    return i;
  }

  EventMatch match(const ast::EventPattern& pat) const {
    EventMatch m;
    m.type = out_->event_type(pat.name.text);
    if (pat.arg) m.arg = pat.arg->text;
    if (pat.arg_text) m.url_pattern = *pat.arg_text;
    if (pat.from) m.from = *pat.from;
    return m;
  }

  // The fields `{event.x}` may read in a notification under this event, with their types.
  struct EventFields {
    std::vector<std::pair<std::string, Type>> fields;
  };
  std::optional<EventFields> event_of(const ast::EventPattern& pat) const {
    EventFields ev;
    if (const auto* b = stdlib::find_event(pat.name.text)) {
      for (const auto f : b->fields) ev.fields.emplace_back(std::string(f), Type::of(TypeKind::Text));
      return ev;
    }
    for (const auto& f : p_.ast.files) {
      for (const auto& d : f.decls) {
        const auto* e = std::get_if<ast::EventDecl>(&d.v);
        if (e == nullptr || e->name.text != pat.name.text) continue;
        for (const auto& fd : e->fields) {
          // The checker typed the declaration: read the type back from an `event.x` it resolved is not
          // possible here, so the named types are mapped again (enumerations by their values).
          Type t = Type::of(TypeKind::Text);
          if (fd.type.kind == ast::TypeSpec::Named) {
            static const std::pair<const char*, TypeKind> kNamed[] = {
                {"int", TypeKind::Int},   {"bool", TypeKind::Bool},         {"text", TypeKind::Text},
                {"date", TypeKind::Date}, {"datetime", TypeKind::DateTime}, {"duration", TypeKind::Duration},
                {"time", TypeKind::Time}};
            for (const auto& [n, k] : kNamed) {
              if (fd.type.name.text == n) t = Type::of(k);
            }
          } else {
            t = Type::of(fd.type.kind == ast::TypeSpec::OneOf ? TypeKind::Enum : TypeKind::Set);
          }
          ev.fields.emplace_back(fd.name.text, t);
        }
        return ev;
      }
    }
    return std::nullopt;
  }

  TextTemplate text(std::string_view value, const std::optional<EventFields>& ev, const ast::EventPattern* pat) {
    TextTemplate t;
    for (const TextPart& part : parse_text_template(value)) {
      TextPiece piece;
      if (!part.is_ref) {
        piece.literal = part.text;
        t.pieces.push_back(std::move(piece));
        continue;
      }
      TextRef r;
      r.name = part.text;
      r.format = part.format;
      r.fallback = part.fallback;
      if (part.text.rfind("event.", 0) == 0) {
        r.kind = TextRef::Kind::EventField;
        r.name = part.text.substr(6);
        if (ev) {
          for (const auto& [n, ty] : ev->fields) {
            if (n == r.name) r.type = ty;
          }
        }
        if (pat != nullptr && r.type.kind == TypeKind::Enum) r.values = enum_values_of_event(*pat, r.name);
        t.event_fields.push_back(r.name);
      } else if (const auto* a = stdlib::find_attribute(part.text)) {
        r.kind = TextRef::Kind::Attribute;
        r.index = static_cast<std::int32_t>(a->id);
        if (a->id == stdlib::AttrKind::DisplayName || a->id == stdlib::AttrKind::Language) t.reads_profile = true;
      } else if (const int l = index_in(out_->schema.links, part.text); l >= 0) {
        r.kind = TextRef::Kind::Link;
        r.index = l;
      } else if (const int f = out_->schema.field_index(part.text); f >= 0) {
        r.kind = TextRef::Kind::Field;
        r.index = f;
        r.type = out_->schema.fields[static_cast<std::size_t>(f)].type;
        r.values = out_->schema.fields[static_cast<std::size_t>(f)].values;
      } else {
        // Not a name the checker accepts (a project with errors is never planned): shown as written.
        piece.literal = std::string(value.substr(part.begin, part.end - part.begin));
        t.pieces.push_back(std::move(piece));
        continue;
      }
      piece.ref = std::move(r);
      t.pieces.push_back(std::move(piece));
    }
    return t;
  }

  std::vector<std::string> enum_values_of_event(const ast::EventPattern& pat, const std::string& field) const {
    for (const auto& f : p_.ast.files) {
      for (const auto& d : f.decls) {
        const auto* e = std::get_if<ast::EventDecl>(&d.v);
        if (e == nullptr || e->name.text != pat.name.text) continue;
        for (const auto& fd : e->fields) {
          if (fd.name.text != field) continue;
          std::vector<std::string> out;
          for (const auto& v : fd.type.values) out.push_back(v.text);
          return out;
        }
      }
    }
    return {};
  }

  Message message(const std::string& name) {
    Message m;
    m.name = name;
    const Symbol* s = p_.find(SymbolKind::Message, name);
    if (s == nullptr) return m;
    const auto& md = std::get<ast::MessageDecl>(s->decl->v);
    m.count = s->message_count;
    switch (md.kind) {
      case ast::MessageKind::Text:
        m.kind = MessageKind::Text;
        m.text = text(md.value, std::nullopt, nullptr);
        break;
      case ast::MessageKind::Sticker:
        m.kind = MessageKind::Sticker;
        m.package_id = md.package_id;
        m.sticker_id = md.sticker_id;
        break;
      case ast::MessageKind::Json: {
        m.kind = MessageKind::Json;
        auto it = p_.message_json.find(name);
        m.json = it == p_.message_json.end() ? "[]" : it->second;
        break;
      }
    }
    return m;
  }

  std::vector<MessageId> message_ids(const std::vector<ast::Name>& names) const {
    std::vector<MessageId> out;
    for (const auto& n : names) {
      const int idx = index_in(out_->schema.messages, n.text);
      if (idx >= 0) out.push_back(static_cast<MessageId>(idx));
    }
    return out;
  }

  // The actions of a rule body (or of one action step), with the event they run under.
  std::vector<Op> ops(const ast::Block& b, const std::string& where, const std::optional<EventFields>& ev,
                      const ast::EventPattern* pat = nullptr) {
    std::vector<Op> out;
    for (const auto& s : b.stmts) {
      if (auto o = op(*s, where, ev, pat)) out.push_back(std::move(*o));
    }
    return out;
  }

  std::optional<Op> op(const ast::Stmt& s, const std::string& where, const std::optional<EventFields>& ev,
                       const ast::EventPattern* pat) {
    Op o;
    bool keep = true;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::SendStmt> || std::is_same_v<T, ast::ReplyStmt>) {
            o.kind = std::is_same_v<T, ast::ReplyStmt> ? OpKind::Reply : OpKind::Send;
            o.messages = message_ids(v.messages);
          } else if constexpr (std::is_same_v<T, ast::TagStmt>) {
            o.kind = v.remove ? OpKind::Untag : OpKind::Tag;
            for (const auto& t : v.tags) {
              const int idx = out_->schema.tag_index(t.text);
              if (idx < 0) continue;
              o.items.push_back(idx);
              o.names.push_back(t.text);
            }
          } else if constexpr (std::is_same_v<T, ast::ScoreStmt>) {
            o.kind = OpKind::Score;
            o.mode = v.op == ast::ScoreOp::Add   ? ScoreMode::Add
                     : v.op == ast::ScoreOp::Sub ? ScoreMode::Sub
                                                 : ScoreMode::Assign;
            o.value = value(v.value.get(), where);
            if (v.score) {
              o.target = index_in(out_->schema.scores, v.score->text);
              o.target_name = v.score->text;
              if (o.target < 0) keep = false;
            }
          } else if constexpr (std::is_same_v<T, ast::SetStmt>) {
            o.kind = OpKind::SetField;
            o.target = out_->schema.field_index(v.field.text);
            o.target_name = v.field.text;
            o.value = value(v.value.get(), where);
            if (o.target >= 0)
              o.mask = set_mask(*v.value, out_->schema.fields[static_cast<std::size_t>(o.target)].values);
            o.set_mode = v.op == ast::SetOp::Add      ? SetMode::Add
                         : v.op == ast::SetOp::Remove ? SetMode::Remove
                                                      : SetMode::Assign;
            o.value_text = src(v.value->span);
            if (o.target < 0) keep = false;
          } else if constexpr (std::is_same_v<T, ast::ClearStmt>) {
            o.kind = OpKind::ClearField;
            o.target = out_->schema.field_index(v.field.text);
            o.target_name = v.field.text;
            if (o.target < 0) keep = false;
          } else if constexpr (std::is_same_v<T, ast::StartStmt>) {
            o.kind = OpKind::Start;
            o.names.push_back(v.scenario.text);
          } else if constexpr (std::is_same_v<T, ast::StopStmt>) {
            o.kind = OpKind::Stop;
            if (v.scenario) {
              o.names.push_back(v.scenario->text);
            } else {
              o.stop_self = true;
            }
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            o.kind = OpKind::If;
            for (const auto& a : v.arms) {
              OpArm arm;
              arm.cond = cond(a.cond.get(), where);
              arm.text = src(a.cond->span);
              arm.body = ops(a.body, where, ev, pat);
              o.arms.push_back(std::move(arm));
            }
            if (v.else_body) o.else_body = ops(*v.else_body, where, ev, pat);
          } else if constexpr (std::is_same_v<T, ast::MenuStmt>) {
            o.kind = OpKind::Menu;
            o.text = v.richmenu;
          } else if constexpr (std::is_same_v<T, ast::NotifyStmt>) {
            o.kind = OpKind::Notify;
            out_->notify_texts.push_back(text(v.text, ev, pat));
            o.notify = static_cast<std::int32_t>(out_->notify_texts.size() - 1);
          } else if constexpr (std::is_same_v<T, ast::PassStmt>) {
            o.kind = OpKind::Pass;
          } else {
            keep = false;  // flow statements are step-graph nodes, not actions
          }
        },
        s.v);
    if (!keep) return std::nullopt;
    return o;
  }

  // Start and stop name flows; resolved once every flow is known.
  void resolve_flows(std::vector<Op>& list) {
    for (auto& o : list) {
      if (o.kind == OpKind::Start || o.kind == OpKind::Stop) {
        o.items.clear();
        for (const auto& n : o.names) {
          for (std::size_t f = 0; f < out_->flows.size(); ++f) {
            if (out_->flows[f].name == n && (o.kind == OpKind::Stop || !out_->flows[f].broadcast)) {
              o.items.push_back(static_cast<std::int32_t>(f));
            }
          }
        }
      }
      for (auto& a : o.arms) resolve_flows(a.body);
      if (o.else_body) resolve_flows(*o.else_body);
    }
  }

  void test_values(const ast::TestDecl& t) {
    for (const auto& item : t.items) {
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

  static std::size_t arm_index(const ast::IfStmt& s, const ast::Expr* c) {
    for (std::size_t i = 0; i < s.arms.size(); ++i) {
      if (s.arms[i].cond.get() == c) return i;
    }
    return s.arms.size();
  }

  Flow flow(const StepGraph& g) {
    Flow fl;
    fl.name = g.name;
    fl.broadcast = g.is_broadcast;
    fl.graph = &g;
    const ast::ScenarioDecl* sc = g.decl != nullptr ? std::get_if<ast::ScenarioDecl>(&g.decl->v) : nullptr;
    const ast::BroadcastDecl* bc = g.decl != nullptr ? std::get_if<ast::BroadcastDecl>(&g.decl->v) : nullptr;
    const std::string& name = g.name;
    if (sc != nullptr) {
      fl.restart = sc->restart;
      fl.restart_after = sc->restart_after;
      for (const auto& e : sc->stop_when)
        fl.stop_when.push_back(Condition{cond(e.get(), name + "/stop when"), src(e->span)});
      for (const auto& s : sc->start_on) {
        fl.start_on.push_back(StartOn{match(s.event), cond(s.when.get(), name + "/start on"),
                                      "start on " + src(s.event.span) + (s.when ? " when " + src(s.when->span) : "")});
      }
      for (const auto& e : sc->start_when) {
        const PredId pr = cond(e.get(), name + "/start when");
        fl.start_when.push_back(Condition{pr, src(e->span)});
        if (pr >= 0 && reads_time(out_->preds[static_cast<std::size_t>(pr)])) fl.start_when_reads_time = true;
      }
    }
    if (bc != nullptr) {
      fl.at = local_to_utc_seconds(bc->at, p_.account.timezone);
      fl.target = cond(bc->target.get(), name + "/to");
      if (bc->target) {
        fl.target_text = src(bc->target->span);
        fl.target_reads_line = reads_line_estimates(*bc->target);
      }
      fl.sends_only = std::all_of(bc->body.stmts.begin(), bc->body.stmts.end(), [](const ast::StmtPtr& s) {
        return std::holds_alternative<ast::SendStmt>(s->v) || std::holds_alternative<ast::PassStmt>(s->v);
      });
      if (fl.target_reads_line) {
        const LineTarget lt = line_target(*bc->target);  // the checker refused targets LINE cannot apply (E015)
        fl.reach = Flow::Reach::Narrowcast;
        fl.demographic = lt.demographic;
        fl.audience = lt.own_part;
      } else if (!bc->target && fl.sends_only) {
        fl.reach = Flow::Reach::Everyone;
      }
      for (const auto& s : bc->body.stmts) {
        if (const auto* t = std::get_if<ast::ThrottleStmt>(&s->v); t != nullptr && t->count > 0) {
          fl.throttle_count = t->count;
          fl.throttle_unit = t->unit.text == "s" ? 1 : t->unit.text == "h" ? 3600 : 60;
        }
      }
    }
    fl.nodes.resize(g.node_count());
    for (std::uint32_t i = 0; i < g.node_count(); ++i) node(g, i, fl.nodes[i], name);
    return fl;
  }

  void node(const StepGraph& g, std::uint32_t i, Node& x, const std::string& name) {
    const StepNode& sn = g.node(i);
    x.kind = sn.kind;
    x.id = sn.id;
    x.label = sn.label;
    for (const auto& m : sn.messages) {
      const int idx = index_in(out_->schema.messages, m);
      if (idx >= 0) x.messages.push_back(static_cast<MessageId>(idx));
    }
    const std::string where = name + "/" + sn.id;
    std::vector<std::pair<Edge, std::size_t>> edges;  // with their rank in decision order
    const ast::IfStmt* ifs = sn.stmt != nullptr ? std::get_if<ast::IfStmt>(&sn.stmt->v) : nullptr;
    const ast::SplitStmt* sp = sn.stmt != nullptr ? std::get_if<ast::SplitStmt>(&sn.stmt->v) : nullptr;
    const ast::WaitStmt* w = sn.stmt != nullptr ? std::get_if<ast::WaitStmt>(&sn.stmt->v) : nullptr;
    for (const auto& e : g.out_edges(i)) {
      Edge xe;
      xe.to = e.to;
      xe.kind = e.kind;
      xe.percent = e.percent;
      xe.label = e.label;
      std::size_t rank = 1000;
      if (e.kind == EdgeKind::Then) {
        xe.pred = cond(e.cond, where);
        if (ifs != nullptr) rank = arm_index(*ifs, e.cond);
      }
      if (e.kind == EdgeKind::Case && e.wait_case != nullptr) {
        xe.pred = cond(e.wait_case->cond.get(), where);
        if (e.wait_case->kind == ast::CaseKind::On && e.wait_case->event) {
          xe.on_event = true;
          xe.match = match(*e.wait_case->event);
        }
        if (w != nullptr) {
          for (std::size_t k = 0; k < w->cases.size(); ++k) {
            if (&w->cases[k] == e.wait_case) rank = k;
          }
        }
      }
      if (e.kind == EdgeKind::Arm) {
        const auto pos = e.label.find("% ");
        xe.arm = pos == std::string::npos ? e.label : e.label.substr(pos + 2);
        if (sp != nullptr) {
          rank = sp->arms.size();
          for (std::size_t k = 0; k < sp->arms.size(); ++k) {
            if (sp->arms[k].name.text == xe.arm) rank = k;
          }
        }
      }
      if (ifs == nullptr && sp == nullptr && !(w != nullptr && w->kind == ast::WaitKind::For))
        rank = 0;  // kept as built
      edges.emplace_back(std::move(xe), rank);
    }
    std::stable_sort(edges.begin(), edges.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    for (auto& [e, rank] : edges) x.out.push_back(std::move(e));
    if (sn.stmt == nullptr) return;
    if (w != nullptr) {
      WaitSpec& ws = x.wait;
      ws.seconds = w->seconds;
      ws.at = w->at;
      switch (w->kind) {
        case ast::WaitKind::Relative:
          ws.mode = WaitMode::Relative;
          break;
        case ast::WaitKind::DayAt:
          ws.mode = WaitMode::DayAt;
          break;
        case ast::WaitKind::For:
          ws.mode = WaitMode::For;
          break;
        case ast::WaitKind::Until: {
          ws.until_type = w->until ? p_.type_of(w->until->id).kind : TypeKind::Error;
          if (ws.until_type == TypeKind::Time) {
            ws.mode = WaitMode::UntilTime;
            const auto* tl = w->until ? std::get_if<ast::TimeLit>(&ast::strip_parens(*w->until).v) : nullptr;
            ws.minute = tl != nullptr ? tl->minute : 0;
          } else {
            ws.mode = WaitMode::UntilValue;
            ws.until = value(w->until.get(), where);
          }
          break;
        }
      }
    } else if (const auto* gs = std::get_if<ast::GoalStmt>(&sn.stmt->v)) {
      x.goal = cond(gs->cond.get(), where);
      x.goal_within = gs->within.value_or(0);
    } else if (sn.kind == StepKind::Action) {
      if (auto o = op(*sn.stmt, where, std::nullopt, nullptr)) x.ops.push_back(std::move(*o));
    }
  }

 public:
  void finish() {
    for (auto& r : out_->rules) resolve_flows(r.body);
    for (auto& f : out_->flows) {
      for (auto& n : f.nodes) resolve_flows(n.ops);
    }
  }
};

}  // namespace

std::shared_ptr<const Plan> build_plan(const Program& p) {
  Builder b(p);
  auto plan = b.build();
  b.finish();
  return plan;
}

}  // namespace okuri::plan
