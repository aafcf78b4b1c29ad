// The engine's core: events, rules, scenario instances, waits and timers, broadcasts — run from
// the flow plan (compiler/flow_plan.hpp), never from the AST.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "runtime/engine_impl.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::rt {

namespace {

constexpr int kMaxDepth = 64;
constexpr std::uint32_t kMaxSteps = 100000;

}  // namespace

Engine::Impl::Impl(const Program& p, std::shared_ptr<const plan::Plan> pl, EngineOptions o)
    : program(p),
      plan_owner(std::move(pl)),
      plan(*plan_owner),
      opt(std::move(o)),
      zone(std::make_unique<stdlib::Zone>(plan.account.timezone.c_str())),
      catalog(p),
      store(std::make_unique<FriendStore>(plan.schema)),
      renderer(plan),
      schedule(plan.account, *zone),
      tracer(opt.trace, opt.trace_row, opt.trace_rows_below),
      flows(plan.flows) {
  stats.resize(flows.size());
  first_arm.resize(flows.size());
  for (std::size_t i = 0; i < flows.size(); ++i) {
    stats[i].steps.resize(flows[i].nodes.size());
    first_arm[i].assign(flows[i].nodes.size(), kNoArm);
    for (std::size_t n = 0; n < flows[i].nodes.size(); ++n) {
      const plan::Node& node = flows[i].nodes[n];
      if (node.kind != StepKind::Split) continue;
      for (const auto& e : node.out) {
        if (e.kind != EdgeKind::Arm || stats[i].arms.size() >= kNoArm) continue;
        if (first_arm[i][n] == kNoArm) first_arm[i][n] = static_cast<std::uint8_t>(stats[i].arms.size());
        stats[i].arms.push_back(ArmStats{node.id, e.arm, e.percent});
      }
    }
    if (!stats[i].arms.empty()) split_flows.push_back(i);
  }
  if (opt.compile_rows && !plan.preds.empty()) {
    std::vector<RowFn> fns;
    if (opt.compile_rows(plan.preds, plan.schema, fns) && fns.size() == plan.preds.size()) rows = std::move(fns);
  }
}

// ---------------------------------------------------------------- state

std::uint32_t Engine::Impl::ensure_friend(const std::string& id, const FriendStore::IdKey& key) {
  if (auto r = store->find(id, key)) return *r;
  const auto row = store->add(id);
  grow();
  return row;
}

void Engine::Impl::grow() {
  const std::size_t n = store->size();
  if (rule_seq.size() >= n) return;
  inst.resize(n * flows.size());
  schedule.grow(n);
  rule_seq.resize(n, 0);
}

EvalEnv Engine::Impl::env() const {
  EvalEnv e;
  e.now = now;
  e.today = zone->local_days(now);
  e.zone = zone.get();
  return e;
}

void Engine::Impl::fill_event(const InputEvent* ev) {
  const auto& names = plan.schema.event_fields;
  evvals.resize(names.size());
  for (auto& v : evvals) v.known = false;
  if (ev == nullptr || ev->fields.empty()) return;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto it = ev->fields.find(names[i]);
    if (it == ev->fields.end()) continue;
    evvals[i].known = true;
    evvals[i].i = it->second.i;
    evvals[i].text = it->second.text;
  }
}

bool Engine::Impl::test(plan::PredId pred, std::uint32_t row, const EventValues* ev) {
  if (pred < 0) return true;
  const EvalEnv e = env();
  if (!rows.empty()) {
    if (bound_rows != store->size() || bound_texts != store->texts.size()) {
      cols.bind(*store);
      bound_rows = store->size();
      bound_texts = store->texts.size();
    }
    EnvAbi abi{e.now, e.today, e.zone};
    const EventAbi* eabi = nullptr;
    if (ev != nullptr && plan.preds[static_cast<std::size_t>(pred)].uses_event()) {
      ebind.bind(*ev);
      eabi = &ebind.abi;
    }
    return rows[static_cast<std::size_t>(pred)](cols.slots.data(), &abi, row, eabi) != 0;
  }
  return eval_row(plan.preds[static_cast<std::size_t>(pred)], *store, row, e, ev);
}

