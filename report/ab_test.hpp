// A/B results of a split: each arm's conversion rate with a 95 % interval, and each arm against
// the control (the split's first arm) — the difference with its 95 % interval, a two-proportion
// z-test, and a verdict in plain words, with a warning when the arms are too small to tell.
#pragma once

#include <cstdint>
#include <string>

namespace okuri::report {

struct Interval {
  double lo = 0, hi = 0;
};

// Wilson's score interval for k successes in n (95 %): right near 0 % and 100 % and for small n,
// where the textbook ±1.96·√(p(1−p)/n) is not.
Interval wilson(std::uint64_t k, std::uint64_t n);

struct Comparison {
  double control_rate = 0, arm_rate = 0;
  double difference = 0;   // arm − control, as a proportion
  Interval difference_ci;  // Newcombe's interval from the two Wilson intervals
  double z = 0;
  double p_value = 1;        // two-sided, pooled two-proportion z-test
  bool enough = false;       // each arm has at least 5 conversions and 5 non-conversions, and 30 friends
  bool significant = false;  // enough, and p < 0.05
  // Friends per arm a test at 95 % / 80 % power would need to tell this difference (0: no difference to tell).
  std::uint64_t needed_per_arm = 0;
};

Comparison compare(std::uint64_t control_converted, std::uint64_t control_friends, std::uint64_t arm_converted,
                   std::uint64_t arm_friends);

}  // namespace okuri::report
