// The partition a friend belongs to is recorded in every database: the hash may never change.
#include <catch2/catch.hpp>

#include "service/store.hpp"

using okuri::svc::partition_of;

TEST_CASE("partition_of is pinned by golden vectors") {
  CHECK(partition_of("U4af4980629") == 25);
  CHECK(partition_of("Ua0000000000000000000000000000001") == 45);
  CHECK(partition_of("Uffffffffffffffffffffffffffffffff") == 63);
  CHECK(partition_of("U1234567890abcdef1234567890abcdef") == 15);
  CHECK(partition_of("") == 25);
  CHECK(partition_of("友だち") == 27);
}

TEST_CASE("every partition is in all_partitions, once, in order") {
  const auto all = okuri::svc::all_partitions();
  REQUIRE(all.size() == okuri::svc::kPartitions);
  for (std::uint32_t p = 0; p < all.size(); ++p) CHECK(all[p] == p);
}
