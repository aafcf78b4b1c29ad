// Characters a Japanese input method types in place of ASCII: full-width forms
// (`（`, `：`, `＝`, `３`, `ｄ`), the full-width space U+3000, curly quotes from a
// phone keyboard and the ideographic comma `、`. Where Okuri needs ASCII, a
// diagnostic names the character and what to type instead.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace okuri {

struct Lookalike {
  char32_t code_point;
  char ascii;        // what to type instead
  const char* what;  // "full-width parenthesis", "full-width space", …
};

// The ASCII character `c` stands for, or nullopt.
std::optional<Lookalike> ascii_lookalike(char32_t c);

// Whether the look-alike can never be part of a name (punctuation and spaces, as
// opposed to full-width letters and digits, which names may hold).
bool is_punctuation_lookalike(char32_t c);

// `s` with every look-alike replaced by its ASCII character (`ｔｏｋｙｏ` → `tokyo`).
std::string to_ascii_lookalikes(std::string_view s);

// "U+FF08"
std::string code_point_name(char32_t c);

}  // namespace okuri
