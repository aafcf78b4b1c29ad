// Syntax errors as people read them. The grammar says what it expected where;
// this turns that into an E001 that says what went wrong when the text shows it
// — a full-width character from an input method, a line that starts with `and`,
// a `"` inside a text, a name with a space in it, a misspelt keyword, a block
// left open — with a fix where there is one.
#pragma once

#include <cstdint>

#include "compiler/diagnostic.hpp"
#include "compiler/source.hpp"
#include "grammar/syntax_tree.hpp"

namespace okuri {

Diagnostic syntax_diagnostic(const SourceFile& f, std::uint32_t file, const grammar::SyntaxError& e);

}  // namespace okuri
