// The columnar friend store: one column per attribute, one bitmap per tag,
// scores, per-link and per-message history. Columns are what the predicate
// back ends scan; a friend is a row index.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/pred_ir.hpp"

namespace okuri::rt {

struct Bitmap {
  std::vector<std::uint64_t> words;
  void resize(std::size_t n) { words.resize((n + 63) / 64, 0); }
  bool get(std::size_t i) const { return ((words[i >> 6] >> (i & 63)) & 1) != 0; }
  void set(std::size_t i, bool v) {
    if (v) {
      words[i >> 6] |= std::uint64_t{1} << (i & 63);
    } else {
      words[i >> 6] &= ~(std::uint64_t{1} << (i & 63));
    }
  }
  std::size_t bytes() const { return words.size() * 8; }
};

class TextPool {
 public:
  std::int32_t intern(std::string_view s);
  std::optional<std::int32_t> find(std::string_view s) const;
  std::string_view get(std::int32_t id) const { return strings_[static_cast<std::size_t>(id)]; }
  std::size_t size() const { return strings_.size(); }

 private:
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::int32_t> ids_;
};

// A LINE user id (`U` + 32 hex digits) packed into 16 bytes. Ids of another
// shape (test friends such as `U1`) are kept as text.
using PackedId = std::array<std::uint8_t, 16>;
std::optional<PackedId> pack_line_id(std::string_view id);
std::string unpack_line_id(const PackedId& p);

inline constexpr std::int16_t kUnknownAge = std::numeric_limits<std::int16_t>::min();

// Scan columns: `age` and `score` again, saturated to -127 … 127 in one byte
// (-128: an unknown age). Saturation keeps order against any constant c with
// -127 < c < 127 (x >= c exactly when narrow(x) >= c, and so for the other
// comparisons), so a whole-table scan comparing with such constants reads one
// byte a friend instead of two or eight. The wide columns stay the values.
inline constexpr std::int8_t kNarrowUnknown = -128;
inline constexpr std::int64_t kNarrowMin = -126;  // constants a comparison on a scan column may use
inline constexpr std::int64_t kNarrowMax = 126;
inline std::int8_t narrow_value(std::int64_t v) {
  return static_cast<std::int8_t>(v < -127 ? -127 : v > 127 ? 127 : v);
}
inline std::int8_t narrow_age(std::int16_t a) { return a == kUnknownAge ? kNarrowUnknown : narrow_value(a); }
inline constexpr std::int32_t kUnknownDays = std::numeric_limits<std::int32_t>::min();
inline constexpr std::int32_t kUnknownText = -1;

class FriendStore {
 public:
  explicit FriendStore(const ir::Schema& schema);

  const ir::Schema& schema() const { return *schema_; }
  std::size_t size() const { return size_; }
  // Appends a friend with every value unknown but the fields that have a default; returns its row.
  std::uint32_t add(std::string_view id);
  // An id parsed once: its packed form (a LINE user id) and its hash, so that the steps of
  // looking one event's friend up (prefetching the slot, the row, finding it) parse it once.
  struct IdKey {
    std::optional<PackedId> packed;
    std::size_t hash = 0;
  };
  static IdKey key_of(std::string_view id);
  std::optional<std::uint32_t> find(std::string_view id) const { return find(id, key_of(id)); }
  std::optional<std::uint32_t> find(std::string_view id, const IdKey& key) const;
  // Bulk loading (runtime/friends_file.cpp): grow_to appends rows with every value unknown but
  // the field defaults, and no id; set_id gives a row its id (rows of distinct ids may be set
  // from several threads); index_rows makes rows `from` … `to`-1 findable, in order, and
  // returns the first of them whose id an earlier row already has (that row stays unindexed).
  void grow_to(std::size_t n, unsigned threads = 1);
  // Back to no rows, keeping the columns' room: a store reused for batch after batch of a file
  // read in pieces (scan_friends) allocates once.
  void clear_rows();
  // Keeps only the first n rows (a table sized for a chunk's lines, whose blank ones made none).
  void shrink_rows(std::size_t n);
  void set_id(std::uint32_t row, const PackedId& id) { ids[row] = id; }
  void set_odd_id(std::uint32_t row, std::string_view id);
  std::optional<std::uint32_t> index_rows(std::uint32_t from, std::uint32_t to, unsigned threads = 1);
  std::string id_of(std::uint32_t row) const;
  // The same without allocating, for paths that run per delivery: a LINE id is rebuilt from its
  // 16 bytes into `scratch`, another id viewed where the store keeps it.
  struct IdText {
    char text[33];
  };
  std::string_view id_view(std::uint32_t row, IdText& scratch) const;
  void reserve(std::size_t n);
  // Asks the memory system for the row's attributes, tags, scores and link history at once,
  // so that handling an event for a random friend waits for memory once, not once per column.
  void prefetch(std::uint32_t row) const;
  // Two stages of looking an id up ahead of time: first the hash slot, later (once the slot
  // is in cache) the row it names, whose columns are then prefetched. Hints only.
  void prefetch_id(const IdKey& key) const;
  std::optional<std::uint32_t> peek(const IdKey& key) const;
  // Bytes of the core state (ids, id map, attributes, tags, scores), for the benchmark.
  std::size_t core_bytes() const;

