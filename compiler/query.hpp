// Questions about a checked Program in byte offsets: which symbol is at an
// offset, where a symbol is used, which expression or event pattern encloses
// an offset, the events a project knows and the doc comment of a declaration.
// The language server's features are built on these; nothing here knows about
// JSON, URIs or UTF-16.
//
// Every function takes the Program by const reference and returns pointers or
// spans into it: they are valid as long as that Program lives. A Program with
// syntax errors is fine: the answers cover the parts that parsed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/program.hpp"

namespace okuri::query {

// One place a symbol's name is written: its definition, a resolved use, or a
// `{name}` interpolation inside a message text (which the checker counts as a
// use but does not record as a Reference).
struct Occurrence {
  std::uint32_t symbol = 0;
  Span span;
  bool definition = false;
};

// Every occurrence in the project, sorted by file, then position.
std::vector<Occurrence> occurrences(const Program& p);
// The occurrence whose span contains `offset` (a span's end counts, so the
// cursor just after a name still finds it), or nullopt.
std::optional<Occurrence> occurrence_at(const Program& p, std::uint32_t file, std::uint32_t offset);
// All occurrences of one symbol, definition first when `with_definition`.
std::vector<Occurrence> occurrences_of(const Program& p, std::uint32_t symbol, bool with_definition);

// The declaration of `file` whose span contains `offset`, or nullptr.
const ast::Decl* decl_at(const Program& p, std::uint32_t file, std::uint32_t offset);
// The innermost expression of `file` whose span contains `offset`, or nullptr.
const ast::Expr* expr_at(const Program& p, std::uint32_t file, std::uint32_t offset);
// The event pattern of `file` whose span contains `offset`, or nullptr.
const ast::EventPattern* event_pattern_at(const Program& p, std::uint32_t file, std::uint32_t offset);
// The event whose fields `event.x` reads at `offset` (the enclosing rule,
// `start on … when`, or `wait … for` on case), or nullptr.
const ast::EventPattern* event_in_scope(const Program& p, std::uint32_t file, std::uint32_t offset);

// Walks every expression, statement, event pattern and type of a file, outer
// nodes before inner ones. Any callback may be empty.
struct Visitor {
  std::function<void(const ast::Decl&)> decl;
  std::function<void(const ast::Stmt&)> stmt;
  std::function<void(const ast::Expr&)> expr;
  std::function<void(const ast::EventPattern&)> event;
  std::function<void(const ast::TypeSpec&)> type;
};
void walk(const ast::File& f, const Visitor& v);

// An event a rule can react to: the built-in ones (docs/language.md §11) and
// the project's custom `event` declarations.
struct EventSpec {
  std::string name;
  std::vector<std::pair<std::string, Type>> fields;  // readable as event.<field>
  std::optional<SymbolKind> argument;                // the kind of name it takes in parentheses
  bool text_argument = false;                        // web_visited("pattern")
  bool reply_token = false;
  bool builtin = true;
  std::string doc;
};
std::vector<EventSpec> events(const Program& p);
std::optional<EventSpec> find_event(const Program& p, std::string_view name);

// The comment that documents a declaration: the `#` lines right above it
// (no blank line between) and a trailing comment on its first line, joined
// with newlines, without the `#`. Empty when there is none.
std::string doc_comment(const SourceFile& f, Span decl_span);

// True when the Program has a syntax error (E001) in `file`.
bool has_syntax_errors(const Program& p, std::uint32_t file);

// The source index of `path`, or nullopt.
std::optional<std::uint32_t> file_index(const Program& p, std::string_view path);

}  // namespace okuri::query
