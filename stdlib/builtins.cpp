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
      {AttrKind::Gender, "gender", "male, female or other — from your own data; unknown until set"},
      {AttrKind::Age, "age", "age in years — from your own data; unknown until set"},
      {AttrKind::Region, "region", "prefecture — from your own data; unknown until set"},
      {AttrKind::FriendDays, "friend_days", "whole days since the friend was added"},
      {AttrKind::Source, "source", "the add route (per-route add URL or QR code)"},
      {AttrKind::DisplayName, "display_name", "the LINE display name"},
      {AttrKind::Language, "language", "the language of the friend's LINE app"},
      {AttrKind::Blocked, "blocked", "true while the friend blocks the account"},
      {AttrKind::Score, "score", "the friend's main score"},
      {AttrKind::Today, "today", "today's date in the account time zone"},
      {AttrKind::Now, "now", "the current date and time"},
  };
  return list;
}

const Attribute* find_attribute(std::string_view name) {
  for (const auto& a : attributes()) {
    if (a.name == name) return &a;
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
