// LINE's monthly cap on aggregation unit names (customAggregationUnits, `--aggregation-units`):
// an account may name at most 1,000 units a month, and a request naming one more is refused.
// The sender asks here before each push or multicast: a unit LINE already counts this month, or
// a new one while room remains, goes with the request; past the cap the message goes without its
// unit (statistics are lost for it, the message is not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

namespace okuri::svc {

class LineApi;

class AggregationUnits {
 public:
  static constexpr std::size_t kMonthlyNames = 1000;  // LINE's cap per month
  static constexpr std::int64_t kReadEvery = 600;     // seconds between reads of the month's names

  // The unit to name in a request for `unit`: `unit` itself, or empty when the month's names are
  // full without it. Reads the month's names from LINE (GET /v2/bot/message/aggregation/list) when
  // the last read is older than kReadEvery; when LINE does not answer, what is known stands.
  std::string admit(LineApi& api, const std::string& unit, std::int64_t now);
  // LINE refused a request for its unit names (the cap counted differently, a month begun):
  // no new name is admitted until the next read.
  void refused(std::int64_t now);

 private:
  void read(LineApi& api, std::int64_t now);
  std::mutex mu_;
  std::set<std::string> names_;  // the names LINE counts this month, and those admitted since
  bool full_ = false;            // refused since the last read
  std::int64_t read_at_ = INT64_MIN / 2;
};

// Whether LINE's answer refuses a request for its customAggregationUnits.
bool refused_for_units(int status, const std::string& body);

}  // namespace okuri::svc
