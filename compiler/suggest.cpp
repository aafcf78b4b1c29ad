#include "compiler/suggest.hpp"

#include <algorithm>
#include <cctype>

#include "compiler/text_width.hpp"

namespace okuri {
namespace {

// Distance in half steps: a substitution that only changes ASCII case costs 1, others 2.
std::size_t weighted_distance(const std::u32string& a, const std::u32string& b) {
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j * 2;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i * 2;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = 2;
      if (a[i - 1] == b[j - 1]) {
        sub = 0;
      } else if (a[i - 1] < 128 && b[j - 1] < 128 &&
                 std::tolower(static_cast<int>(a[i - 1])) == std::tolower(static_cast<int>(b[j - 1]))) {
        sub = 1;
      }
      cur[j] = std::min({prev[j] + 2, cur[j - 1] + 2, prev[j - 1] + sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const auto ua = to_u32(a);
  const auto ub = to_u32(b);
  std::vector<std::size_t> prev(ub.size() + 1);
  std::vector<std::size_t> cur(ub.size() + 1);
  for (std::size_t j = 0; j <= ub.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= ua.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= ub.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ua[i - 1] == ub[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[ub.size()];
}

std::optional<std::string> suggest(std::string_view name, const std::vector<std::string>& candidates) {
  const auto un = to_u32(name);
  const std::size_t len = un.size();
  const std::size_t limit = len <= 2 ? 1 : std::max<std::size_t>(2, len / 3);
  std::vector<std::string> sorted = candidates;
  std::sort(sorted.begin(), sorted.end());
  std::optional<std::string> best;
  std::size_t best_d = limit * 2 + 1;
  for (const auto& c : sorted) {
    if (c == name) continue;
    const std::size_t d = weighted_distance(un, to_u32(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace okuri
