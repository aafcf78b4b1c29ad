#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "runtime/timer_wheel.hpp"

using okuri::rt::TimerWheel;

TEST_CASE("the wheel fires exactly what a sorted reference fires, in the same order", "[timers]") {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937_64 rng(seed);
    const std::uint32_t start = 1'767'225'600;  // 2026-01-01
    TimerWheel w(start);
    // Reference: (deadline, insertion sequence) → (payload, id)
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::pair<std::uint32_t, TimerWheel::TimerId>> ref;
    std::map<TimerWheel::TimerId, std::pair<std::uint32_t, std::uint64_t>> key_of;
    std::uint64_t seq = 0;
    std::uint32_t payload = 0;
    auto add = [&](std::uint32_t d) {
      const auto id = w.add(d, ++payload);
      // Overdue timers fire in deadline order; others too: both keyed the same way.
      ref[{std::max(d, w.now()) == d ? d : d, seq}] = {payload, id};
      key_of[id] = {d, seq};
      ++seq;
    };
    std::vector<std::pair<std::uint32_t, std::uint32_t>> fired;
    for (int step = 0; step < 3000; ++step) {
      const auto r = rng() % 100;
      const std::uint32_t now = w.now();
      if (r < 55) {
        static const std::uint32_t spans[] = {0, 1, 60, 255, 256, 3600, 65536, 86400 * 30, 86400 * 400, 16'777'216};
        const std::uint32_t span = spans[rng() % 10];
        const std::uint32_t d = rng() % 10 == 0 ? now - static_cast<std::uint32_t>(rng() % 1000) : now + static_cast<std::uint32_t>(span == 0 ? 0 : rng() % span);
        add(d);
      } else if (r < 70 && !key_of.empty()) {
        auto it = key_of.begin();
        std::advance(it, static_cast<long>(rng() % key_of.size()));
        w.cancel(it->first);
        ref.erase(it->second);
        key_of.erase(it);
      } else {
        static const std::uint32_t jumps[] = {0, 1, 100, 300, 70000, 86400 * 31, 20'000'000};
        const std::uint32_t to = now + static_cast<std::uint32_t>(rng() % (jumps[rng() % 7] + 1));
        std::vector<std::pair<std::uint32_t, std::uint32_t>> want;
        while (!ref.empty() && ref.begin()->first.first <= to) {
          want.emplace_back(ref.begin()->first.first, ref.begin()->second.first);
          key_of.erase(ref.begin()->second.second);
          ref.erase(ref.begin());
        }
        fired.clear();
        w.advance(to, [&](std::uint32_t d, std::uint32_t p, TimerWheel::TimerId) { fired.emplace_back(d, p); });
        REQUIRE(fired == want);
        REQUIRE(w.now() == to);
      }
      REQUIRE(w.size() == ref.size());
      if (!ref.empty()) {
        REQUIRE(w.next_deadline() == std::optional<std::uint32_t>(ref.begin()->first.first));
      }
    }
  }
}

TEST_CASE("a timer added while firing, at or before the target, fires in the same advance", "[timers]") {
  TimerWheel w(1000);
  w.add(1010, 1);
  std::vector<std::uint32_t> got;
  w.advance(2000, [&](std::uint32_t d, std::uint32_t p, TimerWheel::TimerId) {
    got.push_back(p);
    if (p == 1) w.add(d + 5, 2);       // a follow-up wait
    if (p == 2) w.add(d + 5000, 3);    // beyond the target: stays pending
  });
  CHECK(got == std::vector<std::uint32_t>{1, 2});
  CHECK(w.size() == 1);
  CHECK(w.next_deadline() == std::optional<std::uint32_t>(1015 + 5000));
}

TEST_CASE("cancelling a timer of the batch being fired skips it", "[timers]") {
  TimerWheel w(1000);
  const auto a = w.add(1100, 1);
  const auto b = w.add(1100, 2);
  (void)a;
  std::vector<std::uint32_t> got;
  w.advance(1200, [&](std::uint32_t, std::uint32_t p, TimerWheel::TimerId) {
    got.push_back(p);
    w.cancel(b);
  });
  CHECK(got == std::vector<std::uint32_t>{1});
  CHECK(w.size() == 0);
  CHECK_FALSE(w.pending(b));
  CHECK_FALSE(w.next_deadline().has_value());
}

TEST_CASE("overdue timers after a restart fire oldest first", "[timers]") {
  TimerWheel w(5000);
  w.add(4000, 1);
  w.add(3000, 2);
  w.add(4000, 3);
  std::vector<std::uint32_t> got;
  w.advance(5000, [&](std::uint32_t, std::uint32_t p, TimerWheel::TimerId) { got.push_back(p); });
  CHECK(got == std::vector<std::uint32_t>{2, 1, 3});
}
