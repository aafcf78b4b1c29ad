// Markdown descriptions of names for hover and completion: declared symbols,
// events, built-in functions and attributes, enumeration values. Byte offsets
// and compiler types only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/program.hpp"
#include "compiler/query.hpp"
#include "lsp/features.hpp"

namespace okuri::lsp {

// A declared symbol: its declaration (a segment's whole definition), its doc
// comment, its type and how often it is used.
std::string describe_symbol(const Program& p, std::uint32_t symbol);
// An event: its fields (`event.x` and their types), its argument, whether it
// has a reply token.
std::string describe_event(const Program& p, const query::EventSpec& e);
// The name under `offset` inside an expression (an attribute, an enumeration
// value, `event.x`, `line.x`, a built-in function), with its type.
std::optional<HoverInfo> describe_expr(const Program& p, const ast::Expr& e, std::uint32_t offset);
// A bare word that is a built-in name (function, attribute, event,
// prefecture), for places the AST does not cover.
std::optional<std::string> describe_word(const Program& p, std::string_view word);
// Inside a message or notify text: the format or the fallback of the `{…}` under `offset`
// (the name itself is a symbol or a built-in attribute, described as such).
std::optional<HoverInfo> describe_interpolation(std::string_view text, std::uint32_t offset);
// "tagged(tag) → bool"
std::string builtin_signature(std::string_view name);

}  // namespace okuri::lsp
