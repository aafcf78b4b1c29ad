// Webhook ingest of `okuri serve` on loopback — sustained events/s and p99 request
// latency with concurrent clients — side by side with a bare SQLite loop that writes
// the same rows (processed event id + the friend's state) with synchronous=FULL and the
// same group-commit batch size, and the ratio (target: the service ≥ half the bare loop).
// Then signed webhooks while 1,000 slow or idle connections are held open (a third idle, a
// third sending one header line a second, a third a promised body one byte a second): their p99
// (target: under 100 ms). Then a hot reload of the project with R friends (the new version
// declares one more tag, so every friend's state is rewritten): the time it holds the writer.
//   build/bench/okuri_bench_serve [--events N] [--clients C] [--friends F] [--reload-friends R]
#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/tcp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "compiler/workspace.hpp"
#include "service/click_links.hpp"
#include "service/service.hpp"

using Clock = std::chrono::steady_clock;
using namespace okuri;

namespace {

const char* kProject = R"(event ping { n: int }
link lp "https://example.com/lp"
message hello text "hello"
on postback { score += 1 }
on ping { score += event.n }
on link_clicked(lp) { score += 3 }
)";

// CPU time of this process so far (user, kernel), and of the calling thread.
struct Cpu {
  double user = 0, kernel = 0;
};
Cpu process_cpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}
double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// What this machine charges for the two things the service does per request and the bare loop
// never does: waking another thread (the HTTP thread hands events to the writer, which answers
// back), and a request and its answer over loopback TCP. Microseconds per round trip.
double wake_round_trip_us() {
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;  // 0: the pinger's, 1: the ponger's
  constexpr int kTrips = 20000;
  std::thread ponger([&] {
    for (int i = 0; i < kTrips; ++i) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return turn == 1; });
      turn = 0;
      cv.notify_all();
    }
  });
  const auto a = Clock::now();
  for (int i = 0; i < kTrips; ++i) {
    std::unique_lock<std::mutex> lock(mu);
    turn = 1;
    cv.notify_all();
    cv.wait(lock, [&] { return turn == 0; });
  }
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - a).count() / kTrips;
  ponger.join();
  return us;
}

double loopback_round_trip_us() {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(listener);
    return -1;
  }
  constexpr int kTrips = 20000;
  char msg[400] = {};  // about a webhook request's size
  std::thread echo([&] {
    const int c = accept(listener, nullptr, nullptr);
    const int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[400];
    for (int i = 0; i < kTrips; ++i) {
      std::size_t got = 0;
      while (got < sizeof buf) {
        const auto n = recv(c, buf + got, sizeof buf - got, 0);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      if (send(c, buf, 64, 0) != 64) break;
    }
    close(c);
  });
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  double us = -1;
  if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const auto a = Clock::now();
    int i = 0;
    for (; i < kTrips; ++i) {
      if (send(s, msg, sizeof msg, 0) != static_cast<ssize_t>(sizeof msg)) break;
      char back[64];
      std::size_t got = 0;
      while (got < sizeof back) {
        const auto n = recv(s, back + got, sizeof back - got, 0);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      if (got < sizeof back) break;
    }
    if (i == kTrips) us = std::chrono::duration<double, std::micro>(Clock::now() - a).count() / kTrips;
  }
  close(s);
  echo.join();
  close(listener);
  return us;
}

std::string body_for(std::size_t i, std::size_t friends, std::int64_t now_ms) {
  return fmt::format(
      R"({{"destination":"U00000000000000000000000000000000","events":[{{"type":"postback","mode":"active","timestamp":{},)"
      R"("source":{{"type":"user","userId":"U{:032x}"}},"webhookEventId":"01BENCH{:019}","deliveryContext":{{"isRedelivery":false}},)"
      R"("replyToken":"t{}","postback":{{"data":"count"}}}}]}})",
      now_ms, i % friends, i, i);
}

