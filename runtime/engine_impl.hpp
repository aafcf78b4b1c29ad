// The engine's inside, shared by the files that each do one of its jobs (private to runtime/):
//   engine.cpp          events, rules, instances, waits and timers, broadcasts
//   engine_actions.cpp  actions (tags, scores, fields, start/stop, menu, notify) and deliveries
//   friend_codec.cpp    a friend's state as bytes and back
//   take_over.cpp       a new version of the project taking every friend over
// and by its rooms: the plan (compiler/flow_plan), the push schedule, the tracer, the renderer.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/engine.hpp"
#include "runtime/push_schedule.hpp"
#include "runtime/timer_wheel.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::rt {

inline constexpr std::uint32_t kNoTimer = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::int64_t kForever = std::numeric_limits<std::int64_t>::max();

enum InstanceStatus : std::uint8_t { kNever = 0, kInside = 1, kDone = 2 };

// One friend in one scenario. Its bytes are part of the saved state format (friend_codec.cpp):
// never change the layout.
inline constexpr std::uint8_t kNoArm = 0xFF;

struct Instance {
  std::uint32_t timer = kNoTimer;
  std::uint32_t node = 0;
  std::int64_t entered_at = 0;
  std::int64_t wake = 0;  // the pending timer's deadline
  std::int64_t goal_deadline = 0;
  std::uint32_t goal_node = 0;
  std::uint16_t times = 0;
  std::uint16_t seq = 0;
  std::uint8_t status = kNever;
  bool goal_armed = false;
  bool converted = false;
  bool when_prev = false;
  bool wait_unknown = false;
  bool arm_clicked = false;    // clicked since the split (counted once per arm)
  std::uint8_t arm = kNoArm;   // index into FlowStats::arms of the last split arm taken in this run
};
// Saved states are the bytes of Instance (friend_codec.cpp): its size is part of the format.
static_assert(sizeof(Instance) == 48, "Instance's size changes the saved friend state format");

// The event being handled (an input event, a raised one, or a timer).
struct Ctx {
  bool replyable = false;  // friend_added / message_received / postback: a fresh reply token
  bool token_used = false;
  std::string_view token;  // the event's reply token, when it carried one
  int depth = 0;
  const InputEvent* input = nullptr;  // the input event behind this handling (notifications read it)
};

struct Raised {
  int type_id = -1;
  std::string_view type;  // an input event's own strings, or a name of the plan
  std::string_view arg;
  const InputEvent* input = nullptr;  // the input event itself (first in the queue)
};

struct Engine::Impl {
  const Program& program;
  std::shared_ptr<const plan::Plan> plan_owner;
  const plan::Plan& plan;
  EngineOptions opt;
  std::unique_ptr<stdlib::Zone> zone;
  EventCatalog catalog;
  std::unique_ptr<FriendStore> store;
  Renderer renderer;
  PushSchedule schedule;
  Tracer tracer;
  const std::vector<plan::Flow>& flows;
  std::vector<Instance> inst;
  std::vector<std::uint32_t> rule_seq;
  std::vector<std::uint32_t> dirty;  // rows whose state changed since take_dirty()
  std::vector<bool> dirty_mark;
  TimerWheel wheel{0};
  std::int64_t now = 0;
  bool started = false;
  std::int64_t next_tick = 0;  // the next local midnight, when date-dependent `start when`s are evaluated
  std::size_t next_broadcast = 0;
  // Row functions (JIT) and their bindings.
  std::map<std::pair<std::uint32_t, std::size_t>, std::string> forced_arms;  // (row, flow) → arm, set by tests
  std::vector<RowFn> rows;
  ColumnBinding cols;
  std::size_t bound_rows = static_cast<std::size_t>(-1), bound_texts = static_cast<std::size_t>(-1);
  EventBinding ebind;
  // Outputs.
  std::vector<Delivery> deliveries;
  std::function<void(Delivery&&)> delivery_sink;  // deliver_to()
  std::vector<MenuLink> menu_links;
  std::vector<Notification> notifications_out;
  std::vector<FiredBroadcast> fired;
  std::uint64_t menu_links_made = 0;
  std::vector<FlowStats> stats;
  std::vector<std::vector<std::uint8_t>> first_arm;  // per flow, per node: its first arm in stats[f].arms (splits)
  std::vector<std::size_t> split_flows;             // flows with a split (a click is credited to their arms)
  std::uint64_t events = 0, notifications = 0, cascade_stops = 0, delivery_total = 0;
  EventValues evvals;
  std::vector<Raised> queue;           // the event being handled and the events its actions raised
  std::vector<Raised> pending_raised;  // raised by the current event's actions

