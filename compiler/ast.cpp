#include "compiler/ast.hpp"

namespace okuri::ast {

const char* to_string(BinOp op) {
  switch (op) {
    case BinOp::Or:
      return "or";
    case BinOp::And:
      return "and";
    case BinOp::Eq:
      return "==";
    case BinOp::Ne:
      return "!=";
    case BinOp::Lt:
      return "<";
    case BinOp::Le:
      return "<=";
    case BinOp::Gt:
      return ">";
    case BinOp::Ge:
      return ">=";
    case BinOp::Add:
      return "+";
    case BinOp::Sub:
      return "-";
    case BinOp::In:
      return "in";
    case BinOp::NotIn:
      return "not in";
  }
  return "?";
}

const Expr& strip_parens(const Expr& e) {
  const Expr* cur = &e;
  while (const auto* p = std::get_if<Paren>(&cur->v)) cur = p->inner.get();
  return *cur;
}

}  // namespace okuri::ast