Value Engine::Impl::val(plan::ValueId v, std::uint32_t row, const EventValues* ev) {
  if (v < 0) return {};
  return eval_value(plan.values[static_cast<std::size_t>(v)], *store, row, env(), ev);
}

std::string Engine::Impl::inputs(plan::PredId pred, std::uint32_t row, const EventValues* ev,
                                 const InputEvent* input) const {
  if (pred < 0) return {};
  return trace_values().inputs(plan.preds[static_cast<std::size_t>(pred)], row, env(), ev, input);
}

// ---------------------------------------------------------------- events

bool Engine::Impl::matches(const plan::EventMatch& m, const Raised& r, const InputEvent* ev) const {
  if (m.type != r.type_id) return false;
  if (m.arg && *m.arg != r.arg) return false;
  if (m.url_pattern) {
    if (ev == nullptr) return false;
    auto it = ev->fields.find("url");
    if (it == ev->fields.end()) return false;
    if (okuri_std_url_matches(m.url_pattern->data(), m.url_pattern->size(), it->second.text.data(),
                              it->second.text.size()) == 0) {
      return false;
    }
  }
  if (m.from) {
    if (ev == nullptr) return false;
    auto it = ev->fields.find("source");
    if (it == ev->fields.end() || it->second.text != *m.from) return false;
  }
  return true;
}

// Step 1 of an event: built-in state and history.
void Engine::Impl::update_state(std::uint32_t row, const InputEvent& e, int t) {
  FriendStore& s = *store;
  const ir::Schema& schema = plan.schema;
  auto index_in = [](const std::vector<std::string>& v, std::string_view n) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == n) return static_cast<int>(i);
    }
    return -1;
  };
  switch (static_cast<stdlib::EventId>(t)) {
    case stdlib::EventId::FriendAdded:
      s.friend_since[row] = static_cast<std::int32_t>(zone->local_days(now));
      if (auto it = e.fields.find("source"); it != e.fields.end()) s.source[row] = s.texts.intern(it->second.text);
      s.blocked.set(row, false);
      break;
    case stdlib::EventId::FriendBlocked:
      s.blocked.set(row, true);
      break;
    case stdlib::EventId::FriendUnblocked:
      s.blocked.set(row, false);
      break;
    case stdlib::EventId::LinkClicked:
      if (const int l = index_in(schema.links, e.arg); l >= 0) {
        auto& h = s.links[static_cast<std::size_t>(l)];
        ++h.clicks[row];
        h.last[row] = now;
      }
      for (const std::size_t f : split_flows) {  // A/B results: the friend's arm clicked
        Instance& i = in(row, f);
        if (i.arm == kNoArm || i.arm_clicked) continue;
        i.arm_clicked = true;
        ++stats[f].arms[i.arm].clicked;
      }
      break;
    case stdlib::EventId::MessageOpened:
      if (const int m = index_in(schema.messages, e.arg); m >= 0) {
        auto& h = s.messages[static_cast<std::size_t>(m)];
        ++h.opened[row];
        h.last_opened[row] = now;
      }
      break;
    case stdlib::EventId::WebVisited:
      if (auto it = e.fields.find("url"); it != e.fields.end()) {
        for (std::size_t i = 0; i < schema.visit_patterns.size(); ++i) {
          const auto& pat = schema.visit_patterns[i];
          if (okuri_std_url_matches(pat.data(), pat.size(), it->second.text.data(), it->second.text.size()) != 0) {
            s.visited[i].set(row, true);
          }
        }
      }
      break;
    default:
      break;
  }
  // A LINE profile that came with the event (the service fetches it on follow).
  if (auto it = e.fields.find("display_name");
      it != e.fields.end() && t == static_cast<int>(stdlib::EventId::FriendAdded)) {
    s.display_name[row] = s.texts.intern(it->second.text);
  }
}

