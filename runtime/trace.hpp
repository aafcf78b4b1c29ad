// The trace: "why did U1 get `invite`, why not" (`okuri explain`, `simulate --trace`). Text is
// only built when someone listens, for the friend they listen to: the engine asks `on(row)`
// before it formats anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/flow_plan.hpp"
#include "runtime/event_input.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/interpreter.hpp"

namespace okuri::rt {

enum class TraceKind {
  Event,    // an input event or a timer for this friend
  Raised,   // tag_added / tag_removed / field_changed raised by an action
  Rule,     // a rule fired
  Enter,    // entered a scenario (or a broadcast reached the friend)
  NoEnter,  // a start matched but did not enter (condition false, restart policy)
  Leave,    // left a scenario (stop, stop when, restart, exit)
  Branch,   // an `if` decided, with the values that decided it
  Split,    // a split arm was assigned
  Wait,     // waiting at a step until a time, or for cases
  Case,     // a `wait … for` case (or the timeout) was taken
  Send,     // a delivery was made (or deferred, or skipped)
  Action,   // tag, score, set, menu, notify …
  Goal,     // a goal was reached (converted)
  End,      // reached the end of a scenario
  Error,    // the engine stopped something that would not end (cascade limit)
};
const char* to_string(TraceKind k);

struct TraceEntry {
  std::int64_t time = 0;
  std::uint32_t row = 0;
  TraceKind kind = TraceKind::Event;
  std::int32_t flow = -1;
  std::string node;
  std::string text;
};

class Tracer {
 public:
  Tracer(bool on, std::optional<std::uint32_t> only_row, std::uint32_t rows_below)
      : on_(on), only_(only_row), below_(rows_below) {}
  // Whether anyone listens to this friend's story (check before formatting anything).
  bool on(std::uint32_t row) const { return on_ && (!only_ || *only_ == row) && row < below_; }
  void note(std::int64_t time, std::uint32_t row, TraceKind k, std::int32_t flow, std::string node, std::string text) {
    entries_.push_back(TraceEntry{time, row, k, flow, std::move(node), std::move(text)});
  }
  const std::vector<TraceEntry>& entries() const { return entries_; }

 private:
  bool on_;
  std::optional<std::uint32_t> only_;
  std::uint32_t below_;
  std::vector<TraceEntry> entries_;
};

// How values read in a trace: "age=24, region=tokyo, tagged(vip)=false" — the loads of a
// predicate and their values now, enumerations by name.
struct TraceValues {
  const plan::Plan& plan;
  const FriendStore& store;
  const stdlib::Zone& zone;
  const EventCatalog& catalog;
  std::string inputs(const ir::Predicate& pr, std::uint32_t row, const EvalEnv& env, const EventValues* ev,
                     const InputEvent* event) const;
  // `link_clicked(trial_lp) url="…" [webhook]`, enumeration values by name.
  std::string describe(const InputEvent& e) const;
};

// A value as people read it (`unknown` when it is not known).
std::string value_text(const Value& v, const Type& t, const std::vector<std::string>& values, const stdlib::Zone& zone);

}  // namespace okuri::rt
