// Whole numbers as people read them in reports and progress lines: 1,234,567.
#pragma once

#include <cstdint>
#include <string>

namespace okuri::stdlib {

inline std::string with_commas(std::int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return v < 0 ? "-" + out : out;
}

}  // namespace okuri::stdlib