void Engine::Impl::handle(const InputEvent& e, const FriendStore::IdKey& key) {
  const std::int64_t t = e.time_ms >= 0 ? e.time_ms / 1000 : -((-e.time_ms + 999) / 1000);
  if (!started) start_at(t);
  run_until(t);
  const std::uint32_t row = ensure_friend(e.friend_id, key);
  last_row = row;
  store->prefetch(row);
  if (!flows.empty()) {
    const char* first = reinterpret_cast<const char*>(&inst[row * flows.size()]);
    for (std::size_t k = 0; k < flows.size() * sizeof(Instance); k += 64) __builtin_prefetch(first + k);
  }
  ++events;
  Ctx ctx;
  const int type = plan.event_type(e.type);
  const auto* info =
      type >= 0 && type < stdlib::kBuiltinEventCount ? &stdlib::events()[static_cast<std::size_t>(type)] : nullptr;
  ctx.replyable = info != nullptr && info->reply_token;
  if (e.reply_token) ctx.token = *e.reply_token;
  ctx.input = &e;
  process(row, Raised{type, e.type, e.arg, &e}, ctx);
}

void Engine::Impl::process(std::uint32_t row, Raised first, Ctx& ctx) {
  touch(row);
  queue.clear();
  queue.push_back(first);
  std::uint32_t count = 0;
  for (std::size_t qi = 0; qi < queue.size(); ++qi) {
    const Raised r = queue[qi];
    if (++count > opt.cascade_limit) {
      ++cascade_stops;
      if (tracing(row)) {
        note(row, TraceKind::Error, -1, {},
             fmt::format("stopped a cascade of more than {} raised events (rules that keep raising each other)",
                         opt.cascade_limit));
      }
      break;
    }
    const InputEvent* ev = r.input;
    if (ev != nullptr) {
      update_state(row, *ev, r.type_id);
      if (tracing(row)) note(row, TraceKind::Event, -1, {}, trace_values().describe(*ev));
    } else if (tracing(row)) {
      note(row, TraceKind::Raised, -1, {}, r.arg.empty() ? std::string(r.type) : fmt::format("{}({})", r.type, r.arg));
    }
    fill_event(ev);
    const EventValues& evs = evvals;
    // 2. Rules in source order.
    for (const auto& rule : plan.rules) {
      if (!matches(rule.match, r, ev)) continue;
      if (!test(rule.when, row, &evs)) {
        if (tracing(row) && rule.when >= 0) {
          note(row, TraceKind::Rule, -1, rule.id,
               fmt::format("`{}` did not fire: condition false ({})", rule.text,
                           inputs(rule.when, row, &evs, ctx.input)));
        }
        continue;
      }
      if (tracing(row)) note(row, TraceKind::Rule, -1, rule.id, fmt::format("`{}` fired", rule.text));
      actions(row, rule.body, ctx, -1, rule.id, &evs);
    }
    // 3. Instances: stop when, then a waiting `wait … for` tries its cases.
    for (std::size_t f = 0; f < flows.size(); ++f) {
      Instance& i = in(row, f);
      if (i.status != kInside) continue;
      if (check_stop(row, f, &evs)) continue;
      const plan::Node& n = flows[f].nodes[i.node];
      if (n.kind != StepKind::Wait || (i.timer == kNoTimer && !i.wait_unknown)) continue;
      if (n.wait.mode == plan::WaitMode::For) {
        for (const auto& e : n.out) {
          if (e.kind != EdgeKind::Case) continue;
          if (e.on_event && !matches(e.match, r, ev)) continue;
          if (!e.on_event && e.pred < 0) continue;
          if (!test(e.pred, row, &evs)) continue;
          take_case(row, f, e, ctx);
          break;
        }
      } else if (i.wait_unknown) {
        // `wait until <expr>` whose value was unknown: the value may be known now.
        resume_wait(row, f, ctx, &evs);
      }
    }
    // 4. Start on.
    for (std::size_t f = 0; f < flows.size(); ++f) {
      for (const auto& s : flows[f].start_on) {
        if (!matches(s.match, r, ev)) continue;
        if (!test(s.when, row, &evs)) {
          if (tracing(row)) {
            note(row, TraceKind::NoEnter, static_cast<std::int32_t>(f), {},
                 fmt::format("`{}`: condition false ({})", s.text, inputs(s.when, row, &evs, ctx.input)));
          }
          continue;
        }
        enter(row, f, ctx, "`" + s.text + "`");
        break;
      }
    }
    settle(row, ctx, &evs);
    // Raised events go on the queue behind this one.
    for (auto& x : pending_raised) queue.push_back(x);
    pending_raised.clear();
  }
}

