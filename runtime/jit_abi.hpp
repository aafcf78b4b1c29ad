// The plain-C interface between the friend store and JIT-compiled predicates:
// an array of column pointers in a fixed slot order derived from the schema,
// the evaluation environment and the event being handled. No LLVM here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/pred_ir.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/interpreter.hpp"

namespace okuri::rt {

// Slot numbers of the column array.
struct SlotLayout {
  static constexpr std::uint32_t kGender = 0;       // u8
  static constexpr std::uint32_t kAge = 1;          // i16
  static constexpr std::uint32_t kRegion = 2;       // u8
  static constexpr std::uint32_t kFriendSince = 3;  // i32
  static constexpr std::uint32_t kSource = 4;       // i32 text id
  static constexpr std::uint32_t kDisplayName = 5;  // i32
  static constexpr std::uint32_t kLanguage = 6;     // i32
  static constexpr std::uint32_t kBlocked = 7;      // u64 words
  static constexpr std::uint32_t kScore = 8;        // i64
  static constexpr std::uint32_t kTextPtrs = 9;     // const char* per text id
  static constexpr std::uint32_t kTextLens = 10;    // u64 per text id
  static constexpr std::uint32_t kAge8 = 11;        // i8 scan column (narrow_age)
  static constexpr std::uint32_t kScore8 = 12;      // i8 scan column (narrow_value)
  static constexpr std::uint32_t kFixed = 13;

  std::uint32_t tags = 0, audiences = 0, visited = 0, scores = 0, fields = 0, links = 0, messages = 0, total = 0;
  explicit SlotLayout(const ir::Schema& s);
  // Every offset above, as text: compiled code reads columns at these slots, so any cache of
  // compiled code must key on it (adding a tag moves the slots of scores, fields and history).
  std::string key() const;
  std::uint32_t tag(std::int32_t i) const { return tags + static_cast<std::uint32_t>(i); }
  std::uint32_t audience(std::int32_t i) const { return audiences + static_cast<std::uint32_t>(i); }
  std::uint32_t visit(std::int32_t i) const { return visited + static_cast<std::uint32_t>(i); }
  std::uint32_t named_score(std::int32_t i) const { return scores + static_cast<std::uint32_t>(i); }
  std::uint32_t field_values(std::int32_t i) const { return fields + 2 * static_cast<std::uint32_t>(i); }       // i64
  std::uint32_t field_known(std::int32_t i) const { return fields + 2 * static_cast<std::uint32_t>(i) + 1; }    // u64 words
  std::uint32_t link_clicks(std::int32_t i) const { return links + 2 * static_cast<std::uint32_t>(i); }         // u32
  std::uint32_t link_last(std::int32_t i) const { return links + 2 * static_cast<std::uint32_t>(i) + 1; }       // i64
  std::uint32_t msg_sent(std::int32_t i) const { return messages + 3 * static_cast<std::uint32_t>(i); }         // u32
  std::uint32_t msg_opened(std::int32_t i) const { return messages + 3 * static_cast<std::uint32_t>(i) + 1; }   // u32
  std::uint32_t msg_last_opened(std::int32_t i) const { return messages + 3 * static_cast<std::uint32_t>(i) + 2; }  // i64
};

// The column array of a store (valid until the store changes size or its text pool grows).
struct ColumnBinding {
  std::vector<const void*> slots;
  std::vector<const char*> text_ptrs;
  std::vector<std::uint64_t> text_lens;
  void bind(const FriendStore& s);
};

struct EnvAbi {
  std::int64_t now;
  std::int64_t today;
  const void* zone;
};

struct EventAbi {
  const std::int64_t* ints;
  const std::uint8_t* known;
  const char* const* texts;
  const std::uint64_t* text_lens;
};

// Owns the arrays an EventAbi points into.
struct EventBinding {
  std::vector<std::int64_t> ints;
  std::vector<std::uint8_t> known;
  std::vector<const char*> texts;
  std::vector<std::uint64_t> lens;
  EventAbi abi{};
  void bind(const EventValues& ev);
};

// Signatures of the generated functions.
using ScanFn = void (*)(const void* const* cols, const EnvAbi* env, std::uint64_t nrows, std::uint64_t* out);
using RowFn = std::uint8_t (*)(const void* const* cols, const EnvAbi* env, std::uint64_t row, const EventAbi* event);

}  // namespace okuri::rt
