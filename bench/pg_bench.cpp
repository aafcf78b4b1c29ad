// `okuri serve --store postgresql://…` webhook ingest on loopback, with one worker and with
// two (in one process: two services on the same database), each run until every event is
// applied — side by side with a bare libpq loop that writes the same rows in the same batch
// sizes (the webhook event id, the inbox row, then the friend's state, the inbox row deleted and
// the partitions' clock), and the ratio (target: one worker ≥ half the bare loop).
//   build/bench/okuri_bench_pg --url postgresql://… [--events N] [--clients C] [--friends F]
// bench/pg_bench.sh starts a throwaway PostgreSQL for it, and measures the takeover time too.
#include <fmt/format.h>
#include <httplib.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "compiler/workspace.hpp"
#include "runtime/event_input.hpp"
#include "service/inbox_event.hpp"
#include "service/pg_connection.hpp"
#include "service/service.hpp"

using Clock = std::chrono::steady_clock;
using namespace okuri;

namespace {

const char* kProject = R"(message hello text "hello"
on postback { score += 1 }
)";

std::string body_for(std::size_t i, std::size_t friends, std::int64_t now_ms, const std::string& run) {
  return fmt::format(
      R"({{"destination":"U00000000000000000000000000000000","events":[{{"type":"postback","mode":"active","timestamp":{},)"
      R"("source":{{"type":"user","userId":"U{:032x}"}},"webhookEventId":"01{}{:019}","deliveryContext":{{"isRedelivery":false}},)"
      R"("replyToken":"t{}","postback":{{"data":"count"}}}}]}})",
      now_ms, i % friends, run, i, i);
}

std::string metric(int port, const char* name) {
  httplib::Client cli("127.0.0.1", port);
  auto res = cli.Get("/metrics");
  if (!res) return {};
  const std::string key = std::string("\n") + name + " ";
  const auto pos = res->body.find(key);
  if (pos == std::string::npos) return {};
  return res->body.substr(pos + key.size(), res->body.find('\n', pos + key.size()) - pos - key.size());
}

struct Run {
  double accept_secs = 0, applied_secs = 0;
  std::size_t failed = 0, commits = 0;
};

