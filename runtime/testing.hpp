// `test` blocks run on the engine with a virtual clock (`okuri test`), and
// `okuri explain`: one friend's timeline and why each message did or did not
// reach them.
#pragma once

#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "runtime/engine.hpp"

namespace okuri::rt {

struct TestOutcome {
  std::string name;
  std::string file;  // "tests.okuri:3"
  bool passed = true;
  std::vector<std::string> failures;  // each with the expected and the actual timeline
};

// Runs every `test` block of the program whose name contains `filter` (empty: all).
// Each block gets a fresh engine: friends as declared, events at their times,
// `expect … of` checked at the point in time where it stands, `expect send`
// checked after the clock has run to 90 days past the last event (or the
// latest expected time, whichever is later).
std::vector<TestOutcome> run_tests(const Program& p, const EngineOptions& engine, const std::string& filter = {});

// One line of a friend's timeline as `okuri explain` prints it: `2026-03-02 12:00  send     trial_funnel 1: …`.
std::string timeline_line(const Engine& e, const TraceEntry& t, const stdlib::Zone& zone);

// The friend's timeline and, for every message of the project, whether it
// reached the friend and, if not, why. `e` must have run with a trace of this friend.
// `from_start`: the friend was known before the first event (from a friends file),
// so a broadcast during the run could reach them even before their first event.
std::string explain(Engine& e, std::uint32_t row, std::int64_t to, bool from_start = false);

}  // namespace okuri::rt
