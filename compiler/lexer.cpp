#include "compiler/lexer.hpp"

namespace okuri::lex {

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto digits = [&](std::size_t at) {
    std::size_t n = 0;
    while (at + n < s.size() && is_digit(s[at + n])) ++n;
    return n;
  };
  auto push = [&](Kind k, std::size_t b, std::size_t e, bool closed = true) {
    out.push_back(Token{k, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e), closed});
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\n') {
      push(Kind::Newline, i, i + 1);
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '#') {
      std::size_t j = i;
      while (j < s.size() && s[j] != '\n') ++j;
      std::size_t e = j;
      while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
      push(Kind::Comment, i, e);
      i = j;
    } else if (c == '"') {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] != '"' && s[j] != '\n') j += (s[j] == '\\' && j + 1 < s.size() && s[j + 1] != '\n') ? 2 : 1;
      const bool closed = j < s.size() && s[j] == '"';
      if (closed) ++j;
      push(Kind::String, i, j, closed);
      i = j;
    } else if (is_digit(c)) {
      std::size_t j = i + digits(i);
      // 2026-12-01 and 10:00 are one token each.
      if (j - i == 4 && j < s.size() && s[j] == '-' && digits(j + 1) > 0) {
        j += 1 + digits(j + 1);
        if (j < s.size() && s[j] == '-' && digits(j + 1) > 0) j += 1 + digits(j + 1);
      } else if (j < s.size() && s[j] == ':' && digits(j + 1) > 0) {
        j += 1 + digits(j + 1);
      }
      while (j < s.size() && (is_name_byte(static_cast<unsigned char>(s[j])) || s[j] == '%')) ++j;
      push(Kind::Number, i, j);
      i = j;
    } else if (is_name_byte(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < s.size() && is_name_byte(static_cast<unsigned char>(s[j]))) ++j;
      push(Kind::Word, i, j);
      i = j;
    } else {
      static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "=>", "+=", "-=", ".."};
      std::size_t n = 1;
      for (const auto t : kTwo) {
        if (s.substr(i, 2) == t) n = 2;
      }
      push(Kind::Punct, i, i + n);
      i += n;
    }
  }
  return out;
}

}  // namespace okuri::lex
