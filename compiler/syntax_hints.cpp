#include "compiler/syntax_hints.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "compiler/lookalike.hpp"
#include "compiler/suggest.hpp"
#include "compiler/text_width.hpp"

namespace okuri {
namespace {

struct Line {
  std::uint32_t begin;
  std::uint32_t end;  // at the '\n' (or the end of the text)
};

Line line_around(std::string_view t, std::uint32_t pos) {
  std::uint32_t b = std::min<std::uint32_t>(pos, static_cast<std::uint32_t>(t.size()));
  while (b > 0 && t[b - 1] != '\n') --b;
  std::uint32_t e = std::min<std::uint32_t>(pos, static_cast<std::uint32_t>(t.size()));
  while (e < t.size() && t[e] != '\n') ++e;
  return {b, e};
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_ascii_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The end of the name that starts at `at`: ASCII letters, digits, `_` and any
// character beyond ASCII that is not a look-alike of ASCII punctuation.
std::uint32_t name_end(std::string_view t, std::uint32_t at) {
  std::size_t i = at;
  while (i < t.size()) {
    const std::size_t start = i;
    const char32_t c = decode_utf8(t, i);
    const bool part = c < 0x80 ? is_ascii_word(static_cast<char>(c)) : !ascii_lookalike(c).has_value();
    if (!part) return static_cast<std::uint32_t>(start);
  }
  return static_cast<std::uint32_t>(t.size());
}

bool has_non_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Where the code of a line ends: before a comment (outside texts) and trailing blanks.
std::uint32_t code_end(std::string_view t, Line ln) {
  std::uint32_t end = ln.end;
  for (std::uint32_t i = ln.begin; i < ln.end; ++i) {
    if (t[i] == '"') {
      ++i;
      while (i < ln.end && t[i] != '"') i += t[i] == '\\' ? 2 : 1;
    } else if (t[i] == '#') {
      end = i;
      break;
    }
  }
  while (end > ln.begin && is_blank(t[end - 1])) --end;
  return end;
}

// ------------------------------------------------------------------ full-width look-alikes

std::optional<Diagnostic> lookalike_hint(std::string_view t, std::uint32_t file, const grammar::SyntaxError& e) {
  const Line ln = line_around(t, e.begin);
  // The look-alike where the parser stopped, or further inside the word it stopped at (`3ｄ`).
  std::optional<std::uint32_t> found;
  for (std::size_t k = e.begin; k < ln.end;) {
    const std::size_t start = k;
    const char32_t c = decode_utf8(t, k);
    if (ascii_lookalike(c)) {
      found = static_cast<std::uint32_t>(start);
      break;
    }
    if (c < 0x80 && !is_ascii_word(static_cast<char>(c))) break;
  }
  if (!found) return std::nullopt;
  std::size_t run_end = *found;
  while (run_end < ln.end) {
    std::size_t next = run_end;
    if (!ascii_lookalike(decode_utf8(t, next))) break;
    run_end = next;
  }
  // The fix: the run, and every look-alike of punctuation after it on the line outside
  // texts and comments (`tagged（予約中）` → `tagged(予約中)`); a curly quote opens or closes
  // a text, whose characters stay as they are.
  std::string fixed;
  bool in_text = false;
  for (std::size_t k = *found; k < ln.end;) {
    const std::size_t start = k;
    const char32_t c = decode_utf8(t, k);
    const std::string_view orig = t.substr(start, k - start);
    const auto l = ascii_lookalike(c);
    const bool quote = c == '"' || (l && l->ascii == '"');
    if (in_text) {
      if (c == '\\' && k < ln.end) {
        const std::size_t s2 = k;
        decode_utf8(t, k);
        fixed += orig;
        fixed += t.substr(s2, k - s2);
      } else if (quote) {
        in_text = false;
        fixed += '"';
      } else {
        fixed += orig;
      }
      continue;
    }
    if (c == '#') {
      fixed += t.substr(start, ln.end - start);
      break;
    }
    // Still in the indentation: blanks before the run, and only (converted) spaces since.
    const bool indenting =
        std::all_of(t.begin() + ln.begin, t.begin() + *found, [](char ch) { return ch == ' ' || ch == '\t'; }) &&
        fixed.find_first_not_of(' ') == std::string::npos;
    if (quote) {
      in_text = true;
      fixed += '"';
    } else if (c == 0x3000 && indenting && start < run_end) {
      fixed += "  ";  // a full-width space is as wide as two: keep the indentation's look
    } else if (l && (start < run_end || is_punctuation_lookalike(c))) {
      fixed += l->ascii;
    } else {
      fixed += orig;
    }
  }
  std::string original(t.substr(*found, ln.end - *found));
  while (!original.empty() && !fixed.empty() && original.back() == fixed.back()) {
    original.pop_back();
    fixed.pop_back();
  }

  const std::string_view run = t.substr(*found, run_end - *found);
  std::size_t i = 0;
  const char32_t first = decode_utf8(run, i);
  const auto what = ascii_lookalike(first);
  const std::string ascii = to_ascii_lookalikes(run);
  const bool spaces_only = std::all_of(ascii.begin(), ascii.end(), [](char c) { return c == ' '; });
  Diagnostic d;
  d.code = Code::E001;
  d.severity = Severity::Error;
  d.span = Span{file, *found, static_cast<std::uint32_t>(run_end)};
  if (spaces_only) {
    d.message = fmt::format(
        "{} (U+3000) where Okuri needs an ordinary space: indent and separate words with "
        "half-width spaces",
        code_points(run) == 1 ? "full-width space" : "full-width spaces");
    d.notes.push_back(Note{std::nullopt, "全角スペースが入っています。半角スペースで入力してください。"});
  } else if (code_points(run) == 1) {
    d.message = fmt::format("{} `{}` ({}): write `{}`", what->what, run, code_point_name(first), ascii);
    d.notes.push_back(Note{std::nullopt, fmt::format("{}「{}」が入っています。半角の「{}」で入力してください。",
                                                     first == 0x3001 ? "読点" : "全角の", run, ascii)});
  } else {
    d.message = fmt::format("full-width characters `{}`: write `{}`", run, ascii);
    d.notes.push_back(
        Note{std::nullopt, fmt::format("全角の「{}」が入っています。半角の「{}」で入力してください。", run, ascii)});
  }
  d.fix = FixIt{Span{file, *found, static_cast<std::uint32_t>(*found + original.size())}, fixed, true};
  return d;
}

// ------------------------------------------------------------------ a line that starts with `and` / `or`

std::optional<Diagnostic> operator_hint(std::string_view t, std::uint32_t file, const grammar::SyntaxError& e) {
  std::uint32_t w = e.begin;
  while (w < t.size() && is_ascii_word(t[w])) ++w;
  const std::string_view op = t.substr(e.begin, w - e.begin);
  if (op != "and" && op != "or") return std::nullopt;
  const Line ln = line_around(t, e.begin);
  for (std::uint32_t i = ln.begin; i < e.begin; ++i) {
    if (!is_blank(t[i])) return std::nullopt;  // not the first word of its line
  }
  Diagnostic d;
  d.code = Code::E001;
  d.severity = Severity::Error;
  d.span = Span{file, e.begin, w};
  d.message = fmt::format("a line cannot start with `{0}`: put `{0}` at the end of the line before", op);
  d.notes.push_back(Note{std::nullopt,
                         "a line break ends a condition unless the line ends with an operator (`and`, `or`, `==` …), "
                         "a comma or an opening bracket"});
  // The line before that has code (blank and comment-only lines are skipped).
  std::uint32_t prev_end = ln.begin;
  while (prev_end > 0) {
    const Line prev = line_around(t, prev_end - 1);
    const std::uint32_t end = code_end(t, prev);
    if (end > prev.begin) {
      std::uint32_t after = w;
      while (after < ln.end && is_blank(t[after])) ++after;
      d.fix = FixIt{Span{file, end, after}, fmt::format(" {}{}", op, t.substr(end, e.begin - end)), true};
      break;
    }
    prev_end = prev.begin;
  }
  return d;
}

// ------------------------------------------------------------------ a `"` inside a text

std::optional<Diagnostic> quote_hint(std::string_view t, std::uint32_t file, const grammar::SyntaxError& e) {
  const Line ln = line_around(t, e.begin);
  std::uint32_t j = e.begin;
  while (j > ln.begin && is_blank(t[j - 1])) --j;
  if (j == ln.begin || t[j - 1] != '"') return std::nullopt;
  const std::uint32_t early = j - 1;  // the quote that ended the text too soon
  // The text that this quote closes.
  std::optional<std::uint32_t> opening;
  for (std::uint32_t i = ln.begin; i < early; ++i) {
    if (t[i] == '#') return std::nullopt;
    if (t[i] != '"') continue;
    const std::uint32_t s = i++;
    while (i < ln.end && t[i] != '"') i += t[i] == '\\' ? 2 : 1;
    if (i == early) opening = s;
  }
  if (!opening) return std::nullopt;
  // The last quote of the line is where the text was meant to end.
  std::optional<std::uint32_t> last;
  for (std::uint32_t i = e.begin; i < ln.end; ++i) {
    if (t[i] == '\\') {
      ++i;
    } else if (t[i] == '"') {
      last = i;
    }
  }
  if (!last) return std::nullopt;
  Diagnostic d;
  d.code = Code::E001;
  d.severity = Severity::Error;
  d.span = Span{file, early, early + 1};
  d.message = "this `\"` ends the text; to put a `\"` inside a text, write `\\\"` (or use 「」)";
  std::string inner;
  for (std::uint32_t i = *opening + 1; i < *last; ++i) {
    if (t[i] == '\\' && i + 1 < *last) {
      inner += t.substr(i, 2);
      ++i;
    } else if (t[i] == '"') {
      inner += "\\\"";
    } else {
      inner += t[i];
    }
  }
  d.fix = FixIt{Span{file, *opening + 1, *last}, inner, true};
  return d;
}

// ------------------------------------------------------------------ a name with a space

std::optional<Diagnostic> space_hint(std::string_view t, std::uint32_t file, const grammar::SyntaxError& e) {
  if (e.begin >= t.size()) return std::nullopt;
  std::size_t at = e.begin;
  if (ascii_lookalike(decode_utf8(t, at))) return std::nullopt;
  const std::uint32_t w2_end = name_end(t, e.begin);
  if (w2_end == e.begin) return std::nullopt;
  const std::string_view w2 = t.substr(e.begin, w2_end - e.begin);
  if (std::isdigit(static_cast<unsigned char>(w2[0])) != 0) return std::nullopt;
  std::uint32_t gap = e.begin;
  while (gap > 0 && (t[gap - 1] == ' ' || t[gap - 1] == '\t')) --gap;
  if (gap == e.begin || gap == 0) return std::nullopt;
  std::uint32_t w1_begin = gap;
  while (w1_begin > 0) {
    std::uint32_t b = w1_begin - 1;
    while (b > 0 && (static_cast<unsigned char>(t[b]) & 0xC0) == 0x80) --b;  // the start of the character before
    if (name_end(t, b) != gap) break;
    w1_begin = b;
  }
  if (w1_begin == gap) return std::nullopt;
  const std::string_view w1 = t.substr(w1_begin, gap - w1_begin);
  // What comes before the first word: a keyword that takes names, a comma or a parenthesis.
  std::uint32_t k_end = w1_begin;
  while (k_end > 0 && is_blank(t[k_end - 1])) --k_end;
  if (k_end == 0) return std::nullopt;
  std::string_view before;
  if (t[k_end - 1] == ',' || t[k_end - 1] == '(') {
    before = t.substr(k_end - 1, 1);
  } else {
    std::uint32_t k_begin = k_end;
    while (k_begin > 0 && is_ascii_word(t[k_begin - 1])) --k_begin;
    before = t.substr(k_begin, k_end - k_begin);
  }
  static constexpr std::string_view kLists[] = {"tag", "untag", "send", "reply", "score", "audience", "form", ","};
  static constexpr std::string_view kNames[] = {"field", "link", "message", "segment", "scenario", "broadcast",
                                                "step",  "goto", "start",   "stop",    "set",      "clear",
                                                "event", "(",    "tagged",  "friend"};
  const bool list = std::find(std::begin(kLists), std::end(kLists), before) != std::end(kLists);
  const bool name = std::find(std::begin(kNames), std::end(kNames), before) != std::end(kNames);
  const bool japanese = has_non_ascii(w1) || has_non_ascii(w2);
  if (!list && !(name && japanese)) return std::nullopt;
  Diagnostic d;
  d.code = Code::E001;
  d.severity = Severity::Error;
  d.span = Span{file, w1_begin, w2_end};
  const std::string joined = std::string(w1) + std::string(w2);
  if (list && !japanese) {
    d.message = fmt::format("`{} {}`: separate two names with a comma: `{}, {}` (a name cannot contain a space)", w1,
                            w2, w1, w2);
  } else if (list) {
    d.message = fmt::format(
        "`{} {}`: a name cannot contain a space; write `{}` as one name, or separate two names "
        "with a comma: `{}, {}`",
        w1, w2, joined, w1, w2);
  } else {
    d.message = fmt::format("`{} {}`: a name cannot contain a space; write `{}` (or `{}_{}`)", w1, w2, joined, w1, w2);
  }
  // Japanese words split by a space are one name typed in two goes; ASCII names in a list lack a comma.
  d.fix = japanese ? FixIt{Span{file, gap, e.begin}, ""} : FixIt{Span{file, gap, gap}, ","};
  return d;
}

// ------------------------------------------------------------------ a misspelt keyword

std::optional<Diagnostic> keyword_hint(std::string_view t, std::uint32_t file, const grammar::SyntaxError& e) {
  if (e.keywords.empty()) return std::nullopt;
  std::uint32_t w = e.begin;
  while (w < t.size() && is_ascii_word(t[w])) ++w;
  if (w - e.begin < 2 || (w < t.size() && static_cast<unsigned char>(t[w]) >= 0x80)) return std::nullopt;
  const std::string_view word = t.substr(e.begin, w - e.begin);
  std::vector<std::string> candidates(e.keywords.begin(), e.keywords.end());
  if (std::find(candidates.begin(), candidates.end(), word) != candidates.end()) return std::nullopt;
  const auto best = suggest(word, candidates);
  if (!best) return std::nullopt;
  Diagnostic d;
  d.code = Code::E001;
  d.severity = Severity::Error;
  d.span = Span{file, e.begin, w};
  d.message = fmt::format("{}; did you mean `{}`?", e.message, *best);
  d.fix = FixIt{d.span, *best};
  return d;
}

}  // namespace

Diagnostic syntax_diagnostic(const SourceFile& f, std::uint32_t file, const grammar::SyntaxError& e) {
  const std::string_view t = f.text;
  std::optional<Diagnostic> d = lookalike_hint(t, file, e);
  if (!d && e.opener < 0) d = operator_hint(t, file, e);
  if (!d && e.opener < 0) d = quote_hint(t, file, e);
  if (!d && e.opener < 0) d = space_hint(t, file, e);
  if (!d) d = keyword_hint(t, file, e);
  if (!d) {
    d.emplace();
    d->code = Code::E001;
    d->severity = Severity::Error;
    d->span = Span{file, e.begin, e.end};
    d->message = e.message;
  }
  if (e.opener >= 0) {
    const auto open = static_cast<std::uint32_t>(e.opener);
    d->notes.push_back(Note{Span{file, open, open + 1}, "this `{` is never closed"});
  }
  return *d;
}

}  // namespace okuri
