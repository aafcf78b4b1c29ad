#include "compiler/pred_ir.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/program.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::ir {

const char* to_string(Op op) {
  switch (op) {
    case Op::ConstBool: return "const.bool";
    case Op::ConstInt: return "const.int";
    case Op::ConstText: return "const.text";
    case Op::Attr: return "attr";
    case Op::Field: return "field";
    case Op::NamedScore: return "score";
    case Op::Tagged: return "tagged";
    case Op::InAudience: return "in_audience";
    case Op::Clicked: return "clicked";
    case Op::Clicks: return "clicks";
    case Op::Opened: return "opened";
    case Op::Sent: return "sent";
    case Op::Visited: return "visited";
    case Op::EventField: return "event";
    case Op::Known: return "known";
    case Op::LocalDays: return "local_days";
    case Op::Month: return "month";
    case Op::Day: return "day";
    case Op::Weekday: return "weekday";
    case Op::HourOfTime: return "hour.time";
    case Op::HourOfDateTime: return "hour.datetime";
    case Op::Contains: return "contains";
    case Op::StartsWith: return "starts_with";
    case Op::TextEq: return "text.eq";
    case Op::Has: return "has";
    case Op::Cmp: return "cmp";
    case Op::InRange: return "in.range";
    case Op::InSet: return "in.set";
    case Op::And: return "and";
    case Op::Or: return "or";
    case Op::Not: return "not";
    case Op::Add: return "add";
    case Op::Sub: return "sub";
    case Op::Neg: return "neg";
    case Op::Scale: return "div";
    case Op::Mul: return "mul";
  }
  return "?";
}

bool Predicate::uses_event() const {
  return std::any_of(nodes.begin(), nodes.end(), [](const Node& n) { return n.op == Op::EventField; });
}

int Schema::tag_index(std::string_view n) const {
  auto it = std::find(tags.begin(), tags.end(), n);
  return it == tags.end() ? -1 : static_cast<int>(it - tags.begin());
}

int Schema::field_index(std::string_view n) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

Schema make_schema(const Program& p) {
  Schema s;
  s.timezone = p.account.timezone;
  for (const auto& sym : p.symbols) {
    switch (sym.kind) {
      case SymbolKind::Tag:
        s.tags.push_back(sym.name);
        break;
      case SymbolKind::Link:
        s.links.push_back(sym.name);
        break;
      case SymbolKind::Message:
        s.messages.push_back(sym.name);
        break;
      case SymbolKind::Audience:
        s.audiences.push_back(sym.name);
        break;
      case SymbolKind::Score:
        s.scores.push_back(sym.name);
        break;
      case SymbolKind::Field: {
        Schema::FieldInfo f{sym.name, sym.type, {}};
        if (sym.type.kind == TypeKind::Enum || sym.type.kind == TypeKind::Set) {
          f.values = p.types.enum_def(sym.type.enum_id).values;
        }
        const auto* decl = sym.decl != nullptr ? std::get_if<ast::FieldDecl>(&sym.decl->v) : nullptr;
        if (decl != nullptr && decl->default_value) {
          if (auto c = constant_value(p, *decl->default_value)) {
            f.has_default = true;
            f.default_value = c->i;
            f.default_text = c->text;
          }
        }
        s.fields.push_back(std::move(f));
        break;
      }
      default:
        break;
    }
  }
  return s;
}