// As those an input event raises: the first is processed, the others wait behind it on its
// queue. Left pending, they were taken up by the next input event, whoever's friend it was.
void Engine::Impl::process_raised(std::uint32_t row, Ctx& ctx) {
  if (pending_raised.empty()) return;
  const Raised first = pending_raised.front();
  pending_raised.erase(pending_raised.begin());
  process(row, first, ctx);
}

// After anything changed a friend: stop when, start when (edge-triggered), goals.
void Engine::Impl::settle(std::uint32_t row, Ctx& ctx, const EventValues* evs) {
  for (std::size_t f = 0; f < flows.size(); ++f) {
    Instance& i = in(row, f);
    if (i.status == kInside) check_stop(row, f, evs);
    if (!flows[f].start_when.empty()) {
      bool now_true = false;
      std::string why;
      for (const auto& c : flows[f].start_when) {
        if (test(c.pred, row, evs)) {
          now_true = true;
          why = c.text;
          break;
        }
      }
      const bool was = in(row, f).when_prev;
      in(row, f).when_prev = now_true;
      if (now_true && !was) enter(row, f, ctx, fmt::format("`start when {}` became true", why));
    }
    Instance& j = in(row, f);
    if (j.goal_armed && !j.converted) check_goal(row, f, evs);
  }
}

bool Engine::Impl::check_stop(std::uint32_t row, std::size_t f, const EventValues* evs) {
  for (const auto& c : flows[f].stop_when) {
    if (test(c.pred, row, evs)) {
      std::string why = fmt::format("`stop when {}` held", c.text);
      if (tracing(row)) why += " (" + inputs(c.pred, row, evs) + ")";
      leave(row, f, why);
      return true;
    }
  }
  return false;
}

void Engine::Impl::check_goal(std::uint32_t row, std::size_t f, const EventValues* evs) {
  Instance& i = in(row, f);
  const plan::Node& gn = flows[f].nodes[i.goal_node];
  if (i.goal_deadline != kForever && now > i.goal_deadline) {
    i.goal_armed = false;
    if (tracing(row)) {
      tracer.note(i.goal_deadline, row, TraceKind::Goal, static_cast<std::int32_t>(f), gn.id,
                  "goal window closed without a conversion");
    }
    return;
  }
  if (!test(gn.goal, row, evs)) return;
  i.converted = true;
  i.goal_armed = false;
  ++stats[f].converted;
  if (i.arm != kNoArm) ++stats[f].arms[i.arm].converted;
  const std::uint32_t at = i.status == kInside ? i.node : i.goal_node;
  ++stats[f].steps[at].converted;
  if (tracing(row))
    note(row, TraceKind::Goal, static_cast<std::int32_t>(f), gn.id, fmt::format("converted: {}", gn.label));
}

void Engine::Impl::leave(std::uint32_t row, std::size_t f, const std::string& why) {
  Instance& i = in(row, f);
  if (i.status != kInside) return;
  if (i.timer != kNoTimer) wheel.cancel(i.timer);
  i.timer = kNoTimer;
  i.wait_unknown = false;
  i.status = kDone;
  ++stats[f].stopped;
  ++stats[f].steps[i.node].left;
  if (tracing(row)) note(row, TraceKind::Leave, static_cast<std::int32_t>(f), flows[f].nodes[i.node].id, why);
}

