// The sender against a real store and a LINE stand-in on a loopback port:
// - its claim on a reply (status `replying`, recorded before the request leaves) when the
//   store's answer to that claim is lost: a connection dropped while committing leaves the claim
//   committed on the server, yet reported as failed. The reply must still go out, exactly once;
// - a lease no longer certain (a worker paused past it): nothing queued is sent;
// - LINE's 1,000 aggregation unit names a month.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
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
class LostAnswers : public Store {
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

// A shared store's lease as a worker paused past it sees it: not certain (`sure`), then held
// again or lost (`held`). The outbox is read for the partitions held, as PostgreSQL's is.
class LeaseInDoubt final : public LostAnswers {
 public:
  explicit LeaseInDoubt(Store& real) : LostAnswers(real, 0), s_(real) {}
  std::atomic<bool> sure{false}, held_all{true};
  bool shared() const override { return true; }
  bool sure_to_hold(std::uint32_t) override { return sure && held_all; }
  PartitionSet held() override { return held_all ? all_partitions() : PartitionSet{}; }
  std::vector<OutboxRow> due_deliveries(std::int64_t now, std::size_t limit) override {
    return held_all ? s_.due_deliveries(now, limit) : std::vector<OutboxRow>{};
  }

 private:
  Store& s_;
};

OutboxRow push_to(int n) {
  OutboxRow r;
  r.key = "push-" + std::to_string(n);
  r.friend_id = fmt::format("U{:032x}", n);
  r.kind = "message";
  r.messages = R"([{"type":"text","text":"hello"}])";
  r.created = now_seconds();
  return r;
}

// LINE's stand-in: an HTTP server on a loopback port; routes are added before start().
struct LineStandIn {
  httplib::Server http;
  std::thread serving;
  int port = 0;
  void start() {
    port = http.bind_to_any_port("127.0.0.1");
    serving = std::thread([this] { http.listen_after_bind(); });
  }
  void stop() {
    http.stop();
    if (serving.joinable()) serving.join();
  }
  ~LineStandIn() { stop(); }
  // Sender options that reach it.
  SenderOptions options(int connections) const {
    SenderOptions opt;
    opt.line_api = fmt::format("http://127.0.0.1:{}", port);
    opt.connections = connections;
    return opt;
  }
};

// What a sender logged.
struct Said {
  std::mutex mu;
  std::vector<std::string> lines;
  Sender::Log log() {
    return [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(line);
    };
  }
  bool any(std::string_view part) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& l : lines) {
      if (l.find(part) != std::string::npos) return true;
    }
    return false;
  }
  std::string first() {
    std::lock_guard<std::mutex> lock(mu);
    return lines.empty() ? std::string() : lines.front();
  }
};

// Waits (5 s at most) until the store counts `n` deliveries sent.
void wait_sent(Store& store, std::int64_t n) {
  for (int k = 0; k < 200 && store.counts().sent < n; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(25));
}

}  // namespace

TEST_CASE("a worker whose lease is no longer certain sends nothing it had queued: later if it holds, never if lost") {
  for (const bool regained : {true, false}) {
    DYNAMIC_SECTION((regained ? "the lease is renewed" : "the partitions were taken over")) {
      const TempDir dir;
      auto real = open_sqlite_store((dir.path / "account.db").string());
      real->begin();
      for (int n = 1; n <= 3; ++n) real->add_delivery(push_to(n));
      real->commit(now_seconds());

      std::atomic<int> pushes{0};
      LineStandIn line;
      line.http.Post("/v2/bot/message/push", [&](const httplib::Request&, httplib::Response& res) {
        ++pushes;
        res.set_content("{}", "application/json");
      });
      line.start();

      LeaseInDoubt store(*real);
      Metrics metrics;
      Said said;
      Sender sender(store, line.options(2), metrics, said.log());
      sender.start();
      // Read and queued while the lease was held, then in doubt: held back.
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      CHECK(pushes.load() == 0);
      if (regained) {
        store.sure = true;
        wait_sent(*real, 3);
      } else {
        store.held_all = false;
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
      }
      sender.stop();
      line.stop();

      const StoreCounts c = real->counts();
      if (regained) {
        CHECK(pushes.load() == 3);
        CHECK(c.sent == 3);
      } else {
        CHECK(pushes.load() == 0);  // the new owner sends them
        CHECK(c.pending == 3);
        CHECK(said.any("3 queued deliveries left unsent"));
      }
    }
  }
}

