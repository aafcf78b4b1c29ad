#include "runtime/timer_wheel.hpp"

namespace okuri::rt {

TimerWheel::TimerWheel(std::uint32_t now) : now_(now) {}

void TimerWheel::reserve(std::size_t n) {
  alive_.reserve((n + 63) / 64);
  stale_.reserve((n + 63) / 64);
}

std::size_t TimerWheel::bytes() const {
  std::size_t b = (alive_.capacity() + stale_.capacity()) * 8 + free_.capacity() * 4 +
                  overdue_.capacity() * sizeof(Item) + sizeof(*this);
  for (const auto& level : slots_) {
    for (const auto& slot : level) b += slot.capacity() * sizeof(Item);
  }
  return b;
}

void TimerWheel::place(Item it) {
  if (it.deadline <= now_) {
    overdue_.push_back(it);
    return;
  }
  const std::uint32_t diff = it.deadline ^ now_;
  const int level = (31 - std::countl_zero(diff)) / 8;  // the highest differing byte
  const std::uint32_t slot = (it.deadline >> (8 * level)) & 0xFF;
  slots_[level][slot].push_back(it);
  mark(level, slot, true);
}

TimerWheel::TimerId TimerWheel::add(std::uint32_t deadline, std::uint32_t payload) {
  std::uint32_t id = 0;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = next_id_++;
    if (alive_.size() * 64 < next_id_) {
      alive_.push_back(0);
      stale_.push_back(0);
    }
  }
  set(alive_, id, true);
  place(Item{deadline, id, payload});
  ++size_;
  return id;
}

void TimerWheel::cancel(TimerId id) {
  if (!pending(id)) return;
  set(alive_, id, false);
  set(stale_, id, true);  // its pair is still in a slot: the id is reused only after that is dropped
  --size_;
}

void TimerWheel::drop_stale(std::uint32_t id) {
  if (!test(stale_, id)) return;
  set(stale_, id, false);
  free_id(id);
}

void TimerWheel::cascade(int level, std::uint32_t slot) {
  std::vector<Item> moving;
  moving.swap(slots_[level][slot]);
  mark(level, slot, false);
  // Size the target slots first: no reallocation while streaming the items.
  std::uint32_t counts[kSlots] = {};
  const int below = level - 1;
  for (const Item& it : moving) {
    if (it.deadline > now_ && ((it.deadline ^ now_) >> (8 * level)) == 0 && ((it.deadline ^ now_) >> (8 * below)) != 0) {
      ++counts[(it.deadline >> (8 * below)) & 0xFF];
    }
  }
  for (std::uint32_t k = 0; k < kSlots; ++k) {
    if (counts[k] != 0) slots_[below][k].reserve(slots_[below][k].size() + counts[k]);
  }
  for (const Item& it : moving) {  // in order: lower slots keep insertion order
    if (!test(alive_, it.id)) {
      drop_stale(it.id);
      continue;
    }
    place(it);
  }
}

std::optional<std::uint32_t> TimerWheel::next_slot(int level, std::uint32_t from) const {
  for (std::uint32_t w = from / 64; w < kSlots / 64; ++w) {
    std::uint64_t bits = occupied_[level][w];
    if (w == from / 64) bits &= ~std::uint64_t{0} << (from % 64);
    if (bits != 0) return w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits));
  }
  return std::nullopt;
}

std::optional<std::uint32_t> TimerWheel::next_deadline() const {
  auto min_alive = [this](const std::vector<Item>& v) {
    std::optional<std::uint32_t> best;
    for (const auto& it : v) {
      if (test(alive_, it.id) && (!best || it.deadline < *best)) best = it.deadline;
    }
    return best;
  };
  if (auto d = min_alive(overdue_)) return d;
  // Slots may hold only cancelled pairs: look further until a live one turns up.
  for (std::uint32_t s = now_ & 0xFF; s < kSlots; ++s) {
    if (auto d = min_alive(slots_[0][s])) return d;
  }
  for (int level = 1; level < kLevels; ++level) {
    const std::uint32_t cur = (now_ >> (8 * level)) & 0xFF;
    for (std::uint32_t s = cur + 1; s < kSlots; ++s) {
      if (auto d = min_alive(slots_[level][s])) return d;
    }
  }
  return std::nullopt;
}

}  // namespace okuri::rt
