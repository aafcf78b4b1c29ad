// A hierarchical timing wheel for wait deadlines: O(1) add and cancel, 16
// bytes per pending timer, expiry in (deadline, insertion) order so every run
// fires the same timers in the same order.
//
// Time is whole seconds since the epoch as uint32 (good until 2106). The wheel
// is a radix over the deadline's four bytes: a timer sits at level L when its
// deadline agrees with the wheel's current time in every byte above L, in the
// slot of its byte L. Advancing the time cascades the slot the time enters
// down one level; empty stretches are skipped with per-level occupancy bitmaps,
// so jumping over a month of quiet costs a few bitmap scans.
//
// A slot is a contiguous array of (deadline, id, payload) items — cascades and
// expiry stream through memory. Cancelling
// clears the id's alive bit (O(1)); the stale pair is dropped when its slot is
// next drained or cascaded, and only then is the id reused.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/huge_pages.hpp"

namespace okuri::rt {

class TimerWheel {
 public:
  using TimerId = std::uint32_t;

  explicit TimerWheel(std::uint32_t now = 0);

  std::uint32_t now() const { return now_; }
  std::size_t size() const { return size_; }
  // Bytes held by pending timers and their bookkeeping, for the benchmark.
  std::size_t bytes() const;
  // Room for `n` timer ids without growing.
  void reserve(std::size_t n);

  // A timer due at `deadline` (a deadline not after now() is due at the next advance).
  TimerId add(std::uint32_t deadline, std::uint32_t payload);
  // Cancels a pending timer; a fired or cancelled id is ignored.
  void cancel(TimerId id);
  bool pending(TimerId id) const { return id < next_id_ && test(alive_, id); }
  // The earliest pending deadline, if any.
  std::optional<std::uint32_t> next_deadline() const;

  // Moves the time to `to` and calls fire(deadline, payload, id) for every timer
  // due by then, in (deadline, insertion) order. `fire` may add and cancel timers;
  // one added with a deadline not after `to` fires in this call.
  template <typename Fire>
  void advance(std::uint32_t to, Fire&& fire);

 private:
  static constexpr int kLevels = 4;
  static constexpr std::uint32_t kSlots = 256;

  struct Item {  // 12 bytes: the payload travels with the pair, so expiry reads memory in order
    std::uint32_t deadline;
    std::uint32_t id;
    std::uint32_t payload;
  };

  std::vector<Item> slots_[kLevels][kSlots];
  std::vector<Item> overdue_;
  // The current 256-second window's items as they were when the time entered it, sorted by
  // deadline; level 0 holds only timers added since.
  std::vector<Item> window_;
  std::size_t window_pos_ = 0;
  std::uint32_t next_id_ = 0;
  std::vector<std::uint64_t> alive_;    // bit per id: pending
  std::vector<std::uint64_t> stale_;    // bit per id: cancelled, its pair still in a slot
  // Every fired timer's id comes back here: when millions fire it grows in huge pages (a page
  // fault per 4 KiB was most of what expiring a timer cost on some machines).
  std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> free_;
  std::uint64_t occupied_[kLevels][kSlots / 64] = {};
  std::uint32_t now_;
  std::size_t size_ = 0;