TEST_CASE("a reply whose claim was committed but reported lost is sent once, when the store answers again") {
  const TempDir dir;
  {
    auto real = open_sqlite_store((dir.path / "account.db").string());
    real->begin();
    for (int n = 1; n <= 3; ++n) real->add_delivery(reply_to(n));
    real->commit(now_seconds());

    std::atomic<int> replies{0};
    LineStandIn line;
    line.http.Post("/v2/bot/message/reply", [&](const httplib::Request&, httplib::Response& res) {
      ++replies;
      res.set_content("{}", "application/json");
    });
    line.start();

    LostAnswers store(*real, 1);
    Metrics metrics;
    Said said;
    Sender sender(store, line.options(2), metrics, said.log());
    sender.start();
    wait_sent(*real, 3);
    sender.stop();
    line.stop();

    const StoreCounts c = real->counts();
    CHECK(c.sent == 3);
    CHECK(c.in_flight == 0);
    CHECK(replies.load() == 3);
    CHECK(said.first().find("trying again") != std::string::npos);
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

TEST_CASE("past LINE's 1,000 unit names of the month, a push goes without its unit, never refused for it") {
  // `list_full`: LINE's list shows 998 names and `u5`, so `fresh` is the 1,000th and `refused_one`
  // finds no room. Otherwise the list is short, and LINE refuses `refused_one` all the same (it
  // counted otherwise): the push is sent again at once without it.
  const bool list_full = GENERATE(true, false);
  const TempDir dir;
  auto real = open_sqlite_store((dir.path / "account.db").string());
  real->begin();
  const std::vector<std::string> units = {"u5", "fresh", "refused_one"};
  for (std::size_t n = 0; n < units.size(); ++n) {
    OutboxRow r = push_to(static_cast<int>(n) + 1);
    r.unit = units[n];
    r.due = now_seconds() - 10 + static_cast<std::int64_t>(n);  // sent in this order
    real->add_delivery(r);
  }
  real->commit(now_seconds());

  std::mutex mu;
  std::map<std::string, std::string> unit_of;  // retry key → the unit the request named ("" for none)
  std::atomic<int> list_reads{0}, refusals{0};
  std::atomic<bool> full{false};
  LineStandIn line;
  line.http.Get("/v2/bot/message/aggregation/list", [&](const httplib::Request& req, httplib::Response& res) {
    ++list_reads;
    // 998 names, then one more page with `u5` (and the same `next` again: the reader must stop).
    nlohmann::json names = nlohmann::json::array();
    if (!req.has_param("start")) {
      for (int k = 0; k < (list_full ? 998 : 5); ++k) names.push_back("u" + std::to_string(1000 + k));
    } else {
      names.push_back("u5");
    }
    res.set_content(nlohmann::json{{"customAggregationUnits", names}, {"next", "page2"}}.dump(), "application/json");
  });
  line.http.Post("/v2/bot/message/push", [&](const httplib::Request& req, httplib::Response& res) {
    const auto body = nlohmann::json::parse(req.body);
    const std::string unit =
        body.contains("customAggregationUnits") ? body["customAggregationUnits"][0].get<std::string>() : "";
    if (unit == "refused_one") {  // LINE counted one more name than the list said
      ++refusals;
      res.status = 400;
      res.set_content(R"json({"message":"The request body has 1 error(s)","details":[{"message":"exceeded",)json"
                      R"json("property":"customAggregationUnits"}]})json",
                      "application/json");
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    unit_of[req.get_header_value("X-Line-Retry-Key")] = unit;
    res.set_content("{}", "application/json");
  });
  line.start();

  Metrics metrics;
  Said said;
  // One connection, so in order: `fresh` takes the 1,000th name, `refused_one` finds none left.
  Sender sender(*real, line.options(1), metrics, said.log());
  sender.start();
  wait_sent(*real, 3);
  sender.stop();
  line.stop();

  CHECK(real->counts().sent == 3);
  CHECK(list_reads.load() == 2);  // two pages, read once
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(unit_of.size() == 3);
  std::multiset<std::string> sent_units;
  for (const auto& [key, named] : unit_of) sent_units.insert(named);
  // u5: counted this month already; fresh: the 1,000th; refused_one: no room, so without.
  CHECK(sent_units == std::multiset<std::string>{"", "fresh", "u5"});
  CHECK(refusals.load() == (list_full ? 0 : 1));
  CHECK(said.any("aggregation unit names for the month are used"));
}
