// The sender's claim on a reply (status `replying`, recorded before the request leaves) when the
// store's answer to that claim is lost: a connection dropped while committing leaves the claim
// committed on the server, yet reported as failed. The reply must still go out, exactly once.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "service/metrics.hpp"
#include "service/sender.hpp"
#include "service/store.hpp"

using namespace okuri::svc;
namespace fs = std::filesystem;

namespace {

// A store whose first `lose` claims commit and then report a failure, as a PostgreSQL server
// shutting down may do; everything else goes to the real store beneath.
class LostAnswers final : public Store {
 public:
  LostAnswers(Store& real, int lose) : s_(real), lose_(lose) {}
  std::vector<std::int64_t> claim_replies(const std::vector<OutboxRow>& rows) override {
    auto ids = s_.claim_replies(rows);
    ++claims_;
    if (lose_-- > 0) throw StoreError("server closed the connection unexpectedly (COMMIT)");
    return ids;
  }

  void release_claims(const std::vector<OutboxRow>& rows) override { s_.release_claims(rows); }
  int claims() const { return claims_; }

  std::vector<FriendState> load_friends() override { return s_.load_friends(); }
  std::int64_t clock() override { return s_.clock(); }
  std::int64_t project_shape() override { return s_.project_shape(); }
  std::string project_sources(std::int64_t shape) override { return s_.project_sources(shape); }
  void set_project(std::int64_t shape, std::string_view sources) override { s_.set_project(shape, sources); }
  void save_stats(std::int64_t shape, std::string_view stats) override { s_.save_stats(shape, stats); }
  std::string load_stats(std::int64_t shape) override { return s_.load_stats(shape); }
  void begin() override { s_.begin(); }
  bool claim_event(std::string_view id) override { return s_.claim_event(id); }
  bool claim_click(std::string_view id, std::int64_t now, std::int64_t window) override {
    return s_.claim_click(id, now, window);
  }
  void save_friend(std::string_view id, std::string_view state) override { s_.save_friend(id, state); }
  void add_delivery(const OutboxRow& row) override { s_.add_delivery(row); }
  std::vector<OutboxRow> held_deliveries(std::string_view friend_id, std::int64_t created_before) override {
    return s_.held_deliveries(friend_id, created_before);
  }
  void release_delivery(std::int64_t id, std::string_view messages) override { s_.release_delivery(id, messages); }
  void save_profile(const Profile& p) override { s_.save_profile(p); }
  std::vector<std::pair<std::string, std::int64_t>> quota_held() override { return s_.quota_held(); }
  void release_quota_held(std::string_view broadcast) override { s_.release_quota_held(broadcast); }
  std::optional<std::int64_t> profile_fetched(std::string_view id) override { return s_.profile_fetched(id); }
  void commit(std::int64_t clock) override { s_.commit(clock); }
  void rollback() override { s_.rollback(); }
  std::vector<OutboxRow> due_deliveries(std::int64_t now, std::size_t limit) override {
    return s_.due_deliveries(now, limit);
  }
  void update_deliveries(const std::vector<OutboxRow>& rows) override { s_.update_deliveries(rows); }
  StoreCounts counts() override { return s_.counts(); }
  std::int64_t settle_inflight() override { return s_.settle_inflight(); }

 private:
  Store& s_;
  int lose_;
  std::atomic<int> claims_{0};
};

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A folder of its own for the test's database, removed after.
struct TempDir {
  fs::path path = fs::temp_directory_path() / fmt::format("okuri-claims-{}-{}", ::getpid(), std::random_device{}());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

OutboxRow reply_to(int n) {
  OutboxRow r;
  r.key = "reply-" + std::to_string(n);
  r.friend_id = "U" + std::to_string(n);
  r.reply = true;
  r.reply_token = "token-" + std::to_string(n);
  r.kind = "message";
  r.messages = R"([{"type":"text","text":"hello"}])";
  r.created = now_seconds();
  return r;
}

}  // namespace

TEST_CASE("a reply whose claim was committed but reported lost is sent once, when the store answers again") {
  const TempDir dir;
  {
    auto real = open_sqlite_store((dir.path / "account.db").string());
    real->begin();
    for (int n = 1; n <= 3; ++n) real->add_delivery(reply_to(n));
    real->commit(now_seconds());

    std::atomic<int> replies{0};
    httplib::Server line;
    line.Post("/v2/bot/message/reply", [&](const httplib::Request&, httplib::Response& res) {
      ++replies;
      res.set_content("{}", "application/json");
    });
    const int port = line.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { line.listen_after_bind(); });

    LostAnswers store(*real, 1);
    Metrics metrics;
    SenderOptions opt;
    opt.line_api = fmt::format("http://127.0.0.1:{}", port);
    opt.connections = 2;
    std::vector<std::string> logged;
    std::mutex log_mu;
    Sender sender(store, opt, metrics, [&](const std::string& said) {
      std::lock_guard<std::mutex> lock(log_mu);
      logged.push_back(said);
    });
    sender.start();
    for (int k = 0; k < 200 && real->counts().sent < 3; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    sender.stop();
    line.stop();
    serving.join();

    const StoreCounts c = real->counts();
    CHECK(c.sent == 3);
    CHECK(c.in_flight == 0);
    CHECK(replies.load() == 3);
    std::lock_guard<std::mutex> lock(log_mu);
    REQUIRE(!logged.empty());
    CHECK(logged.front().find("trying again") != std::string::npos);
  }
}

TEST_CASE("a reply is claimed only while it is as the sender read it") {
  const TempDir dir;
  {
    auto store = open_sqlite_store((dir.path / "account.db").string());
    store->begin();
    store->add_delivery(reply_to(1));
    store->add_delivery(reply_to(2));
    store->commit(now_seconds());
    auto rows = store->due_deliveries(now_seconds(), 10);
    REQUIRE(rows.size() == 2);
    // Claimed twice over (the first answer lost): both claims hold.
    CHECK(store->claim_replies({rows[0]}) == std::vector<std::int64_t>{rows[0].id});
    CHECK(store->claim_replies({rows[0]}) == std::vector<std::int64_t>{rows[0].id});
    // Tried meanwhile (its attempts moved on), or sent: not claimed again.
    OutboxRow tried = rows[1];
    tried.attempts = 1;
    tried.status = "pending";
    store->update_deliveries({tried});
    CHECK(store->claim_replies({rows[1]}).empty());
    tried.status = "sent";
    store->update_deliveries({tried});
    CHECK(store->claim_replies({tried}).empty());
    CHECK(store->counts().in_flight == 1);
  }
}

TEST_CASE("replies whose claim's answer was lost are pending again when the sender stops before claiming them again") {
  const TempDir dir;
  {
    auto real = open_sqlite_store((dir.path / "account.db").string());
    real->begin();
    for (int n = 1; n <= 2; ++n) real->add_delivery(reply_to(n));
    real->commit(now_seconds());
    LostAnswers store(*real, 1000000);  // every claim lands and is reported lost
    Metrics metrics;
    SenderOptions opt;
    opt.line_api = "http://127.0.0.1:1";  // never reached: nothing is claimed
    Sender sender(store, opt, metrics, [](const std::string&) {});
    sender.start();
    for (int k = 0; k < 200 && store.claims() == 0; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(store.claims() > 0);
    CHECK(real->counts().in_flight == 2);  // the claims landed
    sender.stop();
    const StoreCounts c = real->counts();
    CHECK(c.in_flight == 0);
    CHECK(c.pending == 2);
    CHECK(c.uncertain == 0);
  }
}
