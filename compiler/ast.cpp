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

}  // namespace okuri::ast
