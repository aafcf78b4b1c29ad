// Predicate IR: a small typed IR lowered from checked expressions (segments,
// `if`/`when` conditions, `start when`/`stop when`, broadcast targets). Both
// back ends — the reference interpreter and the LLVM JIT — read only this IR,
// never the AST.
//
// Values: Bool is always known. Int carries a "known" flag; it encodes int,
// date (days since 1970-01-01), datetime (seconds since the epoch, UTC),
// duration (seconds), time of day (minute) and enum values (index). A Set is
// a 64-bit mask over an enumeration. Text is a handle the back end resolves.
// A comparison, `in` or `not in` on an unknown value is false; `not` of false
// is true; `known(x)` tests the flag (language.md, "Unknown values").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/types.hpp"

namespace okuri {
struct Program;
namespace ast {
struct Expr;
}
}  // namespace okuri

namespace okuri::ir {

enum class VType : std::uint8_t { Bool, Int, Set, Text };

enum class Op : std::uint8_t {
  ConstBool,   // b: 0/1
  ConstInt,    // b: value
  ConstText,   // text
  Attr,        // a: Attr slot
  Field,       // a: field index (store column); vtype from the field's type
  NamedScore,  // a: score index
  Tagged,      // a: tag index
  InAudience,  // a: audience index
  Clicked,     // a: link index, b: within seconds (0: ever)
  Clicks,      // a: link index
  Opened,      // a: message index, b: within seconds (0: ever)
  Sent,        // a: message index
  Visited,     // a: visit pattern index
  EventField,  // a: event field slot (see EventSlots), text: field name
  Known,       // kid: a load; Bool
  LocalDays,   // kid: datetime → date in the account time zone
  Month,       // kid: date
  Day,         // kid: date
  Weekday,     // kid: date → 0 (mon) … 6 (sun)
  HourOfTime,  // kid: time of day (minute) → hour
  HourOfDateTime,  // kid: datetime → local hour
  Contains,    // kids: text, text
  StartsWith,  // kids: text, text
  TextEq,      // kids: text, text (a: 1 for !=)
  Has,         // kid: set; b: item bit index
  Cmp,         // a: CmpOp; kids: lhs, rhs (ints)
  InRange,     // kids: x, lo, hi; a: 1 for `not in`
  InSet,       // kid: x (int/enum); mask: allowed enum bits, or set of ints in `ints`; a: 1 for `not in`
  And,         // kids: 2
  Or,          // kids: 2
  Not,         // kid
  Add,         // kids: 2 (ints)
  Sub,         // kids: 2
  Neg,         // kid
  Scale,       // kid; b: divisor (duration seconds → days for date arithmetic)
  Mul,         // kid; b: factor (days → seconds)
};
const char* to_string(Op op);

enum class CmpOp : std::uint8_t { Eq, Ne, Lt, Le, Gt, Ge };

// Built-in attributes a predicate can load: stdlib/attributes.def, in its order. Values: gender
// an enum (0 male, 1 female, 2 other), region a prefecture index (0 … 46), friend_days today
// minus friend_since, texts as handles, blocked a bool, score always known.
enum class Attr : std::uint8_t {
#define OKURI_ATTRIBUTE(id, name, type, unknown, doc) id,
#include "stdlib/attributes.def"
#undef OKURI_ATTRIBUTE
};

struct Node {
  Op op;
  VType type;
  std::int32_t a = 0;
  std::int64_t b = 0;
  std::uint64_t mask = 0;
  std::vector<std::int64_t> ints;  // InSet over ints
  std::string text;
  std::uint32_t kids[3] = {0, 0, 0};
  std::uint8_t nkids = 0;
  Type declared;  // EventField: the field's type as declared (to show an enum value by name)
};

// One predicate: nodes in post-order (every kid before its parent); the root is last.
struct Predicate {
  std::string name;  // segment name, or "scenario/…" path for conditions
  std::vector<Node> nodes;
  std::uint32_t root() const { return static_cast<std::uint32_t>(nodes.size() - 1); }
  bool uses_event() const;
};

// The names behind the indices the IR uses (the store is built from the same schema).
struct Schema {
  std::vector<std::string> tags, links, messages, audiences, scores, visit_patterns;
  struct FieldInfo {
    std::string name;
    Type type;
    std::vector<std::string> values;  // enum / set values
    // `field visits: int = 0`: every friend starts with this value (encoded as the
    // store's column is: see Node); a text default is `default_text`.
    bool has_default = false;
    std::int64_t default_value = 0;
    std::string default_text;
  };
  std::vector<FieldInfo> fields;
  std::string timezone = "Asia/Tokyo";
  // Event fields read by predicates, in slot order ("text", "data", custom names…).
  std::vector<std::string> event_fields;
  int tag_index(std::string_view n) const;
  int field_index(std::string_view n) const;
};

Schema make_schema(const Program& p);

// A fixed value of a checked expression, encoded as the store and the IR encode
// it (int, date in days, datetime in UTC seconds, duration in seconds, time of day
// in minutes, enum index, set mask, bool 0/1), or its text. Literals, enumeration
// values, sets of them, and `-`/`+` over numbers and durations are fixed; anything
// that reads a friend or the clock (`today`, `age`, another field) is not: nullopt.
struct Constant {
  std::int64_t i = 0;
  std::string text;
  bool is_text = false;
};
std::optional<Constant> constant_value(const Program& p, const ast::Expr& e);

// Lowers a checked boolean expression. Segment references are inlined.
// `schema` gains visit patterns and event fields as they are met.
Predicate lower_predicate(const Program& p, Schema& schema, const ast::Expr& e, std::string name);

// All segments of a program, in source order.
std::vector<Predicate> lower_segments(const Program& p, Schema& schema);

// Text form for golden tests: one node per line, `%3 = cmp.ge %1, %2 : bool`.
std::string print(const Predicate& p);

// A stable hash of the IR (for the JIT's object cache).
std::uint64_t hash(const Predicate& p);

}  // namespace okuri::ir
