#pragma once

#include <string>

#include "compiler/ast.hpp"

namespace okuri {

// Canonical text of a file's AST, without spans or ids.
std::string dump_ast(const ast::File& f);
std::string dump_stmt(const ast::Stmt& s);

}  // namespace okuri
