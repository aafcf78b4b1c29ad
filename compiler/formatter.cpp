// `okuri fmt`: one canonical layout. The formatter works on tokens and keeps
// the author's line breaks (like gofmt): it fixes indentation (two spaces per
// block level), the spacing between tokens, trailing spaces and runs of blank
// lines, and keeps every comment. Because it never joins or splits lines and
// never changes a token, the program means the same before and after; the
// caller verifies that by comparing the ASTs.
#include "compiler/formatter.hpp"

#include "compiler/lexer.hpp"
#include "compiler/text_width.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

namespace okuri {
namespace {

enum class Tok { Word, String, Punct, Comment, Newline };

struct Token {
  Tok kind;
  std::string text;
};

// The shared lexer's tokens, as the layout below sees them: numbers are words.
std::vector<Token> tokens_of(std::string_view s) {
  std::vector<Token> out;
  for (const auto& t : lex::tokenize(s)) {
    Tok k = Tok::Word;
    switch (t.kind) {
      case lex::Kind::Word:
      case lex::Kind::Number:
        k = Tok::Word;
        break;
      case lex::Kind::String:
        k = Tok::String;
        break;
      case lex::Kind::Punct:
        k = Tok::Punct;
        break;
      case lex::Kind::Comment:
        k = Tok::Comment;
        break;
      case lex::Kind::Newline:
        k = Tok::Newline;
        break;
    }
    out.push_back({k, std::string(t.text(s))});
  }
  return out;
}

bool is_open(const Token& t) { return t.kind == Tok::Punct && (t.text == "(" || t.text == "["); }
bool is_close(const Token& t) { return t.kind == Tok::Punct && (t.text == ")" || t.text == "]"); }
bool is_punct(const Token& t, const char* p) { return t.kind == Tok::Punct && t.text == p; }

// Words after which `(` starts a parenthesised expression, not a call.
const std::set<std::string>& keyword_before_paren() {
  static const std::set<std::string> k = {"and", "or", "not", "in", "if", "when", "to", "goal", "until", "segment", "="};
  return k;
}

// Whether `-` after `prev` (itself after `before_prev`) is binary. A word after `.` is a
// field (`event.at`), a value even when it is spelt like a keyword.
bool binary_minus(const Token* prev, const Token* before_prev) {
  if (prev == nullptr) return false;
  if (prev->kind == Tok::Word) {
    if (before_prev != nullptr && is_punct(*before_prev, ".")) return true;
    static const std::set<std::string> kw = {"and", "or", "not", "in", "if", "when", "to", "until", "goal", "at"};
    return kw.count(prev->text) == 0;
  }
  return prev->kind == Tok::String || is_close(*prev);
}

bool ends_with_operator(const Token& t) {
  if (t.kind == Tok::Punct) {
    static const std::set<std::string> ops = {",", "=", "=>", "==", "!=", "<", "<=", ">", ">=", "+", "-", "+=", "-="};
    return ops.count(t.text) > 0;
  }
  return t.kind == Tok::Word && (t.text == "and" || t.text == "or" || t.text == "in");
}

// Space between two tokens on one line.
bool space_between(const Token& a, const Token& b, const Token* before_a, const Token* before_before_a) {
  if (b.kind == Tok::Comment) return true;
  if (is_punct(b, ",") || is_punct(b, ";") || is_close(b) || is_punct(b, ".") || is_punct(b, "..") || is_punct(b, ":")) {
    return false;
  }
  if (is_open(a) || is_punct(a, ".") || is_punct(a, "..")) return false;
  if (is_punct(b, "(") && a.kind == Tok::Word) return keyword_before_paren().count(a.text) > 0;
  if (is_punct(b, "/") || is_punct(a, "/")) return false;
  if (is_punct(a, "-") && !binary_minus(before_a, before_before_a)) return false;
  return true;
}

}  // namespace

std::string format_source(std::string_view src) {
  const auto toks = tokens_of(src);
  // Split into lines of tokens.
  std::vector<std::vector<Token>> lines(1);
  for (const auto& t : toks) {
    if (t.kind == Tok::Newline) {
      lines.emplace_back();
    } else {
      lines.back().push_back(t);
    }
  }
  struct Line {
    std::string text;        // without the newline; empty for a blank line
    int indent = 0;
    std::size_t arrow = std::string::npos;  // byte offset of the single `=>` token
  };
  std::vector<Line> outl;
  std::string out;
  int braces = 0;
  int parens = 0;
  bool continued = false;  // the previous line ended with an operator or a comma
  bool op_cont = false;    // this statement continued after an operator: its later lines sit two levels deeper
  int blank_run = 0;
  bool started = false;
  for (const auto& line : lines) {
    if (line.empty()) {
      ++blank_run;
      continue;
    }
    if (started && blank_run > 0) outl.push_back(Line{});
    blank_run = 0;
    out.clear();
    std::size_t arrow = std::string::npos;
    int arrows = 0;
    started = true;
    if (continued && parens == 0) op_cont = true;
    int indent = braces + parens + (op_cont && !is_punct(line.front(), "}") ? 2 : 0);
    if (is_punct(line.front(), "}") || is_close(line.front())) indent = std::max(0, indent - 1);
    out.append(static_cast<std::size_t>(indent) * 2, ' ');
    for (std::size_t i = 0; i < line.size(); ++i) {
      const Token& t = line[i];
      if (i > 0) {
        const Token* before = i >= 2 ? &line[i - 2] : nullptr;
        const Token* before_before = i >= 3 ? &line[i - 3] : nullptr;
        if (t.kind == Tok::Comment) {
          out += "  ";
        } else if (space_between(line[i - 1], t, before, before_before)) {
          out += ' ';
        }
      }
      if (is_punct(t, "=>")) {
        arrow = out.size();
        ++arrows;
      }
      out += t.text;
      if (is_punct(t, "{")) ++braces;
      if (is_punct(t, "}")) braces = std::max(0, braces - 1);
      if (is_open(t)) ++parens;
      if (is_close(t)) parens = std::max(0, parens - 1);
    }
    outl.push_back(Line{out, indent, arrows == 1 ? arrow : std::string::npos});
    // Continuation: the last code token of the line ends with an operator.
    const Token* last = nullptr;
    for (const auto& t : line) {
      if (t.kind != Tok::Comment) last = &t;
    }
    continued = last != nullptr && ends_with_operator(*last);
    if (!continued && parens == 0) op_cont = false;  // the statement ended
  }
  // Align `=>` over runs of consecutive lines at one indentation (split arms, wait cases).
  for (std::size_t i = 0; i < outl.size();) {
    std::size_t j = i;
    while (j < outl.size() && outl[j].arrow != std::string::npos && outl[j].indent == outl[i].indent) ++j;
    if (j - i >= 2) {
      int widest = 0;
      for (std::size_t k = i; k < j; ++k) {
        std::string_view before(outl[k].text.data(), outl[k].arrow);
        while (!before.empty() && before.back() == ' ') before.remove_suffix(1);
        widest = std::max(widest, display_width(before));
      }
      for (std::size_t k = i; k < j; ++k) {
        std::string before = outl[k].text.substr(0, outl[k].arrow);
        while (!before.empty() && before.back() == ' ') before.pop_back();
        const int pad = widest - display_width(before) + 1;
        outl[k].text = before + std::string(static_cast<std::size_t>(pad), ' ') + outl[k].text.substr(outl[k].arrow);
      }
    }
    i = std::max(j, i + 1);
  }
  std::string result;
  for (const auto& l : outl) {
    result += l.text;
    result += '\n';
  }
  return result;
}

}  // namespace okuri
