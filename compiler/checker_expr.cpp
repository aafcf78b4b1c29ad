// Expressions: name resolution in context, types, LINE estimates (E012) and
// constant conditions (W102).
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "compiler/checker.hpp"
#include "compiler/lookalike.hpp"
#include "compiler/suggest.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/japanese_names.hpp"

namespace okuri::detail {
namespace {

constexpr std::int64_t kMinI = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxI = std::numeric_limits<std::int64_t>::max();

const ast::Expr& strip(const ast::Expr& e) { return ast::strip_parens(e); }

std::optional<std::int64_t> int_const(const ast::Expr& e0) {
  const auto& e = strip(e0);
  if (const auto* i = std::get_if<ast::IntLit>(&e.v)) return i->value;
  if (const auto* n = std::get_if<ast::Neg>(&e.v)) {
    if (auto v = int_const(*n->operand)) return -*v;
  }
  if (const auto* d = std::get_if<ast::DurationLit>(&e.v)) return d->seconds;
  return std::nullopt;
}


}  // namespace

std::string Checker::show(const ast::Expr& e) const { return std::string(p_.sources.text(e.span)); }

std::optional<std::string> Checker::value_in_english(std::uint32_t enum_id, std::string_view written) const {
  const auto& def = p_.types.enum_def(enum_id);
  std::optional<std::string_view> en;
  switch (enum_id) {
    case TypeTable::kGender:
    case TypeTable::kLineGender:
      en = stdlib::english_name(stdlib::JapaneseKind::Gender, written);
      break;
    case TypeTable::kRegion:
      en = stdlib::english_name(stdlib::JapaneseKind::Region, written);
      break;
    case TypeTable::kWeekday:
      en = stdlib::english_name(stdlib::JapaneseKind::Weekday, written);
      break;
    default:
      break;
  }
  if (en && def.find(*en)) return std::string(*en);
  const std::string ascii = to_ascii_lookalikes(written);
  if (ascii != written && def.find(ascii)) return ascii;
  return std::nullopt;
}

void Checker::mismatch(const ast::Expr& a, Type ta, const ast::Expr& b, Type tb) {
  p_.diags.report(Code::E003, b.span,
                  fmt::format("type mismatch: `{}` is {} but `{}` is {}", show(a), p_.types.describe(ta), show(b),
                              p_.types.describe(tb)));
}

Type Checker::expr(const ast::Expr& e, const ExprCtx& ctx, Type hint) {
  const Type t = expr_impl(e, ctx, hint);
  if (p_.expr_types.size() <= e.id) p_.expr_types.resize(e.id + 1);
  p_.expr_types[e.id] = t;
  return t;
}

void Checker::condition(const ast::Expr* e, const ExprCtx& ctx) {
  if (e == nullptr) return;
  const Type t = expr(*e, ctx);
  if (!t.is_error() && t.kind != TypeKind::Bool) {
    p_.diags.report(Code::E003, e->span,
                    fmt::format("type mismatch: a condition must be true or false, but `{}` is {}", show(*e),
                                p_.types.describe(t)));
    return;
  }
  constant_conditions(*e);
}

Type Checker::name_ref(const ast::Expr& e, const ast::NameRef& n, const ExprCtx& ctx, Type hint) {
  (void)ctx;
  if (hint.kind == TypeKind::Enum || hint.kind == TypeKind::Set) {
    if (p_.types.enum_def(hint.enum_id).find(n.name)) return Type::enumeration(hint.enum_id);
  }
  if (const auto* a = stdlib::find_attribute(n.name)) {
    switch (a->id) {
      case stdlib::AttrKind::Gender:
        return Type::enumeration(TypeTable::kGender);
      case stdlib::AttrKind::Region:
        return Type::enumeration(TypeTable::kRegion);
      case stdlib::AttrKind::Age:
      case stdlib::AttrKind::FriendDays:
      case stdlib::AttrKind::Score:
        return Type::of(TypeKind::Int);
      case stdlib::AttrKind::Blocked:
        return Type::of(TypeKind::Bool);
      case stdlib::AttrKind::Today:
        return Type::of(TypeKind::Date);
      case stdlib::AttrKind::Now:
        return Type::of(TypeKind::DateTime);
      default:
        return Type::of(TypeKind::Text);
    }
  }
  if (auto f = lookup(SymbolKind::Field, n.name)) {
    use(*f, e.span);
    set_symbol(e.id, *f);
    return p_.symbols[*f].type;
  }
  if (auto s = lookup(SymbolKind::Segment, n.name)) {
    use(*s, e.span);
    set_symbol(e.id, *s);
    // Check the segment's own expression first so that cycles are found.
    const auto& decl = std::get<ast::SegmentDecl>(p_.symbols[*s].decl->v);
    std::uint8_t& state = segment_state_[*s];
    if (state == 1) {
      p_.diags.report(Code::E006, e.span, fmt::format("segment `{}` is defined in terms of itself", n.name));
      segment_cycle_ = true;
      return Type::error();
    }
    if (state == 0) {
      state = 1;
      // What this check finds belongs to the segment, whoever used it first.
      if (ic_ != nullptr) begin_owner(flat_index(p_.symbols[*s].decl));
      condition(decl.expr.get(), ExprCtx{});
      if (ic_ != nullptr) end_owner();
      segment_state_[*s] = 2;
    }
    return Type::of(TypeKind::Bool);
  }
  if (hint.kind == TypeKind::Enum || hint.kind == TypeKind::Set) {
    const auto& def = p_.types.enum_def(hint.enum_id);
    // A value written in Japanese (`東京`, `女性`, `土曜日`) or in full-width letters (`ｔｏｋｙｏ`).
    if (auto written = value_in_english(hint.enum_id, n.name)) {
      const bool builtin = hint.enum_id <= TypeTable::kLineOs;
      auto& d = p_.diags.report(
          Code::E008, e.span,
          fmt::format("`{}` is not {}; write `{}`{}", n.name,
                      builtin ? fmt::format("a {}", def.name) : fmt::format("a value of `{}`", def.name), *written,
                      to_ascii_lookalikes(n.name) != n.name ? " (in half-width letters)"
                      : hint.enum_id == TypeTable::kRegion  ? " (prefectures are written in romaji)"
                                                            : ""));
      d.fix = FixIt{e.span, *written};
      return Type::error();
    }
    auto best = suggest(n.name, def.spellings());
    // Built-in enumerations read as nouns ("a region"); a field's values are "of `plan_kind`".
    std::string msg = hint.enum_id <= TypeTable::kLineOs ? fmt::format("`{}` is not a {}", n.name, def.name)
                                                        : fmt::format("`{}` is not a value of `{}`", n.name, def.name);
    if (best) msg += fmt::format("; did you mean `{}`?", *best);
    auto& d = p_.diags.report(Code::E008, e.span, msg);
    if (best) d.fix = FixIt{e.span, *best};
    if (!best && def.values.size() <= 12) {
      std::string vals;
      for (const auto& v : def.values) vals += (vals.empty() ? "" : ", ") + v;
      d.notes.push_back(Note{std::nullopt, fmt::format("the values of {} are: {}", def.name, vals)});
    }
    return Type::error();
  }
  if (const Symbol* o = other_kind(n.name, SymbolKind::Field)) {
    std::string hint_text;
    if (o->kind == SymbolKind::Tag) hint_text = fmt::format("; use tagged({})", n.name);
    if (o->kind == SymbolKind::Link) hint_text = fmt::format("; use clicked({})", n.name);
    if (o->kind == SymbolKind::Message) hint_text = fmt::format("; use sent({})", n.name);
    if (o->kind == SymbolKind::Audience) hint_text = fmt::format("; use in_audience({})", n.name);
    p_.diags.report(Code::E003, e.span,
                    fmt::format("type mismatch: `{}` is a {}, not a value{}", n.name, kind_word(o->kind), hint_text));
    return Type::error();
  }
  std::vector<std::string> cands = names_of(SymbolKind::Field);
  for (auto& s : names_of(SymbolKind::Segment)) cands.push_back(s);
  for (const auto& a : stdlib::attributes()) cands.emplace_back(a.name);
  // A built-in attribute by its Japanese name (`年齢` → `age`), or in full-width letters.
  std::optional<std::string> best;
  if (auto en = stdlib::english_name(stdlib::JapaneseKind::Attribute, n.name)) {
    best = std::string(*en);
  } else if (const auto ascii = to_ascii_lookalikes(n.name);
             ascii != n.name && std::find(cands.begin(), cands.end(), ascii) != cands.end()) {
    best = ascii;
  } else {
    best = suggest(n.name, cands);
  }
  std::string msg = fmt::format("unknown name `{}`", n.name);
  if (best) msg += fmt::format("; did you mean `{}`?", *best);
  auto& d = p_.diags.report(Code::E002, e.span, msg);
  if (best) d.fix = FixIt{e.span, *best};
  return Type::error();
}

Type Checker::member(const ast::Expr& e, const ast::Member& m, const ExprCtx& ctx) {
  if (m.object.text == "line") {
    const auto* est = stdlib::find_line_estimate(m.field.text);
    if (est == nullptr) {
      std::vector<std::string> cands;
      for (const auto& x : stdlib::line_estimates()) cands.emplace_back(x.name);
      auto best = suggest(m.field.text, cands);
      p_.diags.report(Code::E002, m.field.span,
                      fmt::format("unknown LINE estimate `line.{}`{}", m.field.text,
                                  best ? fmt::format("; did you mean `line.{}`?", *best) : std::string()));
      return Type::error();
    }
    if (!ctx.in_broadcast_target) {
      p_.diags.report(Code::E012, e.span,
                      fmt::format("LINE estimate `line.{}` is only allowed in a broadcast target (`broadcast … to …`)",
                                  m.field.text));
    }
    switch (est->id) {
      case stdlib::LineEstimate::Gender:
        return Type::enumeration(TypeTable::kLineGender);
      case stdlib::LineEstimate::Age:
        return Type::of(TypeKind::Int);
      case stdlib::LineEstimate::Region:
        return Type::enumeration(TypeTable::kRegion);
      case stdlib::LineEstimate::Os:
        return Type::enumeration(TypeTable::kLineOs);
      case stdlib::LineEstimate::FriendPeriod:
        return Type::of(TypeKind::Duration);
    }
    return Type::error();
  }
  if (m.object.text == "event") {
    if (ctx.event == nullptr) {
      p_.diags.report(Code::E011, e.span,
                      fmt::format("event.{} used outside an `on` rule or a `wait … for` case", m.field.text));
      return Type::error();
    }
    for (const auto& [n, t] : ctx.event->fields) {
      if (n == m.field.text) return t;
    }
    std::vector<std::string> cands;
    for (const auto& [n, t] : ctx.event->fields) cands.push_back(n);
    auto best = suggest(m.field.text, cands);
    auto& d = p_.diags.report(Code::E011, m.field.span,
                              fmt::format("event `{}` has no field `{}`{}", ctx.event->name, m.field.text,
                                          best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
    if (best) d.fix = FixIt{m.field.span, *best};
    return Type::error();
  }
  p_.diags.report(Code::E002, m.object.span,
                  fmt::format("unknown name `{}`: only `line.…` and `event.…` have fields", m.object.text));
  return Type::error();
}

Type Checker::call(const ast::Expr& e, const ast::Call& c, const ExprCtx& ctx) {
  const auto* b = stdlib::find_builtin(c.callee.text);
  if (b == nullptr) {
    if (c.callee.text == "score" && c.args.size() == 1) {
      // score(engagement): a named score.
      if (const auto* n = std::get_if<ast::NameRef>(&c.args[0]->v)) {
        if (auto s = resolve(SymbolKind::Score, ast::Name{n->name, c.args[0]->span})) set_symbol(e.id, *s);
        return Type::of(TypeKind::Int);
      }
    }
    std::vector<std::string> cands;
    for (const auto& x : stdlib::builtins()) cands.emplace_back(x.name);
    cands.emplace_back("score");
    auto best = suggest(c.callee.text, cands);
    auto& d = p_.diags.report(Code::E002, c.callee.span,
                              fmt::format("unknown function `{}`{}", c.callee.text,
                                          best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
    if (best) d.fix = FixIt{c.callee.span, *best};
    for (const auto& a : c.args) expr(*a, ctx);
    return Type::error();
  }
  const int nargs = static_cast<int>(c.args.size());
  const bool takes_within = b->max_args == 2 && b->args[1] == stdlib::ArgKind::Within;
  const int max_plain = takes_within ? 1 : b->max_args;
  if (nargs < b->min_args || nargs > max_plain) {
    p_.diags.report(Code::E003, e.span,
                    fmt::format("`{}` takes {} argument{}, not {}", b->name, max_plain, max_plain == 1 ? "" : "s", nargs));
  }
  if (c.within && !takes_within) {
    p_.diags.report(Code::E003, c.within_span, fmt::format("`{}` takes no `within`", b->name));
  }
  Type set_elem;
  for (int i = 0; i < nargs && i < 2; ++i) {
    const ast::Expr& a = *c.args[static_cast<std::size_t>(i)];
    const auto kind = b->args[i];
    auto named = [&](SymbolKind k) {
      if (const auto* n = std::get_if<ast::NameRef>(&a.v)) {
        if (auto s = resolve(k, ast::Name{n->name, a.span})) set_symbol(a.id, *s);
      } else {
        p_.diags.report(Code::E003, a.span,
                        fmt::format("type mismatch: `{}` needs a {} name, but `{}` is not one", b->name, kind_word(k), show(a)));
      }
    };
    switch (kind) {
      case stdlib::ArgKind::Tag:
        named(SymbolKind::Tag);
        break;
      case stdlib::ArgKind::Audience:
        named(SymbolKind::Audience);
        break;
      case stdlib::ArgKind::Link:
        named(SymbolKind::Link);
        break;
      case stdlib::ArgKind::Message:
        named(SymbolKind::Message);
        break;
      case stdlib::ArgKind::Attr: {
        const auto* n = std::get_if<ast::NameRef>(&a.v);
        const bool ok = n != nullptr && (stdlib::find_attribute(n->name) != nullptr || lookup(SymbolKind::Field, n->name));
        if (ok) {
          expr(a, ctx);
        } else if (n != nullptr) {
          std::vector<std::string> cands = names_of(SymbolKind::Field);
          for (const auto& at : stdlib::attributes()) cands.emplace_back(at.name);
          unknown(Code::E002, SymbolKind::Field, ast::Name{n->name, a.span}, cands);
        } else {
          p_.diags.report(Code::E003, a.span, "type mismatch: `known` needs an attribute or a field, such as known(age)");
        }
        break;
      }
      case stdlib::ArgKind::Text: {
        const Type t = expr(a, ctx);
        if (!t.is_error() && t.kind != TypeKind::Text) {
          p_.diags.report(Code::E003, a.span,
                          fmt::format("type mismatch: `{}` needs text, but `{}` is {}", b->name, show(a), p_.types.describe(t)));
        }
        break;
      }
      case stdlib::ArgKind::Moment: {
        const Type t = expr(a, ctx);
        if (!t.is_error() && t.kind != TypeKind::Date && t.kind != TypeKind::DateTime) {
          p_.diags.report(Code::E003, a.span,
                          fmt::format("type mismatch: `{}` needs a date, but `{}` is {}", b->name, show(a), p_.types.describe(t)));
        }
        break;
      }
      case stdlib::ArgKind::TimeLike: {
        const Type t = expr(a, ctx);
        if (!t.is_error() && t.kind != TypeKind::DateTime && t.kind != TypeKind::Time) {
          p_.diags.report(Code::E003, a.span,
                          fmt::format("type mismatch: `{}` needs a time, but `{}` is {}", b->name, show(a), p_.types.describe(t)));
        }
        break;
      }
      case stdlib::ArgKind::SetField: {
        const Type t = expr(a, ctx);
        if (!t.is_error() && t.kind != TypeKind::Set) {
          p_.diags.report(Code::E003, a.span,
                          fmt::format("type mismatch: `has` needs a set_of field, but `{}` is {}", show(a), p_.types.describe(t)));
        } else if (t.kind == TypeKind::Set) {
          set_elem = Type::enumeration(t.enum_id);
        }
        break;
      }
      case stdlib::ArgKind::SetItem:
        if (!set_elem.is_error()) {
          expr(a, ctx, set_elem);
        } else {
          expr(a, ctx);
        }
        break;
      case stdlib::ArgKind::Within:
      case stdlib::ArgKind::None:
        expr(a, ctx);
        break;
    }
  }
  for (std::size_t i = 2; i < c.args.size(); ++i) expr(*c.args[i], ctx);
  switch (b->result) {
    case stdlib::ResultKind::Bool:
      return Type::of(TypeKind::Bool);
    case stdlib::ResultKind::Int:
      return Type::of(TypeKind::Int);
    case stdlib::ResultKind::Date:
      return Type::of(TypeKind::Date);
    case stdlib::ResultKind::DateTime:
      return Type::of(TypeKind::DateTime);
    case stdlib::ResultKind::Weekday:
      return Type::enumeration(TypeTable::kWeekday);
  }
  return Type::error();
}

void Checker::check_line_estimate(const ast::Binary& b, const ast::Member& m) {
  const bool age = m.field.text == "age";
  const bool period = m.field.text == "friend_period";
  if (!age && !period) return;
  auto bucket_ok = [&](std::int64_t v, bool upper) {
    if (age) {
      if (v % stdlib::kLineAgeStep != 0) return false;
      return upper ? (v >= stdlib::kLineAgeMin + stdlib::kLineAgeStep && v <= stdlib::kLineAgeMax)
                   : (v >= stdlib::kLineAgeMin && v <= stdlib::kLineAgeMax);
    }
    const auto& days = stdlib::line_friend_period_days();
    return v % 86400 == 0 && std::find(days.begin(), days.end(), static_cast<int>(v / 86400)) != days.end();
  };
  const char* buckets = age ? "LINE's 5-year age buckets (15, 20, 25, … 70)" : "LINE's friend periods (7d, 30d, 90d, 180d, 365d)";
  const std::string what = "line." + m.field.text;
  switch (b.op) {
    case ast::BinOp::In: {
      const auto* r = std::get_if<ast::RangeLit>(&strip(*b.rhs).v);
      if (r == nullptr) {
        p_.diags.report(Code::E012, b.rhs->span, fmt::format("{} can only be tested with a range such as 20..29", what));
        return;
      }
      auto lo = int_const(*r->lo);
      auto hi = int_const(*r->hi);
      if (!lo || !hi) return;
      const std::int64_t step = age ? 1 : 86400;
      if (!bucket_ok(*lo, false) || !bucket_ok(*hi + step, true)) {
        p_.diags.report(Code::E012, b.rhs->span,
                        fmt::format("{} range {} is off {}", what, show(*b.rhs), buckets));
      }
      return;
    }
    case ast::BinOp::Ge:
    case ast::BinOp::Gt:
    case ast::BinOp::Lt:
    case ast::BinOp::Le: {
      auto v = int_const(*b.rhs);
      if (!v) return;
      const std::int64_t step = age ? 1 : 86400;
      std::int64_t boundary = *v;
      bool upper = false;
      if (b.op == ast::BinOp::Gt) boundary = *v + step;
      if (b.op == ast::BinOp::Lt) upper = true;
      if (b.op == ast::BinOp::Le) {
        boundary = *v + step;
        upper = true;
      }
      if (!bucket_ok(boundary, upper && age)) {
        p_.diags.report(Code::E012, b.rhs->span, fmt::format("{} {} {} is off {}", what, ast::to_string(b.op), show(*b.rhs), buckets));
      }
      return;
    }
    default:
      p_.diags.report(Code::E012, b.rhs->span,
                      fmt::format("{} can only be compared as a range (`in 20..29`, `>=`, `<`) on {}", what, buckets));
      return;
  }
}

Type Checker::binary(const ast::Expr& e, const ast::Binary& b, const ExprCtx& ctx) {
  using ast::BinOp;
  switch (b.op) {
    case BinOp::And:
    case BinOp::Or: {
      for (const ast::Expr* side : {b.lhs.get(), b.rhs.get()}) {
        const Type t = expr(*side, ctx);
        if (!t.is_error() && t.kind != TypeKind::Bool) {
          p_.diags.report(Code::E003, side->span,
                          fmt::format("type mismatch: `{}` needs true or false on both sides, but `{}` is {}",
                                      ast::to_string(b.op), show(*side), p_.types.describe(t)));
        }
      }
      return Type::of(TypeKind::Bool);
    }
    case BinOp::Eq:
    case BinOp::Ne:
    case BinOp::Lt:
    case BinOp::Le:
    case BinOp::Gt:
    case BinOp::Ge: {
      const Type lt = expr(*b.lhs, ctx);
      const Type rt = expr(*b.rhs, ctx, lt);
      if (lt.is_error() || rt.is_error()) return Type::of(TypeKind::Bool);
      if (!(lt == rt)) {
        mismatch(*b.lhs, lt, *b.rhs, rt);
      } else if (b.op != BinOp::Eq && b.op != BinOp::Ne && !lt.ordered()) {
        p_.diags.report(Code::E003, b.op_span,
                        fmt::format("type mismatch: `{}` cannot be compared with `{}`; {} has no order", show(*b.lhs),
                                    ast::to_string(b.op), p_.types.describe(lt)));
      }
      if (const auto* m = std::get_if<ast::Member>(&strip(*b.lhs).v); m != nullptr && m->object.text == "line") {
        check_line_estimate(b, *m);
      }
      return Type::of(TypeKind::Bool);
    }
    case BinOp::In:
    case BinOp::NotIn: {
      const Type lt = expr(*b.lhs, ctx);
      const ast::Expr& rhs = strip(*b.rhs);
      if (lt.kind == TypeKind::Set) {
        p_.diags.report(Code::E003, b.lhs->span,
                        fmt::format("type mismatch: `{}` is a set; test an item with has({}, item)", show(*b.lhs),
                                    show(*b.lhs)));
        return Type::of(TypeKind::Bool);
      }
      if (const auto* r = std::get_if<ast::RangeLit>(&rhs.v)) {
        const Type lo = expr(*r->lo, ctx, lt);
        const Type hi = expr(*r->hi, ctx, lt);
        if (!lt.is_error() && !lt.ordered()) {
          p_.diags.report(Code::E003, b.rhs->span,
                          fmt::format("type mismatch: `{}` is {}, which has no range; use a set such as [a, b]",
                                      show(*b.lhs), p_.types.describe(lt)));
        } else {
          if (!lt.is_error() && !lo.is_error() && !(lo == lt)) mismatch(*b.lhs, lt, *r->lo, lo);
          if (!lt.is_error() && !hi.is_error() && !(hi == lt)) mismatch(*b.lhs, lt, *r->hi, hi);
        }
        if (p_.expr_types.size() <= rhs.id) p_.expr_types.resize(rhs.id + 1);
        p_.expr_types[rhs.id] = lt;
      } else if (const auto* s = std::get_if<ast::SetLit>(&rhs.v)) {
        for (const auto& item : s->items) {
          const Type it = expr(*item, ctx, lt);
          if (!lt.is_error() && !it.is_error() && !(it == lt)) mismatch(*b.lhs, lt, *item, it);
        }
        if (p_.expr_types.size() <= rhs.id) p_.expr_types.resize(rhs.id + 1);
        p_.expr_types[rhs.id] = lt;
      } else {
        expr(*b.rhs, ctx);
        p_.diags.report(Code::E003, b.rhs->span,
                        fmt::format("type mismatch: `{}` needs a range such as 20..29 or a set such as [tokyo, osaka]",
                                    ast::to_string(b.op)));
      }
      if (const auto* m = std::get_if<ast::Member>(&strip(*b.lhs).v); m != nullptr && m->object.text == "line") {
        check_line_estimate(b, *m);
      }
      return Type::of(TypeKind::Bool);
    }
    case BinOp::Add:
    case BinOp::Sub: {
      const Type lt = expr(*b.lhs, ctx);
      const Type rt = expr(*b.rhs, ctx);
      if (lt.is_error() || rt.is_error()) return Type::error();
      const auto L = lt.kind;
      const auto R = rt.kind;
      if (L == TypeKind::Int && R == TypeKind::Int) return lt;
      if (L == TypeKind::Duration && R == TypeKind::Duration) return lt;
      if ((L == TypeKind::Date || L == TypeKind::DateTime) && R == TypeKind::Duration) return lt;
      if (b.op == BinOp::Add && L == TypeKind::Duration && (R == TypeKind::Date || R == TypeKind::DateTime)) return rt;
      if (b.op == BinOp::Sub && L == R && (L == TypeKind::Date || L == TypeKind::DateTime)) {
        return Type::of(TypeKind::Duration);
      }
      p_.diags.report(Code::E003, b.op_span,
                      fmt::format("type mismatch: cannot {} {} and {} (`{}`)", b.op == BinOp::Add ? "add" : "subtract",
                                  p_.types.describe(lt), p_.types.describe(rt), show(e)));
      return Type::error();
    }
  }
  return Type::error();
}

Type Checker::expr_impl(const ast::Expr& e, const ExprCtx& ctx, Type hint) {
  return std::visit(
      [&](const auto& v) -> Type {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ast::IntLit>) {
          return Type::of(TypeKind::Int);
        } else if constexpr (std::is_same_v<T, ast::BoolLit>) {
          return Type::of(TypeKind::Bool);
        } else if constexpr (std::is_same_v<T, ast::TextLit>) {
          return Type::of(TypeKind::Text);
        } else if constexpr (std::is_same_v<T, ast::DurationLit>) {
          return Type::of(TypeKind::Duration);
        } else if constexpr (std::is_same_v<T, ast::TimeLit>) {
          return v.valid ? Type::of(TypeKind::Time) : Type::error();
        } else if constexpr (std::is_same_v<T, ast::DateLit>) {
          return v.valid ? Type::of(TypeKind::Date) : Type::error();
        } else if constexpr (std::is_same_v<T, ast::DateTimeLit>) {
          return v.valid ? Type::of(TypeKind::DateTime) : Type::error();
        } else if constexpr (std::is_same_v<T, ast::PercentLit>) {
          p_.diags.report(Code::E003, e.span, "type mismatch: a percentage is only allowed in a `split` arm");
          return Type::error();
        } else if constexpr (std::is_same_v<T, ast::NameRef>) {
          return name_ref(e, v, ctx, hint);
        } else if constexpr (std::is_same_v<T, ast::Member>) {
          return member(e, v, ctx);
        } else if constexpr (std::is_same_v<T, ast::Call>) {
          return call(e, v, ctx);
        } else if constexpr (std::is_same_v<T, ast::Not>) {
          const Type t = expr(*v.operand, ctx);
          if (!t.is_error() && t.kind != TypeKind::Bool) {
            p_.diags.report(Code::E003, v.operand->span,
                            fmt::format("type mismatch: `not` needs true or false, but `{}` is {}", show(*v.operand),
                                        p_.types.describe(t)));
          }
          return Type::of(TypeKind::Bool);
        } else if constexpr (std::is_same_v<T, ast::Neg>) {
          const Type t = expr(*v.operand, ctx);
          if (!t.is_error() && t.kind != TypeKind::Int && t.kind != TypeKind::Duration) {
            p_.diags.report(Code::E003, e.span, fmt::format("type mismatch: cannot negate {}", p_.types.describe(t)));
            return Type::error();
          }
          return t;
        } else if constexpr (std::is_same_v<T, ast::Binary>) {
          return binary(e, v, ctx);
        } else if constexpr (std::is_same_v<T, ast::SetLit>) {
          for (const auto& item : v.items) expr(*item, ctx, hint);
          if (hint.kind == TypeKind::Set) return hint;
          p_.diags.report(Code::E003, e.span, "type mismatch: a set [..] is only allowed after `in`");
          return Type::error();
        } else if constexpr (std::is_same_v<T, ast::RangeLit>) {
          expr(*v.lo, ctx);
          expr(*v.hi, ctx);
          p_.diags.report(Code::E003, e.span, "type mismatch: a range a..b is only allowed after `in`");
          return Type::error();
        } else if constexpr (std::is_same_v<T, ast::Paren>) {
          return expr(*v.inner, ctx, hint);
        } else {
          return Type::error();
        }
      },
      e.v);
}

// ------------------------------------------------------------------ W102

namespace {

// What a conjunction says about one key (an attribute, a field or a LINE estimate).
struct Facts {
  std::int64_t lo = kMinI;
  std::int64_t hi = kMaxI;
  bool has_enum = false;
  bool boolean = false;       // a true/false fact such as tagged(x): `allowed` is {false, true}
  std::vector<bool> allowed;  // enum values still possible
};

struct Atom {
  std::string key;
  const ast::Expr* where;
  // integer constraint [lo, hi], or enum constraint over `allowed`
  bool is_enum = false;
  bool boolean = false;
  std::int64_t lo = kMinI;
  std::int64_t hi = kMaxI;
  std::vector<bool> allowed;
};

void flatten_and(const ast::Expr& e, std::vector<const ast::Expr*>& out) {
  const auto& s = strip(e);
  if (const auto* b = std::get_if<ast::Binary>(&s.v); b != nullptr && b->op == ast::BinOp::And) {
    flatten_and(*b->lhs, out);
    flatten_and(*b->rhs, out);
    return;
  }
  out.push_back(&e);
}

// The text of an expression without spaces, so that `tagged( x )` and `tagged(x)` are one key.
std::string compact(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') out += c;
  }
  return out;
}

std::optional<std::string> key_of(const ast::Expr& e0) {
  const auto& e = strip(e0);
  if (const auto* n = std::get_if<ast::NameRef>(&e.v)) return n->name;
  if (const auto* m = std::get_if<ast::Member>(&e.v)) return m->object.text + "." + m->field.text;
  return std::nullopt;
}

}  // namespace

void Checker::constant_conditions(const ast::Expr& root) {
  // Walk every conjunction in the condition (also those under `or` and `not`).
  std::vector<const ast::Expr*> stack{&root};
  while (!stack.empty()) {
    const ast::Expr* cur = stack.back();
    stack.pop_back();
    const auto& s = strip(*cur);
    if (const auto* b = std::get_if<ast::Binary>(&s.v)) {
      if (b->op == ast::BinOp::Or) {
        stack.push_back(b->lhs.get());
        stack.push_back(b->rhs.get());
        continue;
      }
      if (b->op != ast::BinOp::And && b->op != ast::BinOp::In && b->op != ast::BinOp::Eq && b->op != ast::BinOp::Lt &&
          b->op != ast::BinOp::Le && b->op != ast::BinOp::Gt && b->op != ast::BinOp::Ge && b->op != ast::BinOp::Ne) {
        continue;
      }
    } else if (const auto* n = std::get_if<ast::Not>(&s.v)) {
      stack.push_back(n->operand.get());
      continue;
    } else {
      continue;
    }
    std::vector<const ast::Expr*> parts;
    flatten_and(*cur, parts);
    std::vector<Atom> atoms;
    for (const ast::Expr* part : parts) {
      const auto& ps = strip(*part);
      // A true/false fact (`tagged(x)`, a bool field or segment) or its negation: the
      // same fact both true and false in one conjunction is always false.
      {
        const ast::Expr* fact = &ps;
        bool negated = false;
        while (const auto* n = std::get_if<ast::Not>(&fact->v)) {
          fact = &strip(*n->operand);
          negated = !negated;
        }
        const bool simple = std::holds_alternative<ast::Call>(fact->v) ||
                            std::holds_alternative<ast::NameRef>(fact->v) ||
                            std::holds_alternative<ast::Member>(fact->v);
        if (simple && p_.type_of(fact->id).kind == TypeKind::Bool) {
          Atom a;
          a.key = compact(show(*fact));
          a.where = part;
          a.is_enum = true;
          a.boolean = true;
          a.allowed = {negated, !negated};
          atoms.push_back(std::move(a));
          continue;
        }
      }
      const auto* b = std::get_if<ast::Binary>(&ps.v);
      if (b == nullptr) {
        if (std::holds_alternative<ast::Binary>(ps.v) || std::holds_alternative<ast::Not>(ps.v)) stack.push_back(part);
        continue;
      }
      if (b->op == ast::BinOp::Or) {
        stack.push_back(part);
        continue;
      }
      auto key = key_of(*b->lhs);
      if (!key) continue;
      const Type lt = p_.type_of(b->lhs->id);
      Atom a;
      a.key = *key;
      a.where = part;
      if (lt.kind == TypeKind::Enum) {
        const auto& def = p_.types.enum_def(lt.enum_id);
        a.is_enum = true;
        a.allowed.assign(def.values.size(), false);
        auto mark = [&](const ast::Expr& v) -> bool {
          const auto* n = std::get_if<ast::NameRef>(&strip(v).v);
          if (n == nullptr) return false;
          auto idx = def.find(n->name);
          if (!idx) return false;
          a.allowed[*idx] = true;
          return true;
        };
        bool ok = true;
        if (b->op == ast::BinOp::Eq) {
          ok = mark(*b->rhs);
        } else if (b->op == ast::BinOp::Ne || b->op == ast::BinOp::NotIn) {
          std::vector<bool> excluded(def.values.size(), false);
          a.allowed.swap(excluded);
          if (b->op == ast::BinOp::Ne) {
            ok = mark(*b->rhs);
          } else if (const auto* set = std::get_if<ast::SetLit>(&strip(*b->rhs).v)) {
            for (const auto& item : set->items) ok = ok && mark(*item);
          } else {
            ok = false;
          }
          for (auto&& x : a.allowed) x = !x;
        } else if (b->op == ast::BinOp::In) {
          if (const auto* set = std::get_if<ast::SetLit>(&strip(*b->rhs).v)) {
            for (const auto& item : set->items) ok = ok && mark(*item);
          } else {
            ok = false;
          }
        } else {
          ok = false;
        }
        if (ok) atoms.push_back(std::move(a));
        continue;
      }
      if (lt.kind != TypeKind::Int && lt.kind != TypeKind::Duration) continue;
      if (b->op == ast::BinOp::In) {
        const auto* r = std::get_if<ast::RangeLit>(&strip(*b->rhs).v);
        if (r == nullptr) continue;
        auto lo = int_const(*r->lo);
        auto hi = int_const(*r->hi);
        if (!lo || !hi) continue;
        a.lo = *lo;
        a.hi = *hi;
        atoms.push_back(std::move(a));
        continue;
      }
      auto v = int_const(*b->rhs);
      if (!v) continue;
      switch (b->op) {
        case ast::BinOp::Eq:
          a.lo = a.hi = *v;
          break;
        case ast::BinOp::Lt:
          if (*v == kMinI) continue;
          a.hi = *v - 1;
          break;
        case ast::BinOp::Le:
          a.hi = *v;
          break;
        case ast::BinOp::Gt:
          if (*v == kMaxI) continue;
          a.lo = *v + 1;
          break;
        case ast::BinOp::Ge:
          a.lo = *v;
          break;
        default:
          continue;
      }
      atoms.push_back(std::move(a));
    }
    // A single empty range is reported on its own.
    for (const auto& a : atoms) {
      if (!a.is_enum && a.lo > a.hi) {
        p_.diags.report(Code::W102, a.where->span,
                        fmt::format("condition is always false: `{}` is an empty range", show(*a.where)));
        return;
      }
    }
    std::map<std::string, Facts> facts;
    for (const auto& a : atoms) {
      Facts& f = facts[a.key];
      if (a.is_enum) {
        f.boolean = a.boolean;
        if (!f.has_enum) {
          f.has_enum = true;
          f.allowed = a.allowed;
        } else {
          for (std::size_t i = 0; i < f.allowed.size() && i < a.allowed.size(); ++i) f.allowed[i] = f.allowed[i] && a.allowed[i];
        }
      } else {
        f.lo = std::max(f.lo, a.lo);
        f.hi = std::min(f.hi, a.hi);
      }
    }
    for (const auto& [key, f] : facts) {
      const bool empty_range = f.lo > f.hi;
      const bool empty_set = f.has_enum && std::none_of(f.allowed.begin(), f.allowed.end(), [](bool x) { return x; });
      if (empty_set && f.boolean) {
        p_.diags.report(
            Code::W102, cur->span,
            fmt::format("condition is always false: `{}` cannot be both true and false in `{}`", key, show(*cur)));
        return;
      }
      if (empty_range || empty_set) {
        p_.diags.report(Code::W102, cur->span,
                        fmt::format("condition is always false: no value of `{}` satisfies `{}`", key, show(*cur)));
        return;
      }
    }
    // Always true: a bound that every value of an always-known attribute meets.
    for (const auto& a : atoms) {
      if (a.is_enum || parts.size() != 1) continue;
      if (a.key == "friend_days" && a.lo <= 0 && a.hi == kMaxI) {
        p_.diags.report(Code::W102, a.where->span,
                        fmt::format("condition is always true: `{}` holds for every friend", show(*a.where)));
        return;
      }
    }
  }
  if (const auto* bl = std::get_if<ast::BoolLit>(&strip(root).v)) {
    p_.diags.report(Code::W102, root.span, fmt::format("condition is always {}", bl->value ? "true" : "false"));
  }
}

}  // namespace okuri::detail
