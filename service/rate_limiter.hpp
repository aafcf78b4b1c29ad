// Paces the requests to one LINE endpoint at its published rate, shared by every thread that
// sends to it, and holds them all back while LINE asked to wait (429 with Retry-After): LINE's
// limits are per endpoint and per channel, not per connection.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace okuri::svc {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `per_second` ≤ 0: no limit.
  explicit RateLimiter(double per_second)
      : full_(per_second > 0
                  ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / per_second))
                  : Clock::duration::zero()),
        per_(full_) {}

  // This process's part of the channel's rate (0 < share ≤ 1): several workers share one
  // channel's limits, each in proportion to the partitions it holds.
  void set_share(double share) {
    std::lock_guard<std::mutex> lock(mu_);
    per_ = share > 0 ? std::chrono::duration_cast<Clock::duration>(full_ / std::min(share, 1.0))
                     : Clock::duration::max() / 4;
  }

  // Waits for this caller's slot. False when `stop` became true while waiting (nothing was taken
  // that matters: the slot is simply lost).
  bool acquire(const std::atomic<bool>& stop) {
    Clock::time_point slot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      slot = std::max(next_, Clock::now());
      next_ = slot + per_;
    }
    // Sleep in short steps, so that a stop or a long Retry-After does not pin the thread.
    while (Clock::now() < slot) {
      if (stop.load()) return false;
      std::this_thread::sleep_until(std::min(slot, Clock::now() + std::chrono::milliseconds(100)));
    }
    return !stop.load();
  }

  // How far ahead the next free slot is (zero when a request may go now).
  Clock::duration backlog() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::max(Clock::duration::zero(), next_ - Clock::now());
  }

  // No request before `d` from now (LINE's Retry-After, or a monthly limit).
  void pause_for(Clock::duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    next_ = std::max(next_, Clock::now() + d);
  }

 private:
  std::mutex mu_;
  Clock::duration full_;  // the whole channel's interval between requests
  Clock::duration per_;   // this process's
  Clock::time_point next_{};
};

}  // namespace okuri::svc
