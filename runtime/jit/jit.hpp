// The LLVM ORC (LLJIT) back end for predicates: the same meaning as the
// interpreter at memory speed. No LLVM type appears in this header; the
// library links LLVM privately. Built only with -DOKURI_JIT=ON (the default);
// without it, available() is false and the interpreter does all the work.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compiler/pred_ir.hpp"
#include "runtime/jit_abi.hpp"

namespace okuri::jit {

enum class Tier {
  Baseline = 1,   // no optimisation: compiles fast, used at once
  Optimized = 2,  // the optimising pipeline: compiled in the background, swapped in when ready
};

struct JitOptions {
  std::string cache_dir;  // empty: no object cache
};

struct CompiledGroup {
  std::vector<rt::ScanFn> scan;  // one per predicate, in order
  std::vector<rt::RowFn> row;
  bool from_cache = false;
  double compile_ms = 0;
};

class Jit {
 public:
  // Whether this build has the JIT.
  static bool available();
  explicit Jit(JitOptions options = {});
  ~Jit();
  Jit(const Jit&) = delete;
  Jit& operator=(const Jit&) = delete;

  // Compiles a group of predicates (for example all conditions of one
  // scenario) under one resource tracker, or loads them from the object cache.
  // Compiling a group name again replaces the old code. Throws
  // std::runtime_error when the JIT is not available or LLVM fails.
  CompiledGroup compile(const std::string& group, const std::vector<ir::Predicate>& preds, const ir::Schema& schema,
                        Tier tier);
  void remove(const std::string& group);
  // "x86-64 cpu=znver3 +avx2,…", part of the cache key.
  std::string target() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What the runtime engine takes to compile its conditions (EngineOptions::compile_rows):
// one JIT for the process, one compiled group per distinct set of predicates, so
// any number of engines over the same project share the code.
using RowCompiler = std::function<bool(const std::vector<ir::Predicate>&, const ir::Schema&, std::vector<rt::RowFn>&)>;
RowCompiler engine_row_compiler(std::string cache_dir, Tier tier = Tier::Baseline);

// $OKURI_CACHE_DIR, else $XDG_CACHE_HOME/okuri/jit, else ~/.cache/okuri/jit.
std::string default_cache_dir();

}  // namespace okuri::jit

#include <atomic>
#include <future>

namespace okuri::jit {

// Tier 1 compiled at once and used at once; tier 2 compiled on a background
// thread and swapped in when ready. Readers load the function pointers with
// acquire semantics, so a scan started before the swap finishes on tier 1.
class TieredGroup {
 public:
  TieredGroup(Jit& jit, std::string group, std::vector<ir::Predicate> preds, ir::Schema schema);
  ~TieredGroup();  // waits for the background compile
  TieredGroup(const TieredGroup&) = delete;
  TieredGroup& operator=(const TieredGroup&) = delete;

  rt::ScanFn scan(std::size_t i) const { return scan_[i].load(std::memory_order_acquire); }
  rt::RowFn row(std::size_t i) const { return row_[i].load(std::memory_order_acquire); }
  bool optimized() const { return optimized_.load(std::memory_order_acquire); }
  // Blocks until tier 2 is in place (or failed: then tier 1 stays).
  void wait();

 private:
  std::vector<ir::Predicate> preds_;
  ir::Schema schema_;
  std::unique_ptr<std::atomic<rt::ScanFn>[]> scan_;
  std::unique_ptr<std::atomic<rt::RowFn>[]> row_;
  std::atomic<bool> optimized_{false};
  std::future<void> background_;
};

}  // namespace okuri::jit