  static bool test(const std::vector<std::uint64_t>& b, std::uint32_t i) { return ((b[i >> 6] >> (i & 63)) & 1) != 0; }
  static void set(std::vector<std::uint64_t>& b, std::uint32_t i, bool v) {
    if (v) {
      b[i >> 6] |= std::uint64_t{1} << (i & 63);
    } else {
      b[i >> 6] &= ~(std::uint64_t{1} << (i & 63));
    }
  }
  void mark(int level, std::uint32_t slot, bool on) {
    if (on) {
      occupied_[level][slot / 64] |= std::uint64_t{1} << (slot % 64);
    } else {
      occupied_[level][slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
    }
  }
  void place(Item it);  // into the slot its deadline and now_ call for
  void cascade(int level, std::uint32_t slot);
  std::optional<std::uint32_t> next_slot(int level, std::uint32_t from) const;
  // A stale (cancelled) pair met while draining: forget it and free its id.
  void drop_stale(std::uint32_t id);
  void free_id(std::uint32_t id) { free_.push_back(id); }
};

template <typename Fire>
void TimerWheel::advance(std::uint32_t to, Fire&& fire) {
  // `fire` may add timers and cancel timers of the batch being fired (then skipped).
  auto fire_one = [&](const Item& it) {
    if (!test(alive_, it.id)) {
      drop_stale(it.id);
      return;
    }
    set(alive_, it.id, false);
    --size_;
    fire(it.deadline, it.payload, it.id);
    free_id(it.id);
  };
  auto fire_batch = [&](std::vector<Item>& batch) {
    for (const Item& it : batch) fire_one(it);
  };
  std::vector<Item> batch;
  while (true) {
    // Due timers first: overdue ones in (deadline, insertion) order.
    if (!overdue_.empty()) {
      batch.swap(overdue_);
      overdue_.clear();
      std::stable_sort(batch.begin(), batch.end(), [](const Item& a, const Item& b) { return a.deadline < b.deadline; });
      fire_batch(batch);
      batch.clear();
      continue;
    }
    // The next time anything is due within the current window: its sorted items (older),
    // then level 0 (timers added since).
    const bool win = window_pos_ < window_.size();
    const auto s = next_slot(0, now_ & 0xFF);
    if (win || s) {
      std::uint32_t t = win ? window_[window_pos_].deadline : 0xFFFFFFFFu;
      if (s) t = std::min(t, (now_ & ~0xFFu) | *s);
      if (t <= to) {
        now_ = t;
        // Fired from the array in place: `fire` only adds to level 0 or above, or to overdue_.
        while (window_pos_ < window_.size() && window_[window_pos_].deadline == t) {
          // Ids come in deadline order, not id order: ask for the alive bits a little ahead.
          if (window_pos_ + 16 < window_.size()) __builtin_prefetch(&alive_[window_[window_pos_ + 16].id >> 6]);
          fire_one(window_[window_pos_++]);
        }
        if (s && ((now_ & ~0xFFu) | *s) == t) {
          batch.swap(slots_[0][*s]);
          mark(0, *s, false);
          fire_batch(batch);
          batch.clear();
        }
        continue;
      }
    } else {
      // The window and level 0 are empty: move to the next occupied slot of the lowest level
      // that has one (no slot of a higher level can be earlier).
      bool moved = false;
      for (int level = 1; level < kLevels; ++level) {
        const int shift = 8 * level;
        const std::uint32_t cur = (now_ >> shift) & 0xFF;
        if (cur == 0xFF) continue;
        auto slot = next_slot(level, cur + 1);
        if (!slot) continue;
        // The start of that slot: higher bytes kept, byte `level` = slot, lower bytes 0.
        const std::uint64_t above = shift + 8 >= 32 ? 0 : (static_cast<std::uint64_t>(now_) >> (shift + 8)) << (shift + 8);
        const auto t = static_cast<std::uint32_t>(above | (static_cast<std::uint64_t>(*slot) << shift));
        if (t <= to) {
          now_ = t;
          cascade(level, *slot);
          moved = true;
        }
        break;
      }
      if (moved) continue;
    }
    // Nothing due before `to`: jump there, cascading the slots the new time enters;
    // the next round fires what became due at exactly `to`.
    if (to > now_) {
      const std::uint32_t old = now_;
      now_ = to;
      for (int level = kLevels - 1; level >= 1; --level) {
        const int shift = 8 * level;
        if ((old >> shift) != (to >> shift)) cascade(level, (to >> shift) & 0xFF);
      }
      continue;
    }
    break;
  }
}

}  // namespace okuri::rt
