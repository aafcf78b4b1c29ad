#include "compiler/text_width.hpp"

#include <unicode/uchar.h>

namespace okuri {

char32_t decode_utf8(std::string_view s, std::size_t& i) {
  const auto c0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) -> int {
    if (i + k >= s.size()) return -1;
    const auto c = static_cast<unsigned char>(s[i + k]);
    return (c & 0xC0) == 0x80 ? (c & 0x3F) : -1;
  };
  if (c0 < 0x80) {
    ++i;
    return c0;
  }
  int n = 0;
  char32_t cp = 0;
  if ((c0 & 0xE0) == 0xC0) {
    n = 1;
    cp = c0 & 0x1F;
  } else if ((c0 & 0xF0) == 0xE0) {
    n = 2;
    cp = c0 & 0x0F;
  } else if ((c0 & 0xF8) == 0xF0) {
    n = 3;
    cp = c0 & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k <= n; ++k) {
    const int c = cont(static_cast<std::size_t>(k));
    if (c < 0) {
      i += static_cast<std::size_t>(k);
      return 0xFFFD;
    }
    cp = (cp << 6) | static_cast<char32_t>(c);
  }
  i += static_cast<std::size_t>(n) + 1;
  return cp;
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) out.push_back(decode_utf8(s, i));
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

int display_width(char32_t c) {
  if (c < 0x20) return c == '\t' ? 1 : 0;
  if (c < 0x7F) return 1;
  const auto cp = static_cast<UChar32>(c);
  const auto cat = u_charType(cp);
  if (cat == U_NON_SPACING_MARK || cat == U_ENCLOSING_MARK || cat == U_FORMAT_CHAR) return 0;
  const auto w = u_getIntPropertyValue(cp, UCHAR_EAST_ASIAN_WIDTH);
  return (w == U_EA_WIDE || w == U_EA_FULLWIDTH) ? 2 : 1;
}

int display_width(std::string_view s) {
  int w = 0;
  for (std::size_t i = 0; i < s.size();) w += display_width(decode_utf8(s, i));
  return w;
}

std::size_t first_invalid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t at = i;
    const char32_t c = decode_utf8(s, i);
    if (c == 0xFFFD && !(i - at == 3 && static_cast<unsigned char>(s[at]) == 0xEF)) return at;
    if (c >= 0xD800 && c <= 0xDFFF) return at;
    // Strict: an overlong form (`C0 AF` for `/`) or a code point past U+10FFFF is not UTF-8.
    const std::size_t len = i - at;
    if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF))) return at;
  }
  return std::string_view::npos;
}

std::size_t utf16_units(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) n += decode_utf8(s, i) >= 0x10000 ? 2 : 1;
  return n;
}

}  // namespace okuri
