// Generates synthetic scenario projects of a given size for benchmarks:
// declarations, segments with several clauses, rules with actions, and
// scenarios with waits, branches and splits — the mix a real account has.
#pragma once

#include <string>

namespace okuri::bench {

// About `lines` lines of source; the same seed gives the same text.
std::string generate_project(int lines, unsigned seed = 42);

}  // namespace okuri::bench
