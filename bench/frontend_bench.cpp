// Front-end speed: parse + check of a generated 500-line project and of a
// 50,000-line one. Prints the median of interleaved repetitions, lines per
// second, and each figure against its target.
//   build/bench/okuri_bench_frontend [--reps N] [--json]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "bench/project_gen.hpp"
#include "compiler/workspace.hpp"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

int main(int argc, char** argv) {
  int reps = 9;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    if (std::strcmp(argv[i], "--json") == 0) json = true;
  }
  const std::string small = okuri::bench::generate_project(500);
  const std::string large = okuri::bench::generate_project(50000);
  const std::size_t small_lines = count_lines(small);
  const std::size_t large_lines = count_lines(large);
  std::vector<double> small_ms;
  std::vector<double> large_ms;
  std::size_t errors = 0;
  for (int r = 0; r < reps; ++r) {  // interleaved: both sizes see the same machine state
    for (int which = 0; which < 2; ++which) {
      const std::string& src = which == 0 ? small : large;
      const auto t0 = std::chrono::steady_clock::now();
      auto p = okuri::compile_sources(".", {{"bench.okuri", src}});
      const auto t1 = std::chrono::steady_clock::now();
      errors += p->diags.error_count();
      (which == 0 ? small_ms : large_ms).push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
  }
  if (errors != 0) {
    auto p = okuri::compile_sources(".", {{"bench.okuri", small}});
    fmt::print(stderr, "generated project has errors:\n{}", okuri::render_human(p->sources, p->diags.all()));
    return 1;
  }
  const double s = median(small_ms);
  const double l = median(large_ms);
  const double lps = static_cast<double>(large_lines) / (l / 1000.0);
  if (json) {
    fmt::print("{{\"small_lines\":{},\"small_ms\":{:.3f},\"large_lines\":{},\"large_ms\":{:.1f},\"lines_per_s\":{:.0f}}}\n",
               small_lines, s, large_lines, l, lps);
    return 0;
  }
  fmt::print("front end: parse + check, median of {} interleaved runs\n", reps);
  fmt::print("  {:>6} lines   {:8.3f} ms   target <= 5 ms        ratio to target {:.2f}\n", small_lines, s, s / 5.0);
  fmt::print("  {:>6} lines   {:8.1f} ms   {:>9.0f} lines/s   target >= 100000   ratio {:.2f}\n", large_lines, l, lps,
             lps / 100000.0);
  return 0;
}
