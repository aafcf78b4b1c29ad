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

std::size_t AggregationUnits::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return names_.size();
}

void AggregationUnits::read(LineApi& api, std::int64_t now) {
  read_at_ = now;
  std::set<std::string> names;
  std::string start;
  // Pages of up to 1,000 names, each continued by its `next` token; bounded, so that a peer that
  // always says `next` cannot hold the sender.
  for (int page = 0; page < 10; ++page) {
    const auto a = api.get("/v2/bot/message/aggregation/list?limit=1000" +
                           (start.empty() ? "" : "&start=" + url_path_segment(start)));
    if (a.status != 200) return;  // what is known stands
    const auto j = nlohmann::json::parse(a.body, nullptr, false);
    if (!j.is_object() || !j.contains("customAggregationUnits") || !j["customAggregationUnits"].is_array()) return;
    for (const auto& n : j["customAggregationUnits"]) {
      if (n.is_string()) names.insert(n.get<std::string>());
    }
    if (!j.contains("next") || !j["next"].is_string() || j["next"].get<std::string>() == start) break;
    start = j["next"].get<std::string>();
  }
  names_ = std::move(names);
  full_ = false;
}

bool refused_for_units(int status, const std::string& body) {
  if (status != 400) return false;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() && j.dump().find("customAggregationUnits") != std::string::npos;
}

}  // namespace okuri::svc
