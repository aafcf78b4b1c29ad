#include "compiler/types.hpp"

#include <algorithm>

#include "stdlib/builtins.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri {

std::optional<std::uint32_t> EnumDef::find(std::string_view v) const {
  for (std::uint32_t i = 0; i < values.size(); ++i) {
    if (values[i] == v) return i;
  }
  for (const auto& [alias, canon] : aliases) {
    if (alias == v) return find(canon);
  }
  return std::nullopt;
}

std::vector<std::string> EnumDef::spellings() const {
  std::vector<std::string> out = values;
  for (const auto& a : aliases) out.push_back(a.first);
  return out;
}

namespace {
EnumDef from_views(std::string name, const std::vector<std::string_view>& vals) {
  EnumDef e;
  e.name = std::move(name);
  for (auto v : vals) e.values.emplace_back(v);
  return e;
}
}  // namespace

TypeTable::TypeTable() {
  enums_.push_back(from_views("gender", stdlib::gender_values()));
  EnumDef region;
  region.name = "region";
  for (const auto& p : stdlib::prefectures()) region.values.emplace_back(p.name);
  region.aliases = {{"hyougo", "hyogo"}, {"kouchi", "kochi"}};
  enums_.push_back(std::move(region));
  enums_.push_back(from_views("weekday", stdlib::weekday_values()));
  enums_.push_back(from_views("LINE gender", stdlib::line_gender_values()));
  enums_.push_back(from_views("LINE os", stdlib::line_os_values()));
}

std::uint32_t TypeTable::add_enum(EnumDef e) {
  enums_.push_back(std::move(e));
  return static_cast<std::uint32_t>(enums_.size() - 1);
}

std::optional<std::uint32_t> TypeTable::find_enum_with(const std::vector<std::string>& values) const {
  std::vector<std::string> want = values;
  std::sort(want.begin(), want.end());
  for (std::uint32_t i = kLineOs + 1; i < enums_.size(); ++i) {
    if (enums_[i].values.size() != want.size()) continue;
    std::vector<std::string> have = enums_[i].values;
    std::sort(have.begin(), have.end());
    if (have == want) return i;
  }
  return std::nullopt;
}

std::string TypeTable::describe(Type t) const {
  switch (t.kind) {
    case TypeKind::Error:
      return "unknown";
    case TypeKind::Bool:
      return "bool";
    case TypeKind::Int:
      return "int";
    case TypeKind::Text:
      return "text";
    case TypeKind::Date:
      return "date";
    case TypeKind::DateTime:
      return "datetime";
    case TypeKind::Duration:
      return "duration";
    case TypeKind::Time:
      return "time of day";
    case TypeKind::Enum:
      return enums_[t.enum_id].name;
    case TypeKind::Set:
      return "set of " + enums_[t.enum_id].name;
  }
  return "unknown";
}

namespace {
constexpr std::pair<std::string_view, TypeKind> kPlainTypes[] = {
    {"int", TypeKind::Int},   {"bool", TypeKind::Bool},         {"text", TypeKind::Text},
    {"date", TypeKind::Date}, {"datetime", TypeKind::DateTime}, {"duration", TypeKind::Duration},
    {"time", TypeKind::Time},
};
}  // namespace

std::optional<TypeKind> plain_type(std::string_view name) {
  for (const auto& [n, k] : kPlainTypes) {
    if (n == name) return k;
  }
  return std::nullopt;
}

const std::vector<std::string_view>& plain_type_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& [n, k] : kPlainTypes) out.push_back(n);
    return out;
  }();
  return names;
}

}  // namespace okuri
