// Loading and compiling a project: every `.okuri` file of a folder (or one
// file given alone), parsed and checked together.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "compiler/program.hpp"

namespace okuri {

// Thrown for infrastructure failures (a path that does not exist, an
// unreadable file); user problems are diagnostics in the Program.
struct LoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Compiles in-memory sources (path shown to the user, text). `root` is where
// message json paths are resolved.
std::unique_ptr<Program> compile_sources(std::string root, std::vector<std::pair<std::string, std::string>> files);

// The phases after parsing, as compile_sources runs them: `p.ast` holds every
// file's AST with node ids 1 … `p.ast.node_count`; resolves and checks names
// and types, lowers the step graphs, runs the graph checks and sorts the
// diagnostics. (IncrementalCompiler shares it.)
void check_parsed(Program& p);

// A folder: all `*.okuri` files in it (not in subfolders), sorted by name.
// A file: that file alone, with its folder as the root.
std::unique_ptr<Program> compile_path(const std::string& path);

// The `.okuri` files `compile_path` would read for `path`.
std::vector<std::string> project_files(const std::string& path);

}  // namespace okuri
