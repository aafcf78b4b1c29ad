// The friends-file loader's inside, shared by its files (private to runtime/):
//   friends_chunk.cpp  values, columns, and writing one chunk's rows into the store
//   csv_lines.cpp      the bytes: lines, blank lines, a CSV line's cells
//   friends_file.cpp   the file: mapping, chunking, threads, the first error, progress; a load or a scan
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "compiler/pred_ir.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/friends_file.hpp"
#include "stdlib/functions.hpp"

namespace okuri::rt::friends_detail {

// ------------------------------------------------------------------ values

inline std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// ------------------------------------------------------------------ columns

enum class Kind : std::uint8_t {
  Skip,  // not read by this command
  Unknown,
  Id,
  Gender,
  Age,
  Region,
  FriendSince,
  Source,
  DisplayName,
  Language,
  Blocked,
  Score,
  NamedScore,
  Tags,
  Audiences,
  Field,
};

struct Column {
  Kind kind = Kind::Unknown;
  std::size_t index = 0;  // NamedScore, Field
  std::string name;
};

Column column_of(const ir::Schema& schema, std::string_view name, const FriendsLoadOptions& o);

// A value as the loader sees it: text (CSV, or a JSON string, number or bool), or a JSON list.
struct Cell {
  std::string_view text;
  const std::vector<std::string_view>* list = nullptr;
  bool is_bool = false;
  bool boolean = false;
};

struct RowError {
  std::string column;
  std::string value;
  std::string why;
};

// ------------------------------------------------------------------ one chunk

// Names (tags, an enumeration's values, the spellings of prefectures) to numbers: looked up per
// cell, several times a row (a tags cell holds a few), so an open-addressing table on a hash of
// the name's words instead of std::unordered_map (whose hash and node walk were a fifth of
// loading a CSV). The names are views: what they view outlives the table.
class Names {
 public:
  Names() = default;
  // The names of a list, numbered by their place in it.
  explicit Names(const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) add(names[i], static_cast<std::uint32_t>(i));
  }
  // A name declared twice keeps its first number.
  void add(std::string_view name, std::uint32_t number) {
    if (find(name)) return;
    if ((keys_.size() + 1) * 4 > slots_.size()) rehash(std::max<std::size_t>(16, slots_.size() * 2));
    keys_.push_back(Key{name, words(name), number});
    put(static_cast<std::uint32_t>(keys_.size() - 1));
  }
  std::optional<std::uint32_t> find(std::string_view name) const {
    if (slots_.empty()) return std::nullopt;
    const Words w = words(name);
    for (std::size_t at = hash(name.size(), w) & mask_;; at = (at + 1) & mask_) {
      const std::uint32_t k = slots_[at];
      if (k == kEmpty) return std::nullopt;
      const Key& key = keys_[k];
      if (key.words.a == w.a && key.words.b == w.b && key.name.size() == name.size() &&
          (name.size() <= 16 || std::memcmp(key.name.data() + 8, name.data() + 8, name.size() - 16) == 0)) {
        return key.number;
      }
    }
  }

 private:
  static constexpr std::uint32_t kEmpty = UINT32_MAX;
  // A name's bytes as two overlapping words, read with a few fixed-size loads (no loop, no
  // library call): every byte of a name of up to 16, so that comparing the words compares the
  // names; a longer one also compares its middle.
  struct Words {
    std::uint64_t a = 0, b = 0;
  };
  static Words words(std::string_view s) {
    const char* p = s.data();
    const std::size_t n = s.size();
    Words w;
    if (n >= 8) {
      std::memcpy(&w.a, p, 8);
      std::memcpy(&w.b, p + n - 8, 8);
    } else if (n >= 4) {
      std::uint32_t lo = 0, hi = 0;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      w.a = lo;
      w.b = hi;
    } else if (n > 0) {
      auto byte = [p](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
      w.a = byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16;
    }
    return w;
  }
  static std::size_t hash(std::size_t size, const Words& w) {
    const std::uint64_t h = (w.a * 0x9E3779B97F4A7C15ull) ^ (w.b * 0xFF51AFD7ED558CCDull) ^ size;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
  void put(std::uint32_t k) {
    std::size_t at = hash(keys_[k].name.size(), keys_[k].words) & mask_;
    while (slots_[at] != kEmpty) at = (at + 1) & mask_;
    slots_[at] = k;
  }
  void rehash(std::size_t size) {
    slots_.assign(size, kEmpty);
    mask_ = size - 1;
    for (std::uint32_t k = 0; k < keys_.size(); ++k) put(k);
  }
  struct Key {
    std::string_view name;
    Words words;
    std::uint32_t number;
  };
  std::vector<Key> keys_;
  std::vector<std::uint32_t> slots_;  // indices into keys_, at their hash
  std::size_t mask_ = 0;
};

struct Lookups {
  explicit Lookups(const ir::Schema& s) : tags(s.tags), audiences(s.audiences) {
    for (const auto& f : s.fields) field_values.emplace_back(f.values);
  }
  Names tags, audiences;
  std::vector<Names> field_values;
};

struct ChunkResult {
  std::size_t begin = 0, end = 0;  // bytes of the text
  std::size_t first_line = 1;
  std::size_t rows = 0;
  std::size_t first_row = 0;
  TextPool texts;
  std::vector<std::pair<std::uint32_t, std::string>> odd_ids;
  // The chunk's first bad line, and its row.
  std::optional<std::string> error;
  std::size_t error_line = 0;
  std::size_t error_row = 0;
  // Names the project does not declare: first line and rows, per name.
  std::map<std::string, std::pair<std::size_t, std::size_t>> undeclared;
  std::map<std::string, std::size_t> unknown_keys;  // JSONL keys: first line
};

class ChunkWriter {
 public:
  ChunkWriter(FriendStore& s, const stdlib::Zone& zone, const Lookups& names, ChunkResult& r)
      : s_(s),
        zone_(zone),
        names_(names),
        r_(r),
        first_word_(r.first_row >> 6),
        last_word_(r.rows == 0 ? r.first_row >> 6 : (r.first_row + r.rows - 1) >> 6) {}

  // A row's id: packed into the store, or (not a LINE id) kept aside with its row.
  void set_id(std::uint32_t row, std::string_view id);
  std::optional<RowError> apply(std::uint32_t row, const Column& col, const Cell& c, std::size_t line);

 private:
  FriendStore& s_;
  const stdlib::Zone& zone_;
  const Lookups& names_;
  ChunkResult& r_;
  // The words of a bitmap column that this chunk's rows share with the chunks beside it (read
  // on other threads): bits there are set atomically, the others plainly (a locked instruction
  // for every tag of every row cost a tenth of reading a CSV).
  std::size_t first_word_, last_word_;
  void set_bit(Bitmap& b, std::uint32_t row);

  static std::string join(const std::vector<std::string_view>& v);

  // The items of a list: a JSON array's, or a CSV cell's separated by `;` (spaces around trimmed).
  template <typename F>
  static void for_each_item(const Cell& c, F&& f);

  static std::optional<bool> boolean(const Cell& c);

  template <typename Err>
  std::optional<RowError> field(std::uint32_t row, std::size_t f, const Cell& c, Err err);
};

}  // namespace okuri::rt::friends_detail
