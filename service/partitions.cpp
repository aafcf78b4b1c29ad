// What every store shares: the partition a friend belongs to, and the parts of the Store
// interface a store of one process does not use.
#include <fmt/format.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "service/store.hpp"

namespace okuri::svc {

// Pinned by golden vectors (tests/unit/partitions_test.cpp): a database records its friends'
// partitions, so the hash may never change.
std::uint32_t partition_of(std::string_view friend_id) {
  return static_cast<std::uint32_t>(XXH64(friend_id.data(), friend_id.size(), 0) % kPartitions);
}

PartitionSet all_partitions() {
  PartitionSet out(kPartitions);
  for (std::uint32_t p = 0; p < kPartitions; ++p) out[p] = p;
  return out;
}

std::vector<bool> Store::enqueue(const std::vector<InboxEntry>& /*entries*/, std::int64_t /*now*/,
                                 std::int64_t /*click_window*/) {
  throw StoreError("this store has no inbox: its one process applies events as it accepts them");
}

bool is_postgres_url(std::string_view store) {
  return store.rfind("postgresql://", 0) == 0 || store.rfind("postgres://", 0) == 0;
}

}  // namespace okuri::svc
