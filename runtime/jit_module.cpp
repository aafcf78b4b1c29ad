// Finding and loading the JIT's module (runtime/jit/module.hpp): beside the executable, the way
// the build lays them out, or where $OKURI_JIT_MODULE says.
#include "runtime/jit_module.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace okuri::jit {
namespace {

struct Loaded {
  const ModuleEntry* entry = nullptr;
  std::string error;
};

Loaded load() {
  Loaded out;
#ifndef OKURI_JIT_MODULE_FILE
  out.error = "this build of okuri has no JIT (configured with -DOKURI_JIT=OFF)";
#else
  std::filesystem::path path;
  if (const char* p = std::getenv("OKURI_JIT_MODULE"); p != nullptr && *p != 0) {
    path = p;
  } else {
    std::error_code ec;
    path = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / OKURI_JIT_MODULE_FILE;
  }
  // Loaded for good: engines call into its code until the process ends.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    out.error = "the JIT module could not be loaded (" + std::string(why != nullptr ? why : path.string()) + ")";
    return out;
  }
  using EntryFn = const ModuleEntry* (*)();
  auto entry_fn = reinterpret_cast<EntryFn>(::dlsym(handle, OKURI_JIT_MODULE_ENTRY));
  const ModuleEntry* entry = entry_fn != nullptr ? entry_fn() : nullptr;
  if (entry == nullptr || entry->version != kModuleVersion || !(entry->sizes == ModuleSizes{})) {
    out.error = "the JIT module " + path.string() + " belongs to another build of okuri";
    return out;
  }
  out.entry = entry;
#endif
  return out;
}

const Loaded& loaded() {
  static const Loaded l = load();
  return l;
}

const ModuleEntry& entry() {
  if (loaded().entry == nullptr) throw std::runtime_error(loaded().error);
  return *loaded().entry;
}

}  // namespace

bool module_built() {
#ifdef OKURI_JIT_MODULE_FILE
  return true;
#else
  return false;
#endif
}

bool module_loaded() { return loaded().entry != nullptr; }
const std::string& module_error() { return loaded().error; }

RowCompiler module_row_compiler(std::string cache_dir, Tier tier) {
  const ModuleEntry& e = entry();
  return e.engine_row_compiler(cache_dir.empty() ? e.default_cache_dir() : std::move(cache_dir), tier);
}

std::shared_ptr<const CompiledGroup> module_compile(std::string cache_dir, const std::string& group,
                                                    const std::vector<ir::Predicate>& preds, const ir::Schema& schema,
                                                    Tier tier) {
  const ModuleEntry& e = entry();
  return e.compile(cache_dir.empty() ? e.default_cache_dir() : cache_dir, group, preds, schema, tier);
}

}  // namespace okuri::jit
