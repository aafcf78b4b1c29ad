#include "runtime/timer_wheel.hpp"

namespace okuri::rt {

TimerWheel::TimerWheel(std::uint32_t now) : now_(now) {}

void TimerWheel::reserve(std::size_t n) {
  alive_.reserve((n + 63) / 64);
  stale_.reserve((n + 63) / 64);
}

std::size_t TimerWheel::bytes() const {
  std::size_t b = (alive_.capacity() + stale_.capacity()) * 8 + free_.capacity() * 4 +
                  overdue_.capacity() * sizeof(Item) + window_.capacity() * sizeof(Item) + sizeof(*this);
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
  if (level == 1) {
    // The time has entered this 256-second window: sort its items by deadline once (a stable
    // counting sort on the low byte keeps insertion order) and fire them from that array.
    // Cancelled pairs come along and are dropped when they come due.
    for (std::size_t i = window_pos_; i < window_.size(); ++i) place(window_[i]);  // (never left over in practice)
    window_.clear();
    window_pos_ = 0;
    std::uint32_t counts[kSlots] = {};
    std::size_t n = 0;
    for (const Item& it : moving) {
      if (it.deadline <= now_) {
        overdue_.push_back(it);
      } else {
        ++counts[it.deadline & 0xFF];
        ++n;
      }
    }
    std::uint32_t offset[kSlots];
    std::uint32_t sum = 0;
    for (std::uint32_t k = 0; k < kSlots; ++k) {
      offset[k] = sum;
      sum += counts[k];
    }
    window_.resize(n);
    for (const Item& it : moving) {
      if (it.deadline > now_) window_[offset[it.deadline & 0xFF]++] = it;
    }
    return;
  }
  // Every item of the slot agrees with now_ above `level`: it goes to a lower level (or is due).
  std::uint32_t counts[kSlots] = {};
  const int below = level - 1;
  const int shift = 8 * below;
  for (const Item& it : moving) ++counts[(it.deadline >> shift) & 0xFF];
  for (std::uint32_t k = 0; k < kSlots; ++k) {
    if (counts[k] != 0) slots_[below][k].reserve(slots_[below][k].size() + counts[k]);
  }
  // In order, so lower slots keep insertion order. Most items land in a slot of the level just
  // below; those in the slot the time is in now go lower still (place decides).
  const std::uint32_t here = (now_ >> shift) & 0xFF;
  for (const Item& it : moving) {
    const std::uint32_t b = (it.deadline >> shift) & 0xFF;
    if (b > here) {  // (b < here: already due; place puts it with the overdue ones)
      slots_[below][b].push_back(it);
    } else {
      place(it);
    }
  }
  for (std::uint32_t k = 0; k < kSlots; ++k) {
    if (counts[k] != 0 && k > here) mark(below, k, true);
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
  std::optional<std::uint32_t> win;
  for (std::size_t i = window_pos_; i < window_.size(); ++i) {
    if (test(alive_, window_[i].id)) {
      win = window_[i].deadline;
      break;
    }
  }
  // Slots may hold only cancelled pairs: look further until a live one turns up.
  for (std::uint32_t s = now_ & 0xFF; s < kSlots; ++s) {
    if (win && (*win & 0xFF) <= s) return win;
    if (auto d = min_alive(slots_[0][s])) return d;
  }
  if (win) return win;
  for (int level = 1; level < kLevels; ++level) {
    const std::uint32_t cur = (now_ >> (8 * level)) & 0xFF;
    for (std::uint32_t s = cur + 1; s < kSlots; ++s) {
      if (auto d = min_alive(slots_[level][s])) return d;
    }
  }
  return std::nullopt;
}

}  // namespace okuri::rt