std::optional<Constant> constant_value(const Program& p, const ast::Expr& e) {
  const Type t = p.type_of(e.id);
  return std::visit(
      [&](const auto& v) -> std::optional<Constant> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ast::IntLit>) {
          return Constant{v.value, {}, false};
        } else if constexpr (std::is_same_v<T, ast::BoolLit>) {
          return Constant{v.value ? 1 : 0, {}, false};
        } else if constexpr (std::is_same_v<T, ast::TextLit>) {
          return Constant{0, v.value, true};
        } else if constexpr (std::is_same_v<T, ast::DurationLit>) {
          return Constant{v.seconds, {}, false};
        } else if constexpr (std::is_same_v<T, ast::TimeLit>) {
          if (!v.valid) return std::nullopt;
          return Constant{v.minute, {}, false};
        } else if constexpr (std::is_same_v<T, ast::DateLit>) {
          if (!v.valid) return std::nullopt;
          return Constant{days_from_civil(v.date), {}, false};
        } else if constexpr (std::is_same_v<T, ast::DateTimeLit>) {
          if (!v.valid) return std::nullopt;
          return Constant{local_to_utc_seconds(v.value, p.account.timezone), {}, false};
        } else if constexpr (std::is_same_v<T, ast::NameRef>) {
          // Only a value of the enumeration the checker found here; a field or an attribute is not fixed.
          if (t.kind != TypeKind::Enum || p.symbol_of(e.id) != nullptr) return std::nullopt;
          if (auto i = p.types.enum_def(t.enum_id).find(v.name)) return Constant{static_cast<std::int64_t>(*i), {}, false};
          return std::nullopt;
        } else if constexpr (std::is_same_v<T, ast::SetLit>) {
          if (t.kind != TypeKind::Set) return std::nullopt;
          std::int64_t mask = 0;
          for (const auto& item : v.items) {
            const auto* n = std::get_if<ast::NameRef>(&ast::strip_parens(*item).v);
            if (n == nullptr) return std::nullopt;
            auto i = p.types.enum_def(t.enum_id).find(n->name);
            if (!i || *i >= 64) return std::nullopt;
            mask |= std::int64_t{1} << *i;
          }
          return Constant{mask, {}, false};
        } else if constexpr (std::is_same_v<T, ast::Neg>) {
          auto x = constant_value(p, *v.operand);
          if (!x || x->is_text) return std::nullopt;
          return Constant{-x->i, {}, false};
        } else if constexpr (std::is_same_v<T, ast::Paren>) {
          return constant_value(p, *v.inner);
        } else if constexpr (std::is_same_v<T, ast::Binary>) {
          if (v.op != ast::BinOp::Add && v.op != ast::BinOp::Sub) return std::nullopt;
          auto a = constant_value(p, *v.lhs);
          auto b = constant_value(p, *v.rhs);
          if (!a || !b || a->is_text || b->is_text) return std::nullopt;
          const Type ta = p.type_of(v.lhs->id);
          const Type tb = p.type_of(v.rhs->id);
          // Dates count days, durations seconds: a date plus a duration adds whole days (rounded down).
          auto days = [](std::int64_t secs) { return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400); };
          std::int64_t x = a->i;
          std::int64_t y = b->i;
          if (ta.kind == TypeKind::Date && tb.kind == TypeKind::Duration) y = days(y);
          if (tb.kind == TypeKind::Date && ta.kind == TypeKind::Duration) x = days(x);
          if (ta.kind == TypeKind::Date && tb.kind == TypeKind::Date) return Constant{(x - y) * 86400, {}, false};
          return Constant{v.op == ast::BinOp::Add ? x + y : x - y, {}, false};
        } else {
          return std::nullopt;
        }
      },
      e.v);
}

namespace {

int index_of(const std::vector<std::string>& v, std::string_view n) {
  auto it = std::find(v.begin(), v.end(), n);
  return it == v.end() ? -1 : static_cast<int>(it - v.begin());
}

const ast::Expr& strip(const ast::Expr& e) { return ast::strip_parens(e); }

class Lowerer {
 public:
  Lowerer(const Program& p, Schema& s) : p_(p), s_(s) {}
  Predicate out;

  std::uint32_t push(Node n) {
    out.nodes.push_back(std::move(n));
    return static_cast<std::uint32_t>(out.nodes.size() - 1);
  }
  std::uint32_t node(Op op, VType t, std::initializer_list<std::uint32_t> kids = {}, std::int32_t a = 0, std::int64_t b = 0) {
    Node n;
    n.op = op;
    n.type = t;
    n.a = a;
    n.b = b;
    for (auto k : kids) n.kids[n.nkids++] = k;
    return push(std::move(n));
  }
  std::uint32_t const_bool(bool v) { return node(Op::ConstBool, VType::Bool, {}, 0, v ? 1 : 0); }
  std::uint32_t const_int(std::int64_t v) { return node(Op::ConstInt, VType::Int, {}, 0, v); }

  static VType vtype(Type t) {
    switch (t.kind) {
      case TypeKind::Bool:
        return VType::Bool;
      case TypeKind::Text:
        return VType::Text;
      case TypeKind::Set:
        return VType::Set;
      default:
        return VType::Int;
    }
  }

  bool is_line(const ast::Expr& e) const {
    const auto* m = std::get_if<ast::Member>(&strip(e).v);
    return m != nullptr && m->object.text == "line";
  }