void Engine::Impl::enter(std::uint32_t row, std::size_t f, Ctx& ctx, const std::string& cause) {
  const plan::Flow& fl = flows[f];
  if (fl.broadcast) return;
  Instance& i = in(row, f);
  if (i.status != kNever) {
    const char* where = i.status == kInside ? "still inside" : "entered before";
    switch (fl.restart) {
      case ast::RestartPolicy::Never:
        if (tracing(row)) {
          note(row, TraceKind::NoEnter, static_cast<std::int32_t>(f), {},
               fmt::format("{} matched, but `restart never` and the friend {} (at {})", cause, where,
                           format_time(i.entered_at, *zone)));
        }
        return;
      case ast::RestartPolicy::After:
        if (now - i.entered_at < fl.restart_after) {
          if (tracing(row)) {
            note(row, TraceKind::NoEnter, static_cast<std::int32_t>(f), {},
                 fmt::format("{} matched, but `restart after {}`: last entered at {}", cause,
                             format_duration(fl.restart_after), format_time(i.entered_at, *zone)));
          }
          return;
        }
        break;
      case ast::RestartPolicy::Always:
        break;
    }
    if (i.status == kInside) leave(row, f, "restarted: " + cause);
  }
  if (ctx.depth >= kMaxDepth) {
    ++cascade_stops;
    if (tracing(row))
      note(row, TraceKind::Error, static_cast<std::int32_t>(f), {}, "scenarios start each other too deeply; stopped");
    return;
  }
  begin(row, f, cause);
  ++ctx.depth;
  run(row, f, 0, ctx);
  --ctx.depth;
}

void Engine::Impl::take_arm(Instance& i, std::size_t f, std::uint8_t arm) {
  if (arm == kNoArm || arm >= stats[f].arms.size()) return;
  i.arm = arm;
  i.arm_clicked = false;
  ++stats[f].arms[arm].friends;
}

void Engine::Impl::begin(std::uint32_t row, std::size_t f, const std::string& cause) {
  touch(row);
  Instance& i = in(row, f);
  i.status = kInside;
  i.times = static_cast<std::uint16_t>(i.times + 1);
  i.seq = 0;
  i.entered_at = now;
  i.node = 0;
  i.goal_armed = false;
  i.converted = false;
  i.wait_unknown = false;
  i.arm = kNoArm;
  i.arm_clicked = false;
  ++stats[f].entered;
  if (tracing(row)) note(row, TraceKind::Enter, static_cast<std::int32_t>(f), flows[f].nodes[0].id, cause);
}

// ---------------------------------------------------------------- running

namespace {

std::optional<std::uint32_t> edge_of(const plan::Node& n, EdgeKind k) {
  for (const auto& e : n.out) {
    if (e.kind == k) return e.to;
  }
  return std::nullopt;
}

// Where the flow goes on after a step: the next statement, the loop back of a `repeat`, or a `goto`.
std::optional<std::uint32_t> next_of(const plan::Node& n) {
  for (const auto& e : n.out) {
    if (e.kind == EdgeKind::Next || e.kind == EdgeKind::Loop || e.kind == EdgeKind::Jump) return e.to;
  }
  return std::nullopt;
}

}  // namespace

void Engine::Impl::take_case(std::uint32_t row, std::size_t f, const plan::Edge& e, Ctx& ctx) {
  Instance& i = in(row, f);
  if (i.timer != kNoTimer) wheel.cancel(i.timer);
  i.timer = kNoTimer;
  ++stats[f].steps[i.node].passed;
  if (tracing(row)) {
    note(row, TraceKind::Case, static_cast<std::int32_t>(f), flows[f].nodes[i.node].id,
         fmt::format("case `{}` taken", e.label));
  }
  run(row, f, e.to, ctx);
}

void Engine::Impl::resume_wait(std::uint32_t row, std::size_t f, Ctx& ctx, const EventValues* evs) {
  Instance& i = in(row, f);
  const plan::Node& n = flows[f].nodes[i.node];
  auto dl = deadline(row, n, evs);
  if (!dl) return;
  i.wait_unknown = false;
  if (*dl <= now) {
    ++stats[f].steps[i.node].passed;
    if (auto nx = next_of(n)) run(row, f, *nx, ctx);
    return;
  }
  set_timer(row, f, *dl);
}

void Engine::Impl::set_timer(std::uint32_t row, std::size_t f, std::int64_t dl) {
  Instance& i = in(row, f);
  i.wake = dl;
  i.timer = wheel.add(static_cast<std::uint32_t>(dl), static_cast<std::uint32_t>(row * flows.size() + f));
  if (tracing(row)) {
    const plan::Node& n = flows[f].nodes[i.node];
    note(row, TraceKind::Wait, static_cast<std::int32_t>(f), n.id,
         fmt::format("{} → wakes at {}", n.label, format_time(dl, *zone)));
  }
}

