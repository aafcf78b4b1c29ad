#include "runtime/push_schedule.hpp"

#include <algorithm>

namespace okuri::rt {

void PushSchedule::grow(std::size_t rows) {
  if (next_free.size() >= rows) return;
  next_free.resize(rows, std::numeric_limits<std::int64_t>::min());
  push_day.resize(rows, std::numeric_limits<std::int64_t>::min());
  push_count.resize(rows, 0);
}

bool PushSchedule::limited(std::uint32_t row, std::int64_t at) const {
  return account_.daily_limit && (push_day[row] == zone_.local_days(at) ? push_count[row] : 0) >=
                                     static_cast<std::uint64_t>(*account_.daily_limit);
}

std::int64_t PushSchedule::outside_quiet_hours(std::int64_t t) const {
  const auto minute = static_cast<MinuteOfDay>(zone_.local_minute(t));
  if (!account_.in_quiet_hours(minute)) return t;
  const std::int64_t day = zone_.local_days(t);
  std::int64_t end = zone_.to_utc(day, *account_.quiet_to);
  if (end <= t) end = zone_.to_utc(day + 1, *account_.quiet_to);
  return end;
}

std::int64_t PushSchedule::book(std::uint32_t row, std::int64_t t, std::string& why) {
  std::int64_t d = std::max({t, next_free[row], throttle_floor});
  // The reason is what stood in the way at the moment the scenario sent it.
  if (account_.in_quiet_hours(static_cast<MinuteOfDay>(zone_.local_minute(t)))) {
    why = "quiet hours";
  } else if (limited(row, t)) {
    why = "daily limit";
  } else if (d > t) {
    why = d == throttle_floor ? "throttle" : "earlier pushes";
  }
  for (int guard = 0; guard < 8; ++guard) {
    const std::int64_t day = zone_.local_days(d);
    const auto minute = static_cast<MinuteOfDay>(zone_.local_minute(d));
    if (account_.in_quiet_hours(minute)) {
      std::int64_t end = zone_.to_utc(day, *account_.quiet_to);
      if (end <= d) end = zone_.to_utc(day + 1, *account_.quiet_to);
      d = end;
      if (why.empty()) why = "quiet hours";
      continue;
    }
    if (limited(row, d)) {
      d = zone_.to_utc(day + 1, 0);
      if (why.empty()) why = "daily limit";
      continue;
    }
    break;
  }
  const std::int64_t day = zone_.local_days(d);
  if (push_day[row] != day) {
    push_day[row] = day;
    push_count[row] = 0;
  }
  ++push_count[row];
  next_free[row] = d;
  return d;
}

}  // namespace okuri::rt
