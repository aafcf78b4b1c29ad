// A broadcast target that reads LINE's estimates (`line.*`), as LINE can apply it: a narrowcast
// whose `filter.demographic` is the `line.*` part and whose recipient is an audience of the
// friends matching the rest (the account's own data). LINE joins the two with AND, so a target
// is sendable only as `<own data> and <LINE's estimates>`: `and` of parts that each read one
// side only. The `line.*` part may use `and`, `or`, `not` among its own comparisons.
#pragma once

#include <optional>
#include <string>

#include "compiler/ast.hpp"

namespace okuri::plan {

struct LineTarget {
  // filter.demographic as LINE's Messaging API takes it (a JSON object); empty when the
  // target does not read `line.*`.
  std::string demographic;
  bool own_part = false;  // some of the target reads the account's own data: it goes as an audience
  // Set when LINE cannot apply the target: the part that mixes both sides, and why.
  struct Problem {
    Span span;
    std::string message;
  };
  std::optional<Problem> problem;
};

// `target` was checked (E012 holds: comparisons of `line.*` are on LINE's buckets).
LineTarget line_target(const ast::Expr& target);

}  // namespace okuri::plan
