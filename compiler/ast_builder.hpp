#pragma once

#include "compiler/ast.hpp"
#include "compiler/diagnostic.hpp"
#include "grammar/syntax_tree.hpp"

namespace okuri {

// Builds one file's AST. Node ids continue from `next_id`. Reports E001 for the
// tree's syntax errors and E007 for literals with no meaning (`25:00`).
ast::File build_ast(const grammar::SyntaxTree& tree, const SourceFile& file, std::uint32_t file_index,
                    ast::NodeId& next_id, Diagnostics& diags);

}  // namespace okuri
