// The concrete syntax tree the PEGTL grammar produces: a flat, post-order array of nodes.
// No PEGTL type appears here; the compiler builds its AST from this tree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace okuri::grammar {

enum class Syn : std::uint8_t {
#define OKURI_SYN(name) name,
#include "grammar/syntax_kinds.def"
#undef OKURI_SYN
};

const char* syn_name(Syn kind);

// One node. Nodes are stored in post-order: a node's descendants occupy the
// index range [first, self). Offsets are byte offsets into the source text.
struct SyntaxNode {
  Syn kind;
  std::uint32_t first;  // index of the first descendant (== own index when a leaf)
  std::uint32_t begin;  // byte offset of the first character
  std::uint32_t end;    // byte offset one past the last character
};

// A syntax error. `message` is complete ("expected ')'", "expected '}' to close
// the block opened at 5:16"); `begin`/`end` cover the offending text.
struct SyntaxError {
  std::uint32_t begin;
  std::uint32_t end;
  std::string message;
  // The words that could have started what was expected there (`send`, `wait`, …),
  // for a did-you-mean when a misspelt word was found instead.
  std::vector<std::string_view> keywords = {};
  // A block left open: the offset of the `{` that is never closed.
  std::int64_t opener = -1;
};

class SyntaxTree {
 public:
  std::vector<SyntaxNode> nodes;  // post-order; the root (File) is last
  std::vector<SyntaxError> errors;

  std::uint32_t root() const { return static_cast<std::uint32_t>(nodes.size() - 1); }
  // Direct children of node `i`, in source order.
  std::vector<std::uint32_t> children(std::uint32_t i) const;
};

// Limits that keep hostile input from exhausting the stack.
inline constexpr unsigned kMaxNesting = 64;

// Parses one source file. Never throws on bad input: errors are reported in
// the tree and parsing recovers at the next statement or declaration.
SyntaxTree parse(std::string_view source);

}  // namespace okuri::grammar
