// What a simulation produced, in the forms people read: deliveries as JSONL,
// the report (funnel per step, deliveries per message, pushes versus free
// replies, LINE messages used against the plan's monthly allowance) as text
// or JSON, and the trace.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/engine.hpp"
#include "runtime/report_tally.hpp"

namespace okuri::rt {

struct ReportOptions {
  std::int64_t from = 0;  // the simulated period (seconds)
  std::int64_t to = 0;
  double overage_price = 3.0;  // yen per message over the standard plan's allowance
  std::map<std::string, std::size_t> ignored_events;  // types recorded and skipped
  std::size_t duplicate_events = 0;
  // The delivery figures, counted as the run went (report_tally.hpp).
  const ReportTally* tally = nullptr;
  // Whether the events say when friends blocked the account: a running account keeps only that
  // they did, so its blocks within 3 days are unknown (null in JSON).
  bool blocks_known = true;
};

// The plan's monthly allowance of pushes: free 200, light 5,000, standard 30,000.
std::int64_t plan_allowance(const std::string& plan);

// The deliveries that went out by `to`, in (time, emission) order.
std::vector<const Delivery*> sorted_deliveries(const Engine& e, std::int64_t to);
std::vector<const Delivery*> sorted_deliveries(const std::vector<Delivery>& all, std::int64_t to);

// One JSONL line (no newline): time, friend, messages, kind, scenario, node, key.
std::string delivery_line(const Engine& e, const Delivery& d, const stdlib::Zone& zone);
// The same appended to `out` (a simulation's buffer of lines: no string per line).
void append_delivery_line(std::string& out, const Engine& e, const Delivery& d, const stdlib::Zone& zone);

// The same as one text line: `2026-03-02T12:00:00+09:00 U1 reply welcome trial_funnel trial_funnel/1`,
// with `(deferred by quiet hours from …)` when it moved. For reading and for hand-written expectations.
std::string delivery_text(const Engine& e, const Delivery& d, const stdlib::Zone& zone);
// A rendered delivery's texts as people read them, each line starting `    │ ` (empty when not rendered).
std::string indented_text(const Engine& e, const Delivery& d);

std::string report_json(const Engine& e, const ReportOptions& o, const stdlib::Zone& zone);
std::string report_text(const Engine& e, const ReportOptions& o, const stdlib::Zone& zone);

// One line per trace entry: `2026-03-02T12:00:00+09:00 U1 enter trial_funnel: …`.
std::string trace_line(const Engine& e, const TraceEntry& t, const stdlib::Zone& zone);

}  // namespace okuri::rt
