#include "stdlib/builtins.hpp"

namespace okuri::stdlib {

const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> list = {
#define OKURI_BUILTIN(id, name, result, min, max, a0, a1, doc) \
  Builtin{BuiltinId::id, name, ResultKind::result, min, max, {ArgKind::a0, ArgKind::a1}, doc},
#include "stdlib/builtins.def"
#undef OKURI_BUILTIN
  };
  return list;
}

const Builtin* find_builtin(std::string_view name) {
  for (const auto& b : builtins()) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const std::vector<Attribute>& attributes() {
  static const std::vector<Attribute> list = {
#define OKURI_ATTRIBUTE(id, name, type, unknown, doc) Attribute{AttrKind::id, name, AttrType::type, unknown, doc},
#include "stdlib/attributes.def"
#undef OKURI_ATTRIBUTE
  };
  return list;
}

const Attribute* find_attribute(std::string_view name) {
  for (const auto& a : attributes()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

namespace {
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto sp = s.find(' ');
    if (sp != 0) out.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}
}  // namespace

const std::vector<BuiltinEventInfo>& events() {
  static const std::vector<BuiltinEventInfo> list = {
#define OKURI_EVENT(id, name, fields, arg, arg_field, reply, doc) \
  BuiltinEventInfo{EventId::id, name, words(fields), EventArg::arg, arg_field, reply, doc},
#include "stdlib/events.def"
#undef OKURI_EVENT
  };
  return list;
}

const BuiltinEventInfo* find_event(std::string_view name) {
  for (const auto& e : events()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

const std::vector<FriendColumn>& friend_columns() {
  static const std::vector<FriendColumn> list = {
#define OKURI_FRIEND_COLUMN(id, name, stored, doc) FriendColumn{FriendColumnId::id, name, stored, doc},
#include "stdlib/friend_columns.def"
#undef OKURI_FRIEND_COLUMN
  };
  return list;
}

const FriendColumn* find_friend_column(std::string_view name) {
  for (const auto& c : friend_columns()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const std::vector<Estimate>& line_estimates() {
  static const std::vector<Estimate> list = {
      {LineEstimate::Gender, "gender", "LINE's gender estimate (male, female)"},
      {LineEstimate::Age, "age", "LINE's age estimate, in 5-year buckets from 15 to 70"},
      {LineEstimate::Region, "region", "LINE's region estimate (prefecture)"},
      {LineEstimate::Os, "os", "the friend's phone OS (ios, android)"},
      {LineEstimate::FriendPeriod, "friend_period", "how long the friend has been a friend (7d, 30d, 90d, 180d, 365d)"},
  };
  return list;
}

const Estimate* find_line_estimate(std::string_view name) {
  for (const auto& e : line_estimates()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

const std::vector<int>& line_friend_period_days() {
  static const std::vector<int> v = {7, 30, 90, 180, 365};
  return v;
}

const std::vector<Plan>& plans() {
  static const std::vector<Plan> list = {
      {"free", 200, false},
      {"light", 5000, false},
      {"standard", 30000, true},
  };
  return list;
}

const Plan* find_plan(std::string_view name) {
  for (const auto& p : plans()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const std::vector<std::string_view>& gender_values() {
  static const std::vector<std::string_view> v = {"male", "female", "other"};
  return v;
}
const std::vector<std::string_view>& line_gender_values() {
  static const std::vector<std::string_view> v = {"male", "female"};
  return v;
}
const std::vector<std::string_view>& line_os_values() {
  static const std::vector<std::string_view> v = {"ios", "android"};
  return v;
}
const std::vector<std::string_view>& weekday_values() {
  static const std::vector<std::string_view> v = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  return v;
}

}  // namespace okuri::stdlib
