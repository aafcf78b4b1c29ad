// The runtime engine: 1M friends, 10M synthetic events, in memory, one core —
// events per second, mean and p99 per event — side by side with the same
// engine keeping each friend's state in SQLite (a prepared point select and an
// update per event, WAL, a commit every 1,000 events), and the ratio.
//   build/bench/okuri_bench_engine [--friends N] [--events M] [--sqlite-events K] [--engine interp|jit] [--json]
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/engine_workload.hpp"
#include "compiler/literals.hpp"
#include "compiler/workspace.hpp"
#include "runtime/engine.hpp"
#include "runtime/jit/jit.hpp"

using Clock = std::chrono::steady_clock;
using namespace okuri;

namespace {

struct Figures {
  double seconds = 0;
  double mean_us = 0;
  double p99_us = 0;
  double per_second = 0;
  std::uint64_t deliveries = 0;
};

Figures summarize(std::vector<float>& lat, double seconds) {
  Figures f;
  f.seconds = seconds;
  double sum = 0;
  for (float x : lat) sum += x;
  f.mean_us = sum / static_cast<double>(lat.size());
  auto p = lat.begin() + static_cast<std::ptrdiff_t>(lat.size() * 99 / 100);
  std::nth_element(lat.begin(), p, lat.end());
  f.p99_us = *p;
  f.per_second = static_cast<double>(lat.size()) / seconds;
  return f;
}

rt::EngineOptions options(const std::string& engine) {
  rt::EngineOptions o;
  o.keep_deliveries = false;
  if (engine == "jit" && jit::Jit::available()) {
    o.compile_rows = jit::engine_row_compiler({}, jit::Tier::Optimized);
  }
  return o;
}

void add_friends(rt::Engine& e, const std::vector<std::string>& ids) {
  e.store().reserve(ids.size());
  for (const auto& id : ids) e.friend_row(id);
}

bool progress_on() { return isatty(STDERR_FILENO) != 0; }

}  // namespace

