#include "report/ab_test.hpp"

#include <algorithm>
#include <cmath>

namespace okuri::report {

namespace {
constexpr double kZ95 = 1.959963984540054;  // two-sided 95 %
constexpr double kZ80 = 0.841621233572914;  // one-sided 80 % power
}  // namespace

Interval wilson(std::uint64_t k, std::uint64_t n) {
  if (n == 0) return {0, 0};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2 = kZ95 * kZ95;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = kZ95 * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Comparison compare(std::uint64_t ck, std::uint64_t cn, std::uint64_t ak, std::uint64_t an) {
  Comparison c;
  if (cn == 0 || an == 0) return c;
  const double p1 = static_cast<double>(ck) / static_cast<double>(cn);
  const double p2 = static_cast<double>(ak) / static_cast<double>(an);
  c.control_rate = p1;
  c.arm_rate = p2;
  c.difference = p2 - p1;
  const Interval w1 = wilson(ck, cn);
  const Interval w2 = wilson(ak, an);
  c.difference_ci.lo = c.difference - std::sqrt((p2 - w2.lo) * (p2 - w2.lo) + (w1.hi - p1) * (w1.hi - p1));
  c.difference_ci.hi = c.difference + std::sqrt((w2.hi - p2) * (w2.hi - p2) + (p1 - w1.lo) * (p1 - w1.lo));
  const double pooled = static_cast<double>(ck + ak) / static_cast<double>(cn + an);
  const double se = std::sqrt(pooled * (1 - pooled) * (1.0 / static_cast<double>(cn) + 1.0 / static_cast<double>(an)));
  if (se > 0) {
    c.z = c.difference / se;
    c.p_value = std::erfc(std::fabs(c.z) / std::sqrt(2.0));
  }
  auto fits = [](std::uint64_t k, std::uint64_t n) { return n >= 30 && k >= 5 && n - k >= 5; };
  c.enough = fits(ck, cn) && fits(ak, an);
  c.significant = c.enough && c.p_value < 0.05;
  const double d = std::fabs(c.difference);
  if (d > 0) {
    const double pbar = (p1 + p2) / 2;
    const double num = kZ95 * std::sqrt(2 * pbar * (1 - pbar)) + kZ80 * std::sqrt(p1 * (1 - p1) + p2 * (1 - p2));
    c.needed_per_arm = static_cast<std::uint64_t>(std::ceil(num * num / (d * d)));
  }
  return c;
}

}  // namespace okuri::report
