// Fencing on PostgreSQL, step by step and without signals: a worker that stops renewing (as a
// paused one does) past its lease, while another takes its partitions over. Hidden from the
// default run ([.postgres]); tests/pg/fencing_test.sh starts a throwaway cluster and runs it
// with OKURI_TEST_PG_URL.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "service/store.hpp"

using namespace okuri::svc;
using namespace std::chrono_literals;

namespace {

const char* kFriend = "U0123456789abcdef0123456789abcdef";

PostgresOptions short_lease() {
  PostgresOptions o;
  o.lease_seconds = 2;
  o.renew_ms = 500;
  return o;
}

}  // namespace

TEST_CASE("a worker past its lease cannot commit, before or inside a batch, and sends nothing", "[.postgres]") {
  const char* url = std::getenv("OKURI_TEST_PG_URL");
  REQUIRE(url != nullptr);
  const bool inside = GENERATE(false, true);
  INFO((inside ? "paused inside a batch" : "paused between batches"));

  auto a = open_postgres_store(url, short_lease());
  REQUIRE(a->held().size() == kPartitions);  // alone: every partition
  a->set_writing(a->held());
  const std::uint32_t p = partition_of(kFriend);
  CHECK(a->sure_to_hold(p));
  a->begin();
  a->save_friend(kFriend, "before");
  a->commit(100);

  if (inside) {
    a->begin();  // the lease rows checked and locked, then A stops
    a->save_friend(kFriend, "after the pause");
  }
  std::this_thread::sleep_for(2500ms);  // past the lease, with no renewal
  CHECK_FALSE(a->sure_to_hold(p));      // its sender holds back everything

  // B arrives: A is no longer alive (not seen within the lease), so B takes every partition,
  // once A's open batch (if any) is ended by the server's idle-in-transaction timeout.
  auto b = open_postgres_store(url, short_lease());
  for (int k = 0; k < 20 && b->held().size() < kPartitions; ++k) {
    std::this_thread::sleep_for(250ms);
    b->renew_leases();
  }
  REQUIRE(b->held().size() == kPartitions);
  CHECK(b->sure_to_hold(p));

  // A wakes and tries to commit what it was doing, or to begin its next batch: refused.
  if (inside) {
    CHECK_THROWS_AS(a->commit(200), StoreError);
  } else {
    CHECK_THROWS_AS(a->begin(), LeaseLost);
  }
  // Its keeper then learns it holds nothing, and says so to the sender.
  a->renew_leases();
  CHECK(a->held().empty());
  CHECK_FALSE(a->sure_to_hold(p));

  // B sees the friend as A last committed it.
  b->set_writing(b->held());
  const auto friends = b->load_friends();
  REQUIRE(friends.size() == 1);
  CHECK(friends[0].state == "before");
  // Clean for the next run of the generator.
  b->begin();
  b->save_friend(kFriend, "before");
  b->commit(300);
}