  std::uint32_t attr(stdlib::AttrKind k) {
    switch (k) {
      case stdlib::AttrKind::Gender:
        return node(Op::Attr, VType::Int, {}, static_cast<int>(Attr::Gender));
      case stdlib::AttrKind::Age:
        return node(Op::Attr, VType::Int, {}, static_cast<int>(Attr::Age));
      case stdlib::AttrKind::Region:
        return node(Op::Attr, VType::Int, {}, static_cast<int>(Attr::Region));
      case stdlib::AttrKind::FriendDays:
        return node(Op::Attr, VType::Int, {}, static_cast<int>(Attr::FriendDays));
      case stdlib::AttrKind::Source:
        return node(Op::Attr, VType::Text, {}, static_cast<int>(Attr::Source));
      case stdlib::AttrKind::DisplayName:
        return node(Op::Attr, VType::Text, {}, static_cast<int>(Attr::DisplayName));
      case stdlib::AttrKind::Language:
        return node(Op::Attr, VType::Text, {}, static_cast<int>(Attr::Language));
      case stdlib::AttrKind::Blocked:
        return node(Op::Attr, VType::Bool, {}, static_cast<int>(Attr::Blocked));
      case stdlib::AttrKind::Score:
        return node(Op::Attr, VType::Int, {}, static_cast<int>(Attr::Score));
      case stdlib::AttrKind::Today:
        return node(Op::Attr, VType::Int, {}, static_cast<int>(Attr::Today));
      case stdlib::AttrKind::Now:
        return node(Op::Attr, VType::Int, {}, static_cast<int>(Attr::Now));
    }
    return const_bool(false);
  }

  std::uint32_t name_ref(const ast::Expr& e, const ast::NameRef& n) {
    const Type t = p_.type_of(e.id);
    if (const Symbol* sym = p_.symbol_of(e.id)) {
      const Symbol& s = *sym;
      if (s.kind == SymbolKind::Field) {
        return node(Op::Field, vtype(s.type), {}, s_.field_index(s.name));
      }
      if (s.kind == SymbolKind::Segment) {
        const auto& seg = std::get<ast::SegmentDecl>(s.decl->v);
        return expr(*seg.expr);
      }
    }
    if (const auto* a = stdlib::find_attribute(n.name)) {
      // An enum value of the same spelling as an attribute is not possible: attributes win.
      return attr(a->id);
    }
    if (t.kind == TypeKind::Enum) {
      auto idx = p_.types.enum_def(t.enum_id).find(n.name);
      return const_int(idx ? *idx : -1);
    }
    return const_bool(false);
  }

  std::uint32_t date_of(const ast::Expr& e) {
    // A date, or a datetime converted to its local date.
    const std::uint32_t v = expr(e);
    if (p_.type_of(e.id).kind == TypeKind::DateTime) return node(Op::LocalDays, VType::Int, {v});
    return v;
  }