  // Columns (public: the back ends read them directly).
  std::vector<PackedId> ids;
  std::vector<std::uint8_t> gender;  // 0 unknown, 1 male, 2 female, 3 other
  std::vector<std::int16_t> age;     // kUnknownAge
  std::vector<std::uint8_t> region;  // 0 unknown, 1 … 47 (prefecture code)
  std::vector<std::int32_t> friend_since;  // days since the epoch; kUnknownDays
  std::vector<std::int32_t> source, display_name, language;  // TextPool ids; kUnknownText
  Bitmap blocked;
  std::vector<std::int64_t> score;
  // The scan columns of age and score (see narrow_value): written only by
  // set_age and set_score, which every writer of `age` and `score` uses.
  std::vector<std::int8_t> age8;
  std::vector<std::int8_t> score8;
  void set_age(std::uint32_t row, std::int16_t v) {
    age[row] = v;
    age8[row] = narrow_age(v);
  }
  void set_score(std::uint32_t row, std::int64_t v) {
    score[row] = v;
    score8[row] = narrow_value(v);
  }
  // Whether the scan columns agree with `age` and `score` (for tests).
  bool scan_columns_agree() const;
  std::vector<Bitmap> tags;        // by schema tag index
  std::vector<Bitmap> audiences;   // by schema audience index
  std::vector<Bitmap> visited;     // by schema visit pattern index
  std::vector<std::vector<std::int64_t>> named_scores;
  struct Column {
    std::vector<std::int64_t> values;  // int, date (days), datetime (s), duration (s), time (min), enum index, set mask, bool, text id
    Bitmap known;
  };
  std::vector<Column> fields;
  struct LinkHistory {
    std::vector<std::uint32_t> clicks;
    std::vector<std::int64_t> last;  // seconds; 0 = never
  };
  std::vector<LinkHistory> links;
  struct MessageHistory {
    std::vector<std::uint32_t> sent;
    std::vector<std::uint32_t> opened;
    std::vector<std::int64_t> last_opened;
  };
  std::vector<MessageHistory> messages;
  TextPool texts;

 private:
  const ir::Schema* schema_;
  std::size_t size_ = 0;
  // Open addressing over row indices (0 = empty, else row + 1), keyed by the id's hash.
  std::vector<std::uint32_t> slots_;
  std::unordered_map<std::uint32_t, std::string> odd_ids_;  // rows whose id is not a LINE id
  bool row_has_id(std::uint32_t row, std::string_view id) const;
  void grow_slots();
  void insert_slot(std::uint32_t row);
  std::size_t hash_of_row(std::uint32_t row) const;
  // Calls f(column, unknown value) for every column of one value per friend (not the bitmaps and
  // the declared fields): what add, grow_to and reserve each go through.
  template <typename F>
  void each_value_column(F&& f);
};

}  // namespace okuri::rt