int main(int argc, char** argv) {
  std::size_t friends = 1'000'000, events = 10'000'000, sqlite_events = 1'000'000;
  std::string engine = jit::Jit::available() ? "jit" : "interp";
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--friends") == 0 && i + 1 < argc) friends = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) events = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--sqlite-events") == 0 && i + 1 < argc) sqlite_events = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--engine") == 0 && i + 1 < argc) engine = argv[++i];
    if (std::strcmp(argv[i], "--json") == 0) json = true;
  }
  sqlite_events = std::min(sqlite_events, events);  // 0: the in-memory run alone
  auto p = compile_sources(".", {{"bench.okuri", bench::kEngineProject}});
  if (p->diags.error_count() != 0) {
    std::fprintf(stderr, "the bench project does not compile\n");
    return 1;
  }
  const std::vector<std::string> ids = bench::friend_ids(friends);
  const std::int64_t start = local_to_utc_seconds(CivilDateTime{CivilDate{2026, 3, 1}, 9 * 60}, "Asia/Tokyo");

  // ---- in memory: the whole stream
  Figures mem;
  Figures mem_head;  // the first `sqlite_events` events, for the side-by-side ratio
  {
    rt::Engine e(*p, options(engine));
    add_friends(e, ids);
    e.start_at(start);
    bench::Stream s(ids, start);
    std::vector<float> lat(events);
    // Events come in chunks (as from a file or a webhook batch); within a chunk the engine looks
    // the next friends up ahead of time, as Engine::handle_all does. The prefetch hints are timed
    // with the event they precede.
    constexpr std::size_t kChunk = 4096;
    std::vector<rt::InputEvent> chunk;
    double secs = 0;
    for (std::size_t base = 0; base < events; base += kChunk) {
      chunk.clear();
      for (std::size_t k = 0; k < kChunk && base + k < events; ++k) chunk.push_back(s.next());
      const auto t0 = Clock::now();
      std::array<rt::FriendStore::IdKey, 9> keys;  // of events k … k + 8, each id parsed once
      for (std::size_t k = 0; k < 8 && k < chunk.size(); ++k) keys[k] = rt::FriendStore::key_of(chunk[k].friend_id);
      for (std::size_t k = 0; k < chunk.size(); ++k) {
        const auto a = Clock::now();
        if (k + 8 < chunk.size()) {
          keys[(k + 8) % 9] = rt::FriendStore::key_of(chunk[k + 8].friend_id);
          e.prefetch(keys[(k + 8) % 9], 0);
        }
        if (k + 4 < chunk.size()) e.prefetch(keys[(k + 4) % 9], 1);
        e.handle(chunk[k], keys[k % 9]);
        lat[base + k] = std::chrono::duration<float, std::micro>(Clock::now() - a).count();
      }
      secs += std::chrono::duration<double>(Clock::now() - t0).count();
      if (progress_on() && (base & 0xFFFFF) == 0) std::fprintf(stderr, "\rin memory… %zu%%", base * 100 / events);
    }
    if (progress_on()) std::fprintf(stderr, "\r\x1b[K");
    std::vector<float> head(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(sqlite_events, 1)));
    double head_secs = 0;
    for (float x : head) head_secs += x / 1e6;
    mem_head = summarize(head, head_secs);
    mem = summarize(lat, secs);
    mem.deliveries = e.delivery_count();
  }

  // ---- the same engine with each friend's state in SQLite
  Figures sql;
  if (sqlite_events > 0) {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("okuri-bench-{}", getpid());
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "state.db").string();
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr, nullptr);
    sqlite3_exec(db, "CREATE TABLE friends(id TEXT PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID", nullptr, nullptr, nullptr);
    rt::Engine e(*p, options(engine));
    add_friends(e, ids);
    e.start_at(start);
    {
      sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
      sqlite3_stmt* ins = nullptr;
      sqlite3_prepare_v2(db, "INSERT INTO friends VALUES (?, ?)", -1, &ins, nullptr);
      const std::string blank = e.export_friend(0);
      for (const auto& id : ids) {
        sqlite3_bind_text(ins, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, blank.data(), static_cast<int>(blank.size()), SQLITE_STATIC);
        sqlite3_step(ins);
        sqlite3_reset(ins);
      }
      sqlite3_finalize(ins);
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    sqlite3_stmt* sel = nullptr;
    sqlite3_stmt* upd = nullptr;
    sqlite3_prepare_v2(db, "SELECT state FROM friends WHERE id = ?", -1, &sel, nullptr);
    sqlite3_prepare_v2(db, "UPDATE friends SET state = ? WHERE id = ?", -1, &upd, nullptr);
    bench::Stream s(ids, start);
    std::vector<float> lat(sqlite_events);
    const auto t0 = Clock::now();
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (std::size_t i = 0; i < sqlite_events; ++i) {
      const rt::InputEvent& ev = s.next();
      const auto a = Clock::now();
      const std::uint32_t row = e.friend_row(ev.friend_id);
      sqlite3_bind_text(sel, 1, ev.friend_id.data(), static_cast<int>(ev.friend_id.size()), SQLITE_STATIC);
      if (sqlite3_step(sel) == SQLITE_ROW) {
        e.import_friend(row, std::string_view(static_cast<const char*>(sqlite3_column_blob(sel, 0)),
                                              static_cast<std::size_t>(sqlite3_column_bytes(sel, 0))));
      }
      sqlite3_reset(sel);
      e.handle(ev);
      const std::string state = e.export_friend(row);
      sqlite3_bind_blob(upd, 1, state.data(), static_cast<int>(state.size()), SQLITE_STATIC);
      sqlite3_bind_text(upd, 2, ev.friend_id.data(), static_cast<int>(ev.friend_id.size()), SQLITE_STATIC);
      sqlite3_step(upd);
      sqlite3_reset(upd);
      if (i % 1000 == 999) {
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
      }
      lat[i] = std::chrono::duration<float, std::micro>(Clock::now() - a).count();
      if (progress_on() && (i & 0xFFFF) == 0) std::fprintf(stderr, "\rsqlite… %zu%%", i * 100 / sqlite_events);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (progress_on()) std::fprintf(stderr, "\r\x1b[K");
    sql = summarize(lat, secs);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_close(db);
    std::filesystem::remove_all(dir);
  }

  const double ratio = sql.mean_us / mem_head.mean_us;
  if (json) {
    std::printf(
        "{\"friends\":%zu,\"events\":%zu,\"engine\":\"%s\",\"events_per_second\":%.0f,\"mean_us\":%.3f,\"p99_us\":%.3f,"
        "\"deliveries\":%llu,\"sqlite_events\":%zu,\"sqlite_mean_us\":%.3f,\"sqlite_p99_us\":%.3f,\"memory_mean_us_same_events\":%.3f,"
        "\"ratio\":%.2f}\n",
        friends, events, engine.c_str(), mem.per_second, mem.mean_us, mem.p99_us, static_cast<unsigned long long>(mem.deliveries),
        sqlite_events, sql.mean_us, sql.p99_us, mem_head.mean_us, ratio);
    return 0;
  }
  std::printf("engine: %zu friends, %zu events, conditions by %s, one core\n", friends, events, engine.c_str());
  std::printf("  in memory      %10.0f events/s  mean %7.3f us  p99 %7.3f us  (%llu deliveries)   target >= 500000/s, mean <= 2, p99 <= 10\n",
              mem.per_second, mem.mean_us, mem.p99_us, static_cast<unsigned long long>(mem.deliveries));
  std::printf("  first %zu events: in memory mean %.3f us; state in SQLite mean %.3f us, p99 %.3f us\n", sqlite_events,
              mem_head.mean_us, sql.mean_us, sql.p99_us);
  std::printf("  SQLite / in memory per event: %.1fx   target >= 10x\n", ratio);
  return 0;
}
