#include "runtime/friend_store.hpp"

#include "runtime/huge_pages.hpp"

#include <fmt/format.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "compiler/literals.hpp"
#include "compiler/text_width.hpp"
#include "runtime/text_lines.hpp"
#include "stdlib/functions.hpp"
#include "stdlib/json_depth.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::rt {

// ------------------------------------------------------------------ text pool

std::int32_t TextPool::intern(std::string_view s) {
  auto it = ids_.find(std::string(s));
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<std::int32_t>(strings_.size());
  strings_.emplace_back(s);
  ids_.emplace(strings_.back(), id);
  return id;
}

std::optional<std::int32_t> TextPool::find(std::string_view s) const {
  auto it = ids_.find(std::string(s));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

// ------------------------------------------------------------------ ids

#if !defined(__SSE2__)
namespace {
int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace
#endif

std::optional<PackedId> pack_line_id(std::string_view id) {
  if (id.size() != 33 || id[0] != 'U') return std::nullopt;
#if defined(__SSE2__)
  // Sixteen digits at a time (a friends file packs millions): each checked to be 0-9 or a-f,
  // turned into its value, and the pairs joined into bytes.
  auto half = [](const char* p, __m128i& bytes) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i digit =
        _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), v));
    const __m128i lower =
        _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)), _mm_cmpgt_epi8(_mm_set1_epi8('f' + 1), v));
    if (_mm_movemask_epi8(_mm_or_si128(digit, lower)) != 0xFFFF) return false;
    const __m128i value =
        _mm_sub_epi8(_mm_sub_epi8(v, _mm_set1_epi8('0')), _mm_and_si128(lower, _mm_set1_epi8('a' - '0' - 10)));
    // Each 16-bit lane holds a pair: the high digit in its low byte.
    const __m128i high = _mm_slli_epi16(_mm_and_si128(value, _mm_set1_epi16(0x00FF)), 4);
    bytes = _mm_or_si128(high, _mm_srli_epi16(value, 8));
    return true;
  };
  __m128i a, b;
  if (!half(id.data() + 1, a) || !half(id.data() + 17, b)) return std::nullopt;
  PackedId out;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out.data()), _mm_packus_epi16(a, b));
  return out;
#else
  // A table of digit values (0xFF: not a lowercase hex digit); one bad digit poisons `bad`.
  static const auto kTable = [] {
    std::array<std::uint8_t, 256> t{};
    t.fill(0xFF);
    for (int c = 0; c < 256; ++c) {
      const int v = hex(static_cast<char>(c));
      if (v >= 0) t[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(v);
    }
    return t;
  }();
  PackedId p{};
  std::uint8_t bad = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    const std::uint8_t hi = kTable[static_cast<unsigned char>(id[1 + 2 * i])];
    const std::uint8_t lo = kTable[static_cast<unsigned char>(id[2 + 2 * i])];
    bad |= static_cast<std::uint8_t>(hi | lo);
    p[i] = static_cast<std::uint8_t>((hi << 4) | (lo & 15));
  }
  if ((bad & 0xF0) != 0) return std::nullopt;
  return p;
#endif
}

namespace {
void unpack_into(const PackedId& p, char* out) {
  static const char* const kHex = "0123456789abcdef";
  out[0] = 'U';
  for (std::size_t i = 0; i < p.size(); ++i) {
    out[1 + 2 * i] = kHex[p[i] >> 4];
    out[2 + 2 * i] = kHex[p[i] & 15];
  }
}
}  // namespace

std::string unpack_line_id(const PackedId& p) {
  std::string s(33, 'U');
  unpack_into(p, s.data());
  return s;
}

// ------------------------------------------------------------------ store

FriendStore::FriendStore(const ir::Schema& schema) : schema_(&schema) {
  tags.resize(schema.tags.size());
  audiences.resize(schema.audiences.size());
  visited.resize(schema.visit_patterns.size());
  named_scores.resize(schema.scores.size());
  fields.resize(schema.fields.size());
  links.resize(schema.links.size());
  messages.resize(schema.messages.size());
  slots_.assign(1024, 0);
}

void FriendStore::clear_rows() {
  each_value_column([](auto& column, auto) { column.clear(); });
  blocked.words.clear();
  for (auto* bitmaps : {&tags, &audiences, &visited}) {
    for (auto& b : *bitmaps) b.words.clear();
  }
  for (auto& f : fields) {
    f.values.clear();
    f.known.words.clear();
  }
  texts = TextPool();
  odd_ids_.clear();
  std::fill(slots_.begin(), slots_.end(), 0);
  size_ = 0;
}