// The moment a wait ends (nullopt: `until` an unknown value).
std::optional<std::int64_t> Engine::Impl::deadline(std::uint32_t row, const plan::Node& n, const EventValues* evs) {
  const plan::WaitSpec& w = n.wait;
  const std::int64_t today = zone->local_days(now);
  switch (w.mode) {
    case plan::WaitMode::Relative:
    case plan::WaitMode::For:
      return now + w.seconds;
    case plan::WaitMode::DayAt:
      return zone->to_utc(today + w.seconds / 86400, w.at.value_or(0));
    case plan::WaitMode::UntilTime: {
      std::int64_t t = zone->to_utc(today, w.minute);
      if (t <= now) t = zone->to_utc(today + 1, w.minute);
      return t;
    }
    case plan::WaitMode::UntilValue: {
      const Value v = val(w.until, row, evs);
      if (!v.known) return std::nullopt;
      if (w.until_type == TypeKind::Date) return zone->to_utc(v.i, w.at.value_or(0));
      if (w.at) return zone->to_utc(zone->local_days(v.i), *w.at);
      return v.i;
    }
  }
  return now;
}

void Engine::Impl::run(std::uint32_t row, std::size_t f, std::uint32_t node, Ctx& ctx) {
  const plan::Flow& fl = flows[f];
  const auto fi = static_cast<std::int32_t>(f);
  for (std::uint32_t steps = 0;; ++steps) {
    Instance& i = in(row, f);
    if (i.status != kInside) return;
    if (steps > kMaxSteps) {
      ++cascade_stops;
      if (tracing(row))
        note(row, TraceKind::Error, fi, fl.nodes[node].id, "more than 100000 steps without a wait: stopped");
      leave(row, f, "stopped by the engine: a loop without a wait");
      return;
    }
    i.node = node;
    const plan::Node& n = fl.nodes[node];
    ++stats[f].steps[node].entered;
    std::optional<std::uint32_t> next;
    switch (n.kind) {
      case StepKind::Start:
      case StepKind::Step:
      case StepKind::Repeat:
        next = next_of(n);
        break;
      case StepKind::Send:
      case StepKind::Reply:
        if (i.arm != kNoArm) ++stats[f].arms[i.arm].delivered;
        emit(row, n.messages, n.kind == StepKind::Reply, ctx, fi, n.id, &i);
        next = next_of(n);
        break;
      case StepKind::Action: {
        actions(row, n.ops, ctx, fi, n.id, nullptr);
        if (in(row, f).status != kInside || in(row, f).node != node) return;  // stopped or restarted by its own action
        next = next_of(n);
        break;
      }
      case StepKind::Goal:
        i.goal_armed = true;
        i.converted = false;
        i.goal_node = node;
        i.goal_deadline = n.goal_within > 0 ? now + n.goal_within : kForever;
        check_goal(row, f, nullptr);
        next = next_of(n);
        break;
      case StepKind::Goto:
        next = edge_of(n, EdgeKind::Jump);
        break;
      case StepKind::Branch: {
        for (const auto& e : n.out) {
          if (e.kind != EdgeKind::Then) continue;
          const bool holds = test(e.pred, row, nullptr);
          if (tracing(row)) {
            note(row, TraceKind::Branch, fi, n.id,
                 fmt::format("`if {}`: {} ({})", e.label, holds ? "true" : "false", inputs(e.pred, row, nullptr)));
          }
          if (holds) {
            next = e.to;
            break;
          }
        }
        if (!next) {
          next = edge_of(n, EdgeKind::Else);
          if (tracing(row)) note(row, TraceKind::Branch, fi, n.id, "else");
        }
        break;
      }
      case StepKind::Split: {
        if (const auto forced = forced_arms.find({row, f}); forced != forced_arms.end()) {
          std::uint8_t arm = first_arm[f][node];
          for (const auto& e : n.out) {
            if (e.kind != EdgeKind::Arm) continue;
            if (e.arm == forced->second) {
              next = e.to;
              take_arm(i, f, arm);
            }
            if (arm != kNoArm) ++arm;
          }
          if (next) {
            if (tracing(row))
              note(row, TraceKind::Split, fi, n.id, fmt::format("arm `{}` (chosen by the test)", forced->second));
            break;
          }
        }
        const int bucket = split_bucket(store->id_of(row), fl.name, n.id);
        std::int64_t acc = 0;
        std::uint8_t arm = first_arm[f][node];
        for (const auto& e : n.out) {
          if (e.kind != EdgeKind::Arm) continue;
          acc += e.percent;
          if (bucket >= acc && arm != kNoArm) ++arm;
          if (bucket < acc) {
            next = e.to;
            take_arm(i, f, arm);
            if (tracing(row)) {
              note(row, TraceKind::Split, fi, n.id,
                   fmt::format("arm `{}` ({}%; the friend's bucket is {})", e.arm, e.percent, bucket));
            }
            break;
          }
        }
        break;
      }
      case StepKind::Wait: {
        const auto dl = deadline(row, n, nullptr);
        if (!dl) {
          i.wait_unknown = true;
          if (tracing(row)) {
            const std::string why = n.wait.until >= 0
                                        ? trace_values().inputs(plan.values[static_cast<std::size_t>(n.wait.until)],
                                                                row, env(), nullptr, nullptr)
                                        : std::string();
            note(row, TraceKind::Wait, fi, n.id,
                 fmt::format("{}: the date is unknown ({}); waiting until it is known", n.label, why));
          }
          return;
        }
        if (n.wait.mode == plan::WaitMode::For) {
          // `when` cases that already hold are taken at once.
          for (const auto& e : n.out) {
            if (e.kind == EdgeKind::Case && !e.on_event && e.pred >= 0 && test(e.pred, row, nullptr)) {
              if (tracing(row)) note(row, TraceKind::Case, fi, n.id, fmt::format("case `{}` held on arrival", e.label));
              next = e.to;
              break;
            }
          }
          if (next) break;
        }
        if (*dl <= now) {
          if (tracing(row))
            note(row, TraceKind::Wait, fi, n.id, fmt::format("{}: already past, goes on at once", n.label));
          next = next_of(n);
          break;
        }
        set_timer(row, f, *dl);
        return;
      }
      case StepKind::Stop:
        i.status = kDone;
        ++stats[f].stopped;
        ++stats[f].steps[node].left;
        if (tracing(row)) note(row, TraceKind::Leave, fi, n.id, "`stop`");
        return;
      case StepKind::End:
        i.status = kDone;
        ++stats[f].completed;
        if (tracing(row)) note(row, TraceKind::End, fi, n.id, "reached the end");
        return;
    }
    if (!next) {
      i.status = kDone;
      ++stats[f].completed;
      if (tracing(row)) note(row, TraceKind::End, fi, n.id, "reached the end");
      return;
    }
    ++stats[f].steps[node].passed;
    node = *next;
  }
}

