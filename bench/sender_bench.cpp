// The sender of `okuri serve` against a local stand-in for LINE's API that answers at once, and
// one that answers after 50 ms (LINE's real latency is tens of milliseconds):
//   1. pushes per second through the sender (outbox in SQLite, outcomes committed in groups)
//      with --rate 2000, as a share of the cap and of a bare HTTP client loop with the same
//      connections and the same pacing (no store, no outbox): targets ≥ 0.9 and ≥ 0.8;
//   2. a broadcast to F friends on the account's own data, end to end through `okuri serve`
//      (friends made by events, the broadcast fires at its time): requests to LINE and seconds
//      until the last recipient was handed over; targets ≤ 200 requests and ≤ 5 s for 100,000.
//   build/bench/okuri_bench_sender [--pushes N] [--friends F] [--connections C]
#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "compiler/workspace.hpp"
#include "service/metrics.hpp"
#include "service/rate_limiter.hpp"
#include "service/sender.hpp"
#include "service/service.hpp"

using Clock = std::chrono::steady_clock;
using namespace okuri;

namespace {

// LINE's Messaging API, as far as the sender needs it: 200 to pushes and multicasts after `delay`.
struct MockLine {
  httplib::Server http;
  std::thread thread;
  int port = 0;
  std::atomic<std::uint64_t> requests{0}, recipients{0};
  std::atomic<std::int64_t> last_ns{0};
  explicit MockLine(std::chrono::milliseconds delay) {
    http.new_task_queue = [] { return new httplib::ThreadPool(256); };
    http.set_keep_alive_max_count(1000000);
    http.set_tcp_nodelay(true);
    auto answer = [this, delay](const httplib::Request& req, httplib::Response& res, bool multi) {
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      std::uint64_t n = 1;
      if (multi) n = nlohmann::json::parse(req.body)["to"].size();
      recipients += n;
      ++requests;
      last_ns = Clock::now().time_since_epoch().count();
      res.set_content("{}", "application/json");
    };
    http.Post("/v2/bot/message/push",
              [answer](const httplib::Request& q, httplib::Response& r) { answer(q, r, false); });
    http.Post("/v2/bot/message/multicast",
              [answer](const httplib::Request& q, httplib::Response& r) { answer(q, r, true); });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { http.listen_after_bind(); });
    while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~MockLine() {
    http.stop();
    thread.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port); }
};

std::string user(std::size_t i) { return fmt::format("U{:032x}", i); }

// The bare loop: C threads, each one kept-alive connection, paced by the same limiter; no store.
double bare_loop(const MockLine& mock, std::size_t n, int connections, double rate) {
  svc::RateLimiter limiter(rate);
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> next{0};
  const std::string body = R"({"to":"U00000000000000000000000000000000","messages":[{"type":"text","text":"hello"}]})";
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int c = 0; c < connections; ++c) {
    ts.emplace_back([&] {
      httplib::Client cli("127.0.0.1", mock.port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      for (std::size_t i = next++; i < n; i = next++) {
        limiter.acquire(stop);
        cli.Post("/v2/bot/message/push", {{"Authorization", "Bearer x"}, {"X-Line-Retry-Key", "k"}}, body,
                 "application/json");
      }
    });
  }
  for (auto& t : ts) t.join();
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
}

// The sender with N pending pushes in a fresh outbox: pushes per second until the outbox is empty.
double sender_run(const MockLine& mock, std::size_t n, int connections, double rate, const std::filesystem::path& dir) {
  const auto db = dir / fmt::format("outbox-{}-{}.db", mock.port, n);
  auto store = svc::open_sqlite_store(db.string());
  const std::int64_t now = std::time(nullptr);
  store->begin();
  for (std::size_t i = 0; i < n; ++i) {
    svc::OutboxRow r;
    r.key = fmt::format("00000000-0000-4000-8000-{:012x}", i);
    r.friend_id = user(i);
    r.due = now;
    r.created = now;
    r.messages = R"([{"type":"text","text":"hello"}])";
    store->add_delivery(r);
  }
  store->commit(now);
  svc::Metrics metrics;
  svc::SenderOptions so;
  so.line_api = mock.url();
  so.access_token = "x";
  so.connections = connections;
  so.push_rate = rate;
  const auto sent0 = mock.requests.load();
  svc::Sender sender(*store, so, metrics,
                     [](const std::string& line) { std::fprintf(stderr, "sender: %s\n", line.c_str()); });
  const auto t0 = Clock::now();
  sender.start();
  while (mock.requests.load() - sent0 < n) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  sender.stop();
  const auto c = store->counts();
  if (c.sent != static_cast<std::int64_t>(n))
    std::fprintf(stderr, "only %lld of %zu recorded as sent\n", static_cast<long long>(c.sent), n);
  return static_cast<double>(n) / secs;
}

