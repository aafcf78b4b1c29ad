// The reference interpreter of the predicate IR: the meaning of a predicate.
// Row form for one friend (with the triggering event, if any); scan form over
// the whole store, column at a time over batches of friends, into a bit mask.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/pred_ir.hpp"
#include "runtime/friend_store.hpp"
#include "stdlib/functions.hpp"

namespace okuri::rt {

struct EvalEnv {
  std::int64_t now = 0;    // seconds since the epoch
  std::int64_t today = 0;  // local days since the epoch
  const stdlib::Zone* zone = nullptr;
};

// The fields of the event being handled, by the schema's event slot.
struct EventValue {
  bool known = false;
  std::int64_t i = 0;
  std::string text;
};
using EventValues = std::vector<EventValue>;

bool eval_row(const ir::Predicate& p, const FriendStore& s, std::uint32_t row, const EvalEnv& env,
              const EventValues* event = nullptr);

// The value of an expression (the root need not be a Bool): ints, dates, enum
// indices, set masks and bools in `i`, text in `text`; `known` false when unknown.
struct Value {
  bool known = false;
  std::int64_t i = 0;
  std::string text;
};
Value eval_value(const ir::Predicate& p, const FriendStore& s, std::uint32_t row, const EvalEnv& env,
                 const EventValues* event = nullptr);

// out[k] bit j = predicate holds for friend 64*k + j (bits past size() are 0).
void scan(const ir::Predicate& p, const FriendStore& s, const EvalEnv& env, std::vector<std::uint64_t>& out);

std::size_t count_bits(const std::vector<std::uint64_t>& mask);

}  // namespace okuri::rt