  std::uint32_t call(const ast::Expr& e, const ast::Call& c) {
    const auto* b = stdlib::find_builtin(c.callee.text);
    auto arg_symbol = [&](std::size_t i) -> const Symbol* {
      if (i >= c.args.size()) return nullptr;
      return p_.symbol_of(c.args[i]->id);
    };
    if (b == nullptr) {  // score(name)
      if (const Symbol* s = p_.symbol_of(e.id))
        return node(Op::NamedScore, VType::Int, {}, index_of(s_.scores, s->name));
      return const_int(0);
    }
    const std::int64_t within = c.within.value_or(0);
    switch (b->id) {
      case stdlib::BuiltinId::Tagged:
        return node(Op::Tagged, VType::Bool, {}, arg_symbol(0) ? s_.tag_index(arg_symbol(0)->name) : -1);
      case stdlib::BuiltinId::InAudience:
        return node(Op::InAudience, VType::Bool, {}, arg_symbol(0) ? index_of(s_.audiences, arg_symbol(0)->name) : -1);
      case stdlib::BuiltinId::Clicked:
        return node(Op::Clicked, VType::Bool, {}, arg_symbol(0) ? index_of(s_.links, arg_symbol(0)->name) : -1, within);
      case stdlib::BuiltinId::Clicks:
        return node(Op::Clicks, VType::Int, {}, arg_symbol(0) ? index_of(s_.links, arg_symbol(0)->name) : -1);
      case stdlib::BuiltinId::Opened:
        return node(Op::Opened, VType::Bool, {}, arg_symbol(0) ? index_of(s_.messages, arg_symbol(0)->name) : -1, within);
      case stdlib::BuiltinId::Sent:
        return node(Op::Sent, VType::Bool, {}, arg_symbol(0) ? index_of(s_.messages, arg_symbol(0)->name) : -1);
      case stdlib::BuiltinId::Visited: {
        std::string pattern;
        if (!c.args.empty()) {
          if (const auto* t = std::get_if<ast::TextLit>(&c.args[0]->v)) pattern = t->value;
        }
        int idx = index_of(s_.visit_patterns, pattern);
        if (idx < 0) {
          s_.visit_patterns.push_back(pattern);
          idx = static_cast<int>(s_.visit_patterns.size() - 1);
        }
        return node(Op::Visited, VType::Bool, {}, idx);
      }
      case stdlib::BuiltinId::Known: {
        // A bool field can be unknown: load it as an int so that its known flag survives.
        const auto& arg = *c.args.at(0);
        const Symbol* s = p_.symbol_of(arg.id);
        if (s != nullptr && s->kind == SymbolKind::Field && s->type.kind == TypeKind::Bool) {
          const auto f = node(Op::Field, VType::Int, {}, s_.field_index(s->name));
          return node(Op::Known, VType::Bool, {f});
        }
        return node(Op::Known, VType::Bool, {expr(arg)});
      }
      case stdlib::BuiltinId::Month:
        return node(Op::Month, VType::Int, {date_of(*c.args.at(0))});
      case stdlib::BuiltinId::Day:
        return node(Op::Day, VType::Int, {date_of(*c.args.at(0))});
      case stdlib::BuiltinId::Weekday:
        return node(Op::Weekday, VType::Int, {date_of(*c.args.at(0))});
      case stdlib::BuiltinId::Hour: {
        const auto& a = *c.args.at(0);
        const auto v = expr(a);
        return node(p_.type_of(a.id).kind == TypeKind::Time ? Op::HourOfTime : Op::HourOfDateTime, VType::Int, {v});
      }
      case stdlib::BuiltinId::DaysSince:
        return node(Op::Sub, VType::Int, {attr(stdlib::AttrKind::Today), date_of(*c.args.at(0))});
      case stdlib::BuiltinId::DaysUntil: {
        const auto d = date_of(*c.args.at(0));
        return node(Op::Sub, VType::Int, {d, attr(stdlib::AttrKind::Today)});
      }
      case stdlib::BuiltinId::Contains:
        return node(Op::Contains, VType::Bool, {expr(*c.args.at(0)), expr(*c.args.at(1))});
      case stdlib::BuiltinId::StartsWith:
        return node(Op::StartsWith, VType::Bool, {expr(*c.args.at(0)), expr(*c.args.at(1))});
      case stdlib::BuiltinId::Has: {
        const auto set = expr(*c.args.at(0));
        const Type item = p_.type_of(c.args.at(1)->id);
        std::int64_t bit = -1;
        if (const auto* n = std::get_if<ast::NameRef>(&strip(*c.args[1]).v); n != nullptr && item.kind == TypeKind::Enum) {
          if (auto i = p_.types.enum_def(item.enum_id).find(n->name)) bit = *i;
        }
        return node(Op::Has, VType::Bool, {set}, 0, bit);
      }
    }
    return const_bool(false);
  }

