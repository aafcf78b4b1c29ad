#include "bench/project_gen.hpp"

#include <fmt/format.h>

#include <random>

namespace okuri::bench {

std::string generate_project(int lines, unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  static const char* const kPrefs[] = {"tokyo", "kanagawa", "chiba", "saitama", "osaka", "kyoto", "hyogo", "aichi"};
  // Per block of ~500 lines: 20 tags, 20 messages, 10 links, 5 fields,
  // 50 segments, 25 rules (100 actions), 3 scenarios with 30 waits.
  std::string out =
      "account {\n  timezone \"Asia/Tokyo\"\n  quiet_hours 22:00 - 08:00\n  daily_limit 3\n  plan standard\n}\n"
      "score engagement\n";
  int line_count = 7;
  int block = 0;
  while (line_count < lines) {
    const int b = block++;
    for (int i = 0; i < 20; ++i) out += fmt::format("tag t{}_{}\n", b, i);
    for (int i = 0; i < 20; ++i) out += fmt::format("message m{}_{} text \"メッセージ{}-{} です、{{display_name}}さん\"\n", b, i, b, i);
    for (int i = 0; i < 10; ++i) out += fmt::format("link l{}_{} \"https://example.com/{}/{}\"\n", b, i, b, i);
    out += fmt::format("field f{}_n: int = 0\nfield f{}_d: date\nfield f{}_k: one_of(a, b, c)\n", b, b, b);
    out += fmt::format("field f{}_s: set_of(x, y, z)\nfield f{}_t: datetime\n", b, b);
    line_count += 55;
    for (int i = 0; i < 50; ++i) {
      const int lo = 15 + pick(40);
      out += fmt::format(
          "segment s{}_{} = age in {}..{} and region in [{}, {}] and (score >= {} or tagged(t{}_{})) and not "
          "clicked(l{}_{}, within 7d)\n",
          b, i, lo, lo + 10, kPrefs[pick(8)], kPrefs[pick(8)], pick(20), b, pick(20), b, pick(10));
    }
    line_count += 50;
    for (int i = 0; i < 25; ++i) {
      out += fmt::format("on link_clicked(l{}_{}) {{\n  score += {}\n  score(engagement) += 1\n  tag t{}_{}\n", b, i % 10,
                         1 + pick(5), b, pick(20));
      out += fmt::format("  set f{}_n = f{}_n + 1\n}}\n", b, b);
      line_count += 6;
    }
    for (int sc = 0; sc < 3; ++sc) {
      out += fmt::format("scenario sc{}_{} {{\n  start on friend_added\n  stop when tagged(t{}_0)\n", b, sc, b);
      line_count += 3;
      for (int w = 0; w < 10; ++w) {
        out += fmt::format("  send m{}_{}\n  wait {}d at {}:00\n", b, pick(20), 1 + pick(3), 9 + pick(12));
        out += fmt::format("  if s{}_{} {{\n    send m{}_{}\n  }} else {{\n    tag t{}_{}\n  }}\n", b, pick(50), b,
                           pick(20), b, pick(20));
        line_count += 7;
      }
      out += fmt::format("  split {{\n    50% a => send m{}_1\n    50% b => send m{}_2\n  }}\n}}\n", b, b);
      line_count += 5;
    }
    // Use what was declared so that W104 stays quiet.
    out += fmt::format("segment used{} = ", b);
    for (int i = 0; i < 20; ++i) out += fmt::format("{}tagged(t{}_{})", i ? " or " : "", b, i);
    for (int i = 0; i < 50; ++i) out += fmt::format(" or s{}_{}", b, i);
    out += fmt::format(" or f{}_d == today or f{}_k == a or has(f{}_s, x) or f{}_t > now\n", b, b, b, b);
    out += fmt::format("scenario use{} {{\n  start when used{}\n  send ", b, b);
    for (int i = 0; i < 5; ++i) out += fmt::format("{}m{}_{}", i ? ", " : "", b, i);
    out += "\n";
    for (int k = 1; k < 4; ++k) {
      out += "  wait 1d\n  send ";
      for (int i = 0; i < 5; ++i) out += fmt::format("{}m{}_{}", i ? ", " : "", b, k * 5 + i);
      out += "\n";
    }
    out += "}\n";
    line_count += 12;
  }
  return out;
}

}  // namespace okuri::bench
