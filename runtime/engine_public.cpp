// The engine's public face: construction, what callers read between events (positions,
// wake times, counters, the values test blocks and explain ask about), and the drains of
// what a run produced (deliveries, notifications, dirty rows). Each delegates to
// Engine::Impl (runtime/engine_impl.hpp); the running itself is engine.cpp's.
#include <array>

#include "runtime/engine_impl.hpp"

namespace okuri::rt {

Engine::Engine(const Program& p, EngineOptions options) : Engine(plan::build_plan(p), p, std::move(options)) {}
Engine::Engine(std::shared_ptr<const plan::Plan> plan, const Program& p, EngineOptions options)
    : impl_(std::make_unique<Impl>(p, std::move(plan), std::move(options))) {}
Engine::~Engine() = default;
FriendStore& Engine::store() { return *impl_->store; }
const FriendStore& Engine::store() const { return *impl_->store; }
const ir::Schema& Engine::schema() const { return impl_->plan.schema; }
const Program& Engine::program() const { return impl_->program; }
const plan::Plan& Engine::plan() const { return impl_->plan; }
const Renderer& Engine::renderer() const { return impl_->renderer; }
bool Engine::jit() const { return !impl_->rows.empty(); }
void Engine::start_at(std::int64_t t) { impl_->start_at(t); }
void Engine::resume_at(std::int64_t t) { impl_->start_at(t, true); }
void Engine::run_until(std::int64_t t) { impl_->run_until(t); }
void Engine::handle(const InputEvent& e) { impl_->handle(e, FriendStore::key_of(e.friend_id)); }
void Engine::handle(const InputEvent& e, const FriendStore::IdKey& key) { impl_->handle(e, key); }

std::string Engine::render(const std::vector<plan::MessageId>& messages, std::uint32_t row) const {
  impl_->grow();
  return impl_->renderer.messages(messages, impl_->render_context(row, nullptr));
}

void Engine::prefetch(const FriendStore::IdKey& key, int stage) const {
  const Impl& m = *impl_;
  if (stage == 0) {
    m.store->prefetch_id(key);
    return;
  }
  const auto row = m.store->peek(key);
  if (!row || *row >= m.store->size()) return;
  __builtin_prefetch(&m.store->ids[*row]);
  m.store->prefetch(*row);
  if (!m.flows.empty() && *row * m.flows.size() < m.inst.size()) {
    const char* first = reinterpret_cast<const char*>(&m.inst[*row * m.flows.size()]);
    for (std::size_t k = 0; k < m.flows.size() * sizeof(Instance); k += 64) __builtin_prefetch(first + k);
  }
}

void Engine::handle_all(const std::vector<InputEvent>& events, const std::function<void(std::size_t)>& progress,
                        std::vector<std::uint32_t>* rows, const std::vector<FriendStore::IdKey>* given) {
  constexpr std::size_t kSlotAhead = 8, kRowAhead = 4;
  const std::size_t n = events.size();
  if (given != nullptr && given->size() != n) given = nullptr;
  // Without keys given, each friend id is parsed and hashed once, when its slot is prefetched;
  // the row's prefetch and the lookup reuse it. The ring holds the keys of events i … i + kSlotAhead.
  std::array<FriendStore::IdKey, kSlotAhead + 1> ring;
  auto key = [&](std::size_t i) -> const FriendStore::IdKey& {
    return given != nullptr ? (*given)[i] : ring[i % ring.size()];
  };
  if (given == nullptr) {
    for (std::size_t i = 0; i < std::min(kSlotAhead, n); ++i) ring[i] = FriendStore::key_of(events[i].friend_id);
  }
  if (rows != nullptr) rows->resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kSlotAhead < n) {
      if (given == nullptr) {
        ring[(i + kSlotAhead) % ring.size()] = FriendStore::key_of(events[i + kSlotAhead].friend_id);
      }
      prefetch(key(i + kSlotAhead), 0);
    }
    if (i + kRowAhead < n) prefetch(key(i + kRowAhead), 1);
    impl_->handle(events[i], key(i));
    if (rows != nullptr) (*rows)[i] = impl_->last_row;
    if (progress && (i & 0xFFFF) == 0) progress(i);
  }
}

