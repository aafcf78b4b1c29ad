// The one translation unit that instantiates the PEGTL parser.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "grammar/rules.hpp"
#include "grammar/syntax_tree.hpp"

namespace okuri::grammar {
namespace {

namespace pegtl = tao::pegtl;

// What the grammar's hand-written rules and the control need while parsing.
struct ParseState {
  const char* base;
  std::string_view src;
  SyntaxTree* tree;
  struct Mark {
    std::uint32_t count;
    std::uint32_t begin;
  };
  std::vector<Mark> marks;
  unsigned depth = 0;
  std::int64_t pending_opener = -1;  // the `{` a "block not closed" error being raised names

  // "line:column" with columns in code points, 1-based.
  std::string line_col(std::uint32_t offset) const {
    std::uint32_t line = 1;
    std::uint32_t col = 1;
    for (std::uint32_t i = 0; i < offset && i < src.size(); ++i) {
      const auto c = static_cast<unsigned char>(src[i]);
      if (c == '\n') {
        ++line;
        col = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++col;
      }
    }
    return std::to_string(line) + ":" + std::to_string(col);
  }

  std::uint32_t token_end(std::uint32_t at) const {
    std::uint32_t i = at;
    auto is_word = [](unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_'; };
    if (i >= src.size()) return i;
    if (is_word(static_cast<unsigned char>(src[i]))) {
      while (i < src.size() && is_word(static_cast<unsigned char>(src[i]))) ++i;
      return i;
    }
    ++i;
    while (i < src.size() && (static_cast<unsigned char>(src[i]) & 0xC0) == 0x80) ++i;
    return i;
  }

  std::string token_at(std::uint32_t at) const {
    if (at >= src.size()) return "the end of the file";
    if (src[at] == '\n' || src[at] == '\r') return "the end of the line";
    return "`" + std::string(src.substr(at, token_end(at) - at)) + "`";
  }

  void error_at(std::uint32_t at, std::string message, std::vector<std::string_view> keywords = {},
                std::int64_t opener = -1) {
    std::uint32_t end = token_end(at);
    if (at < src.size() && (src[at] == '\n' || src[at] == '\r')) end = at;
    tree->errors.push_back(SyntaxError{at, end, std::move(message), std::move(keywords), opener});
  }

  // The ASCII word at `at` (empty when there is none).
  std::string_view word_at(std::uint32_t at) const {
    std::uint32_t e = at;
    while (e < src.size() && (std::isalnum(static_cast<unsigned char>(src[e])) || src[e] == '_')) ++e;
    return src.substr(at, e - at);
  }

  // Whether a line starts at `at` (column 1) with a keyword that only starts a
  // declaration: inside a block, that line is where a `}` was forgotten.
  // `statements`: `tag` and `score` start statements here too; `cases`: so does `on`.
  bool at_declaration(std::uint32_t at, bool statements, bool cases) const {
    if (at != 0 && src[at - 1] != '\n') return false;
    const auto w = word_at(at);
    if (w.empty() || (at + w.size() < src.size() && static_cast<unsigned char>(src[at + w.size()]) >= 0x80))
      return false;
    static constexpr std::string_view kAlways[] = {"account", "field",   "link",     "message",   "audience", "form",
                                                   "event",   "segment", "scenario", "broadcast", "test"};
    for (const auto k : kAlways) {
      if (w == k) return true;
    }
    if (!statements && (w == "tag" || w == "score")) return true;
    return !cases && w == "on";
  }

  // Whether a `}` after `at` closes a block that is open at `at`: then a declaration
  // keyword at `at` is a mistake inside the block, not the end of a block left open.
  // (The braces of the file, outside texts and comments, are listed once.)
  std::vector<std::uint32_t> brace_at;  // offsets of `{` and `}`, in order
  std::vector<int> depth_after;         // nesting depth after each
  std::vector<int> min_depth_from;      // the least depth_after from each on
  bool closed_later(std::uint32_t at) {
    if (brace_at.empty() && !src.empty()) {
      int level = 0;
      for (std::uint32_t i = 0; i < src.size(); ++i) {
        const char c = src[i];
        if (c == '"') {
          ++i;
          while (i < src.size() && src[i] != '"' && src[i] != '\n') i += src[i] == '\\' ? 2 : 1;
        } else if (c == '#') {
          while (i < src.size() && src[i] != '\n') ++i;
        } else if (c == '{' || c == '}') {
          level += c == '{' ? 1 : -1;
          brace_at.push_back(i);
          depth_after.push_back(level);
        }
      }
      min_depth_from.assign(depth_after.size(), 0);
      for (std::size_t k = depth_after.size(); k-- > 0;) {
        min_depth_from[k] =
            k + 1 < depth_after.size() ? std::min(depth_after[k], min_depth_from[k + 1]) : depth_after[k];
      }
    }
    const auto first =
        static_cast<std::size_t>(std::lower_bound(brace_at.begin(), brace_at.end(), at) - brace_at.begin());
    if (first == brace_at.size()) return false;
    const int depth_here = first == 0 ? 0 : depth_after[first - 1];
    return min_depth_from[first] < depth_here;
  }

  // Which `{` was left open, for a block opened at `open` still open at `at`. When a
  // `}` between them, first on its line, is indented less than the line of the `{`
  // it closes, that `{` is probably the one whose `}` is missing (the `}` was meant
  // for an outer block); else it is `open`.
  std::uint32_t unclosed_opener(std::uint32_t open, std::uint32_t at) const {
    auto indent_of_line = [&](std::uint32_t pos) {
      std::uint32_t b = pos;
      while (b > 0 && src[b - 1] != '\n') --b;
      std::uint32_t i = b;
      while (i < src.size() && (src[i] == ' ' || src[i] == '\t')) ++i;
      return std::pair<std::uint32_t, bool>{i - b, i == pos};  // indentation, `pos` is first on its line
    };
    std::vector<std::uint32_t> stack{open};
    for (std::uint32_t i = open + 1; i < at && i < src.size(); ++i) {
      const char c = src[i];
      if (c == '"') {
        ++i;
        while (i < at && src[i] != '"' && src[i] != '\n') i += src[i] == '\\' ? 2 : 1;
      } else if (c == '#') {
        while (i < at && src[i] != '\n') ++i;
      } else if (c == '{') {
        stack.push_back(i);
      } else if (c == '}' && !stack.empty()) {
        const std::uint32_t opened = stack.back();
        stack.pop_back();
        const auto [closing_indent, first] = indent_of_line(i);
        if (first && closing_indent < indent_of_line(opened).first) return opened;
      }
    }
    return open;
  }

  void push_error_node(std::uint32_t begin, std::uint32_t end) {
    const auto self = static_cast<std::uint32_t>(tree->nodes.size());
    tree->nodes.push_back(SyntaxNode{Syn::Error, self, begin, end});
  }

  // Skips to the end of the logical line that starts at the input position:
  // a newline or ';' outside brackets, or just after a block that closes at the
  // outer level. Never consumes a '}' that closes the enclosing block.
  template <typename Input>
  void skip_logical_line(Input& in, bool top_level) {
    int depth_here = 0;
    while (!in.empty()) {
      const char c = in.peek_char();
      if (c == '"') {
        in.bump(1);
        while (!in.empty() && in.peek_char() != '"' && in.peek_char() != '\n') {
          if (in.peek_char() == '\\' && in.size(2) >= 2) in.bump(1);
          in.bump(1);
        }
        if (!in.empty() && in.peek_char() == '"') in.bump(1);
        continue;
      }
      if (c == '#') {
        while (!in.empty() && in.peek_char() != '\n') in.bump(1);
        continue;
      }
      if ((c == '\n' || c == ';') && depth_here == 0) {
        in.bump(1);
        return;
      }
      if (c == '{' || c == '(' || c == '[') {
        ++depth_here;
      } else if (c == '}' || c == ')' || c == ']') {
        if (depth_here == 0) {
          // A '}' closes the enclosing block: leave it to the block. A stray ')' or ']' is skipped.
          if (c == '}' && !top_level) return;
        } else {
          --depth_here;
          if (depth_here == 0 && c == '}') {
            in.bump(1);
            return;
          }
        }
      }
      in.bump(1);
    }
  }
};

template <typename Rule>
struct control : pegtl::normal<Rule> {
  template <typename Input>
  static void start(const Input& in, ParseState& st) {
    if constexpr (rules::node<Rule>::selected) {
      st.marks.push_back(ParseState::Mark{static_cast<std::uint32_t>(st.tree->nodes.size()),
                                          static_cast<std::uint32_t>(in.current() - st.base)});
    }
  }
  template <typename Input>
  static void success(const Input& in, ParseState& st) {
    if constexpr (rules::node<Rule>::selected) {
      const auto mark = st.marks.back();
      st.marks.pop_back();
      auto& nodes = st.tree->nodes;
      if constexpr (rules::transparent<Rule>) {
        // Exactly one child: the last node covers everything recorded since the mark.
        if (nodes.size() > mark.count && nodes.back().first == mark.count) return;
      }
      const auto self = static_cast<std::uint32_t>(nodes.size());
      const auto end = static_cast<std::uint32_t>(in.current() - st.base);
      nodes.push_back(SyntaxNode{rules::node<Rule>::value, std::min(mark.count, self), mark.begin, end});
    }
  }
  template <typename Input>
  static void failure(const Input& /*in*/, ParseState& st) {
    if constexpr (rules::node<Rule>::selected) {
      st.tree->nodes.resize(st.marks.back().count);
      st.marks.pop_back();
    }
  }
  template <typename Input>
  static void unwind(const Input& /*in*/, ParseState& st) {
    if constexpr (rules::node<Rule>::selected) {
      st.tree->nodes.resize(st.marks.back().count);
      st.marks.pop_back();
    }
  }
  template <typename Input>
  [[noreturn]] static void raise(const Input& in, ParseState& /*st*/) {
    if constexpr (rules::error_message<Rule> != nullptr) {
      throw pegtl::parse_error(rules::error_message<Rule>, in);
    } else {
      throw pegtl::parse_error("syntax error", in);
    }
  }
};

}  // namespace

SyntaxTree parse(std::string_view source) {
  SyntaxTree tree;
  tree.nodes.reserve(source.size() / 3 + 16);
  ParseState st{source.data(), source, &tree, {}, 0};
  pegtl::memory_input<pegtl::tracking_mode::lazy, pegtl::eol::lf_crlf> in(source.data(), source.size(), "");
  try {
    if (!pegtl::parse<rules::file, pegtl::nothing, control>(in, st)) {
      st.error_at(static_cast<std::uint32_t>(in.current() - st.base), "expected a declaration");
    }
  } catch (const pegtl::parse_error& e) {
    st.error_at(static_cast<std::uint32_t>(e.positions().front().byte), std::string(e.message()));
  }
  if (tree.nodes.empty() || tree.nodes.back().kind != Syn::File) {
    // Only on a failure the recovery could not absorb: keep what was recorded.
    tree.nodes.resize(st.marks.empty() ? tree.nodes.size() : st.marks.front().count);
    tree.nodes.push_back(SyntaxNode{Syn::File, 0, 0, static_cast<std::uint32_t>(source.size())});
  }
  std::stable_sort(tree.errors.begin(), tree.errors.end(),
                   [](const SyntaxError& a, const SyntaxError& b) { return a.begin < b.begin; });
  // Unclosed nested blocks all end at the same place: report the innermost.
  tree.errors.erase(std::unique(tree.errors.begin(), tree.errors.end(),
                                [](const SyntaxError& a, const SyntaxError& b) { return a.begin == b.begin; }),
                    tree.errors.end());
  return tree;
}

std::vector<std::uint32_t> SyntaxTree::children(std::uint32_t i) const {
  std::vector<std::uint32_t> out;
  const std::uint32_t first = nodes[i].first;
  std::uint32_t c = i;
  while (c > first) {
    --c;
    out.push_back(c);
    c = nodes[c].first;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

const char* syn_name(Syn kind) {
  switch (kind) {
#define OKURI_SYN(name) \
  case Syn::name:       \
    return #name;
#include "grammar/syntax_kinds.def"
#undef OKURI_SYN
  }
  return "?";
}

}  // namespace okuri::grammar
