#include "compiler/lookalike.hpp"

#include <fmt/format.h>

#include "compiler/text_width.hpp"

namespace okuri {
namespace {

// Names of the full-width punctuation marks, by their ASCII counterpart.
const char* punctuation_name(char a) {
  switch (a) {
    case '(':
    case ')':
      return "full-width parenthesis";
    case '[':
    case ']':
      return "full-width bracket";
    case '{':
    case '}':
      return "full-width brace";
    case ':':
      return "full-width colon";
    case ';':
      return "full-width semicolon";
    case ',':
      return "full-width comma";
    case '.':
      return "full-width full stop";
    case '=':
      return "full-width equals sign";
    case '<':
      return "full-width less-than sign";
    case '>':
      return "full-width greater-than sign";
    case '+':
      return "full-width plus sign";
    case '-':
      return "full-width hyphen-minus";
    case '"':
      return "full-width quotation mark";
    case '#':
      return "full-width number sign";
    case '%':
      return "full-width percent sign";
    case '/':
      return "full-width slash";
    case '!':
      return "full-width exclamation mark";
    case '_':
      return "full-width low line";
    default:
      return "full-width character";
  }
}

}  // namespace

std::optional<Lookalike> ascii_lookalike(char32_t c) {
  if (c == 0x3000) return Lookalike{c, ' ', "full-width space"};
  if (c == 0x201C || c == 0x201D) return Lookalike{c, '"', "curly quotation mark"};
  if (c == 0x3001) return Lookalike{c, ',', "ideographic comma"};
  if (c == 0x2212) return Lookalike{c, '-', "minus sign"};
  if (c < 0xFF01 || c > 0xFF5E) return std::nullopt;
  const char a = static_cast<char>(c - 0xFF01 + 0x21);
  if (a >= '0' && a <= '9') return Lookalike{c, a, "full-width digit"};
  if ((a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z')) return Lookalike{c, a, "full-width letter"};
  return Lookalike{c, a, punctuation_name(a)};
}

bool is_punctuation_lookalike(char32_t c) {
  const auto l = ascii_lookalike(c);
  if (!l) return false;
  const char a = l->ascii;
  return !((a >= '0' && a <= '9') || (a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z') || a == '_');
}

std::string to_ascii_lookalikes(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const char32_t c = decode_utf8(s, i);
    if (const auto l = ascii_lookalike(c)) {
      out += l->ascii;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out;
}

std::string code_point_name(char32_t c) { return fmt::format("U+{:04X}", static_cast<std::uint32_t>(c)); }

}  // namespace okuri