void FriendStore::shrink_rows(std::size_t n) {
  if (n >= size_) return;
  each_value_column([n](auto& column, auto) { column.resize(n); });
  auto cut = [n](Bitmap& b) {
    b.resize(n);
    if (n % 64 != 0) b.words.back() &= (std::uint64_t{1} << (n % 64)) - 1;
  };
  cut(blocked);
  for (auto* bitmaps : {&tags, &audiences, &visited}) {
    for (auto& b : *bitmaps) cut(b);
  }
  for (auto& f : fields) {
    f.values.resize(n);
    cut(f.known);
  }
  for (auto it = odd_ids_.begin(); it != odd_ids_.end();) it = it->first >= n ? odd_ids_.erase(it) : std::next(it);
  size_ = n;
}

template <typename F>
void FriendStore::each_value_column(F&& f) {
  f(ids, PackedId{});
  f(gender, std::uint8_t{0});
  f(age, kUnknownAge);
  f(age8, kNarrowUnknown);
  f(score8, std::int8_t{0});
  f(region, std::uint8_t{0});
  f(friend_since, kUnknownDays);
  f(source, kUnknownText);
  f(display_name, kUnknownText);
  f(language, kUnknownText);
  f(score, std::int64_t{0});
  for (auto& s : named_scores) f(s, std::int64_t{0});
  for (auto& l : links) {
    f(l.clicks, std::uint32_t{0});
    f(l.last, std::int64_t{0});
  }
  for (auto& m : messages) {
    f(m.sent, std::uint32_t{0});
    f(m.opened, std::uint32_t{0});
    f(m.last_opened, std::int64_t{0});
  }
}

void FriendStore::reserve(std::size_t n) {
  each_value_column([n](auto& column, auto) { column.reserve(n); });
  while (slots_.size() < n * 2) slots_.resize(slots_.size() * 2);
  std::fill(slots_.begin(), slots_.end(), 0);
  for (std::uint32_t r = 0; r < size_; ++r) insert_slot(r);
}

namespace {
// Mix all 16 bytes: ids with long runs of equal digits must still spread.
std::size_t hash_packed(const PackedId& p) {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    a = (a << 8) | p[i];
    b = (b << 8) | p[8 + i];
  }
  std::uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return static_cast<std::size_t>(h);
}
}  // namespace

FriendStore::IdKey FriendStore::key_of(std::string_view id) {
  IdKey k;
  k.packed = pack_line_id(id);
  k.hash = k.packed ? hash_packed(*k.packed) : std::hash<std::string_view>{}(id);
  return k;
}

bool FriendStore::row_has_id(std::uint32_t row, std::string_view id) const {
  auto it = odd_ids_.find(row);
  if (it != odd_ids_.end()) return it->second == id;
  auto p = pack_line_id(id);
  return p && *p == ids[row];
}

std::size_t FriendStore::hash_of_row(std::uint32_t row) const {
  if (odd_ids_.empty()) return hash_packed(ids[row]);
  auto it = odd_ids_.find(row);
  return it == odd_ids_.end() ? hash_packed(ids[row]) : std::hash<std::string_view>{}(it->second);
}

void FriendStore::insert_slot(std::uint32_t row) {
  std::size_t i = hash_of_row(row) & (slots_.size() - 1);
  while (slots_[i] != 0) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = row + 1;
}

void FriendStore::grow_slots() {
  slots_.assign(slots_.size() * 2, 0);
  for (std::uint32_t r = 0; r < size_; ++r) insert_slot(r);
}

std::optional<std::uint32_t> FriendStore::find(std::string_view id, const IdKey& key) const {
  // LINE ids compare packed, other ids by text.
  const auto& packed = key.packed;
  std::size_t i = key.hash & (slots_.size() - 1);
  while (slots_[i] != 0) {
    const std::uint32_t row = slots_[i] - 1;
    if (packed) {
      if (ids[row] == *packed && (odd_ids_.empty() || odd_ids_.count(row) == 0)) return row;
    } else if (auto it = odd_ids_.find(row); it != odd_ids_.end() && it->second == id) {
      return row;
    }
    i = (i + 1) & (slots_.size() - 1);
  }
  return std::nullopt;
}

