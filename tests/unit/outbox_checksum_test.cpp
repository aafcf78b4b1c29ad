// Damage inside an outbox row (a byte of a message changed, the file otherwise sound) passes
// SQLite's own check: the row's checksum finds it at start, before it could be sent.
#include <sqlite3.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>

#include "service/store.hpp"

using namespace okuri::svc;
namespace fs = std::filesystem;

namespace {

OutboxRow delivery(const std::string& key, const std::string& status) {
  OutboxRow r;
  r.key = key;
  r.friend_id = "U0123456789abcdef0123456789abcdef";
  r.kind = "message";
  r.status = status;
  r.messages = R"([{"type":"text","text":"hello"}])";
  r.created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  r.due = r.created;
  return r;
}

// Changes a column of one outbox row behind the store's back.
void tamper(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  REQUIRE(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(h);
}

}  // namespace

TEST_CASE("a delivery damaged inside its row is refused at start; one re-rendered by the store is not") {
  const fs::path dir = fs::temp_directory_path() / ("okuri-outbox-sum-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path db = dir / "account.db";
  {
    auto store = open_sqlite_store(db.string());
    store->begin();
    store->add_delivery(delivery("push-1", "pending"));
    store->add_delivery(delivery("held-1", "profile"));  // waits for a profile, then re-rendered
    store->add_delivery(delivery("done-1", "sent"));
    store->commit(1);
    store->begin();
    const auto held = store->held_deliveries("", INT64_MAX);
    REQUIRE(held.size() == 1);
    store->release_delivery(held[0].id, R"([{"type":"text","text":"hello, Aiko"}])");
    store->commit(2);
    CHECK(store->counts().pending == 2);
  }
  // Re-rendered by the store, and damage to a row already sent: it opens.
  tamper(db, "UPDATE outbox SET messages = 'x' WHERE key = 'done-1'");
  CHECK_NOTHROW(open_sqlite_store(db.string()));
  // A message's text changed in a row still to be sent.
  tamper(db, "UPDATE outbox SET messages = replace(messages, 'hello', 'HELLO') WHERE key = 'push-1'");
  try {
    (void)open_sqlite_store(db.string());
    FAIL("a damaged delivery was accepted");
  } catch (const StoreError& e) {
    const std::string what = e.what();
    CHECK(what.find("1 delivery not yet sent does not match its checksum (the first: push-1)") != std::string::npos);
    CHECK(what.find("Restore it from the last backup") != std::string::npos);
  }
  // So is one whose recipient changed.
  tamper(db, "UPDATE outbox SET messages = replace(messages, 'HELLO', 'hello') WHERE key = 'push-1'");
  CHECK_NOTHROW(open_sqlite_store(db.string()));
  tamper(db, "UPDATE outbox SET friend = 'U0123456789abcdef0123456789abcdee' WHERE key = 'push-1'");
  CHECK_THROWS_AS(open_sqlite_store(db.string()), StoreError);
  fs::remove_all(dir);
}
