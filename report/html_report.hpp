// The marketer's view: one self-contained HTML file (no network at view time, readable on a
// phone) with the overview, a flowchart per scenario and broadcast with its counts, every message
// drawn as a friend sees it, A/B results, the month-by-month quota and sampled friends' timelines.
// Every count on the page is read from the JSON report embedded in it (`#okuri-report`), so the
// page and `okuri simulate --report` always agree.
#pragma once

#include <optional>
#include <string>

#include "report/page_data.hpp"
#include "runtime/engine.hpp"
#include "runtime/report_tally.hpp"

namespace okuri::report {

struct HtmlOptions {
  std::optional<bool> ja;  // --lang; unset: Japanese unless the project's messages are all English
  PageLimits limits;
  std::string title;  // the project's name
  std::string source;  // under the title instead of the simulated period (a running account's database)
  // The run's delivery figures: the sample friend of a message is the first it went to.
  const rt::ReportTally* tally = nullptr;
};

// `report_json`: rt::report_json's output for the same engine and period.
// Throws std::runtime_error when Graphviz cannot lay a picture out.
std::string html_report(const rt::Engine& e, const std::string& report_json, const HtmlOptions& o);

// Whether the project speaks Japanese: a message or notification text with Japanese in it.
bool speaks_japanese(const plan::Plan& p);

}  // namespace okuri::report
