// Built-in functions, attributes, plans and enumerations of the language.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace okuri::stdlib {

enum class ArgKind { Tag, Audience, Link, Message, Text, Attr, Moment, TimeLike, SetField, SetItem, Within, None };
enum class ResultKind { Bool, Int, Date, DateTime, Weekday };

enum class BuiltinId {
#define OKURI_BUILTIN(id, name, result, min, max, a0, a1, doc) id,
#include "stdlib/builtins.def"
#undef OKURI_BUILTIN
};

struct Builtin {
  BuiltinId id;
  std::string_view name;
  ResultKind result;
  int min_args;
  int max_args;
  ArgKind args[2];
  std::string_view doc;
};

const std::vector<Builtin>& builtins();
const Builtin* find_builtin(std::string_view name);

// Built-in per-friend attributes (`gender`, `age`, …), from attributes.def.
enum class AttrKind {
#define OKURI_ATTRIBUTE(id, name, type, unknown, doc) id,
#include "stdlib/attributes.def"
#undef OKURI_ATTRIBUTE
};
enum class AttrType { GenderEnum, RegionEnum, Int, Text, Bool, Date, DateTime };
struct Attribute {
  AttrKind id;
  std::string_view name;
  AttrType type;
  bool may_be_unknown;  // can be unknown when a message is sent
  std::string_view doc;
};
const std::vector<Attribute>& attributes();
const Attribute* find_attribute(std::string_view name);

// Built-in events (`friend_added`, `link_clicked(link)`, …), from events.def. Their position in
// the list is their event type number; custom events are numbered after them.
enum class EventId {
#define OKURI_EVENT(id, name, fields, arg, arg_field, reply, doc) id,
#include "stdlib/events.def"
#undef OKURI_EVENT
};
enum class EventArg { None, Link, Message, Form, Tag, Field, UrlPattern };
struct BuiltinEventInfo {
  EventId id;
  std::string_view name;
  std::vector<std::string_view> fields;  // text fields, readable as `event.<field>`
  EventArg argument;                     // the kind of name (or text) it takes in parentheses
  std::string_view argument_field;       // the input field that carries it ("" when none)
  bool reply_token;                      // the event carries a reply token
  std::string_view doc;
};
const std::vector<BuiltinEventInfo>& events();
const BuiltinEventInfo* find_event(std::string_view name);
inline constexpr int kBuiltinEventCount = 0
#define OKURI_EVENT(id, name, fields, arg, arg_field, reply, doc) +1
#include "stdlib/events.def"
#undef OKURI_EVENT
    ;

// The built-in columns of a friend (friends files, test friends, the state codec), from
// friend_columns.def. Declared fields and named scores (`score.<name>`) follow them.
enum class FriendColumnId {
#define OKURI_FRIEND_COLUMN(id, name, stored, doc) id,
#include "stdlib/friend_columns.def"
#undef OKURI_FRIEND_COLUMN
};
struct FriendColumn {
  FriendColumnId id;
  std::string_view name;
  bool stored;
  std::string_view doc;
};
const std::vector<FriendColumn>& friend_columns();
const FriendColumn* find_friend_column(std::string_view name);

// LINE's own demographic estimates, only inside a broadcast target.
enum class LineEstimate { Gender, Age, Region, Os, FriendPeriod };
struct Estimate {
  LineEstimate id;
  std::string_view name;  // after `line.`
  std::string_view doc;
};
const std::vector<Estimate>& line_estimates();
const Estimate* find_line_estimate(std::string_view name);
// LINE's narrowcast age buckets (age_15 … age_70) and friend periods (day_7 … day_365).
inline constexpr int kLineAgeMin = 15;
inline constexpr int kLineAgeMax = 70;
inline constexpr int kLineAgeStep = 5;
const std::vector<int>& line_friend_period_days();

// Monthly message allowance of a LINE plan (Japan).
struct Plan {
  std::string_view name;
  std::int64_t monthly_messages;
  bool overage_allowed;
};
const std::vector<Plan>& plans();
const Plan* find_plan(std::string_view name);

// Names of the fixed enumerations.
const std::vector<std::string_view>& gender_values();       // male female other
const std::vector<std::string_view>& line_gender_values();  // male female
const std::vector<std::string_view>& line_os_values();      // ios android
const std::vector<std::string_view>& weekday_values();      // mon … sun

// LINE's limits.
inline constexpr int kMaxMessagesPerSend = 5;
inline constexpr int kMaxTextLength = 5000;

}  // namespace okuri::stdlib
