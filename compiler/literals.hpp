// Literal values of the language and their validation (E007).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace okuri {

struct CivilDate {
  int year = 1970;
  int month = 1;
  int day = 1;
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

// Minutes since midnight, 0..1439.
using MinuteOfDay = int;

struct CivilDateTime {
  CivilDate date;
  MinuteOfDay minute = 0;
  friend bool operator==(const CivilDateTime&, const CivilDateTime&) = default;
};

// `2026-12-01`; nullopt when the shape is wrong or the day does not exist.
std::optional<CivilDate> parse_date(std::string_view s);
// `10:00`; nullopt outside 00:00–23:59.
std::optional<MinuteOfDay> parse_time_of_day(std::string_view s);
// `2026-12-01 10:00`.
std::optional<CivilDateTime> parse_datetime(std::string_view s);
// `30m`, `2h`, `1d`, `2w`, `90s` → seconds.
std::optional<std::int64_t> parse_duration(std::string_view s);
// Decoded text literal (without quotes); nullopt on an unknown escape.
std::optional<std::string> unescape_text(std::string_view quoted);
bool is_leap_year(int y);
int days_in_month(int y, int m);
// Days since 1970-01-01 (proleptic Gregorian).
std::int64_t days_from_civil(const CivilDate& d);
CivilDate civil_from_days(std::int64_t days);
// An IANA time zone name known to the system's tz database.
bool is_valid_time_zone(std::string_view name);
// Seconds since the epoch (UTC) of a local date and time in an IANA zone
// (an unknown zone counts as Asia/Tokyo; a skipped local time moves forward).
std::int64_t local_to_utc_seconds(const CivilDateTime& dt, std::string_view tz);
// Human forms: "2026-12-01", "10:00", "3d", "2026-12-01 10:00".
std::string format_date(const CivilDate& d);
std::string format_time(MinuteOfDay m);
std::string format_duration(std::int64_t seconds);

}  // namespace okuri
