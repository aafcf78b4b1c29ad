// The entry of the JIT's loadable module: the back end of jit.hpp behind plain function
// pointers, the only symbol the module exports.
#include "runtime/jit/module.hpp"

namespace okuri::jit {
namespace {

RowCompiler row_compiler(std::string cache_dir, Tier tier) { return engine_row_compiler(std::move(cache_dir), tier); }

std::shared_ptr<const CompiledGroup> compile_group(const std::string& cache_dir, const std::string& group,
                                                   const std::vector<ir::Predicate>& preds, const ir::Schema& schema,
                                                   Tier tier) {
  // The compiled code belongs to its JIT: the group handed out keeps the JIT alive.
  struct Held {
    Jit jit;
    CompiledGroup group;
    explicit Held(const std::string& dir) : jit(JitOptions{dir}) {}
  };
  auto held = std::make_shared<Held>(cache_dir);
  held->group = held->jit.compile(group, preds, schema, tier);
  return std::shared_ptr<const CompiledGroup>(held, &held->group);
}

}  // namespace
}  // namespace okuri::jit

extern "C" __attribute__((visibility("default"))) const okuri::jit::ModuleEntry* okuri_jit_module_entry() {
  static const okuri::jit::ModuleEntry entry = [] {
    okuri::jit::ModuleEntry e;
    e.engine_row_compiler = &okuri::jit::row_compiler;
    e.compile = &okuri::jit::compile_group;
    e.default_cache_dir = &okuri::jit::default_cache_dir;
    return e;
  }();
  return &entry;
}
