#include "runtime/friend_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

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

namespace {
int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace

std::optional<PackedId> pack_line_id(std::string_view id) {
  if (id.size() != 33 || id[0] != 'U') return std::nullopt;
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
}

std::string unpack_line_id(const PackedId& p) {
  static const char* const kHex = "0123456789abcdef";
  std::string s = "U";
  for (auto b : p) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
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

void FriendStore::reserve(std::size_t n) {
  ids.reserve(n);
  gender.reserve(n);
  age.reserve(n);
  age8.reserve(n);
  score8.reserve(n);
  region.reserve(n);
  friend_since.reserve(n);
  source.reserve(n);
  display_name.reserve(n);
  language.reserve(n);
  score.reserve(n);
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

std::size_t FriendStore::hash_of(std::string_view id) const {
  if (auto p = pack_line_id(id)) return hash_packed(*p);
  return std::hash<std::string_view>{}(id);
}

bool FriendStore::row_has_id(std::uint32_t row, std::string_view id) const {
  auto it = odd_ids_.find(row);
  if (it != odd_ids_.end()) return it->second == id;
  auto p = pack_line_id(id);
  return p && *p == ids[row];
}

void FriendStore::insert_slot(std::uint32_t row) {
  const std::string id = id_of(row);
  std::size_t i = hash_of(id) & (slots_.size() - 1);
  while (slots_[i] != 0) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = row + 1;
}

void FriendStore::grow_slots() {
  slots_.assign(slots_.size() * 2, 0);
  for (std::uint32_t r = 0; r < size_; ++r) insert_slot(r);
}

std::optional<std::uint32_t> FriendStore::find(std::string_view id) const {
  // The id is parsed once; LINE ids compare packed, other ids by text.
  const auto packed = pack_line_id(id);
  std::size_t i = (packed ? hash_packed(*packed) : std::hash<std::string_view>{}(id)) & (slots_.size() - 1);
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

void FriendStore::prefetch_id(std::string_view id) const { __builtin_prefetch(&slots_[hash_of(id) & (slots_.size() - 1)]); }

std::optional<std::uint32_t> FriendStore::peek(std::string_view id) const {
  const std::uint32_t s = slots_[hash_of(id) & (slots_.size() - 1)];
  if (s == 0) return std::nullopt;
  return s - 1;
}

std::string FriendStore::id_of(std::uint32_t row) const {
  auto it = odd_ids_.find(row);
  if (it != odd_ids_.end()) return it->second;
  return unpack_line_id(ids[row]);
}

std::uint32_t FriendStore::add(std::string_view id) {
  const auto row = static_cast<std::uint32_t>(size_);
  if (auto p = pack_line_id(id)) {
    ids.push_back(*p);
  } else {
    ids.push_back(PackedId{});
    odd_ids_.emplace(row, std::string(id));
  }
  ++size_;
  gender.push_back(0);
  age.push_back(kUnknownAge);
  age8.push_back(kNarrowUnknown);
  score8.push_back(0);
  region.push_back(0);
  friend_since.push_back(kUnknownDays);
  source.push_back(kUnknownText);
  display_name.push_back(kUnknownText);
  language.push_back(kUnknownText);
  score.push_back(0);
  blocked.resize(size_);
  for (auto& b : tags) b.resize(size_);
  for (auto& b : audiences) b.resize(size_);
  for (auto& b : visited) b.resize(size_);
  for (auto& s : named_scores) s.push_back(0);
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
  for (auto& l : links) {
    l.clicks.push_back(0);
    l.last.push_back(0);
  }
  for (auto& m : messages) {
    m.sent.push_back(0);
    m.opened.push_back(0);
    m.last_opened.push_back(0);
  }
  if (size_ * 2 > slots_.size()) {
    grow_slots();
  } else {
    insert_slot(row);
  }
  return row;
}

std::size_t FriendStore::core_bytes() const {
  std::size_t b = ids.capacity() * sizeof(PackedId) + slots_.capacity() * 4 + gender.capacity() + age.capacity() * 2 +
                  region.capacity() + friend_since.capacity() * 4 + (source.capacity() + display_name.capacity() + language.capacity()) * 4 +
                  blocked.bytes() + score.capacity() * 8 + age8.capacity() + score8.capacity();
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

// ------------------------------------------------------------------ loading

namespace {

struct RowError {
  std::string column;
  std::string value;
  std::string why;
};

std::vector<std::string> split_list(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b <= s.size()) {
    auto e = s.find(sep, b);
    if (e == std::string_view::npos) e = s.size();
    std::string item(s.substr(b, e - b));
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(std::move(item));
    b = e + 1;
  }
  return out;
}

bool parse_i64(std::string_view s, std::int64_t& v) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

// RFC 3339 (`2026-01-05T12:00:00+09:00`, `Z`, fractional seconds) or a local
// `2026-01-05 12:00` → seconds since the epoch.
std::optional<std::int64_t> parse_moment(std::string_view s, const stdlib::Zone& zone) {
  if (s.size() < 16) return std::nullopt;
  auto d = parse_date(s.substr(0, 10));
  if (!d || (s[10] != 'T' && s[10] != ' ')) return std::nullopt;
  int hh = 0, mm = 0, ss = 0;
  auto num = [&](std::size_t at, int& out) {
    if (at + 2 > s.size()) return false;
    const auto r = std::from_chars(s.data() + at, s.data() + at + 2, out);
    return r.ec == std::errc() && r.ptr == s.data() + at + 2;
  };
  if (!num(11, hh) || s[13] != ':' || !num(14, mm)) return std::nullopt;
  std::size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!num(17, ss)) return std::nullopt;
    i = 19;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  const std::int64_t days = days_from_civil(*d);
  const std::int64_t local = days * 86400 + hh * 3600 + mm * 60 + ss;
  if (i == s.size()) return zone.to_utc(days, hh * 60 + mm) + ss;
  if (s[i] == 'Z' && i + 1 == s.size()) return local;
  if ((s[i] == '+' || s[i] == '-') && i + 6 == s.size() && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (!num(i + 1, oh) || !num(i + 4, om)) return std::nullopt;
    const std::int64_t off = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    return local - off;
  }
  return std::nullopt;
}

std::optional<std::uint8_t> parse_gender(std::string_view s) {
  if (s == "male" || s == "男性" || s == "男") return 1;
  if (s == "female" || s == "女性" || s == "女") return 2;
  if (s == "other" || s == "その他") return 3;
  return std::nullopt;
}

std::optional<std::uint8_t> parse_region(std::string_view s) {
  if (auto c = stdlib::canonical_prefecture(s)) {
    for (const auto& p : stdlib::prefectures()) {
      if (p.name == *c) return static_cast<std::uint8_t>(p.code);
    }
  }
  for (const auto& p : stdlib::prefectures()) {
    if (p.kanji == s) return static_cast<std::uint8_t>(p.code);
    // 東京 for 東京都, 大阪 for 大阪府, 北海道 as is.
    if (p.kanji.size() > 3 && p.kanji.substr(0, p.kanji.size() - 3) == s) return static_cast<std::uint8_t>(p.code);
  }
  return std::nullopt;
}

// A value as the loader sees it: text (CSV, or a JSON string/number/bool), or a list.
struct Cell {
  bool null = true;
  std::string text;
  bool is_list = false;
  std::vector<std::string> list;
  bool is_bool = false;
  bool boolean = false;
  bool is_number = false;
};

class RowLoader {
 public:
  RowLoader(FriendStore& s, const stdlib::Zone& zone) : s_(s), zone_(zone) {}

  // Applies one cell to `row`; returns an error description or nothing.
  std::optional<RowError> apply(std::uint32_t row, const std::string& col, const Cell& c) {
    if (c.null || (!c.is_list && c.text.empty())) return std::nullopt;  // unknown
    auto err = [&](std::string why) { return RowError{col, c.is_list ? join(c.list) : c.text, std::move(why)}; };
    const auto& schema = s_.schema();
    if (col == "id") return std::nullopt;
    if (col == "gender") {
      auto g = parse_gender(c.text);
      if (!g) return err("is not a gender (male, female or other)");
      s_.gender[row] = *g;
    } else if (col == "age") {
      std::int64_t v = 0;
      if (!parse_i64(c.text, v) || v < 0 || v > 150) return err("is not an age (a whole number 0–150)");
      s_.set_age(row, static_cast<std::int16_t>(v));
    } else if (col == "region") {
      auto r = parse_region(c.text);
      if (!r) return err("is not a prefecture (tokyo, osaka, … or 東京都)");
      s_.region[row] = *r;
    } else if (col == "friend_since") {
      if (auto d = parse_date(c.text); d && c.text.size() <= 10) {
        s_.friend_since[row] = static_cast<std::int32_t>(days_from_civil(*d));
      } else if (auto m = parse_moment(c.text, zone_)) {
        s_.friend_since[row] = static_cast<std::int32_t>(zone_.local_days(*m));
      } else {
        return err("is not a date (YYYY-MM-DD) or an RFC 3339 time");
      }
    } else if (col == "source" || col == "display_name" || col == "language") {
      auto& column = col == "source" ? s_.source : col == "display_name" ? s_.display_name : s_.language;
      column[row] = s_.texts.intern(c.text);
    } else if (col == "blocked") {
      auto b = boolean(c);
      if (!b) return err("is not true or false");
      s_.blocked.set(row, *b);
    } else if (col == "score") {
      std::int64_t v = 0;
      if (!parse_i64(c.text, v)) return err("is not a whole number");
      s_.set_score(row, v);
    } else if (col.rfind("score.", 0) == 0) {
      const auto name = col.substr(6);
      auto it = std::find(schema.scores.begin(), schema.scores.end(), name);
      if (it == schema.scores.end()) return err("names a score the project does not declare");
      std::int64_t v = 0;
      if (!parse_i64(c.text, v)) return err("is not a whole number");
      s_.named_scores[static_cast<std::size_t>(it - schema.scores.begin())][row] = v;
    } else if (col == "tags" || col == "audiences") {
      const auto& names = col == "tags" ? schema.tags : schema.audiences;
      auto& bitmaps = col == "tags" ? s_.tags : s_.audiences;
      for (const auto& t : items(c)) {
        auto it = std::find(names.begin(), names.end(), t);
        if (it == names.end()) {
          ignored_values_.push_back(fmt::format("{} `{}`", col == "tags" ? "tag" : "audience", t));
          continue;
        }
        bitmaps[static_cast<std::size_t>(it - names.begin())].set(row, true);
      }
    } else if (const int f = schema.field_index(col); f >= 0) {
      return field(row, static_cast<std::size_t>(f), c, err);
    } else {
      ignored_columns_.insert(col);
    }
    return std::nullopt;
  }

  std::set<std::string> ignored_columns_;
  std::vector<std::string> ignored_values_;

 private:
  FriendStore& s_;
  const stdlib::Zone& zone_;

  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ";") + x;
    return s;
  }

  static std::vector<std::string> items(const Cell& c) { return c.is_list ? c.list : split_list(c.text, ';'); }

  static std::optional<bool> boolean(const Cell& c) {
    if (c.is_bool) return c.boolean;
    if (c.text == "true" || c.text == "TRUE" || c.text == "1") return true;
    if (c.text == "false" || c.text == "FALSE" || c.text == "0") return false;
    return std::nullopt;
  }

  template <typename Err>
  std::optional<RowError> field(std::uint32_t row, std::size_t f, const Cell& c, Err err) {
    const auto& info = s_.schema().fields[f];
    auto& col = s_.fields[f];
    std::int64_t v = 0;
    switch (info.type.kind) {
      case TypeKind::Int:
        if (!parse_i64(c.text, v)) return err("is not a whole number");
        break;
      case TypeKind::Bool: {
        auto b = boolean(c);
        if (!b) return err("is not true or false");
        v = *b ? 1 : 0;
        break;
      }
      case TypeKind::Text:
        v = s_.texts.intern(c.text);
        break;
      case TypeKind::Date: {
        auto d = parse_date(c.text);
        if (!d || c.text.size() > 10) return err("is not a date (YYYY-MM-DD)");
        v = days_from_civil(*d);
        break;
      }
      case TypeKind::DateTime: {
        auto m = parse_moment(c.text, zone_);
        if (!m) return err("is not a date and time (RFC 3339, such as 2026-01-20T18:00:00+09:00)");
        v = *m;
        break;
      }
      case TypeKind::Duration: {
        auto d = parse_duration(c.text);
        if (!d) return err("is not a duration (30m, 2h, 1d, 2w)");
        v = *d;
        break;
      }
      case TypeKind::Time: {
        auto t = parse_time_of_day(c.text);
        if (!t) return err("is not a time of day (HH:MM)");
        v = *t;
        break;
      }
      case TypeKind::Enum: {
        auto it = std::find(info.values.begin(), info.values.end(), c.text);
        if (it == info.values.end()) return err(fmt::format("is not a {}", info.name));
        v = it - info.values.begin();
        break;
      }
      case TypeKind::Set:
        for (const auto& item : items(c)) {
          auto it = std::find(info.values.begin(), info.values.end(), item);
          if (it == info.values.end()) return err(fmt::format("holds `{}`, which is not a {} value", item, info.name));
          v |= std::int64_t{1} << (it - info.values.begin());
        }
        break;
      case TypeKind::Error:
        return std::nullopt;
    }
    col.values[row] = v;
    col.known.set(row, true);
    return std::nullopt;
  }
};

// Splits one CSV record (RFC 4180: quotes, doubled quotes, commas inside quotes).
// Returns false on an unterminated quote. Records may not span lines.
bool split_csv(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::string cur;
  bool quoted = false;
  bool was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"' && cur.empty() && !was_quoted) {
      quoted = true;
      was_quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  if (quoted) return false;
  out.push_back(std::move(cur));
  return true;
}

[[noreturn]] void fail(const std::string& file, std::size_t line, const RowError& e) {
  throw DataError(fmt::format("{}:{}: column `{}`: `{}` {}", file, line, e.column, e.value, e.why));
}

}  // namespace

void load_friends_text(FriendStore& store, const std::string& file, std::string_view text, bool jsonl, LoadProgress* progress) {
  // Lines that end in a carriage return alone (old Mac OS exports) would read as one line: a
  // header and no friends, and no error. Say so instead.
  if (const auto cr = text.find('\r'); cr != std::string_view::npos &&
                                       (cr + 1 == text.size() || text[cr + 1] != '\n') &&
                                       text.find('\n') == std::string_view::npos) {
    throw DataError(
        fmt::format("{}:1: lines end with a carriage return alone; save the file with LF or CRLF line endings", file));
  }
  if (const auto bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    throw DataError(fmt::format("{}:{}: not valid UTF-8 (byte {}); save the file as UTF-8", file, line, bad + 1));
  }
  // Load into a fresh store; the caller's store changes only when every row loaded.
  FriendStore tmp(store.schema());
  tmp.reserve(std::count(text.begin(), text.end(), '\n') + 1);
  const stdlib::Zone zone(store.schema().timezone.c_str());
  RowLoader loader(tmp, zone);
  std::vector<std::string> header;
  std::vector<std::string> cells;
  std::size_t next_report = 0;
  for_each_line(text, [&](std::size_t line_no, std::string_view line, std::size_t pos) {
    if (progress != nullptr && pos >= next_report) {
      progress->update(pos, text.size());
      next_report = pos + (1 << 20);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    if (!jsonl) {
      if (line_no == 1 && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
      if (!split_csv(line, cells)) throw DataError(fmt::format("{}:{}: unterminated quote", file, line_no));
      if (header.empty()) {
        header = cells;
        for (auto& h : header) {
          while (!h.empty() && h.back() == ' ') h.pop_back();
          while (!h.empty() && h.front() == ' ') h.erase(0, 1);
        }
        if (std::find(header.begin(), header.end(), "id") == header.end()) {
          throw DataError(fmt::format("{}:{}: the header has no `id` column", file, line_no));
        }
        return;
      }
      if (cells.size() != header.size()) {
        throw DataError(fmt::format("{}:{}: {} values, but the header has {} columns", file, line_no, cells.size(), header.size()));
      }
      const auto id_col = static_cast<std::size_t>(std::find(header.begin(), header.end(), "id") - header.begin());
      const std::string& id = cells[id_col];
      if (id.empty()) throw DataError(fmt::format("{}:{}: column `id` is empty", file, line_no));
      if (tmp.find(id)) throw DataError(fmt::format("{}:{}: column `id`: `{}` appears twice", file, line_no, id));
      const auto row = tmp.add(id);
      for (std::size_t i = 0; i < header.size(); ++i) {
        Cell c;
        c.null = false;
        c.text = cells[i];
        if (auto err = loader.apply(row, header[i], c)) fail(file, line_no, *err);
      }
      return;
    }
    nlohmann::json j;
    if (stdlib::json_too_deep(line)) {
      throw DataError(fmt::format("{}:{}: not accepted: JSON nested deeper than {} levels", file, line_no,
                                  stdlib::kJsonDepthLimit));
    }
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& ex) {  // a syntax error, or a number out of range
      std::string what = ex.what();
      const auto at = std::min(what.find("parse error"), what.find("number overflow"));
      throw DataError(fmt::format("{}:{}: not valid JSON: {}", file, line_no, at == std::string::npos ? what : what.substr(at)));
    }
    if (!j.is_object()) throw DataError(fmt::format("{}:{}: a friend must be a JSON object", file, line_no));
    auto idv = j.find("id");
    if (idv == j.end() || !idv->is_string() || idv->get<std::string>().empty()) {
      throw DataError(fmt::format("{}:{}: column `id` is missing or not a string", file, line_no));
    }
    const std::string id = idv->get<std::string>();
    if (tmp.find(id)) throw DataError(fmt::format("{}:{}: column `id`: `{}` appears twice", file, line_no, id));
    const auto row = tmp.add(id);
    for (const auto& [key, val] : j.items()) {
      Cell c;
      if (val.is_null()) continue;
      c.null = false;
      if (val.is_string()) {
        c.text = val.get<std::string>();
      } else if (val.is_boolean()) {
        c.is_bool = true;
        c.boolean = val.get<bool>();
        c.text = c.boolean ? "true" : "false";
      } else if (val.is_number_integer()) {
        c.is_number = true;
        c.text = std::to_string(val.get<std::int64_t>());
      } else if (val.is_array()) {
        c.is_list = true;
        for (const auto& item : val) {
          if (!item.is_string()) fail(file, line_no, RowError{key, val.dump(), "must be a list of names"});
          c.list.push_back(item.get<std::string>());
        }
      } else {
        fail(file, line_no, RowError{key, val.dump(), "has a type this column does not take"});
      }
      if (auto err = loader.apply(row, key, c)) fail(file, line_no, *err);
    }
  });
  if (progress != nullptr) progress->update(text.size(), text.size());
  if (store.size() != 0) throw DataError(fmt::format("{}: friends are already loaded", file));
  store = std::move(tmp);
}

void load_friends(FriendStore& store, const std::string& path, LoadProgress* progress) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const bool jsonl = path.size() >= 5 && (path.substr(path.size() - 5) == "jsonl" || path.substr(path.size() - 5) == ".json");
  load_friends_text(store, path, ss.str(), jsonl, progress);
}

}  // namespace okuri::rt