// The time of day `seconds` from now in Asia/Tokyo, as a broadcast's `at` (Japan has no DST).
std::string tokyo_in(std::int64_t seconds) {
  const std::time_t t = std::time(nullptr) + seconds + 9 * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

struct BroadcastResult {
  std::uint64_t requests = 0, recipients = 0;
  double seconds = 0;
};

BroadcastResult broadcast_run(std::size_t friends, int connections, const std::filesystem::path& dir) {
  MockLine mock(std::chrono::milliseconds(0));
  const auto project = dir / "broadcast";
  std::filesystem::create_directories(project);
  // The broadcast's minute starts at least 20 s from now: time to make the friends first.
  const std::int64_t now = std::time(nullptr);
  const std::int64_t at = ((now + 20 + 59) / 60) * 60;
  std::ofstream(project / "main.okuri") << "event ping\nmessage sale text \"春のセールが始まりました\"\n"
                                        << "broadcast spring at " << tokyo_in(at - now)
                                        << " to score >= 0 {\n  send sale\n}\n";
  auto p = compile_path(project.string());
  if (p->diags.error_count() > 0) {
    std::fprintf(stderr, "the broadcast project does not compile\n");
    std::exit(1);
  }
  svc::ServeOptions so;
  so.db_path = (dir / "broadcast.db").string();
  so.port = 0;
  so.line_api = mock.url();
  so.channel_secret = "s";
  so.access_token = "x";
  so.events_token = "t";
  so.quiet = true;
  so.watch = false;
  so.profiles = false;
  so.connections = connections;
  svc::Service service(std::move(p), so);
  std::thread server([&] { service.run(); });
  while (service.port() <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  httplib::Client cli("127.0.0.1", service.port());
  cli.set_read_timeout(60);
  char when[32];
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  for (std::size_t i = 0; i < friends; i += 5000) {
    std::string body;
    for (std::size_t k = i; k < std::min(friends, i + 5000); ++k) {
      body += fmt::format(R"({{"time":"{}","friend":"{}","type":"ping"}})", when, user(k)) + "\n";
    }
    auto res = cli.Post("/events", {{"Authorization", "Bearer t"}}, body, "application/x-ndjson");
    if (!res || res->status != 200) {
      std::fprintf(stderr, "making friends failed: %s\n", res ? res->body.c_str() : "no answer");
      std::exit(1);
    }
  }
  if (std::time(nullptr) >= at) std::fprintf(stderr, "warning: the friends were made after the broadcast's time\n");
  // From the broadcast's time to the last recipient handed to LINE.
  while (std::time(nullptr) < at) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(120);
  while (mock.recipients.load() < friends && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  BroadcastResult r;
  r.seconds = std::chrono::duration<double>(Clock::time_point(Clock::duration(mock.last_ns.load())) - t0).count();
  r.requests = mock.requests.load();
  r.recipients = mock.recipients.load();
  service.stop();
  server.join();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t pushes = 20000, friends = 100000;
  int connections = 128;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--pushes") == 0 && i + 1 < argc) pushes = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--friends") == 0 && i + 1 < argc) friends = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--connections") == 0 && i + 1 < argc) connections = std::atoi(argv[++i]);
  }
  const double cap = 2000;
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("okuri-sender-bench-{}", getpid());
  std::filesystem::create_directories(dir);
  std::printf("pushes: %zu per run, --rate %.0f, %d connections\n", pushes, cap, connections);
  std::printf("%-22s %12s %12s %10s %12s\n", "mock", "sender/s", "bare loop/s", "of cap", "of bare");
  for (int delay : {0, 50}) {
    MockLine mock{std::chrono::milliseconds(delay)};
    const double bare = bare_loop(mock, pushes, connections, cap);
    const double sender = sender_run(mock, pushes, connections, cap, dir);
    std::printf("%-22s %12.0f %12.0f %10.2f %12.2f\n", fmt::format("answers after {} ms", delay).c_str(), sender, bare,
                sender / cap, sender / bare);
  }
  const auto b = broadcast_run(friends, connections, dir);
  std::printf(
      "broadcast to %zu friends (own data): %llu requests, %llu recipients, %.2f s from its time to the last request\n",
      friends, static_cast<unsigned long long>(b.requests), static_cast<unsigned long long>(b.recipients), b.seconds);
  std::filesystem::remove_all(dir);
  return 0;
}
