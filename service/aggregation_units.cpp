// The month's aggregation unit names (see aggregation_units.hpp).
#include "service/aggregation_units.hpp"

#include <nlohmann/json.hpp>

#include "service/line_api.hpp"

namespace okuri::svc {

std::string AggregationUnits::admit(LineApi& api, const std::string& unit, std::int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now - read_at_ >= kReadEvery) read(api, now);  // one worker reads; the others wait a moment
  if (names_.count(unit) != 0) return unit;
  if (full_ || names_.size() >= kMonthlyNames) return {};
  names_.insert(unit);
  return unit;
}

void AggregationUnits::refused(std::int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  full_ = true;
  // Read again soon: a new month empties the list.
  read_at_ = std::min(read_at_, now - kReadEvery + 60);
}

void AggregationUnits::read(LineApi& api, std::int64_t now) {
  read_at_ = now;
  std::set<std::string> names;
  // At most 10 pages of 1,000 names (LINE's cap is 1,000): a peer that always says `next` cannot hold the sender.
  const auto a = read_list(api, "/v2/bot/message/aggregation/list?limit=1000", "customAggregationUnits", 10,
                           [&](std::vector<std::string>&& page) {
                             names.insert(std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
                             return true;
                           });
  if (a.status != 200) return;  // what is known stands
  names_ = std::move(names);
  full_ = false;
}

bool refused_for_units(int status, const std::string& body) {
  if (status != 400) return false;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() && body.find("customAggregationUnits") != std::string::npos;
}

}  // namespace okuri::svc