  Impl(const Program& p, std::shared_ptr<const plan::Plan> pl, EngineOptions o);

  // ---- state (engine.cpp)
  void touch(std::uint32_t row) {
    if (row >= dirty_mark.size()) dirty_mark.resize(store->size(), false);
    if (!dirty_mark[row]) {
      dirty_mark[row] = true;
      dirty.push_back(row);
    }
  }
  std::uint32_t ensure_friend(const std::string& id) { return ensure_friend(id, FriendStore::key_of(id)); }
  std::uint32_t ensure_friend(const std::string& id, const FriendStore::IdKey& key);
  void grow();
  Instance& in(std::uint32_t row, std::size_t f) { return inst[row * flows.size() + f]; }
  EvalEnv env() const;
  void fill_event(const InputEvent* ev);
  bool test(plan::PredId pred, std::uint32_t row, const EventValues* ev);
  Value val(plan::ValueId v, std::uint32_t row, const EventValues* ev);

  // ---- the trace
  bool tracing(std::uint32_t row) const { return tracer.on(row); }
  void note(std::uint32_t row, TraceKind k, std::int32_t flow, std::string node, std::string text) {
    if (tracer.on(row)) tracer.note(now, row, k, flow, std::move(node), std::move(text));
  }
  TraceValues trace_values() const { return TraceValues{plan, *store, *zone, catalog}; }
  std::string inputs(plan::PredId pred, std::uint32_t row, const EventValues* ev,
                     const InputEvent* input = nullptr) const;

  // ---- events (engine.cpp)
  bool matches(const plan::EventMatch& m, const Raised& r, const InputEvent* ev) const;
  void update_state(std::uint32_t row, const InputEvent& e, int t);
  void handle(const InputEvent& e, const FriendStore::IdKey& key);
  std::uint32_t last_row = 0;  // the friend of the event handled last
  void process(std::uint32_t row, Raised first, Ctx& ctx);
  void settle(std::uint32_t row, Ctx& ctx, const EventValues* evs);
  // Events raised outside an input event's processing (a timer's steps, a broadcast, a new day,
  // a new version's landing), processed for their friend at once.
  void process_raised(std::uint32_t row, Ctx& ctx);
  bool check_stop(std::uint32_t row, std::size_t f, const EventValues* evs);
  void check_goal(std::uint32_t row, std::size_t f, const EventValues* evs);
  void leave(std::uint32_t row, std::size_t f, const std::string& why);
  void enter(std::uint32_t row, std::size_t f, Ctx& ctx, const std::string& cause);
  void begin(std::uint32_t row, std::size_t f, const std::string& cause);

  // ---- running instances (engine.cpp)
  void take_case(std::uint32_t row, std::size_t f, const plan::Edge& e, Ctx& ctx);
  void resume_wait(std::uint32_t row, std::size_t f, Ctx& ctx, const EventValues* evs);
  void set_timer(std::uint32_t row, std::size_t f, std::int64_t dl);
  std::optional<std::int64_t> deadline(std::uint32_t row, const plan::Node& n, const EventValues* evs);
  void run(std::uint32_t row, std::size_t f, std::uint32_t node, Ctx& ctx);
  void on_timer(std::uint32_t payload);
  void run_broadcast(std::size_t f);
  void take_arm(Instance& i, std::size_t f, std::uint8_t arm);  // a split sent the friend down `arm`
  void start_at(std::int64_t t, bool resuming = false);
  void tick();
  void run_until(std::int64_t t);

  // ---- actions and deliveries (engine_actions.cpp)
  void raise(stdlib::EventId type, std::string_view arg);
  void actions(std::uint32_t row, const std::vector<plan::Op>& ops, Ctx& ctx, std::int32_t flow,
               const std::string& node, const EventValues* evs);
  void action(std::uint32_t row, const plan::Op& op, Ctx& ctx, std::int32_t flow, const std::string& node,
              const EventValues* evs);
  void emit(std::uint32_t row, const std::vector<plan::MessageId>& msgs, bool reply_stmt, Ctx& ctx, std::int32_t flow,
            const std::string& node, Instance* ins);
  RenderContext render_context(std::uint32_t row, const InputEvent* event) const {
    return RenderContext{*store, row, now, *zone, event, opt.links};
  }
};

}  // namespace okuri::rt
