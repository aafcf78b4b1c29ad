// The JIT as the program reaches it: LLVM and the back end live in a module (libokuri_jit.so,
// next to the executable) loaded the first time a command compiles conditions. Linking LLVM's
// library costs about 50 ms at every start, more than `okuri check` or a small `segment count`
// takes in all; a command that compiles nothing now never pays it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/jit/module.hpp"

namespace okuri::jit {

// Whether this build has a JIT at all (configured with -DOKURI_JIT=ON, the default).
bool module_built();
// Loads the module once. False when this build has no JIT, or when the module is missing or
// from another build: module_error() says which, to be shown with the fallback to the interpreter.
bool module_loaded();
const std::string& module_error();

// Through the loaded module (module_loaded() must be true): the JIT's row compiler for engines
// (engine_row_compiler of jit.hpp), and a group of predicates compiled for scans. An empty
// cache_dir means the default one ($OKURI_CACHE_DIR, else ~/.cache/okuri/jit).
RowCompiler module_row_compiler(std::string cache_dir, Tier tier = Tier::Baseline);
std::shared_ptr<const CompiledGroup> module_compile(std::string cache_dir, const std::string& group,
                                                    const std::vector<ir::Predicate>& preds, const ir::Schema& schema,
                                                    Tier tier);

}  // namespace okuri::jit
