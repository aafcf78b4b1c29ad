#include <fmt/format.h>

#include "compiler/ast_builder.hpp"
#include "compiler/ast_dump.hpp"
#include "compiler/formatter.hpp"
#include "compiler/syntax_hints.hpp"
#include "grammar/syntax_tree.hpp"

namespace okuri {
namespace {

struct Parsed {
  std::string dump;
  std::vector<std::string> errors;
};

Parsed parse_and_dump(std::string_view src) {
  Parsed r;
  SourceFile f("input.okuri", std::string(src));
  const auto tree = grammar::parse(f.text);
  for (const auto& e : tree.errors) {
    // The message `okuri check` gives (a full-width character named, a did-you-mean …).
    const Diagnostic d = syntax_diagnostic(f, 0, e);
    const auto lc = f.line_col(d.span.begin);
    r.errors.push_back(fmt::format("{}:{}: {}", lc.line, lc.column, d.message));
  }
  Diagnostics diags;
  ast::NodeId next = 0;
  const auto file = build_ast(tree, f, 0, next, diags);
  r.dump = dump_ast(file);
  return r;
}

}  // namespace

FormatOutcome format_checked(std::string_view src) {
  FormatOutcome out;
  auto before = parse_and_dump(src);
  if (!before.errors.empty()) {
    out.errors = std::move(before.errors);
    return out;
  }
  out.text = format_source(src);
  auto after = parse_and_dump(out.text);
  if (!after.errors.empty() || after.dump != before.dump) {
    out.errors.push_back("internal error: formatting would change the meaning of this file; it was left unchanged");
    out.text.clear();
    return out;
  }
  out.ok = true;
  return out;
}

}  // namespace okuri