// `n` connections held open to the service: a third idle, a third trickling header lines, a
// third trickling a promised body, one write a second each, until `stop`.
struct SlowClients {
  std::vector<int> fds;
  std::atomic<bool> stop{false};
  std::thread trickle;
  SlowClients(int port, std::size_t n) {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = std::max<rlim_t>(lim.rlim_cur, std::min<rlim_t>(lim.rlim_max, n * 2 + 1024));
    setrlimit(RLIMIT_NOFILE, &lim);
    for (std::size_t i = 0; i < n; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<std::uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (fd >= 0) close(fd);
        continue;
      }
      const char* start = i % 3 == 1   ? "POST /webhook HTTP/1.1\r\nHost: x\r\n"
                          : i % 3 == 2 ? "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
                                       : "";
      if (*start != '\0') [[maybe_unused]]
        auto w = write(fd, start, std::strlen(start));
      fds.push_back(fd);
    }
    trickle = std::thread([this] {
      while (!stop) {
        for (std::size_t i = 0; i < fds.size(); ++i) {
          const char* more = i % 3 == 1 ? "X-Slow: 1\r\n" : i % 3 == 2 ? "a" : "";
          if (*more != '\0') [[maybe_unused]]
            auto w = send(fds[i], more, std::strlen(more), MSG_NOSIGNAL);
        }
        for (int k = 0; k < 10 && !stop; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  ~SlowClients() {
    stop = true;
    trickle.join();
    for (const int fd : fds) close(fd);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t events = 20000, clients = 16, friends = 5000, reload_friends = 100000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) events = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--clients") == 0 && i + 1 < argc) clients = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--friends") == 0 && i + 1 < argc) friends = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--reload-friends") == 0 && i + 1 < argc) reload_friends = std::strtoull(argv[++i], nullptr, 10);
  }
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("okuri-serve-bench-{}", getpid());
  std::filesystem::create_directories(dir);
  const auto project = dir / "project";
  std::filesystem::create_directories(project);
  std::ofstream(project / "bench.okuri") << kProject;
  auto p = compile_path(project.string());
  const std::string secret = "bench-secret";

  // ---- the service
  svc::ServeOptions so;
  so.db_path = (dir / "serve.db").string();
  so.port = 0;
  so.line_api = "http://127.0.0.1:1";
  so.channel_secret = secret;
  so.access_token = "x";
  so.quiet = true;
  so.events_token = "bench-token";
  so.project_path = project.string();
  so.watch = false;
  so.public_url = "https://bot.example";
  so.link_key = "bench-link-key";
  svc::Service service(std::move(p), so);
  std::thread server([&] { service.run(); });
  while (service.port() <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<std::string> bodies(events), sigs(events);
  for (std::size_t i = 0; i < events; ++i) {
    bodies[i] = body_for(i, friends, now_ms);
    sigs[i] = svc::line_signature(secret, bodies[i]);
  }
  std::atomic<std::size_t> next{0}, failed{0};
  std::vector<std::vector<double>> lat(clients);
  std::vector<double> client_cpu(clients, 0.0);  // each client thread's own CPU time
  const Cpu cpu0 = process_cpu();
  const auto t0 = Clock::now();
  std::vector<std::thread> workers;
  for (std::size_t c = 0; c < clients; ++c) {
    workers.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", service.port());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      const double c0 = thread_cpu();
      for (std::size_t i = next++; i < events; i = next++) {
        const auto a = Clock::now();
        auto res = cli.Post("/webhook", {{"X-Line-Signature", sigs[i]}}, bodies[i], "application/json");
        if (!res || res->status != 200) {
          if (failed++ < 3) std::fprintf(stderr, "request %zu: %s\n", i, res ? std::to_string(res->status).c_str() : httplib::to_string(res.error()).c_str());
        }
        lat[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      }
      client_cpu[c] = thread_cpu() - c0;
    });
  }
  for (auto& w : workers) w.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const Cpu cpu1 = process_cpu();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const double p50 = all[all.size() / 2], p99 = all[all.size() * 99 / 100];
  // The batch size the service reached: events per commit, from its metrics.
  std::size_t commits = 0;
  {
    httplib::Client cli("127.0.0.1", service.port());
    if (auto res = cli.Get("/metrics")) {
      const auto pos = res->body.find("okuri_commit_seconds_count ");
      if (pos != std::string::npos) commits = std::strtoull(res->body.c_str() + pos + 27, nullptr, 10);
    }
  }
  // ---- signed webhooks while 1,000 slow or idle connections are held
  double slow_p99 = 0, slow_p50 = 0;
  std::size_t slow_held = 0, slow_failed = 0;
  {
    SlowClients slow(service.port(), 1000);
    slow_held = slow.fds.size();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::vector<double> times;
    httplib::Client cli("127.0.0.1", service.port());
    cli.set_keep_alive(true);
    cli.set_tcp_nodelay(true);
    for (std::size_t i = 0; i < 2000; ++i) {
      const std::string body = body_for(events + i, friends, now_ms);
      const auto a = Clock::now();
      auto res =
          cli.Post("/webhook", {{"X-Line-Signature", svc::line_signature(secret, body)}}, body, "application/json");
      if (!res || res->status != 200) ++slow_failed;
      times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    }
    std::sort(times.begin(), times.end());
    slow_p50 = times[times.size() / 2];
    slow_p99 = times[times.size() * 99 / 100];
  }
  // ---- tracked link clicks: each answered 302 after its click is committed
  double click_p50 = 0, click_p99 = 0;
  std::size_t click_failed = 0;
  constexpr std::size_t kClicks = 1000;
  {
    const svc::ClickLinks links(so.public_url, so.link_key);
    httplib::Client cli("127.0.0.1", service.port());
    cli.set_keep_alive(true);
    cli.set_tcp_nodelay(true);
    std::vector<double> times;
    for (std::size_t i = 0; i < kClicks; ++i) {
      // A friend of its own each time: a repeat within the window would be counted once, not committed.
      const std::string token = links.seal(fmt::format("U{:032x}", friends + 1000000 + i), "lp");
      const auto a = Clock::now();
      auto res = cli.Get("/l/" + token, {{"User-Agent", "Mozilla/5.0 (iPhone) Line/14.0"}});
      if (!res || res->status != 302) ++click_failed;
      times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    }
    std::sort(times.begin(), times.end());
    click_p50 = times[times.size() / 2];
    click_p99 = times[times.size() * 99 / 100];
  }
  // ---- hot reload with many friends
  double reload_ms = 0;
  std::size_t total_friends = friends;
  if (reload_friends > friends) {
    httplib::Client cli("127.0.0.1", service.port());
    char when[32];
    const std::time_t t = static_cast<std::time_t>(now_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (std::size_t i = friends; i < reload_friends; i += 2000) {
      std::string body;
      for (std::size_t k = i; k < std::min(reload_friends, i + 2000); ++k) {
        body += fmt::format(R"({{"time":"{}","friend":"U{:032x}","type":"ping","n":1}})", when, k) + "\n";
      }
      auto res = cli.Post("/events", {{"Authorization", "Bearer bench-token"}}, body, "application/x-ndjson");
      if (!res || res->status != 200) {
        std::fprintf(stderr, "loading friends for the reload failed: %s\n", res ? res->body.c_str() : "no answer");
        return 1;
      }
    }
    total_friends = reload_friends;
    std::ofstream(project / "bench.okuri", std::ios::app) << "tag added_by_the_reload\n";
    const auto r0 = Clock::now();
    if (!service.reload("bench")) {
      std::fprintf(stderr, "the reload failed\n");
      return 1;
    }
    reload_ms = std::chrono::duration<double, std::milli>(Clock::now() - r0).count();
  }
  service.stop();
  server.join();
  const std::size_t batch = std::max<std::size_t>(1, commits == 0 ? clients : (events + commits - 1) / commits);

  // ---- the bare loop: the same rows, synchronous=FULL, the same batch size
  double bare_secs = 0;
  Cpu bare_cpu0, bare_cpu1;
  {
    sqlite3* db = nullptr;
    sqlite3_open((dir / "bare.db").string().c_str(), &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr);
    sqlite3_exec(db,
                 "CREATE TABLE processed_events(id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;"
                 "CREATE TABLE friends(id TEXT PRIMARY KEY, partition INTEGER NOT NULL, state BLOB NOT NULL, updated INTEGER NOT NULL) WITHOUT ROWID;"
                 "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL); INSERT INTO meta VALUES ('clock', 0);",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* claim = nullptr;
    sqlite3_stmt* save = nullptr;
    sqlite3_stmt* clock = nullptr;
    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO processed_events(id, at) VALUES (?, 0)", -1, &claim, nullptr);
    sqlite3_prepare_v2(db,
                       "INSERT INTO friends(id, partition, state, updated) VALUES (?, 0, ?, 0) ON CONFLICT(id) DO UPDATE SET "
                       "state = excluded.state, updated = excluded.updated",
                       -1, &save, nullptr);
    sqlite3_prepare_v2(db, "UPDATE meta SET value = ? WHERE key = 'clock'", -1, &clock, nullptr);
    const std::string state(120, 'x');  // about the size of a friend's saved state in this project
    bare_cpu0 = process_cpu();
    const auto b0 = Clock::now();
    for (std::size_t i = 0; i < events; i += batch) {
      sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      for (std::size_t k = i; k < std::min(events, i + batch); ++k) {
        const std::string id = fmt::format("01BENCH{:019}", k);
        const std::string fid = fmt::format("U{:032x}", k % friends);
        sqlite3_bind_text(claim, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
        sqlite3_step(claim);
        sqlite3_reset(claim);
        sqlite3_bind_text(save, 1, fid.data(), static_cast<int>(fid.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(save, 2, state.data(), static_cast<int>(state.size()), SQLITE_STATIC);
        sqlite3_step(save);
        sqlite3_reset(save);
      }
      sqlite3_bind_int64(clock, 1, static_cast<sqlite3_int64>(i));
      sqlite3_step(clock);
      sqlite3_reset(clock);
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    bare_secs = std::chrono::duration<double>(Clock::now() - b0).count();
    bare_cpu1 = process_cpu();
    sqlite3_finalize(claim);
    sqlite3_finalize(save);
    sqlite3_finalize(clock);
    sqlite3_close(db);
  }
  std::filesystem::remove_all(dir);
  const double serve_rate = static_cast<double>(events) / secs;
  const double bare_rate = static_cast<double>(events) / bare_secs;
  std::printf("serve: %zu webhook events, %zu clients on loopback, %zu friends\n", events, clients, friends);
  std::printf("  okuri serve   %9.0f events/s   request p50 %.2f ms   p99 %.2f ms   (%zu not answered 200)\n", serve_rate, p50, p99,
              failed.load());
  std::printf("  bare SQLite   %9.0f events/s   (same rows, synchronous=FULL, commits of %zu)\n", bare_rate, batch);
  std::printf("  service / bare: %.2f   target >= 0.5\n", serve_rate / bare_rate);
  // Why the ratio depends on the machine: where each side's time goes, and what this machine
  // charges for the two things only the service does.
  const double per_event = 1e6 / static_cast<double>(events);
  double clients_cpu = 0;
  for (double c : client_cpu) clients_cpu += c;
  const double serve_user = (cpu1.user - cpu0.user) * per_event, serve_kernel = (cpu1.kernel - cpu0.kernel) * per_event;
  const double client_us = clients_cpu * per_event;
  const double bare_user = (bare_cpu1.user - bare_cpu0.user) * per_event;
  const double bare_kernel = (bare_cpu1.kernel - bare_cpu0.kernel) * per_event;
  const double wake = wake_round_trip_us(), loop = loopback_round_trip_us();
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  const double serve_cpu = serve_user + serve_kernel, bare_wall = 1e6 / bare_rate;
  std::printf(
      "  per event: the service with its clients used %.1f us of CPU (%.1f in the kernel; the clients, on the same "
      "cores, %.1f), so on %.0f cores at best %.1f us of wall time; the bare loop used %.1f us of CPU (%.1f in the "
      "kernel) and %.1f us of wall time, waiting for the disk's flush\n",
      serve_cpu, serve_kernel, client_us, cores, serve_cpu / cores, bare_user + bare_kernel, bare_kernel, bare_wall);
  std::printf(
      "  so here the ratio is at most %.2f: the disk's flush time against the CPU the service spends, much of it in "
      "the kernel on sockets and on waking threads, which the bare loop never does (this machine: a thread woken and "
      "answering %.1f us, a request and answer over loopback %.1f us). Faster flushes, or dearer system calls and "
      "interrupts (under a hypervisor), lower it.\n",
      bare_wall / (serve_cpu / cores), wake, loop);
  std::printf(
      "with %zu slow or idle connections held open: 2,000 signed webhooks one after another, p50 %.2f ms, p99 %.2f ms "
      "(%zu not answered 200)   target p99 < 100 ms\n",
      slow_held, slow_p50, slow_p99, slow_failed);
  std::printf(
      "tracked link clicks (--public-url): %zu GET /l/TOKEN one after another, each answered 302 once its click is "
      "committed: p50 %.2f ms, p99 %.2f ms (%zu not answered 302)\n",
      kClicks, click_p50, click_p99, click_failed);
  if (reload_ms > 0) {
    std::printf("hot reload with %zu friends (each friend's state rewritten): %.0f ms, %.1f us per friend\n", total_friends, reload_ms,
                reload_ms * 1000.0 / static_cast<double>(total_friends));
  }
  return failed.load() == 0 ? 0 : 1;
}