void FriendStore::prefetch(std::uint32_t row) const {
  const std::size_t w = row >> 6;
  __builtin_prefetch(&score[row]);
  __builtin_prefetch(&blocked.words[w]);
  __builtin_prefetch(&friend_since[row]);
  for (const auto& t : tags) __builtin_prefetch(&t.words[w]);
  for (const auto& n : named_scores) __builtin_prefetch(&n[row]);
  for (const auto& f : fields) {
    __builtin_prefetch(&f.values[row]);
    __builtin_prefetch(&f.known.words[w]);
  }
  for (const auto& l : links) {
    __builtin_prefetch(&l.clicks[row]);
    __builtin_prefetch(&l.last[row]);
  }
}

void FriendStore::prefetch_id(const IdKey& key) const { __builtin_prefetch(&slots_[key.hash & (slots_.size() - 1)]); }

std::optional<std::uint32_t> FriendStore::peek(const IdKey& key) const {
  const std::uint32_t s = slots_[key.hash & (slots_.size() - 1)];
  if (s == 0) return std::nullopt;
  return s - 1;
}

std::string FriendStore::id_of(std::uint32_t row) const {
  auto it = odd_ids_.find(row);
  if (it != odd_ids_.end()) return it->second;
  return unpack_line_id(ids[row]);
}

std::string_view FriendStore::id_view(std::uint32_t row, IdText& scratch) const {
  if (!odd_ids_.empty()) {
    auto it = odd_ids_.find(row);
    if (it != odd_ids_.end()) return it->second;
  }
  unpack_into(ids[row], scratch.text);
  return {scratch.text, sizeof scratch.text};
}

std::uint32_t FriendStore::add(std::string_view id) {
  const auto row = static_cast<std::uint32_t>(size_);
  each_value_column([](auto& column, auto unknown) { column.push_back(unknown); });
  if (auto p = pack_line_id(id)) {
    ids.back() = *p;
  } else {
    odd_ids_.emplace(row, std::string(id));
  }
  ++size_;
  blocked.resize(size_);
  for (auto& b : tags) b.resize(size_);
  for (auto& b : audiences) b.resize(size_);
  for (auto& b : visited) b.resize(size_);
  // A field with a default starts with it (language.md, `field NAME: TYPE = DEFAULT`).
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto& f = fields[i];
    const auto& info = schema_->fields[i];
    f.known.resize(size_);
    if (!info.has_default) {
      f.values.push_back(0);
      continue;
    }
    f.values.push_back(info.type.kind == TypeKind::Text ? texts.intern(info.default_text) : info.default_value);
    f.known.set(row, true);
  }
  if (size_ * 2 > slots_.size()) {
    grow_slots();
  } else {
    insert_slot(row);
  }
  return row;
}

void FriendStore::grow_to(std::size_t n, unsigned threads) {
  if (n <= size_) return;
  const std::size_t from = size_;
  size_ = n;
  // Each column is grown on its own (they are independent), spread over the threads: filling
  // the columns of millions of friends is mostly the system zeroing pages.
  std::vector<std::function<void()>> jobs;
  auto grow = [&](auto& v, auto value) {
    jobs.emplace_back([&v, value, n] {
      reserve_huge(v, n);
      v.resize(n, value);
    });
  };
  each_value_column(grow);
  jobs.emplace_back([this, n] {
    blocked.resize(n);
    for (auto& b : tags) b.resize(n);
    for (auto& b : audiences) b.resize(n);
    for (auto& b : visited) b.resize(n);
  });
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto& f = fields[i];
    const auto& info = schema_->fields[i];
    const std::int64_t value = !info.has_default                  ? 0
                               : info.type.kind == TypeKind::Text ? texts.intern(info.default_text)
                                                                  : info.default_value;
    jobs.emplace_back([&f, value, n, from, known = info.has_default] {
      reserve_huge(f.values, n);
      f.values.resize(n, value);
      f.known.resize(n);
      if (known) {
        for (std::size_t r = from; r < n; ++r) f.known.set(r, true);
      }
    });
  }
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t j = next++; j < jobs.size(); j = next++) jobs[j]();
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads) && t < jobs.size(); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

void FriendStore::set_odd_id(std::uint32_t row, std::string_view id) {
  ids[row] = PackedId{};
  odd_ids_[row] = std::string(id);
}

