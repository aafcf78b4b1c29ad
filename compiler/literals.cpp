#include "compiler/literals.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <charconv>

namespace okuri {
namespace {

bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

bool is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

std::optional<CivilDate> parse_date(std::string_view s) {
  const auto d1 = s.find('-');
  if (d1 == std::string_view::npos) return std::nullopt;
  const auto d2 = s.find('-', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  CivilDate d;
  if (!parse_int(s.substr(0, d1), d.year) || !parse_int(s.substr(d1 + 1, d2 - d1 - 1), d.month) ||
      !parse_int(s.substr(d2 + 1), d.day)) {
    return std::nullopt;
  }
  if (d.year < 1900 || d.year > 9999 || d.month < 1 || d.month > 12) return std::nullopt;
  if (d.day < 1 || d.day > days_in_month(d.year, d.month)) return std::nullopt;
  return d;
}

std::optional<MinuteOfDay> parse_time_of_day(std::string_view s) {
  const auto c = s.find(':');
  if (c == std::string_view::npos) return std::nullopt;
  int h = 0;
  int m = 0;
  if (!parse_int(s.substr(0, c), h) || !parse_int(s.substr(c + 1), m)) return std::nullopt;
  if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::optional<CivilDateTime> parse_datetime(std::string_view s) {
  const auto sp = s.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto d = parse_date(s.substr(0, sp));
  auto rest = s.substr(sp);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto t = parse_time_of_day(rest);
  if (!d || !t) return std::nullopt;
  return CivilDateTime{*d, *t};
}

std::optional<std::int64_t> parse_duration(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() - 1) return std::nullopt;
  std::int64_t unit = 0;
  switch (s.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return std::nullopt;
  }
  if (n > (std::int64_t{1} << 40)) return std::nullopt;
  return n * unit;
}

std::optional<std::string> unescape_text(std::string_view q) {
  if (q.size() >= 2 && q.front() == '"' && q.back() == '"') q = q.substr(1, q.size() - 2);
  std::string out;
  out.reserve(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q[i] != '\\') {
      out.push_back(q[i]);
      continue;
    }
    if (++i >= q.size()) return std::nullopt;
    switch (q[i]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'n':
        out.push_back('\n');
        break;
      default:
        return std::nullopt;
    }
  }
  return out;
}

std::int64_t days_from_civil(const CivilDate& d) {
  // Howard Hinnant's days_from_civil.
  int y = d.year;
  const unsigned m = static_cast<unsigned>(d.month);
  const unsigned dd = static_cast<unsigned>(d.day);
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

bool is_valid_time_zone(std::string_view name) {
  if (name.empty()) return false;
  // Projects name one zone, checked on every compile: remember the last answer.
  thread_local std::string last_name;
  thread_local bool last_valid = false;
  if (name == last_name) return last_valid;
  bool valid = false;
  try {
    (void)date::locate_zone(name);
    valid = true;
  } catch (const std::exception&) {
    valid = false;
  }
  last_name = std::string(name);
  last_valid = valid;
  return valid;
}

std::int64_t local_to_utc_seconds(const CivilDateTime& dt, std::string_view tz) {
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(tz);
  } catch (const std::exception&) {
    zone = date::locate_zone("Asia/Tokyo");
  }
  const auto local = date::local_days{date::days{days_from_civil(dt.date)}} + std::chrono::minutes{dt.minute};
  const auto info = zone->get_info(local);
  // Unique and ambiguous times take the first offset; a time in a gap uses the
  // offset before the gap, which lands after it.
  return std::chrono::duration_cast<std::chrono::seconds>((local - info.first.offset).time_since_epoch()).count();
}

std::string format_date(const CivilDate& d) { return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day); }

std::string format_time(MinuteOfDay m) { return fmt::format("{:02}:{:02}", m / 60, m % 60); }

std::string format_duration(std::int64_t s) {
  if (s != 0 && s % (7 * 86400) == 0) return fmt::format("{}w", s / (7 * 86400));
  if (s != 0 && s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s != 0 && s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s != 0 && s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

}  // namespace okuri
