// What the JIT's loadable module (libokuri_jit.so) exports to the program that loads it
// (runtime/jit_module.cpp). The module holds LLVM and the back end; the program holds neither,
// so a command that compiles no condition never pays for LLVM's start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/jit/jit.hpp"

namespace okuri::jit {

// C++ types cross the boundary, so the program and the module must come from one build: the
// entry carries this version and the sizes of what it passes, and a mismatch is refused.
inline constexpr int kModuleVersion = 1;
struct ModuleSizes {
  std::size_t predicate = sizeof(ir::Predicate), schema = sizeof(ir::Schema), group = sizeof(CompiledGroup),
              row_compiler = sizeof(RowCompiler), text = sizeof(std::string);
  bool operator==(const ModuleSizes&) const = default;
};

struct ModuleEntry {
  int version = kModuleVersion;
  ModuleSizes sizes;
  // engine_row_compiler() of jit.hpp: one JIT for the process, shared by every engine.
  RowCompiler (*engine_row_compiler)(std::string cache_dir, Tier tier) = nullptr;
  // Compiles predicates into scans and rows with a JIT of their own, kept alive by the result.
  // Throws std::runtime_error when LLVM fails.
  std::shared_ptr<const CompiledGroup> (*compile)(const std::string& cache_dir, const std::string& group,
                                                  const std::vector<ir::Predicate>& preds, const ir::Schema& schema,
                                                  Tier tier) = nullptr;
  std::string (*default_cache_dir)() = nullptr;
};

}  // namespace okuri::jit

// The module's one exported symbol.
#define OKURI_JIT_MODULE_ENTRY "okuri_jit_module_entry"
extern "C" const okuri::jit::ModuleEntry* okuri_jit_module_entry();
