// How deep a JSON text nests, found by reading it once (strings skipped), before anything
// parses or walks it: a parser or a printer that recurses would run out of stack on a value
// nested 100,000 deep. Every place that reads JSON from outside checks it first.
#pragma once

#include <cstddef>
#include <string_view>

namespace okuri::stdlib {

// Deeper than anything LINE or Okuri writes (LINE's flex messages nest a few dozen levels).
inline constexpr std::size_t kJsonDepthLimit = 256;

// Whether the text nests arrays and objects deeper than `limit` (malformed text is left to the parser).
inline bool json_too_deep(std::string_view text, std::size_t limit = kJsonDepthLimit) {
  if (text.size() <= limit) return false;  // each level takes a byte: a short text cannot be too deep
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace okuri::stdlib
