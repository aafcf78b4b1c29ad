// Canonical formatting of one source file (see formatter.cpp for the rules).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace okuri {

// The canonical form of `src`. Idempotent: format_source(format_source(s)) == format_source(s).
// Only meaningful for a file without syntax errors; callers check first.
std::string format_source(std::string_view src);

// A unified diff between two texts (`--- a` / `+++ b`, hunks with 3 lines of context);
// empty when they are equal.
std::string unified_diff(const std::string& a_name, const std::string& b_name, std::string_view a, std::string_view b);

}  // namespace okuri

namespace okuri {

struct FormatOutcome {
  bool ok = false;
  std::string text;                 // the formatted source (when ok)
  std::vector<std::string> errors;  // "line:col: message" for each syntax error (when not ok)
};

// Formats a file after checking it parses, and proves the result means the
// same (equal ASTs); a file with syntax errors is left alone.
FormatOutcome format_checked(std::string_view src);

}  // namespace okuri
