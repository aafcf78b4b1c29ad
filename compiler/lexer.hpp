// A lexer for the tools that need tokens without a parse: the formatter, and the
// language server's completion context and semantic tokens. It never fails: a
// half-typed file lexes, an unterminated text ends at the end of its line.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace okuri::lex {

enum class Kind {
  Word,     // a name or keyword (any byte of a multibyte UTF-8 character counts as a letter)
  Number,   // 12, 3d, 45%, 2026-12-01, 10:00
  String,   // "…", with its quotes (the closing one may be missing: `closed`)
  Punct,    // one character, or one of == != <= >= => += -= ..
  Comment,  // `#` to the end of the line, without trailing blanks
  Newline,
};

struct Token {
  Kind kind;
  std::uint32_t begin, end;  // byte offsets
  bool closed = true;        // strings: the closing quote is there
  std::string_view text(std::string_view source) const { return source.substr(begin, end - begin); }
};

// Bytes that make up names: ASCII letters, digits, `_`, and every byte of a multibyte character.
inline bool is_name_byte(unsigned char c) {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::vector<Token> tokenize(std::string_view s);

}  // namespace okuri::lex
