// Values, columns, and one chunk's rows written into the store: the friends-file loader's
// cells (the file itself is friends_file.cpp).
#include "runtime/friends_chunk.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/literals.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/functions.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::rt::friends_detail {
namespace {

// ------------------------------------------------------------------ values

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

// Every spelling of a prefecture: romaji (and the language's variants), 東京都, and 東京 for
// 東京都 (北海道 as is). Built once; looked up per row.
std::optional<std::uint8_t> parse_region(std::string_view s) {
  static const auto kSpellings = [] {
    Names m;
    for (const auto spelling : stdlib::prefecture_spellings()) {
      const auto canon = stdlib::canonical_prefecture(spelling);
      for (const auto& p : stdlib::prefectures()) {
        if (canon && p.name == *canon) m.add(spelling, static_cast<std::uint32_t>(p.code));
      }
    }
    for (const auto& p : stdlib::prefectures()) {
      m.add(p.kanji, static_cast<std::uint32_t>(p.code));
      if (p.kanji.size() > 3) m.add(p.kanji.substr(0, p.kanji.size() - 3), static_cast<std::uint32_t>(p.code));
    }
    return m;
  }();
  const auto code = kSpellings.find(s);
  if (!code) return std::nullopt;
  return static_cast<std::uint8_t>(*code);
}

}  // namespace

// ------------------------------------------------------------------ columns

Column column_of(const ir::Schema& schema, std::string_view name, const FriendsLoadOptions& o) {
  Column c;
  c.name = std::string(name);
  using Id = stdlib::FriendColumnId;
  if (const auto* fc = stdlib::find_friend_column(name)) {
    switch (fc->id) {
      case Id::Id:
        c.kind = Kind::Id;
        break;
      case Id::Gender:
        c.kind = Kind::Gender;
        break;
      case Id::Age:
        c.kind = Kind::Age;
        break;
      case Id::Region:
        c.kind = Kind::Region;
        break;
      case Id::FriendSince:
        c.kind = Kind::FriendSince;
        break;
      case Id::Source:
        c.kind = Kind::Source;
        break;
      case Id::DisplayName:
        c.kind = Kind::DisplayName;
        break;
      case Id::Language:
        c.kind = Kind::Language;
        break;
      case Id::Blocked:
        c.kind = Kind::Blocked;
        break;
      case Id::Score:
        c.kind = Kind::Score;
        break;
      case Id::Tags:
        c.kind = Kind::Tags;
        break;
      case Id::Audiences:
        c.kind = Kind::Audiences;
        break;
      default:
        break;
    }
  }
  if (c.kind == Kind::Unknown && name.rfind("score.", 0) == 0) {
    const auto it = std::find(schema.scores.begin(), schema.scores.end(), name.substr(6));
    c.kind = Kind::NamedScore;
    c.index = it == schema.scores.end() ? SIZE_MAX : static_cast<std::size_t>(it - schema.scores.begin());
  }
  if (c.kind == Kind::Unknown) {
    if (const int f = schema.field_index(c.name); f >= 0) {
      c.kind = Kind::Field;
      c.index = static_cast<std::size_t>(f);
    }
  }
  if (c.kind != Kind::Unknown && c.kind != Kind::Id && o.columns != nullptr && o.columns->count(c.name) == 0) {
    c.kind = Kind::Skip;
  }
  return c;
}

// ------------------------------------------------------------------ one chunk

namespace {

// Texts a chunk interns are its own until the chunks merge: a column holds -(local id + 2).
constexpr std::int64_t local_text(std::int32_t id) { return -(static_cast<std::int64_t>(id) + 2); }

}  // namespace

void ChunkWriter::set_bit(Bitmap& b, std::uint32_t row) {
  const std::size_t word = row >> 6;
  const std::uint64_t bit = std::uint64_t{1} << (row & 63);
  if (word == first_word_ || word == last_word_) {
    __atomic_fetch_or(&b.words[word], bit, __ATOMIC_RELAXED);
  } else {
    b.words[word] |= bit;
  }
}

void ChunkWriter::set_id(std::uint32_t row, std::string_view id) {
  if (auto p = pack_line_id(id)) {
    s_.set_id(row, *p);
  } else {
    r_.odd_ids.emplace_back(row, std::string(id));
  }
}

