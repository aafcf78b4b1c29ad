// Row functions for the runtime engine, shared by every engine of a process.
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <mutex>

#include "runtime/jit/jit.hpp"
#include "runtime/jit_abi.hpp"

namespace okuri::jit {

RowCompiler engine_row_compiler(std::string cache_dir, Tier tier) {
  return [cache_dir = std::move(cache_dir), tier](const std::vector<ir::Predicate>& preds, const ir::Schema& schema,
                                                   std::vector<rt::RowFn>& out) {
    // The engines call into the code for as long as the process lives.
    static std::mutex mu;
    static std::unique_ptr<Jit> jitter;
    static std::map<std::string, std::vector<rt::RowFn>> groups;
    if (!Jit::available()) return false;
    std::lock_guard<std::mutex> lock(mu);
    try {
      if (!jitter) jitter = std::make_unique<Jit>(JitOptions{cache_dir});
      // The same conditions compiled for another layout of the friend's columns read other slots.
      std::string key = fmt::format("{}:{}:", static_cast<int>(tier), rt::SlotLayout(schema).key());
      for (const auto& p : preds) key += fmt::format("{:016x}", ir::hash(p));
      auto it = groups.find(key);
      if (it == groups.end()) {
        auto compiled = jitter->compile(fmt::format("engine{}", groups.size()), preds, schema, tier);
        it = groups.emplace(std::move(key), std::move(compiled.row)).first;
      }
      out = it->second;
      return true;
    } catch (const std::exception& e) {
      std::cerr << "okuri: " << e.what() << "; conditions run on the interpreter\n";
      return false;
    }
  };
}

}  // namespace okuri::jit
