// Built-in functions written once, called by the interpreter directly and by
// JIT-compiled code through their C names. Pure functions over plain values.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
// Text (UTF-8 byte strings).
int okuri_std_contains(const char* hay, std::size_t hay_len, const char* needle, std::size_t needle_len);
int okuri_std_starts_with(const char* s, std::size_t s_len, const char* prefix, std::size_t prefix_len);
int okuri_std_text_eq(const char* a, std::size_t a_len, const char* b, std::size_t b_len);
// `visited("pattern")`: `*` matches any run of characters; otherwise the pattern must occur in the URL.
int okuri_std_url_matches(const char* pattern, std::size_t pattern_len, const char* url, std::size_t url_len);
// Dates as days since 1970-01-01.
std::int64_t okuri_std_month(std::int64_t days);
std::int64_t okuri_std_day(std::int64_t days);
std::int64_t okuri_std_weekday(std::int64_t days);  // 0 mon … 6 sun
// A moment (seconds since the epoch) in a time zone (an okuri::stdlib::Zone*).
std::int64_t okuri_std_local_days(std::int64_t seconds, const void* zone);
std::int64_t okuri_std_local_minute(std::int64_t seconds, const void* zone);
}

namespace okuri::stdlib {

// The version of the functions' C interface; part of the JIT's object cache key.
inline constexpr int kAbiVersion = 1;

// A time zone with a fast path for zones without daylight saving (Asia/Tokyo).
class Zone {
 public:
  explicit Zone(const char* iana_name);
  ~Zone();
  Zone(const Zone&) = delete;
  Zone& operator=(const Zone&) = delete;
  // Offset from UTC in seconds at the given moment.
  std::int64_t offset_at(std::int64_t utc_seconds) const;
  std::int64_t local_days(std::int64_t utc_seconds) const;
  std::int64_t local_minute(std::int64_t utc_seconds) const;  // minute of the local day
  // UTC seconds of a local day and minute.
  std::int64_t to_utc(std::int64_t local_days, std::int64_t minute) const;

 private:
  const void* zone_;
  bool fixed_ = false;
  std::int64_t fixed_offset_ = 0;
};

}  // namespace okuri::stdlib