std::int64_t Engine::now() const { return impl_->now; }
const std::vector<Delivery>& Engine::deliveries() const { return impl_->deliveries; }
const std::vector<TraceEntry>& Engine::trace() const { return impl_->tracer.entries(); }
const std::vector<FlowStats>& Engine::stats() const { return impl_->stats; }
std::uint64_t Engine::events_handled() const { return impl_->events; }
std::uint64_t Engine::delivery_count() const { return impl_->delivery_total; }
std::uint64_t Engine::notifications() const { return impl_->notifications; }
std::uint64_t Engine::cascade_stops() const { return impl_->cascade_stops; }
std::uint64_t Engine::timers_pending() const { return impl_->wheel.size(); }
std::size_t Engine::flow_count() const { return impl_->flows.size(); }
const StepGraph& Engine::flow(std::size_t i) const { return *impl_->flows[i].graph; }

std::optional<std::uint32_t> Engine::position(std::uint32_t row, std::size_t flow) const {
  impl_->grow();
  const Instance& i = impl_->in(row, flow);
  if (i.status != kInside) return std::nullopt;
  return i.node;
}

std::optional<std::int64_t> Engine::wake_time(std::uint32_t row, std::size_t flow) const {
  impl_->grow();
  const Instance& i = impl_->in(row, flow);
  if (i.status != kInside || i.timer == kNoTimer) return std::nullopt;
  return i.wake;
}

std::vector<std::uint64_t> Engine::waiting(std::size_t flow) const {
  impl_->grow();
  std::vector<std::uint64_t> out(impl_->flows[flow].nodes.size(), 0);
  const std::size_t n = impl_->store->size();
  for (std::uint32_t row = 0; row < n; ++row) {
    const Instance& i = impl_->in(row, flow);
    if (i.status == kInside) ++out[i.node];
  }
  return out;
}

bool Engine::ever_entered(std::uint32_t row, std::size_t flow) const {
  impl_->grow();
  return impl_->in(row, flow).status != kNever;
}

std::vector<std::uint32_t> Engine::take_dirty() {
  Impl& m = *impl_;
  std::vector<std::uint32_t> out;
  out.swap(m.dirty);
  for (auto r : out) m.dirty_mark[r] = false;
  return out;
}

std::vector<MenuLink> Engine::take_menu_links() {
  std::vector<MenuLink> out;
  out.swap(impl_->menu_links);
  return out;
}

std::vector<Notification> Engine::take_notifications() {
  std::vector<Notification> out;
  out.swap(impl_->notifications_out);
  return out;
}

std::vector<FiredBroadcast> Engine::take_fired_broadcasts() {
  std::vector<FiredBroadcast> out;
  out.swap(impl_->fired);
  return out;
}

std::vector<Delivery> Engine::take_deliveries() {
  std::vector<Delivery> out;
  out.swap(impl_->deliveries);
  return out;
}

void Engine::deliver_to(std::function<void(Delivery&&)> sink) { impl_->delivery_sink = std::move(sink); }

Value Engine::evaluate(const ast::Expr& e, std::uint32_t row) {
  impl_->grow();
  auto it = impl_->plan.expr_values.find(e.id);
  if (it == impl_->plan.expr_values.end()) return {};
  return impl_->val(it->second, row, nullptr);
}

std::string Engine::inputs_of(const ast::Expr& e, std::uint32_t row) {
  impl_->grow();
  if (auto it = impl_->plan.expr_preds.find(e.id); it != impl_->plan.expr_preds.end())
    return impl_->inputs(it->second, row, nullptr);
  auto it = impl_->plan.expr_values.find(e.id);
  if (it == impl_->plan.expr_values.end()) return {};
  return impl_->trace_values().inputs(impl_->plan.values[static_cast<std::size_t>(it->second)], row, impl_->env(),
                                      nullptr, nullptr);
}

bool Engine::holds(const ast::Expr& e, std::uint32_t row) {
  impl_->grow();
  auto it = impl_->plan.expr_preds.find(e.id);
  if (it == impl_->plan.expr_preds.end()) return false;
  return impl_->test(it->second, row, nullptr);
}

std::uint32_t Engine::friend_row(const std::string& id) { return impl_->ensure_friend(id); }

void Engine::set_profile(std::uint32_t row, const std::optional<std::string>& display_name,
                         const std::optional<std::string>& language) {
  FriendStore& s = *impl_->store;
  if (display_name) s.display_name[row] = s.texts.intern(*display_name);
  if (language) s.language[row] = s.texts.intern(*language);
  impl_->touch(row);
}
void Engine::force_arm(std::uint32_t row, std::size_t flow, std::string arm) {
  impl_->forced_arms[{row, flow}] = std::move(arm);
}

}  // namespace okuri::rt
