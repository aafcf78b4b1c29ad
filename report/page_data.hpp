// What the report page adds to the simulation's JSON report: the friends at each step (a sample
// with the count), sampled friends' timelines, A/B comparisons, and the quota forecast. The page
// shows counts from the JSON report itself; this is what a click, a search or a verdict needs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "runtime/engine.hpp"

namespace okuri::report {

struct PageLimits {
  std::size_t sample = 20;      // friends listed per step
  std::size_t timelines = 200;  // friends whose timelines the page holds: the first rows, traced
};

// {"places": [flow][node] → {"count", "sample": [ids]}, "timelines": {id: [lines]},
//  "ab": [{"flow", "split", "arms": [{… "rate", "ci": [lo, hi], "vs_control": {…}}]}],
//  "quota_forecast": per month of the report, the pushes the daily rate gives}
// `report`: rt::report_json's output, parsed.
nlohmann::ordered_json page_data(const rt::Engine& e, const nlohmann::ordered_json& report, const PageLimits& limits);

}  // namespace okuri::report