  std::uint32_t binary(const ast::Binary& b) {
    using ast::BinOp;
    // LINE estimates are applied by LINE when the broadcast is sent; locally they hold.
    if (is_line(*b.lhs)) return const_bool(true);
    switch (b.op) {
      case BinOp::And:
        return node(Op::And, VType::Bool, {expr(*b.lhs), expr(*b.rhs)});
      case BinOp::Or:
        return node(Op::Or, VType::Bool, {expr(*b.lhs), expr(*b.rhs)});
      case BinOp::Eq:
      case BinOp::Ne:
      case BinOp::Lt:
      case BinOp::Le:
      case BinOp::Gt:
      case BinOp::Ge: {
        const Type lt = p_.type_of(b.lhs->id);
        const auto l = expr(*b.lhs);
        const auto r = expr(*b.rhs);
        if (lt.kind == TypeKind::Text) return node(Op::TextEq, VType::Bool, {l, r}, b.op == BinOp::Ne ? 1 : 0);
        if (lt.kind == TypeKind::Bool) {
          // bool == bool: both always known.
          const auto eq = node(Op::Or, VType::Bool, {node(Op::And, VType::Bool, {l, r}),
                                                     node(Op::And, VType::Bool, {node(Op::Not, VType::Bool, {l}),
                                                                                 node(Op::Not, VType::Bool, {r})})});
          return b.op == BinOp::Ne ? node(Op::Not, VType::Bool, {eq}) : eq;
        }
        static const CmpOp kMap[] = {CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge};
        const int op = static_cast<int>(b.op) - static_cast<int>(BinOp::Eq);
        return node(Op::Cmp, VType::Bool, {l, r}, static_cast<int>(kMap[op]));
      }
      case BinOp::In:
      case BinOp::NotIn: {
        const bool neg = b.op == BinOp::NotIn;
        const Type lt = p_.type_of(b.lhs->id);
        const auto& rhs = strip(*b.rhs);
        if (const auto* r = std::get_if<ast::RangeLit>(&rhs.v)) {
          const auto x = expr(*b.lhs);
          const auto lo = expr(*r->lo);
          const auto hi = expr(*r->hi);
          return node(Op::InRange, VType::Bool, {x, lo, hi}, neg ? 1 : 0);
        }
        const auto* set = std::get_if<ast::SetLit>(&rhs.v);
        if (set == nullptr) return const_bool(false);
        if (lt.kind == TypeKind::Text) {
          const auto x = expr(*b.lhs);
          std::uint32_t any = const_bool(false);
          for (const auto& item : set->items) any = node(Op::Or, VType::Bool, {any, node(Op::TextEq, VType::Bool, {x, expr(*item)})});
          if (!neg) return any;
          return node(Op::And, VType::Bool, {node(Op::Known, VType::Bool, {x}), node(Op::Not, VType::Bool, {any})});
        }
        Node n;
        n.op = Op::InSet;
        n.type = VType::Bool;
        n.a = neg ? 1 : 0;
        for (const auto& item : set->items) {
          const auto& it = strip(*item);
          if (lt.kind == TypeKind::Enum) {
            if (const auto* nr = std::get_if<ast::NameRef>(&it.v)) {
              if (auto i = p_.types.enum_def(lt.enum_id).find(nr->name)) n.mask |= std::uint64_t{1} << *i;
            }
          } else if (const auto* il = std::get_if<ast::IntLit>(&it.v)) {
            n.ints.push_back(il->value);
          } else if (const auto* ng = std::get_if<ast::Neg>(&it.v)) {
            if (const auto* inner = std::get_if<ast::IntLit>(&strip(*ng->operand).v)) n.ints.push_back(-inner->value);
          } else if (const auto* d = std::get_if<ast::DateLit>(&it.v)) {
            n.ints.push_back(days_from_civil(d->date));
          }
        }
        if (lt.kind != TypeKind::Enum) n.mask = 0;
        n.kids[0] = expr(*b.lhs);
        n.nkids = 1;
        return push(std::move(n));
      }
      case BinOp::Add:
      case BinOp::Sub: {
        const Type lt = p_.type_of(b.lhs->id);
        const Type rt = p_.type_of(b.rhs->id);
        auto l = expr(*b.lhs);
        auto r = expr(*b.rhs);
        const Op op = b.op == BinOp::Add ? Op::Add : Op::Sub;
        if (lt.kind == TypeKind::Date && rt.kind == TypeKind::Duration) r = node(Op::Scale, VType::Int, {r}, 0, 86400);
        if (lt.kind == TypeKind::Duration && rt.kind == TypeKind::Date) l = node(Op::Scale, VType::Int, {l}, 0, 86400);
        const auto res = node(op, VType::Int, {l, r});
        if (lt.kind == TypeKind::Date && rt.kind == TypeKind::Date) return node(Op::Mul, VType::Int, {res}, 0, 86400);
        return res;
      }
    }
    return const_bool(false);
  }

