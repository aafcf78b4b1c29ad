// The language features, over the compiler's Program in byte offsets. Nothing
// here knows JSON, URIs or UTF-16: the protocol layer converts the results.
//
// Every function is pure: it reads the Programs and texts it is given and
// returns plain values (byte offsets into the text of the file they name).
// None throws on a half-typed file; a feature that finds nothing returns an
// empty value. Programs may have syntax errors: `program` is compiled from
// the current texts, `last_good` (optional) is the last compile of the same
// project without syntax errors, used for names when the current text does
// not parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/program.hpp"

namespace okuri::lsp {

// A place in a file of the project: `path` as in the Program's SourceSet.
struct Location {
  std::string path;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

struct TextEdit {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::string text;
};

struct FileEdits {
  std::string path;
  std::vector<TextEdit> edits;  // non-overlapping, sorted by position
};

// What one document request works on.
struct DocumentView {
  const Program* program = nullptr;    // compiled from the current texts; never null
  const Program* last_good = nullptr;  // may be null
  std::uint32_t file = 0;              // the document's index in `program`
};

// ------------------------------------------------------------------ diagnostics

struct DiagnosticNote {
  std::optional<Location> where;
  std::string message;
};

struct FileDiagnostic {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  Severity severity = Severity::Error;
  std::string code;  // "E002"
  std::string message;
  std::vector<DiagnosticNote> notes;
};

struct FileDiagnostics {
  std::string path;
  std::vector<FileDiagnostic> items;
};

// The diagnostics of every file of the project (files without any get an
// empty list), exactly those `okuri check` reports, in its order.
std::vector<FileDiagnostics> diagnostics(const Program& p);

// ------------------------------------------------------------------ hover, navigation

struct HoverInfo {
  std::string markdown;
  std::uint32_t begin = 0;  // the word hovered
  std::uint32_t end = 0;
};
std::optional<HoverInfo> hover(const DocumentView& v, std::uint32_t offset);

std::optional<Location> definition(const DocumentView& v, std::uint32_t offset);
std::vector<Location> references(const DocumentView& v, std::uint32_t offset, bool include_declaration);

// The name a rename at `offset` would change, or an error message.
struct RenameTarget {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::string name;
  std::string error;  // non-empty: cannot rename here
};
RenameTarget prepare_rename(const DocumentView& v, std::uint32_t offset);

struct RenameResult {
  std::vector<FileEdits> files;  // sorted by path
  std::string error;             // non-empty: refused (the reason)
};
// Renames the symbol at `offset` in every file of the project. Refuses a
// name that is not a valid name, is reserved, or is already taken by a
// symbol of the same kind (or by a field/segment for the other).
RenameResult rename(const DocumentView& v, std::uint32_t offset, std::string_view new_name);

// ------------------------------------------------------------------ outline

enum class OutlineKind {
  Account,
  Field,
  Tag,
  Score,
  Link,
  Message,
  Audience,
  Form,
  Event,
  EventField,
  Segment,
  Rule,
  Scenario,
  Step,
  Broadcast,
  Test
};
struct OutlineItem {
  std::string name;
  std::string detail;
  OutlineKind kind = OutlineKind::Tag;
  std::uint32_t begin = 0;  // the whole declaration
  std::uint32_t end = 0;
  std::uint32_t name_begin = 0;  // its name
  std::uint32_t name_end = 0;
  std::vector<OutlineItem> children;
};
std::vector<OutlineItem> document_symbols(const DocumentView& v);

// ------------------------------------------------------------------ formatting

// The edit that formats the whole document, or nullopt when it is already
// formatted or does not parse (a file with syntax errors is left alone). The
// edit covers only the lines that change.
std::optional<TextEdit> format_document(std::string_view text);

// ------------------------------------------------------------------ completion

enum class CompletionKind {
  Keyword,
  Message,
  Tag,
  Link,
  Segment,
  Field,
  Scenario,
  Step,
  Audience,
  Form,
  Event,
  Score,
  Function,
  Attribute,
  EnumValue,
  Type,
  Friend,
  EventField
};
struct CompletionItem {
  std::string label;
  CompletionKind kind = CompletionKind::Keyword;
  std::string detail;
  std::string doc;
};
struct CompletionResult {
  std::uint32_t begin = 0;  // the partial name before the cursor, which an item replaces
  std::uint32_t end = 0;
  std::vector<CompletionItem> items;
};
// Completion at `offset` of `text` (the current text, which need not parse).
// The context comes from the text alone; names come from `names` (any recent
// compile of the project, even of an older text) and `fallback`.
CompletionResult complete(std::string_view text, std::uint32_t offset, const Program* names, const Program* fallback);

// ------------------------------------------------------------------ semantic tokens

// The legend, in this order (protocol.cpp announces the same names).
enum class TokenType : std::uint32_t {
  Keyword,
  String,
  Number,
  Comment,
  Operator,
  Function,
  Variable,
  Property,
  EnumMember,
  Event,
  Type,
  Class,
  Method,
  Struct,
  Interface,
  Enum,
  Namespace
};
enum TokenModifier : std::uint32_t { kDeclaration = 1, kDefaultLibrary = 2, kReadonly = 4 };
struct SemanticToken {
  std::uint32_t begin = 0;  // never spans a newline
  std::uint32_t end = 0;
  TokenType type = TokenType::Keyword;
  std::uint32_t modifiers = 0;
};
// Tokens of the document, in order, not overlapping.
std::vector<SemanticToken> semantic_tokens(const DocumentView& v);

// ------------------------------------------------------------------ code actions

struct CodeActionInfo {
  std::string title;
  TextEdit edit;           // in the document
  std::size_t diagnostic;  // index into diagnostics(program) of the document's file
  bool preferred = true;
};
// The did-you-mean fix-its of the diagnostics overlapping [begin, end].
std::vector<CodeActionInfo> code_actions(const DocumentView& v, std::uint32_t begin, std::uint32_t end);

// ------------------------------------------------------------------ helpers shared by the features

// The word (a name: letters of any script, digits, `_`) around `offset`.
struct Word {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};
Word word_at(std::string_view text, std::uint32_t offset);
// A valid Okuri name that is not a reserved word.
bool is_valid_name(std::string_view s);

}  // namespace okuri::lsp