std::optional<RowError> ChunkWriter::apply(std::uint32_t row, const Column& col, const Cell& c, std::size_t line) {
  if (col.kind == Kind::Skip || col.kind == Kind::Id) return std::nullopt;
  if (c.list == nullptr && c.text.empty()) return std::nullopt;  // unknown
  auto err = [&](std::string why) {
    return RowError{col.name, c.list != nullptr ? join(*c.list) : std::string(c.text), std::move(why)};
  };
  switch (col.kind) {
    case Kind::Gender: {
      auto g = parse_gender(c.text);
      if (!g) return err("is not a gender (male, female or other)");
      s_.gender[row] = *g;
      break;
    }
    case Kind::Age: {
      std::int64_t v = 0;
      if (!parse_i64(c.text, v) || v < 0 || v > 150) return err("is not an age (a whole number 0–150)");
      s_.set_age(row, static_cast<std::int16_t>(v));
      break;
    }
    case Kind::Region: {
      auto r = parse_region(c.text);
      if (!r) return err("is not a prefecture (tokyo, osaka, … or 東京都)");
      s_.region[row] = *r;
      break;
    }
    case Kind::FriendSince:
      if (auto d = parse_date(c.text); d && c.text.size() <= 10) {
        s_.friend_since[row] = static_cast<std::int32_t>(days_from_civil(*d));
      } else if (auto m = parse_moment(c.text, zone_)) {
        s_.friend_since[row] = static_cast<std::int32_t>(zone_.local_days(*m));
      } else {
        return err("is not a date (YYYY-MM-DD) or an RFC 3339 time");
      }
      break;
    case Kind::Source:
    case Kind::DisplayName:
    case Kind::Language: {
      auto& column = col.kind == Kind::Source        ? s_.source
                     : col.kind == Kind::DisplayName ? s_.display_name
                                                     : s_.language;
      column[row] = static_cast<std::int32_t>(local_text(r_.texts.intern(c.text)));
      break;
    }
    case Kind::Blocked: {
      auto b = boolean(c);
      if (!b) return err("is not true or false");
      if (*b) set_bit(s_.blocked, row);
      break;
    }
    case Kind::Score: {
      std::int64_t v = 0;
      if (!parse_i64(c.text, v)) return err("is not a whole number");
      s_.set_score(row, v);
      break;
    }
    case Kind::NamedScore: {
      if (col.index == SIZE_MAX) return err("names a score the project does not declare");
      std::int64_t v = 0;
      if (!parse_i64(c.text, v)) return err("is not a whole number");
      s_.named_scores[col.index][row] = v;
      break;
    }
    case Kind::Tags:
    case Kind::Audiences: {
      const bool tags = col.kind == Kind::Tags;
      const Names& names = tags ? names_.tags : names_.audiences;
      auto& bitmaps = tags ? s_.tags : s_.audiences;
      for_each_item(c, [&](std::string_view t) {
        const auto i = names.find(t);
        if (!i) {
          auto [u, fresh] = r_.undeclared.try_emplace(fmt::format("{} `{}`", tags ? "tag" : "audience", t), line, 0);
          ++u->second.second;
          return;
        }
        set_bit(bitmaps[*i], row);
      });
      break;
    }
    case Kind::Field:
      return field(row, col.index, c, err);
    case Kind::Skip:
    case Kind::Unknown:
    case Kind::Id:
      break;
  }
  return std::nullopt;
}

std::string ChunkWriter::join(const std::vector<std::string_view>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ";") + std::string(x);
  return s;
}

template <typename F>
void ChunkWriter::for_each_item(const Cell& c, F&& f) {
  if (c.list != nullptr) {
    for (const auto& x : *c.list) f(x);
    return;
  }
  // A byte loop: the items are a few bytes long, shorter than a library search pays for.
  const char* p = c.text.data();
  const char* const end = p + c.text.size();
  const char* item = p;
  for (;; ++p) {
    if (p == end || *p == ';') {
      const auto t = trim_spaces(std::string_view(item, static_cast<std::size_t>(p - item)));
      if (!t.empty()) f(t);
      if (p == end) return;
      item = p + 1;
    }
  }
}

std::optional<bool> ChunkWriter::boolean(const Cell& c) {
  if (c.is_bool) return c.boolean;
  if (c.text == "true" || c.text == "TRUE" || c.text == "1") return true;
  if (c.text == "false" || c.text == "FALSE" || c.text == "0") return false;
  return std::nullopt;
}

template <typename Err>
std::optional<RowError> ChunkWriter::field(std::uint32_t row, std::size_t f, const Cell& c, Err err) {
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
      v = local_text(r_.texts.intern(c.text));
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
      const auto i = names_.field_values[f].find(c.text);
      if (!i) return err(fmt::format("is not a {}", info.name));
      v = *i;
      break;
    }
    case TypeKind::Set: {
      std::optional<RowError> bad;
      for_each_item(c, [&](std::string_view item) {
        if (bad) return;
        const auto i = names_.field_values[f].find(item);
        if (!i) {
          bad = err(fmt::format("holds `{}`, which is not a {} value", item, info.name));
          return;
        }
        v |= std::int64_t{1} << *i;
      });
      if (bad) return bad;
      break;
    }
    case TypeKind::Error:
      return std::nullopt;
  }
  col.values[row] = v;
  set_bit(col.known, row);
  return std::nullopt;
}

}  // namespace okuri::rt::friends_detail