  std::uint32_t expr(const ast::Expr& e) {
    return std::visit(
        [&](const auto& v) -> std::uint32_t {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::IntLit>) {
            return const_int(v.value);
          } else if constexpr (std::is_same_v<T, ast::BoolLit>) {
            return const_bool(v.value);
          } else if constexpr (std::is_same_v<T, ast::TextLit>) {
            Node n;
            n.op = Op::ConstText;
            n.type = VType::Text;
            n.text = v.value;
            return push(std::move(n));
          } else if constexpr (std::is_same_v<T, ast::DurationLit>) {
            return const_int(v.seconds);
          } else if constexpr (std::is_same_v<T, ast::TimeLit>) {
            return const_int(v.minute);
          } else if constexpr (std::is_same_v<T, ast::DateLit>) {
            return const_int(days_from_civil(v.date));
          } else if constexpr (std::is_same_v<T, ast::DateTimeLit>) {
            return const_int(local_to_utc_seconds(v.value, s_.timezone));
          } else if constexpr (std::is_same_v<T, ast::NameRef>) {
            return name_ref(e, v);
          } else if constexpr (std::is_same_v<T, ast::Member>) {
            if (v.object.text == "event") {
              int slot = index_of(s_.event_fields, v.field.text);
              if (slot < 0) {
                s_.event_fields.push_back(v.field.text);
                slot = static_cast<int>(s_.event_fields.size() - 1);
              }
              Node n;
              n.op = Op::EventField;
              n.type = vtype(p_.type_of(e.id));
              n.declared = p_.type_of(e.id);
              n.a = slot;
              n.text = v.field.text;
              return push(std::move(n));
            }
            return const_bool(true);  // line.*: applied by LINE
          } else if constexpr (std::is_same_v<T, ast::Call>) {
            return call(e, v);
          } else if constexpr (std::is_same_v<T, ast::Not>) {
            return node(Op::Not, VType::Bool, {expr(*v.operand)});
          } else if constexpr (std::is_same_v<T, ast::Neg>) {
            return node(Op::Neg, VType::Int, {expr(*v.operand)});
          } else if constexpr (std::is_same_v<T, ast::Binary>) {
            return binary(v);
          } else if constexpr (std::is_same_v<T, ast::Paren>) {
            return expr(*v.inner);
          } else {
            return const_bool(false);
          }
        },
        e.v);
  }

 private:
  const Program& p_;
  Schema& s_;
};

}  // namespace

Predicate lower_predicate(const Program& p, Schema& schema, const ast::Expr& e, std::string name) {
  Lowerer l(p, schema);
  l.out.name = std::move(name);
  l.expr(e);
  return std::move(l.out);
}

std::vector<Predicate> lower_segments(const Program& p, Schema& schema) {
  std::vector<Predicate> out;
  for (const auto& s : p.symbols) {
    if (s.kind != SymbolKind::Segment || s.decl == nullptr) continue;
    out.push_back(lower_predicate(p, schema, *std::get<ast::SegmentDecl>(s.decl->v).expr, s.name));
  }
  return out;
}

std::string print(const Predicate& p) {
  std::string out = fmt::format("predicate {}\n", p.name);
  static const char* const kType[] = {"bool", "int", "set", "text"};
  static const char* const kCmp[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& n = p.nodes[i];
    std::string args;
    for (int k = 0; k < n.nkids; ++k) args += fmt::format("{}%{}", k ? ", " : " ", n.kids[k]);
    std::string extra;
    switch (n.op) {
      case Op::ConstBool:
      case Op::ConstInt:
        extra = fmt::format(" {}", n.b);
        break;
      case Op::ConstText:
        extra = fmt::format(" \"{}\"", n.text);
        break;
      case Op::Cmp:
        extra = fmt::format(".{}", kCmp[n.a]);
        break;
      case Op::InSet:
        extra = fmt::format("{} mask={:#x}", n.a ? ".not" : "", n.mask);
        for (auto v : n.ints) extra += fmt::format(" {}", v);
        break;
      case Op::InRange:
      case Op::TextEq:
        extra = n.a ? ".not" : "";
        break;
      case Op::Scale:
      case Op::Mul:
      case Op::Has:
        extra = fmt::format(" {}", n.b);
        break;
      case Op::EventField:
        extra = fmt::format(" {}", n.text);
        break;
      default:
        if (n.nkids == 0) extra = fmt::format(" #{}{}", n.a, n.b ? fmt::format(" within={}", n.b) : "");
        break;
    }
    const bool suffix_op = n.op == Op::Cmp || ((n.op == Op::InSet || n.op == Op::InRange || n.op == Op::TextEq) && n.a);
    if (suffix_op) {
      const auto dot = extra.find(' ');
      const std::string head = dot == std::string::npos ? extra : extra.substr(0, dot);
      const std::string tail = dot == std::string::npos ? std::string() : extra.substr(dot);
      out += fmt::format("  %{} = {}{}{}{} : {}\n", i, to_string(n.op), head, args, tail, kType[static_cast<int>(n.type)]);
    } else {
      out += fmt::format("  %{} = {}{}{} : {}\n", i, to_string(n.op), extra, args, kType[static_cast<int>(n.type)]);
    }
  }
  return out;
}

std::uint64_t hash(const Predicate& p) {
  // FNV-1a over the printed form: stable across runs and machines.
  const std::string s = print(p);
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace okuri::ir