namespace {
bool same_id(const PackedId& a, const PackedId& b) {
  std::uint64_t x[2], y[2];
  std::memcpy(x, a.data(), 16);
  std::memcpy(y, b.data(), 16);
  return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}
}  // namespace

std::optional<std::uint32_t> FriendStore::index_rows(std::uint32_t from, std::uint32_t to, unsigned threads) {
  std::size_t want = slots_.size();
  while (want < size_ * 2) want *= 2;
  if (want != slots_.size()) {
    std::vector<std::uint32_t>().swap(slots_);
    reserve_huge(slots_, want);
    slots_.assign(want, 0);
    for (std::uint32_t r = 0; r < from; ++r) insert_slot(r);
  }
  const std::size_t mask = slots_.size() - 1;
  // Slots are looked up a few rows ahead of time, so that the memory waits overlap.
  constexpr std::uint32_t kAhead = 16;
  // Rows of LINE ids only, many of them: several threads claim slots with compare-and-swap. A
  // duplicate seen there is found again by the serial pass below, which names the first one.
  if (threads > 1 && odd_ids_.empty() && to - from >= 100000) {
    std::atomic<bool> duplicate{false};
    auto part = [&](std::uint32_t b, std::uint32_t e) {
      for (std::uint32_t r = b; r < e && r < b + kAhead; ++r) __builtin_prefetch(&slots_[hash_packed(ids[r]) & mask]);
      for (std::uint32_t row = b; row < e; ++row) {
        if (row + kAhead < e) __builtin_prefetch(&slots_[hash_packed(ids[row + kAhead]) & mask]);
        std::size_t i = hash_packed(ids[row]) & mask;
        while (true) {
          std::uint32_t cur = __atomic_load_n(&slots_[i], __ATOMIC_ACQUIRE);
          if (cur == 0 &&
              __atomic_compare_exchange_n(&slots_[i], &cur, row + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            break;
          if (cur != 0 && same_id(ids[cur - 1], ids[row])) {
            duplicate = true;
            return;
          }
          if (cur != 0) i = (i + 1) & mask;
        }
      }
    };
    std::vector<std::thread> pool;
    const std::uint32_t n = to - from;
    for (unsigned t = 1; t < threads; ++t)
      pool.emplace_back(part, from + n / threads * t, t + 1 == threads ? to : from + n / threads * (t + 1));
    part(from, from + n / threads);
    for (auto& t : pool) t.join();
    if (!duplicate) return std::nullopt;
    std::fill(slots_.begin(), slots_.end(), 0);
    for (std::uint32_t r = 0; r < from; ++r) insert_slot(r);
  }
  for (std::uint32_t r = from; r < to && r < from + kAhead; ++r) __builtin_prefetch(&slots_[hash_of_row(r) & mask]);
  for (std::uint32_t row = from; row < to; ++row) {
    if (row + kAhead < to) __builtin_prefetch(&slots_[hash_of_row(row + kAhead) & mask]);
    std::size_t i = hash_of_row(row) & mask;
    const auto odd = odd_ids_.empty() ? odd_ids_.end() : odd_ids_.find(row);
    while (slots_[i] != 0) {
      const std::uint32_t other = slots_[i] - 1;
      const auto other_odd = odd_ids_.empty() ? odd_ids_.end() : odd_ids_.find(other);
      const bool same = odd == odd_ids_.end() ? other_odd == odd_ids_.end() && same_id(ids[other], ids[row])
                                              : other_odd != odd_ids_.end() && other_odd->second == odd->second;
      if (same) return row;
      i = (i + 1) & mask;
    }
    slots_[i] = row + 1;
  }
  return std::nullopt;
}

std::size_t FriendStore::core_bytes() const {
  std::size_t b = ids.capacity() * sizeof(PackedId) + slots_.capacity() * 4 + gender.capacity() + age.capacity() * 2 +
                  region.capacity() + friend_since.capacity() * 4 +
                  (source.capacity() + display_name.capacity() + language.capacity()) * 4 + blocked.bytes() +
                  score.capacity() * 8 + age8.capacity() + score8.capacity();
  for (const auto& t : tags) b += t.bytes();
  return b;
}

bool FriendStore::scan_columns_agree() const {
  if (age8.size() != size_ || score8.size() != size_) return false;
  for (std::size_t r = 0; r < size_; ++r) {
    if (age8[r] != narrow_age(age[r]) || score8[r] != narrow_value(score[r])) return false;
  }
  return true;
}

}  // namespace okuri::rt
