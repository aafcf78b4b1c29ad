#include "stdlib/functions.hpp"

#include <date/tz.h>

#include <chrono>
#include <cstring>
#include <string_view>

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void civil(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool glob(std::string_view p, std::string_view s) {
  // Iterative `*` matching.
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && p[pi] == s[si]) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace

extern "C" {

int okuri_std_contains(const char* hay, std::size_t hay_len, const char* needle, std::size_t needle_len) {
  return std::string_view(hay, hay_len).find(std::string_view(needle, needle_len)) != std::string_view::npos ? 1 : 0;
}

int okuri_std_starts_with(const char* s, std::size_t s_len, const char* prefix, std::size_t prefix_len) {
  return s_len >= prefix_len && std::memcmp(s, prefix, prefix_len) == 0 ? 1 : 0;
}

int okuri_std_text_eq(const char* a, std::size_t a_len, const char* b, std::size_t b_len) {
  return a_len == b_len && std::memcmp(a, b, a_len) == 0 ? 1 : 0;
}

int okuri_std_url_matches(const char* pattern, std::size_t pattern_len, const char* url, std::size_t url_len) {
  const std::string_view p(pattern, pattern_len);
  const std::string_view u(url, url_len);
  if (p.find('*') == std::string_view::npos) return u.find(p) != std::string_view::npos ? 1 : 0;
  return glob(p, u) ? 1 : 0;
}

std::int64_t okuri_std_month(std::int64_t days) {
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil(days, y, m, d);
  return m;
}

std::int64_t okuri_std_day(std::int64_t days) {
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil(days, y, m, d);
  return d;
}

std::int64_t okuri_std_weekday(std::int64_t days) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  const std::int64_t w = (days + 3) % 7;
  return w < 0 ? w + 7 : w;
}

std::int64_t okuri_std_local_days(std::int64_t seconds, const void* zone) {
  return static_cast<const okuri::stdlib::Zone*>(zone)->local_days(seconds);
}

std::int64_t okuri_std_local_minute(std::int64_t seconds, const void* zone) {
  return static_cast<const okuri::stdlib::Zone*>(zone)->local_minute(seconds);
}
}

namespace okuri::stdlib {

Zone::Zone(const char* name) {
  const date::time_zone* z = nullptr;
  try {
    z = date::locate_zone(name);
  } catch (const std::exception&) {
    z = date::locate_zone("Asia/Tokyo");
  }
  zone_ = z;
  // A zone whose offset is the same now and over the next and previous years needs no lookups.
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto a = z->get_info(now - std::chrono::hours(24 * 400));
  const auto b = z->get_info(now + std::chrono::hours(24 * 400 * 5));
  if (a.offset == b.offset && a.save == std::chrono::minutes{0} && b.save == std::chrono::minutes{0} &&
      a.end > now + std::chrono::hours(24 * 365 * 5)) {
    fixed_ = true;
    fixed_offset_ = a.offset.count();
  }
}

Zone::~Zone() = default;

std::int64_t Zone::offset_at(std::int64_t utc_seconds) const {
  if (fixed_) return fixed_offset_;
  const auto* z = static_cast<const date::time_zone*>(zone_);
  return z->get_info(std::chrono::sys_seconds{std::chrono::seconds{utc_seconds}}).offset.count();
}

std::int64_t Zone::local_days(std::int64_t utc_seconds) const {
  return floor_div(utc_seconds + offset_at(utc_seconds), 86400);
}

std::int64_t Zone::local_minute(std::int64_t utc_seconds) const {
  const std::int64_t local = utc_seconds + offset_at(utc_seconds);
  return (local - floor_div(local, 86400) * 86400) / 60;
}

std::int64_t Zone::to_utc(std::int64_t local_days, std::int64_t minute) const {
  const auto* z = static_cast<const date::time_zone*>(zone_);
  const auto local = date::local_seconds{std::chrono::seconds{local_days * 86400 + minute * 60}};
  if (fixed_) return local.time_since_epoch().count() - fixed_offset_;
  const auto info = z->get_info(local);
  return (local - info.first.offset).time_since_epoch().count();
}

}  // namespace okuri::stdlib