void Engine::Impl::on_timer(std::uint32_t payload) {
  const std::uint32_t row = payload / static_cast<std::uint32_t>(flows.size());
  const std::size_t f = payload % flows.size();
  Instance& i = in(row, f);
  i.timer = kNoTimer;
  if (i.status != kInside) return;
  touch(row);
  Ctx ctx;
  const plan::Node& n = flows[f].nodes[i.node];
  if (tracing(row)) note(row, TraceKind::Event, static_cast<std::int32_t>(f), n.id, fmt::format("timer: {}", n.label));
  if (check_stop(row, f, nullptr)) {
    settle(row, ctx, nullptr);
    process_raised(row, ctx);
    return;
  }
  std::optional<std::uint32_t> next;
  if (n.wait.mode == plan::WaitMode::For) {
    next = edge_of(n, EdgeKind::Timeout);
    if (tracing(row)) note(row, TraceKind::Case, static_cast<std::int32_t>(f), n.id, "timeout");
  } else {
    next = next_of(n);
  }
  ++stats[f].steps[i.node].passed;
  if (next) {
    run(row, f, *next, ctx);
  } else {
    i.status = kDone;
    ++stats[f].completed;
  }
  settle(row, ctx, nullptr);
  process_raised(row, ctx);
}

void Engine::Impl::run_broadcast(std::size_t f) {
  const plan::Flow& fl = flows[f];
  fired.push_back(FiredBroadcast{static_cast<std::int32_t>(f), fl.at, schedule.outside_quiet_hours(fl.at)});
  std::uint64_t k = 0;
  const std::size_t n = store->size();
  for (std::uint32_t row = 0; row < n; ++row) {
    if (!test(fl.target, row, nullptr)) continue;
    if (fl.throttle_count > 0) {
      schedule.throttle_floor = fl.at + static_cast<std::int64_t>(k * static_cast<std::uint64_t>(fl.throttle_unit) /
                                                                  static_cast<std::uint64_t>(fl.throttle_count));
    }
    ++k;
    Ctx ctx;
    Instance& i = in(row, f);
    if (i.status == kInside) leave(row, f, "broadcast again");
    begin(row, f, fmt::format("broadcast `{}` at {}", fl.name, format_time(fl.at, *zone)));
    run(row, f, 0, ctx);
    settle(row, ctx, nullptr);
    process_raised(row, ctx);
  }
  schedule.throttle_floor = 0;
}

