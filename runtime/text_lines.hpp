// Line-by-line reading of the text inputs (friends, events).
#pragma once

#include <cstddef>
#include <string_view>

namespace okuri::rt {

// Calls f(line_number, line, offset_after_line) for each line of `text`, 1-based,
// without its '\n' and a trailing '\r'.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < text.size()) {
    auto e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = text.substr(pos, e - pos);
    pos = e + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line_no, line, pos < text.size() ? pos : text.size());
  }
}

}  // namespace okuri::rt