// `workers` services on the database, `events` webhook bodies from `clients` clients spread over
// them, until every event is applied (the workers' okuri_inbox_applied_total).
Run ingest(const std::string& url, const std::filesystem::path& project, std::size_t workers, std::size_t events,
           std::size_t clients, std::size_t friends, const std::string& run_name) {
  const std::string secret = "bench-secret";
  std::vector<std::unique_ptr<svc::Service>> services;
  std::vector<std::thread> servers;
  for (std::size_t w = 0; w < workers; ++w) {
    svc::ServeOptions so;
    so.store_url = url;
    so.port = 0;
    so.line_api = "http://127.0.0.1:1";
    so.channel_secret = secret;
    so.access_token = "x";
    so.quiet = true;
    so.watch = false;
    so.profiles = false;
    so.postgres.lease_seconds = 4;
    so.postgres.renew_ms = 500;
    services.push_back(std::make_unique<svc::Service>(compile_path(project.string()), so));
    svc::Service* s = services.back().get();
    servers.emplace_back([s] { s->run(); });
    while (s->port() <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The partitions shared out before the clock starts.
  for (int k = 0; k < 200; ++k) {
    bool even = true;
    for (const auto& s : services)
      even = even && metric(s->port(), "okuri_partitions_held") == std::to_string(64 / workers);
    if (even) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::vector<std::string> bodies(events), sigs(events);
  for (std::size_t i = 0; i < events; ++i) {
    bodies[i] = body_for(i, friends, now_ms, run_name);
    sigs[i] = svc::line_signature(secret, bodies[i]);
  }
  std::atomic<std::size_t> next{0}, failed{0};
  Run r;
  const auto t0 = Clock::now();
  std::vector<std::thread> posting;
  for (std::size_t c = 0; c < clients; ++c) {
    posting.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", services[c % workers]->port());
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      for (std::size_t i = next++; i < events; i = next++) {
        auto res = cli.Post("/webhook", {{"X-Line-Signature", sigs[i]}}, bodies[i], "application/json");
        if (!res || res->status != 200) ++failed;
      }
    });
  }
  for (auto& p : posting) p.join();
  r.accept_secs = std::chrono::duration<double>(Clock::now() - t0).count();
  for (;;) {
    std::size_t applied = 0;
    for (const auto& s : services)
      applied += std::strtoull(metric(s->port(), "okuri_inbox_applied_total").c_str(), nullptr, 10);
    if (applied >= events - failed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.applied_secs = std::chrono::duration<double>(Clock::now() - t0).count();
  for (const auto& s : services)
    r.commits += std::strtoull(metric(s->port(), "okuri_commit_seconds_count").c_str(), nullptr, 10);
  r.failed = failed;
  for (auto& s : services) s->stop();
  for (auto& t : servers) t.join();
  return r;
}

// The same rows the service writes, in the same shape: one connection accepts (event ids and
// inbox rows, in transactions of `batch` events, as the service's group commit reached), another
// applies what is in the inbox (inbox rows deleted, friends' states, the partitions' clock), as
// the service's writer does — without HTTP, parsing or the engine.
double bare_loop(const std::string& url, std::size_t events, std::size_t friends, std::size_t batch) {
  auto connect = [&] {
    PGconn* c = PQconnectdb(url.c_str());
    if (PQstatus(c) != CONNECTION_OK) std::fprintf(stderr, "bare loop: %s", PQerrorMessage(c));
    return c;
  };
  auto exec = [](PGconn* c, const char* sql) { PQclear(PQexec(c, sql)); };
  auto run = [](PGconn* c, const char* name, const std::vector<std::string>& params) {
    std::vector<const char*> v;
    for (const auto& p : params) v.push_back(p.c_str());
    PGresult* r = PQexecPrepared(c, name, static_cast<int>(v.size()), v.data(), nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::fprintf(stderr, "bare loop: %s", PQerrorMessage(c));
    }
    return r;
  };
  PGconn* in = connect();
  PGconn* out = connect();
  exec(in,
       "CREATE TABLE bare_events(id text PRIMARY KEY, at bigint NOT NULL);"
       "CREATE TABLE bare_inbox(seq bigserial PRIMARY KEY, part int NOT NULL, event bytea NOT NULL);"
       "CREATE INDEX bare_inbox_part ON bare_inbox(part, seq);"
       "CREATE TABLE bare_friends(id text PRIMARY KEY, part int NOT NULL, state bytea NOT NULL, sum bigint NOT NULL,"
       " updated bigint NOT NULL);"
       "CREATE TABLE bare_clock(part int PRIMARY KEY, clock bigint NOT NULL);"
       "INSERT INTO bare_clock SELECT generate_series(0, 63), 0");
  PQclear(
      PQprepare(in, "claim",
                "INSERT INTO bare_events(id, at) SELECT unnest($1::text[]), 0 ON CONFLICT (id) DO NOTHING RETURNING id",
                0, nullptr));
  PQclear(PQprepare(in, "add", "INSERT INTO bare_inbox(part, event) SELECT * FROM unnest($1::int[], $2::bytea[])", 0,
                    nullptr));
  PQclear(PQprepare(out, "take",
                    "DELETE FROM bare_inbox WHERE seq IN (SELECT seq FROM bare_inbox WHERE part = ANY($1::int[]) ORDER "
                    "BY seq LIMIT 4096) RETURNING seq, event",
                    0, nullptr));
  PQclear(
      PQprepare(out, "save",
                "INSERT INTO bare_friends(id, part, state, sum, updated) SELECT i, p, s, c, 0 FROM unnest($1::text[], "
                "$2::int[], $3::bytea[], $4::bigint[]) AS u(i, p, s, c) ON CONFLICT (id) DO UPDATE SET state = "
                "excluded.state, sum = excluded.sum, updated = excluded.updated",
                0, nullptr));
  PQclear(PQprepare(out, "clock", "UPDATE bare_clock SET clock = $1 WHERE part = ANY($2::int[])", 0, nullptr));
  std::string all_parts = "{";
  for (int p = 0; p < 64; ++p) all_parts += (p == 0 ? "" : ",") + std::to_string(p);
  all_parts += "}";
  const std::string state = svc::pg_hex(std::string(48, 's'));
  const auto t0 = Clock::now();
  std::thread accepting([&] {
    for (std::size_t first = 0; first < events; first += batch) {
      std::vector<std::string> ids, parts, inbox;
      for (std::size_t i = first; i < std::min(events, first + batch); ++i) {
        rt::InputEvent ev;
        ev.time_ms = 1;
        ev.friend_id = fmt::format("U{:032x}", i % friends);
        ev.type = "postback";
        ev.fields["data"] = rt::FieldValue{true, 0, "count"};
        ev.reply_token = fmt::format("t{}", i);
        ev.webhook_event_id = fmt::format("01BARE{:020}", i);
        ids.push_back(ev.webhook_event_id);
        parts.push_back(std::to_string(svc::partition_of(ev.friend_id)));
        inbox.push_back(svc::pg_hex(svc::encode_inbox_event(ev)));
      }
      exec(in, "BEGIN");
      PQclear(run(in, "claim", {svc::pg_text_array(ids)}));
      PQclear(run(in, "add", {svc::pg_text_array(parts), svc::pg_text_array(inbox)}));
      exec(in, "COMMIT");
    }
  });
  std::size_t applied = 0;
  for (std::int64_t turn = 1; applied < events; ++turn) {
    exec(out, "BEGIN");
    const svc::PgResult taken(run(out, "take", {all_parts}));
    std::vector<std::string> friend_ids, friend_parts, states, sums;
    for (int k = 0; k < taken.rows(); ++k) {
      // The friend's id from the event's bytes, as the writer decodes them.
      const auto ev = svc::decode_inbox_event(taken.bytes(k, 1));
      if (std::find(friend_ids.begin(), friend_ids.end(), ev.friend_id) != friend_ids.end()) continue;
      friend_ids.push_back(ev.friend_id);
      friend_parts.push_back(std::to_string(svc::partition_of(ev.friend_id)));
      states.push_back(state);
      sums.push_back("12345");
    }
    applied += static_cast<std::size_t>(taken.rows());
    PQclear(run(out, "save",
                {svc::pg_text_array(friend_ids), svc::pg_text_array(friend_parts), svc::pg_text_array(states),
                 svc::pg_text_array(sums)}));
    PQclear(run(out, "clock", {std::to_string(turn), all_parts}));
    exec(out, "COMMIT");
    if (taken.rows() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  accepting.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  exec(in, "DROP TABLE bare_events, bare_inbox, bare_friends, bare_clock");
  PQfinish(in);
  PQfinish(out);
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t events = 20000, clients = 16, friends = 5000;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--url") == 0 && i + 1 < argc) url = argv[++i];
    if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) events = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--clients") == 0 && i + 1 < argc) clients = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--friends") == 0 && i + 1 < argc) friends = std::strtoull(argv[++i], nullptr, 10);
  }
  if (url.empty()) {
    std::fprintf(stderr,
                 "usage: okuri_bench_pg --url postgresql://… [--events N] [--clients C] [--friends F]\n"
                 "(bench/pg_bench.sh starts a throwaway PostgreSQL for it)\n");
    return 2;
  }
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("okuri-pg-bench-{}", getpid());
  const auto project = dir / "project";
  std::filesystem::create_directories(project);
  std::ofstream(project / "bench.okuri") << kProject;

  const Run one = ingest(url, project, 1, events, clients, friends, "ONE");
  const Run two = ingest(url, project, 2, events, clients, friends, "TWO");
  const std::size_t batch =
      std::max<std::size_t>(1, one.commits == 0 ? clients : events / std::max<std::size_t>(1, one.commits / 2));
  const double bare_secs = bare_loop(url, events, friends, batch);
  std::filesystem::remove_all(dir);

  const double one_rate = static_cast<double>(events) / one.applied_secs;
  const double two_rate = static_cast<double>(events) / two.applied_secs;
  const double bare_rate = static_cast<double>(events) / bare_secs;
  std::printf(
      "PostgreSQL: %zu webhook events, %zu clients on loopback, %zu friends, each run until every event is applied\n",
      events, clients, friends);
  std::printf("  1 worker     %9.0f events/s   (accepted in %.2f s, applied in %.2f s; %zu not answered 200)\n",
              one_rate, one.accept_secs, one.applied_secs, one.failed);
  std::printf("  2 workers    %9.0f events/s   (accepted in %.2f s, applied in %.2f s; %zu not answered 200)\n",
              two_rate, two.accept_secs, two.applied_secs, two.failed);
  std::printf(
      "  bare libpq   %9.0f events/s   (the same rows: accepted on one connection in batches of %zu, applied on "
      "another)\n",
      bare_rate, batch);
  std::printf("  1 worker / bare: %.2f   target >= 0.5;   2 workers / 1 worker: %.2f\n", one_rate / bare_rate,
              two_rate / one_rate);
  return one.failed + two.failed == 0 ? 0 : 1;
}
