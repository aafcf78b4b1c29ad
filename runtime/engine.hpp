// The runtime engine: plays friends' events against a checked project on a
// virtual clock, exactly as runtime.md defines ("Meaning of one event").
//
// State per friend lives in the FriendStore (attributes, tags, scores,
// fields, history); per (friend, scenario) an Instance over the scenario's
// step graph. Waits are timers in a TimerWheel; quiet hours and the daily
// limit move deliveries, never the scenario's clock. Conditions are predicate
// IR evaluated by the interpreter or by JIT-compiled row functions (the
// caller supplies them: this library does not link LLVM). Deterministic: the
// same project, friends and events give the same deliveries, byte for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/flow_plan.hpp"
#include "compiler/program.hpp"
#include "runtime/event_input.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/jit_abi.hpp"
#include "runtime/render.hpp"
#include "runtime/trace.hpp"

namespace okuri::rt {

// One delivery: a push or a reply of up to five messages to one friend.
struct Delivery {
  std::int64_t time = 0;     // when it goes out (seconds since the epoch)
  std::int64_t logical = 0;  // when the scenario sent it (differs when deferred)
  std::uint32_t row = 0;
  std::vector<std::uint32_t> messages;  // schema message indices
  bool reply = false;
  bool skipped = false;  // the friend had blocked the account: not sent
  std::int32_t flow = -1;  // scenario / broadcast index; -1 for a rule
  std::string node;        // the step's stable id, or `rules/<n>`
  std::string key;         // UUID for X-Line-Retry-Key
  std::string deferred_by;  // "quiet hours", "daily limit" or empty
  std::string reply_token;  // a reply: the token of the event it answers (empty in simulations without one)
  std::string rendered;     // EngineOptions::render: the LINE message objects (a JSON array) as sent
  bool needs_profile = false;  // rendered while the friend's LINE profile was unknown, and it reads it
};

// A `notify`: a text for the account's staff, rendered when the action ran.
struct Notification {
  std::int64_t time = 0;
  std::uint32_t row = 0;
  std::string text;
  std::int32_t flow = -1;  // scenario / broadcast index; -1 for a rule
  std::string node;        // the step's stable id, or `rules/<n>`
  std::string key;         // stable, like a delivery key
};

// A broadcast that fired: what `okuri serve` asks LINE to send itself (broadcast, narrowcast).
struct FiredBroadcast {
  std::int32_t flow = -1;
  std::int64_t at = 0;   // its time
  std::int64_t due = 0;  // when it may go out: after the account's quiet hours
};

// A `menu` action: link a rich menu to the friend (the service calls LINE; simulations only report it).
struct MenuLink {
  std::int64_t time = 0;
  std::uint32_t row = 0;
  std::string richmenu;
  std::string key;  // stable, like a delivery key
};

// Per step of a scenario or broadcast (funnel figures).
struct StepStats {
  std::uint64_t entered = 0;    // times a friend arrived at the step
  std::uint64_t passed = 0;     // times a friend went on past it
  std::uint64_t left = 0;       // runs that ended while at the step (stop, stop when, restart, exit)
  std::uint64_t converted = 0;  // goals reached while the friend was at the step
};
// Per arm of a split (A/B results): what the friends who took the arm did afterwards in the
// scenario. Conversions are the scenario's goals reached after the split sent them down the arm.
struct ArmStats {
  std::string split;  // the split step's id
  std::string arm;    // the arm's name
  std::int64_t percent = 0;
  std::uint64_t friends = 0;    // times a friend was sent down the arm
  std::uint64_t delivered = 0;  // deliveries the scenario made to them after it
  std::uint64_t clicked = 0;    // of those friends, how many clicked a tracked link after it
  std::uint64_t converted = 0;  // of those friends, how many reached the scenario's goal after it
};
struct FlowStats {
  std::uint64_t entered = 0, completed = 0, stopped = 0, converted = 0;
  std::vector<StepStats> steps;  // by node index
  std::vector<ArmStats> arms;    // every split's arms, in the order written
};

struct EngineOptions {
  bool trace = false;
  std::optional<std::uint32_t> trace_row;  // only this friend's entries (explain)
  // Only the first friends' entries (rows are numbered as friends first appear): the report's
  // timelines keep a sample's stories without holding a trace of every friend.
  std::uint32_t trace_rows_below = UINT32_MAX;
  bool keep_deliveries = true;
  // Compiles the engine's boolean predicates to row functions (the JIT);
  // empty, or returning false, means the interpreter evaluates them.
  std::function<bool(const std::vector<ir::Predicate>&, const ir::Schema&, std::vector<RowFn>&)> compile_rows;
  // Raised events (tag_added …) one input event may cause before the engine stops the cascade.
  std::uint32_t cascade_limit = 1000;
  // Render every delivery's LINE message objects when it is made (Delivery::rendered): the
  // service, `simulate --render`, `explain`. `links` turns declared links into tracked URLs.
  bool render = false;
  const LinkTracker* links = nullptr;
};

class Engine {
 public:
  // Builds the project's flow plan; or runs a plan already built from `p` (a reload compiles it off
  // the writer). `p` outlives the engine (reports read it).
  explicit Engine(const Program& p, EngineOptions options = {});
  Engine(std::shared_ptr<const plan::Plan> plan, const Program& p, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The store is built from the engine's schema; load friends into it before the first event.
  FriendStore& store();
  const FriendStore& store() const;
  const ir::Schema& schema() const;
  const Program& program() const;
  const plan::Plan& plan() const;
  const Renderer& renderer() const;
  // Renders messages for a friend now (previews, test sends), links tracked when options.links is set.
  std::string render(const std::vector<plan::MessageId>& messages, std::uint32_t row) const;
  bool jit() const;  // whether row functions are in use

  // Sets the clock (the first event's time, or the test's first moment) without firing anything.
  void start_at(std::int64_t t);
  // Sets the clock to one saved after run_until(t) (a restart, a new version taking over): what
  // was due at `t` has run already, so a broadcast at exactly `t` is past, not sent again.
  void resume_at(std::int64_t t);
  // Fires timers and broadcasts due at or before `t` and moves the clock there.
  void run_until(std::int64_t t);
  // Runs timers due up to the event's time, then the event (runtime.md, "Meaning of one event").
  // The event's friend is added to the store if new.
  void handle(const InputEvent& e);
  // The same, with the event's friend id already parsed (FriendStore::key_of(e.friend_id)).
  void handle(const InputEvent& e, const FriendStore::IdKey& key);
  std::int64_t now() const;
  // Handles events in order, looking the friends of the next few up ahead of time
  // (memory waits overlap); the same result as handle() on each. `progress(i)` is called every 65,536 events.
  // With `rows`, the row of each event's friend is put there (what a caller that follows the
  // events, such as the report's tally, would otherwise look up again).
  // With `keys` (one per event, FriendStore::key_of of its friend id: EventStream makes them on
  // its reading thread), the ids are not parsed here.
  void handle_all(const std::vector<InputEvent>& events, const std::function<void(std::size_t)>& progress = {},
                  std::vector<std::uint32_t>* rows = nullptr, const std::vector<FriendStore::IdKey>* keys = nullptr);
  // The hints handle_all gives, for a caller that handles events one at a time: stage 0
  // fetches the id's hash slot, stage 1 (a few events later) the friend's state. `key` is the
  // event's friend id parsed once (FriendStore::key_of), kept for both stages and handle().
  void prefetch(const FriendStore::IdKey& key, int stage) const;

  const std::vector<Delivery>& deliveries() const;
  const std::vector<TraceEntry>& trace() const;
  const std::vector<FlowStats>& stats() const;
  std::uint64_t events_handled() const;
  std::uint64_t delivery_count() const;  // made, kept or not
  std::uint64_t notifications() const;
  std::uint64_t cascade_stops() const;
  std::uint64_t timers_pending() const;

  // Names for reports.
  std::size_t flow_count() const;
  const StepGraph& flow(std::size_t i) const;
  // Where a friend is now in a flow: node index if inside (waiting), else nullopt.
  std::optional<std::uint32_t> position(std::uint32_t row, std::size_t flow) const;
  std::optional<std::int64_t> wake_time(std::uint32_t row, std::size_t flow) const;
  bool ever_entered(std::uint32_t row, std::size_t flow) const;
  // Per step of a flow: how many friends are inside, waiting there, now.
  std::vector<std::uint64_t> waiting(std::size_t flow) const;

  // A friend's state (score, tags, fields, named scores, history counters, scenario instances) as
  // bytes, and back: what a store outside memory keeps per friend. Pending timers stay in the wheel.
  std::string export_friend(std::uint32_t row) const;
  void import_friend(std::uint32_t row, std::string_view bytes);
  // The report's figures (stats()) as text and back, for a store that keeps them beside the
  // friends: import them into a fresh engine of the same version; unknown names are skipped.
  std::string export_stats() const;
  void import_stats(std::string_view text);
  // A new version of the project takes over every friend of `old` (the engine of the previous
  // version, at the same clock): attributes, tags, fields, scores and history are matched by
  // name (a field whose type changed becomes unknown; enum values are matched by name), and
  // friends inside a scenario follow its `on_update` policy as `okuri diff` describes it:
  // continue (the same step, or the next step after it that survives), restart or exit.
  // A friend who goes on at a step that is not a wait runs from it now; those deliveries come
  // out of take_deliveries(). Call it on a fresh engine, before any event. Every row is dirty after.
  struct TakeOver {
    std::uint64_t friends = 0;
    std::uint64_t waiting = 0;    // still waiting at the same step (keeping their wake-up time)
    std::uint64_t moved = 0;      // went on from another step of the new version
    std::uint64_t restarted = 0;  // `on_update restart`
    std::uint64_t exited = 0;     // `on_update exit`, a removed scenario, or nothing after their step survived
  };
  TakeOver take_over(const Engine& old);
  // Rows whose state changed since the last call (what a durable store writes back).
  std::vector<std::uint32_t> take_dirty();
  // The deliveries made since the last call, moved out (what a durable store puts in its outbox).
  std::vector<Delivery> take_deliveries();
  // Hands each delivery to `sink` as it is made, instead of keeping it for take_deliveries():
  // a simulation's report counts them without a second copy of a burst (a timer firing for tens
  // of thousands of friends at one second). An empty sink keeps them again.
  void deliver_to(std::function<void(Delivery&&)> sink);
  std::vector<MenuLink> take_menu_links();
  std::vector<Notification> take_notifications();
  std::vector<FiredBroadcast> take_fired_broadcasts();

  // Evaluates an expression of the program for a friend now (tests, explain).
  Value evaluate(const ast::Expr& e, std::uint32_t row);
  // Whether a condition of the program (a segment, a target, a `when`) holds for a friend now.
  bool holds(const ast::Expr& e, std::uint32_t row);
  // The friend's row, added (every value unknown) when new.
  std::uint32_t friend_row(const std::string& id);
  // The friend's LINE profile (the service fetches it): display name and language; nullopt leaves
  // a value as it is. The row is dirty after.
  void set_profile(std::uint32_t row, const std::optional<std::string>& display_name,
                   const std::optional<std::string>& language);
  // Tests (`friend X { arm: offer_test.b }`): every split of the flow with an arm of that
  // name sends the friend down that arm instead of the one their hash picks.
  void force_arm(std::uint32_t row, std::size_t flow, std::string arm);
  // "age=24, region=tokyo, tagged(vip)=false": the values a predicate reads, for a friend now.
  std::string inputs_of(const ast::Expr& e, std::uint32_t row);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The delivery key: a UUID (version 8, RFC 9562) from a 128-bit xxHash of
// (friend, flow, instance number, node id, occurrence).
std::string delivery_key(std::string_view friend_id, std::string_view flow, std::uint32_t instance,
                         std::string_view node, std::uint32_t occurrence);
// The split bucket 0 … 99 of a friend: xxHash64 of (friend, scenario, split node id).
int split_bucket(std::string_view friend_id, std::string_view scenario, std::string_view split_node);

// "2026-01-05T12:00:00+09:00" in a time zone.
std::string format_time(std::int64_t seconds, const stdlib::Zone& zone);
// The same appended to `out` (no string of its own: a simulation writes one per delivery).
void append_time(std::string& out, std::int64_t seconds, const stdlib::Zone& zone);

}  // namespace okuri::rt
