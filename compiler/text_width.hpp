// UTF-8 helpers: decoding, code point counts and terminal display width
// (East Asian Wide and Fullwidth characters take two columns).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace okuri {

// Decodes the code point at `i` and advances `i`; malformed bytes decode as U+FFFD.
char32_t decode_utf8(std::string_view s, std::size_t& i);
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);
std::size_t code_points(std::string_view s);
// Columns a terminal uses for one code point: 0 (combining), 1 or 2 (wide).
int display_width(char32_t c);
int display_width(std::string_view s);
// Offset of the first byte that is not valid UTF-8, or npos.
std::size_t first_invalid_utf8(std::string_view s);
// UTF-16 code units of `s` (for the language server).
std::size_t utf16_units(std::string_view s);

}  // namespace okuri
