// `{name}` interpolations in message and notify texts, parsed once for the checker, the language
// server, the plan (what the renderer fills) and the formatter:
//
//   {display_name}              the value, or nothing when it is unknown
//   {display_name|お客様}       the value, or the fallback when it is unknown
//   {lesson_at:ja}              a date or datetime in a Japanese format: 5月16日(土) 10:00
//   {lesson_at:ja|未定}         both
//
// A `{` without a matching `}` and an empty `{}` are literal text. The fallback runs to the
// closing `}` and may hold any text but `}`. Spaces around the name, the format and the
// fallback are not part of them: `{ display_name | お客様 }` is `{display_name|お客様}`.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace okuri {

struct TextPart {
  bool is_ref = false;
  std::string text;    // literal text; or the name
  std::string format;  // "" (the default), or a format name after `:`
  std::optional<std::string> fallback;
  // Byte offsets in the parsed text: the whole `{…}`, the name, and the format.
  std::size_t begin = 0, end = 0;
  std::size_t name_begin = 0, name_end = 0;
  std::size_t format_begin = 0, format_end = 0;
};

// Splits a text into literal parts and interpolations, in order. Adjacent literal text is one part.
std::vector<TextPart> parse_text_template(std::string_view text);

// The formats a date, datetime or time of day may name after `:`.
struct TextFormat {
  std::string_view name;
  std::string_view example;                           // for docs, hover and diagnostics
  bool date = false, datetime = false, time = false;  // the kinds of value it applies to
};
const std::vector<TextFormat>& text_formats();
const TextFormat* find_text_format(std::string_view name);

}  // namespace okuri
