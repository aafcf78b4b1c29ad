#include "runtime/jit/jit.hpp"

namespace okuri::jit {

TieredGroup::TieredGroup(Jit& jit, std::string group, std::vector<ir::Predicate> preds, ir::Schema schema)
    : preds_(std::move(preds)), schema_(std::move(schema)) {
  const auto first = jit.compile(group + "#1", preds_, schema_, Tier::Baseline);
  scan_ = std::make_unique<std::atomic<rt::ScanFn>[]>(preds_.size());
  row_ = std::make_unique<std::atomic<rt::RowFn>[]>(preds_.size());
  for (std::size_t i = 0; i < preds_.size(); ++i) {
    scan_[i].store(first.scan[i], std::memory_order_release);
    row_[i].store(first.row[i], std::memory_order_release);
  }
  background_ = std::async(std::launch::async, [this, &jit, group] {
    try {
      const auto second = jit.compile(group + "#2", preds_, schema_, Tier::Optimized);
      for (std::size_t i = 0; i < preds_.size(); ++i) {
        scan_[i].store(second.scan[i], std::memory_order_release);
        row_[i].store(second.row[i], std::memory_order_release);
      }
      optimized_.store(true, std::memory_order_release);
    } catch (const std::exception&) {
      // Tier 1 keeps running; the same error would have shown when tier 1 compiled.
    }
  });
}

TieredGroup::~TieredGroup() { wait(); }

void TieredGroup::wait() {
  if (background_.valid()) background_.get();
}

}  // namespace okuri::jit
