// Types of the language and the enumerations they refer to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace okuri {

enum class TypeKind : std::uint8_t { Error, Bool, Int, Text, Date, DateTime, Duration, Time, Enum, Set };

struct Type {
  TypeKind kind = TypeKind::Error;
  std::uint32_t enum_id = 0;  // Enum and Set: the enumeration (of the elements)
  friend bool operator==(const Type&, const Type&) = default;

  static Type error() { return {}; }
  static Type of(TypeKind k) { return Type{k, 0}; }
  static Type enumeration(std::uint32_t id) { return Type{TypeKind::Enum, id}; }
  static Type set(std::uint32_t id) { return Type{TypeKind::Set, id}; }
  bool is_error() const { return kind == TypeKind::Error; }
  bool ordered() const {
    return kind == TypeKind::Int || kind == TypeKind::Date || kind == TypeKind::DateTime ||
           kind == TypeKind::Duration || kind == TypeKind::Time;
  }
};

struct EnumDef {
  std::string name;  // what a value "is": "gender", "region", "plan_kind"
  std::vector<std::string> values;
  std::vector<std::pair<std::string, std::string>> aliases;  // spelling → canonical value
  // The index of a value or an alias, or nullopt.
  std::optional<std::uint32_t> find(std::string_view v) const;
  std::vector<std::string> spellings() const;
};

class TypeTable {
 public:
  TypeTable();
  std::uint32_t add_enum(EnumDef e);
  // A declared enumeration (not a built-in one) with exactly these values, in any order.
  std::optional<std::uint32_t> find_enum_with(const std::vector<std::string>& values) const;
  const EnumDef& enum_def(std::uint32_t id) const { return enums_[id]; }
  std::size_t enum_count() const { return enums_.size(); }
  // "int", "text", "gender", "set of interests"
  std::string describe(Type t) const;

  // Enumerations every project has.
  static constexpr std::uint32_t kGender = 0;
  static constexpr std::uint32_t kRegion = 1;
  static constexpr std::uint32_t kWeekday = 2;
  static constexpr std::uint32_t kLineGender = 3;
  static constexpr std::uint32_t kLineOs = 4;

 private:
  std::vector<EnumDef> enums_;
};

// The field types written by name (`int`, `bool`, `text`, `date`, `datetime`, `duration`, `time`).
std::optional<TypeKind> plain_type(std::string_view name);
const std::vector<std::string_view>& plain_type_names();

}  // namespace okuri
