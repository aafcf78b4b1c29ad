// Diagnostics: user problems found in a project. Infrastructure failures
// (unreadable files, bad command lines) travel separately as exceptions or
// return values of the callers, never as diagnostics.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/source.hpp"

namespace okuri {

enum class Severity { Error, Warning, Note };

enum class Code {
#define OKURI_DIAG(code, sev, title) code,
#include "compiler/diagnostic_codes.def"
#undef OKURI_DIAG
};

struct CodeInfo {
  Code code;
  std::string_view name;  // "E001"
  Severity severity;
  std::string_view title;
};
const std::vector<CodeInfo>& all_codes();
const CodeInfo& info(Code c);

struct Note {
  std::optional<Span> span;
  std::string message;
};

// A suggested edit: replace `span` with `replacement`. `certain`: the text can
// mean nothing else (a full-width look-alike of ASCII, an operator moved to the
// end of the line before, a quote inside a text escaped), so `okuri check --fix`
// applies it; a did-you-mean is a guess and is only offered.
struct FixIt {
  Span span;
  std::string replacement;
  bool certain = false;
};

struct Diagnostic {
  Code code;
  Severity severity;
  Span span;
  std::string message;
  std::vector<Note> notes;
  std::optional<FixIt> fix;
};

class Diagnostics {
 public:
  Diagnostic& report(Code code, Span span, std::string message);
  const std::vector<Diagnostic>& all() const { return items_; }
  std::vector<Diagnostic>& all() { return items_; }
  std::size_t error_count() const;
  std::size_t warning_count() const;
  // Deterministic order: file, position, code, message.
  void sort();
  // Drops what a syntax error causes on its own line: a checker diagnostic before
  // an E001 on the same line reads a declaration the parser cut short
  // (`tagged（予約中）` is not an unknown name `tagged`).
  void drop_syntax_cascades(const SourceSet& sources);

 private:
  std::vector<Diagnostic> items_;
};

// Output forms.
struct RenderOptions {
  bool color = false;
};
std::string render_human(const SourceSet& sources, const std::vector<Diagnostic>& diags, RenderOptions opts = {});
std::string render_json(const SourceSet& sources, const std::vector<Diagnostic>& diags);
std::string render_sarif(const SourceSet& sources, const std::vector<Diagnostic>& diags);
// The summary line: "2 errors, 1 warning" (empty when there is nothing).
std::string summary_line(const std::vector<Diagnostic>& diags);

}  // namespace okuri
