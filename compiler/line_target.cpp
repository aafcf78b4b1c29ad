#include "compiler/line_target.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "compiler/flow_plan.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::plan {

namespace {

using nlohmann::json;

const ast::Expr& strip(const ast::Expr& e) {
  const ast::Expr* x = &e;
  while (const auto* p = std::get_if<ast::Paren>(&x->v)) x = p->inner.get();
  return *x;
}

// The conjuncts of a chain of `and`s, parentheses looked through.
void conjuncts(const ast::Expr& e, std::vector<const ast::Expr*>& out) {
  const ast::Expr& s = strip(e);
  if (const auto* b = std::get_if<ast::Binary>(&s.v); b != nullptr && b->op == ast::BinOp::And) {
    conjuncts(*b->lhs, out);
    conjuncts(*b->rhs, out);
    return;
  }
  out.push_back(&s);
}

std::optional<std::int64_t> int_value(const ast::Expr& e) {
  const ast::Expr& s = strip(e);
  if (const auto* i = std::get_if<ast::IntLit>(&s.v)) return i->value;
  if (const auto* d = std::get_if<ast::DurationLit>(&s.v)) return d->seconds;
  if (const auto* n = std::get_if<ast::Neg>(&s.v)) {
    if (auto v = int_value(*n->operand)) return -*v;
  }
  return std::nullopt;
}

// LINE's name for a value of one estimate: `female`, `jp_13`, `ios`.
std::string line_value(const std::string& estimate, const ast::Expr& e) {
  const ast::Expr& s = strip(e);
  const auto* n = std::get_if<ast::NameRef>(&s.v);
  if (n == nullptr) return "";
  if (estimate == "region") {
    const auto canon = stdlib::canonical_prefecture(n->name);
    if (!canon) return "";
    for (const auto& p : stdlib::prefectures()) {
      if (p.name == *canon) return fmt::format("jp_{:02}", p.code);
    }
    return "";
  }
  return n->name;
}

json negate(json x) { return json{{"type", "operator"}, {"not", std::move(x)}}; }

// A bound of LINE's age or friendship-period buckets: `age_20`, `day_30`.
std::string bucket(const std::string& estimate, std::int64_t v) {
  if (estimate == "age") return fmt::format("age_{}", v);
  return fmt::format("day_{}", v / 86400);
}

class Translate {
 public:
  // Whether every leaf of `e` is a comparison of `line.*` (then it can be a demographic filter).
  static bool pure_line(const ast::Expr& e) {
    const ast::Expr& s = strip(e);
    if (const auto* b = std::get_if<ast::Binary>(&s.v)) {
      if (b->op == ast::BinOp::And || b->op == ast::BinOp::Or) return pure_line(*b->lhs) && pure_line(*b->rhs);
      const auto* m = std::get_if<ast::Member>(&strip(*b->lhs).v);
      return m != nullptr && m->object.text == "line";
    }
    if (const auto* n = std::get_if<ast::Not>(&s.v)) return pure_line(*n->operand);
    return false;
  }

  static json filter(const ast::Expr& e) {
    const ast::Expr& s = strip(e);
    if (const auto* n = std::get_if<ast::Not>(&s.v)) return negate(filter(*n->operand));
    const auto& b = std::get<ast::Binary>(s.v);
    if (b.op == ast::BinOp::And || b.op == ast::BinOp::Or) {
      const char* op = b.op == ast::BinOp::And ? "and" : "or";
      json items = json::array();
      for (const ast::Expr* side : {b.lhs.get(), b.rhs.get()}) {
        json x = filter(*side);
        // `a and b and c` is one operator of three, as LINE's own examples write it.
        if (x.value("type", "") == "operator" && x.contains(op)) {
          for (auto& y : x[op]) items.push_back(std::move(y));
        } else {
          items.push_back(std::move(x));
        }
      }
      return json{{"type", "operator"}, {op, std::move(items)}};
    }
    const std::string estimate = std::get<ast::Member>(strip(*b.lhs).v).field.text;
    if (estimate == "age" || estimate == "friend_period") return range(estimate, b);
    const char* type = estimate == "gender" ? "gender" : estimate == "os" ? "appType" : "area";
    json values = json::array();
    const ast::Expr& rhs = strip(*b.rhs);
    if (const auto* set = std::get_if<ast::SetLit>(&rhs.v)) {
      for (const auto& item : set->items) values.push_back(line_value(estimate, *item));
    } else {
      values.push_back(line_value(estimate, rhs));
    }
    json leaf{{"type", type}, {"oneOf", std::move(values)}};
    return b.op == ast::BinOp::Ne || b.op == ast::BinOp::NotIn ? negate(std::move(leaf)) : leaf;
  }

 private:
  // line.age and line.friend_period: LINE's {gte, lt} on its buckets (E012 checked the bounds).
  static json range(const std::string& estimate, const ast::Binary& b) {
    const std::int64_t step = estimate == "age" ? 1 : 86400;
    json x{{"type", estimate == "age" ? "age" : "subscriptionPeriod"}};
    if (b.op == ast::BinOp::In || b.op == ast::BinOp::NotIn) {
      const auto& r = std::get<ast::RangeLit>(strip(*b.rhs).v);
      x["gte"] = bucket(estimate, int_value(*r.lo).value_or(0));
      x["lt"] = bucket(estimate, int_value(*r.hi).value_or(0) + step);
      return b.op == ast::BinOp::NotIn ? negate(std::move(x)) : x;
    }
    const std::int64_t v = int_value(*b.rhs).value_or(0);
    switch (b.op) {
      case ast::BinOp::Ge:
        x["gte"] = bucket(estimate, v);
        break;
      case ast::BinOp::Gt:
        x["gte"] = bucket(estimate, v + step);
        break;
      case ast::BinOp::Lt:
        x["lt"] = bucket(estimate, v);
        break;
      default:  // Le
        x["lt"] = bucket(estimate, v + step);
        break;
    }
    return x;
  }
};

}  // namespace

LineTarget line_target(const ast::Expr& target) {
  LineTarget out;
  std::vector<const ast::Expr*> parts;
  conjuncts(target, parts);
  json line = json::array();
  for (const ast::Expr* part : parts) {
    if (!reads_line_estimates(*part)) {
      out.own_part = true;
      continue;
    }
    if (!Translate::pure_line(*part)) {
      out.problem = LineTarget::Problem{
          part->span,
          "LINE's estimates (`line.*`) and your own data are mixed here: LINE applies its estimates as a filter "
          "on top of an audience of your friends, so the two can only be joined by `and` at the top of the target"};
      return out;
    }
    line.push_back(Translate::filter(*part));
  }
  if (line.size() == 1) {
    out.demographic = line[0].dump();
  } else if (line.size() > 1) {
    json all = json::array();
    for (auto& x : line) {
      if (x.value("type", "") == "operator" && x.contains("and")) {
        for (auto& y : x["and"]) all.push_back(std::move(y));
      } else {
        all.push_back(std::move(x));
      }
    }
    out.demographic = json{{"type", "operator"}, {"and", std::move(all)}}.dump();
  }
  return out;
}

}  // namespace okuri::plan