void Engine::Impl::start_at(std::int64_t t, bool resuming) {
  if (started) return;
  started = true;
  now = t;
  wheel.advance(static_cast<std::uint32_t>(std::max<std::int64_t>(t, 0)),
                [](std::uint32_t, std::uint32_t, std::uint32_t) {});
  // Broadcasts scheduled before the start are in the past: not sent. Resuming from a saved
  // clock, one at that very second went out before the clock was saved.
  while (next_broadcast < plan.broadcast_order.size()) {
    const std::int64_t at = flows[static_cast<std::size_t>(plan.broadcast_order[next_broadcast])].at;
    if (at > t || (at == t && !resuming)) break;
    ++next_broadcast;
  }
  grow();
}

// At local midnight: `start when` conditions that depend on the date, for every friend.
void Engine::Impl::tick() {
  const std::size_t n = store->size();
  for (std::uint32_t row = 0; row < n; ++row) {
    for (std::size_t f : plan.timed_starts) {
      bool now_true = false;
      std::string why;
      for (const auto& c : flows[f].start_when) {
        if (test(c.pred, row, nullptr)) {
          now_true = true;
          why = c.text;
          break;
        }
      }
      Instance& i = in(row, f);
      const bool was = i.when_prev;
      i.when_prev = now_true;
      if (now_true && !was) {
        Ctx ctx;
        enter(row, f, ctx, fmt::format("`start when {}` became true (a new day)", why));
        settle(row, ctx, nullptr);
        process_raised(row, ctx);
      }
    }
  }
}

void Engine::Impl::run_until(std::int64_t t) {
  if (!started) start_at(t);
  grow();
  const auto& order = plan.broadcast_order;
  while (true) {
    std::int64_t until = t;
    bool bc = next_broadcast < order.size() && flows[static_cast<std::size_t>(order[next_broadcast])].at <= t;
    if (bc) until = flows[static_cast<std::size_t>(order[next_broadcast])].at;
    bool daily = false;
    if (!plan.timed_starts.empty() && next_tick <= until) {
      until = next_tick;
      daily = true;
      bc = bc && flows[static_cast<std::size_t>(order[next_broadcast])].at <= until;
    }
    wheel.advance(static_cast<std::uint32_t>(until), [&](std::uint32_t deadline, std::uint32_t payload, std::uint32_t) {
      now = deadline;
      on_timer(payload);
    });
    now = std::max(now, until);
    if (daily) {
      tick();
      next_tick = zone->to_utc(zone->local_days(now) + 1, 0);
      if (!bc) continue;
    }
    if (!bc) break;
    run_broadcast(static_cast<std::size_t>(order[next_broadcast]));
    ++next_broadcast;
  }
}

}  // namespace okuri::rt
