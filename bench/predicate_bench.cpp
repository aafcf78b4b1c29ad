// Predicate back ends side by side over synthetic friends (fixed seed):
// hand-written C++ (built with -march=native, the JIT's target), JIT tier 1
// and tier 2, the interpreter, and SQLite 3 in memory running the same
// predicate as a WHERE clause. Interleaved repetitions, medians, ratios.
//   build/bench/okuri_bench_predicates [--friends N] [--reps R] [--json] [--long]
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/project_gen.hpp"
#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/jit/jit.hpp"
#include "tests/support/predicate_gen.hpp"

using namespace okuri;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The benchmark's segment, and the same meaning written by hand.
const char* kSegment =
    "age in 20..29 and region in [tokyo, kanagawa, chiba, saitama] and tagged(t3) and not tagged(t7) and score >= 5";

// Prefecture codes: saitama 11, chiba 12, tokyo 13, kanagawa 14. It reads the
// scan columns of age and score, as the JIT does (20, 29 and 5 lie inside the
// range where saturation keeps the answer).
__attribute__((noinline)) void hand_scan(const rt::FriendStore& s, std::uint64_t* out) {
  const std::size_t n = s.size();
  const std::int8_t* age = s.age8.data();
  const std::uint8_t* region = s.region.data();
  const std::int8_t* score = s.score8.data();
  const std::uint64_t* t3 = s.tags[3].words.data();
  const std::uint64_t* t7 = s.tags[7].words.data();
  for (std::size_t b = 0; b * 64 < n; ++b) {
    std::uint64_t m = 0;
    const std::size_t lanes = std::min<std::size_t>(64, n - b * 64);
    for (std::size_t i = 0; i < lanes; ++i) {  // branch-free, so the compiler can vectorize it
      const std::size_t r = b * 64 + i;
      const bool ok = (age[r] != rt::kNarrowUnknown) & (age[r] >= 20) & (age[r] <= 29) & (region[r] >= 11) &
                      (region[r] <= 14) & (score[r] >= 5);
      m |= static_cast<std::uint64_t>(ok) << i;
    }
    out[b] = m & t3[b] & ~t7[b];
  }
}

// The floor under any scan of this predicate: the columns it reads (the scan
// columns of age and score, region and the two tags' bitmaps), streamed and
// summed with no predicate at all, by `threads` threads over equal parts; and
// the same for the wide columns (age `int16`, score `int64`) it read before.
// Adds up a column's bytes [lo, hi) 256 at a time in vector registers: a pure
// stream of it, at the speed memory gives.
std::uint64_t stream_bytes(const void* data, std::size_t lo, std::size_t hi) {
  using V = std::uint64_t __attribute__((vector_size(64)));
  using U = std::uint64_t __attribute__((vector_size(64), aligned(1), may_alias));  // an unaligned load
  const auto* p = static_cast<const unsigned char*>(data);
  V a0{}, a1{}, a2{}, a3{};
  std::size_t i = lo;
  for (; i + 256 <= hi; i += 256) {
    a0 += *reinterpret_cast<const U*>(p + i);
    a1 += *reinterpret_cast<const U*>(p + i + 64);
    a2 += *reinterpret_cast<const U*>(p + i + 128);
    a3 += *reinterpret_cast<const U*>(p + i + 192);
  }
  const V sum = a0 + a1 + a2 + a3;
  std::uint64_t acc = 0;
  for (int k = 0; k < 8; ++k) acc += sum[k];
  for (; i < hi; ++i) acc += p[i];
  return acc;
}

__attribute__((noinline)) std::uint64_t stream_columns(const rt::FriendStore& s, std::size_t lo, std::size_t hi,
                                                       bool wide) {
  // A block of friends at a time from every column, as a scan reads them.
  constexpr std::size_t kBlock = 4096;
  std::uint64_t acc = 0;
  for (std::size_t b = lo; b < hi; b += kBlock) {
    const std::size_t e = std::min(hi, b + kBlock);
    if (wide) {
      acc += stream_bytes(s.age.data(), b * sizeof(std::int16_t), e * sizeof(std::int16_t));
      acc += stream_bytes(s.score.data(), b * sizeof(std::int64_t), e * sizeof(std::int64_t));
    } else {
      acc += stream_bytes(s.age8.data(), b, e);
      acc += stream_bytes(s.score8.data(), b, e);
    }
    acc += stream_bytes(s.region.data(), b, e);
    acc += stream_bytes(s.tags[3].words.data(), b / 8, (e + 7) / 8);
    acc += stream_bytes(s.tags[7].words.data(), b / 8, (e + 7) / 8);
  }
  return acc;
}

std::uint64_t stream_floor(const rt::FriendStore& s, unsigned threads, bool wide = false) {
  const std::size_t n = s.size();
  std::vector<std::uint64_t> part(threads, 0);
  std::vector<std::thread> pool;
  auto bound = [&](unsigned k) { return (n * k / threads) / 64 * 64; };
  for (unsigned k = 1; k < threads; ++k) {
    pool.emplace_back([&, k] { part[k] = stream_columns(s, bound(k), k + 1 == threads ? n : bound(k + 1), wide); });
  }
  part[0] = stream_columns(s, 0, threads == 1 ? n : bound(1), wide);
  for (auto& t : pool) t.join();
  std::uint64_t acc = 0;
  for (const auto x : part) acc += x;
  return acc;
}

inline bool hand_row(const rt::FriendStore& s, std::size_t r) {
  return s.age[r] != rt::kUnknownAge && s.age[r] >= 20 && s.age[r] <= 29 && s.region[r] >= 11 && s.region[r] <= 14 &&
         s.score[r] >= 5 && s.tags[3].get(r) && !s.tags[7].get(r);
}

std::size_t popcount(const std::vector<std::uint64_t>& m) { return rt::count_bits(m); }

void fill(rt::FriendStore& s, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  s.reserve(n);
  for (std::size_t k = 0; k < n; ++k) {
    const auto row = s.add(fmt::format("U{:032x}", k * 0x9E3779B1ull + 1));
    const auto x = rng();
    s.gender[row] = static_cast<std::uint8_t>(x % 4);
    s.set_age(row, (x >> 8) % 10 == 0 ? rt::kUnknownAge : static_cast<std::int16_t>(15 + (x >> 16) % 55));
    s.region[row] = static_cast<std::uint8_t>((x >> 24) % 48);
    s.friend_since[row] = static_cast<std::int32_t>(20000 + (x >> 32) % 400);
    s.set_score(row, static_cast<std::int64_t>((x >> 40) % 20));
  }
  for (auto& t : s.tags) {
    for (auto& w : t.words) w = rng() & rng();  // about a quarter of friends per tag
    if (!t.words.empty() && n % 64 != 0) t.words.back() &= (std::uint64_t{1} << (n % 64)) - 1;
  }
}

struct Sqlite {
  sqlite3* db = nullptr;
  sqlite3_stmt* count = nullptr;
  explicit Sqlite(const rt::FriendStore& s) {
    sqlite3_open(":memory:", &db);
    sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", nullptr, nullptr, nullptr);
    sqlite3_exec(db, "CREATE TABLE friends(id INTEGER PRIMARY KEY, age INTEGER, region INTEGER, score INTEGER, t3 INTEGER, t7 INTEGER)",
                 nullptr, nullptr, nullptr);
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO friends VALUES (?,?,?,?,?,?)", -1, &ins, nullptr);
    for (std::size_t r = 0; r < s.size(); ++r) {
      sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(r));
      if (s.age[r] == rt::kUnknownAge) {
        sqlite3_bind_null(ins, 2);
      } else {
        sqlite3_bind_int(ins, 2, s.age[r]);
      }
      if (s.region[r] == 0) {
        sqlite3_bind_null(ins, 3);
      } else {
        sqlite3_bind_int(ins, 3, s.region[r]);
      }
      sqlite3_bind_int64(ins, 4, s.score[r]);
      sqlite3_bind_int(ins, 5, s.tags[3].get(r) ? 1 : 0);
      sqlite3_bind_int(ins, 6, s.tags[7].get(r) ? 1 : 0);
      sqlite3_step(ins);
      sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_prepare_v2(db,
                       "SELECT count(*) FROM friends WHERE age BETWEEN 20 AND 29 AND region IN (11,12,13,14) AND t3 = 1 "
                       "AND t7 = 0 AND score >= 5",
                       -1, &count, nullptr);
  }
  ~Sqlite() {
    sqlite3_finalize(count);
    sqlite3_close(db);
  }
  std::size_t run() {
    sqlite3_reset(count);
    sqlite3_step(count);
    return static_cast<std::size_t>(sqlite3_column_int64(count, 0));
  }
};

// Long mode: random predicates × random friends, JIT against the interpreter.
std::size_t long_differential(std::size_t want_pairs) {
  std::mt19937_64 rng(7);
  std::size_t pairs = 0;
  jit::Jit j;
  while (pairs < want_pairs) {
    std::string src = testgen::project_declarations();
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i) {
      texts.push_back(testgen::random_predicate(rng, 4));
      src += fmt::format("segment s{} = {}\n", i, texts.back());
    }
    auto p = compile_sources(".", {{"gen.okuri", src}});
    if (p->diags.error_count() != 0) {
      fmt::print(stderr, "generator produced an ill-typed predicate\n{}", render_human(p->sources, p->diags.all()));
      std::exit(1);
    }
    ir::Schema schema = ir::make_schema(*p);
    const auto preds = ir::lower_segments(*p, schema);
    rt::FriendStore store(schema);
    const stdlib::Zone zone("Asia/Tokyo");
    const auto env = testgen::fixed_env(zone);
    testgen::random_friends(store, rng, 1000, env);
    const auto c = j.compile("long", preds, schema, jit::Tier::Optimized);
    rt::ColumnBinding b;
    b.bind(store);
    const rt::EnvAbi abi{env.now, env.today, env.zone};
    for (std::size_t i = 0; i < preds.size(); ++i) {
      std::vector<std::uint64_t> want;
      rt::scan(preds[i], store, env, want);
      std::vector<std::uint64_t> got(want.size(), 0);
      c.scan[i](b.slots.data(), &abi, store.size(), got.data());
      if (got != want) {
        fmt::print(stderr, "DIVERGENCE on `{}`\n{}", texts[i], ir::print(preds[i]));
        std::exit(1);
      }
      pairs += store.size();
    }
  }
  return pairs;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 10'000'000;
  int reps = 7;
  bool json = false;
  bool long_mode = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--friends") == 0 && i + 1 < argc) n = std::strtoull(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    if (std::strcmp(argv[i], "--json") == 0) json = true;
    if (std::strcmp(argv[i], "--long") == 0) long_mode = true;
  }
  if (!jit::Jit::available()) {
    fmt::print(stderr, "this build has no JIT (-DOKURI_JIT=OFF)\n");
    return 1;
  }
  // Project: 64 tags, the benchmark segment.
  std::string src;
  for (int t = 0; t < 64; ++t) src += fmt::format("tag t{}\n", t);
  src += fmt::format("segment bench = {}\n", kSegment);
  auto p = compile_sources(".", {{"bench.okuri", src}});
  if (p->diags.error_count() != 0) {
    fmt::print(stderr, "{}", render_human(p->sources, p->diags.all()));
    return 1;
  }
  ir::Schema schema = ir::make_schema(*p);
  const auto preds = ir::lower_segments(*p, schema);
  rt::FriendStore store(schema);
  auto t0 = Clock::now();
  fill(store, n, 42);
  const double fill_ms = ms_since(t0);
  const double bytes_per_friend = static_cast<double>(store.core_bytes()) / static_cast<double>(n);
  const stdlib::Zone zone("Asia/Tokyo");
  rt::EvalEnv env = testgen::fixed_env(zone);
  const rt::EnvAbi abi{env.now, env.today, env.zone};
  rt::ColumnBinding binding;
  binding.bind(store);

  jit::Jit j;  // no cache: these are compile measurements
  const auto tier1 = j.compile("bench1", preds, schema, jit::Tier::Baseline);
  const auto tier2 = j.compile("bench2", preds, schema, jit::Tier::Optimized);
  fmt::print(stderr, "loading {} friends into SQLite…\n", n);
  t0 = Clock::now();
  Sqlite sql(store);
  const double sqlite_load_ms = ms_since(t0);

  std::vector<std::uint64_t> mask((n + 63) / 64);
  std::vector<double> t_hand, t_j1, t_j2, t_interp, t_sql, t_floor1, t_floor2, t_wide1;
  std::size_t c_hand = 0, c_j1 = 0, c_j2 = 0, c_interp = 0, c_sql = 0;
  std::uint64_t floor_sink = 0;
  for (int r = 0; r < reps; ++r) {
    t0 = Clock::now();
    floor_sink += stream_floor(store, 1);
    t_floor1.push_back(ms_since(t0));
    t0 = Clock::now();
    floor_sink += stream_floor(store, 2);
    t_floor2.push_back(ms_since(t0));
    t0 = Clock::now();
    floor_sink += stream_floor(store, 1, true);
    t_wide1.push_back(ms_since(t0));
    t0 = Clock::now();
    hand_scan(store, mask.data());
    t_hand.push_back(ms_since(t0));
    c_hand = popcount(mask);
    t0 = Clock::now();
    tier1.scan[0](binding.slots.data(), &abi, n, mask.data());
    t_j1.push_back(ms_since(t0));
    c_j1 = popcount(mask);
    t0 = Clock::now();
    tier2.scan[0](binding.slots.data(), &abi, n, mask.data());
    t_j2.push_back(ms_since(t0));
    c_j2 = popcount(mask);
    t0 = Clock::now();
    rt::scan(preds[0], store, env, mask);
    t_interp.push_back(ms_since(t0));
    c_interp = popcount(mask);
    if (r < 3) {  // SQLite is slow: three runs are enough for its median
      t0 = Clock::now();
      c_sql = sql.run();
      t_sql.push_back(ms_since(t0));
    }
  }
  if (c_hand != c_j1 || c_hand != c_j2 || c_hand != c_interp || c_hand != c_sql) {
    fmt::print(stderr, "counts differ: hand {} jit1 {} jit2 {} interp {} sqlite {}\n", c_hand, c_j1, c_j2, c_interp, c_sql);
    return 1;
  }

  // Per-event row predicate over random friends.
  std::mt19937_64 rng(3);
  std::vector<std::uint32_t> rows(1'000'000);
  for (auto& x : rows) x = static_cast<std::uint32_t>(rng() % n);
  std::vector<double> r_hand, r_jit, r_interp;
  std::size_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    t0 = Clock::now();
    for (auto row : rows) sink += hand_row(store, row) ? 1 : 0;
    r_hand.push_back(ms_since(t0) * 1e6 / static_cast<double>(rows.size()));
    t0 = Clock::now();
    for (auto row : rows) sink += tier2.row[0](binding.slots.data(), &abi, row, nullptr);
    r_jit.push_back(ms_since(t0) * 1e6 / static_cast<double>(rows.size()));
    t0 = Clock::now();
    for (auto row : rows) sink += rt::eval_row(preds[0], store, row, env) ? 1 : 0;
    r_interp.push_back(ms_since(t0) * 1e6 / static_cast<double>(rows.size()));
  }

  // Compiling the 500-line fixture's predicates: tier 1, tier 2, and a warm start from the cache.
  auto fixture = compile_sources(".", {{"fixture.okuri", bench::generate_project(500)}});
  ir::Schema fschema = ir::make_schema(*fixture);
  const auto fpreds = ir::lower_segments(*fixture, fschema);
  const std::string cache = (std::filesystem::temp_directory_path() / fmt::format("okuri-bench-cache-{}", ::getpid())).string();
  std::vector<double> c1, c2, warm;
  for (int r = 0; r < reps; ++r) {
    std::filesystem::remove_all(cache);
    jit::Jit cold(jit::JitOptions{cache});
    c1.push_back(cold.compile("fixture", fpreds, fschema, jit::Tier::Baseline).compile_ms);
    c2.push_back(cold.compile("fixture2", fpreds, fschema, jit::Tier::Optimized).compile_ms);
    jit::Jit again(jit::JitOptions{cache});
    const auto w = again.compile("fixture", fpreds, fschema, jit::Tier::Baseline);
    if (!w.from_cache) {
      fmt::print(stderr, "warm start did not use the cache\n");
      return 1;
    }
    warm.push_back(w.compile_ms);
  }
  std::filesystem::remove_all(cache);

  std::size_t long_pairs = long_mode ? long_differential(1'000'000) : 0;

  const double hand = median(t_hand), j1 = median(t_j1), j2 = median(t_j2), interp = median(t_interp), sqlv = median(t_sql);
  const double rh = median(r_hand), rj = median(r_jit), ri = median(r_interp);
  const double f1 = median(t_floor1), f2 = median(t_floor2), fw = median(t_wide1);
  const double m1 = median(c1), m2 = median(c2), mw = median(warm);
  if (json) {
    fmt::print(
        "{{\"friends\":{},\"count\":{},\"hand_ms\":{:.2f},\"jit1_ms\":{:.2f},\"jit2_ms\":{:.2f},\"interp_ms\":{:.2f},"
        "\"sqlite_ms\":{:.1f},\"row_hand_ns\":{:.2f},\"row_jit_ns\":{:.2f},\"row_interp_ns\":{:.2f},"
        "\"fixture_predicates\":{},\"compile_tier1_ms\":{:.2f},\"compile_tier2_ms\":{:.2f},\"warm_start_ms\":{:.2f},\"bytes_per_friend\":{:.1f},"
        "\"long_pairs\":{},\"stream_1thread_ms\":{:.2f},\"stream_2threads_ms\":{:.2f},\"stream_wide_ms\":{:.2f},"
        "\"sink\":{}}}\n",
        n, c_hand, hand, j1, j2, interp, sqlv, rh, rj, ri, fpreds.size(), m1, m2, mw, bytes_per_friend, long_pairs, f1,
        f2, fw, (sink + floor_sink) % 2);
    return 0;
  }
  fmt::print("predicates: {} friends ({:.0f} ms to generate, {:.0f} ms into SQLite), `{}` reaches {}\n", n, fill_ms,
             sqlite_load_ms, kSegment, c_hand);
  fmt::print("scan, median of {} interleaved runs (SQLite: 3)\n", reps);
  fmt::print("  hand-written C++ (-march=native)  {:9.2f} ms\n", hand);
  fmt::print("  JIT tier 1                        {:9.2f} ms   {:5.2f}× hand   target ≤ 1.5×\n", j1, j1 / hand);
  fmt::print("  JIT tier 2                        {:9.2f} ms   {:5.2f}× hand   target ≤ 1.25×\n", j2, j2 / hand);
  fmt::print("  interpreter                       {:9.2f} ms   {:5.2f}× JIT    target ≤ 10×\n", interp, interp / j2);
  fmt::print("  SQLite 3 in memory                {:9.1f} ms   JIT {:.0f}× faster (target ≥ 100×), interpreter {:.0f}× faster (target ≥ 20×)\n",
             sqlv, sqlv / j2, sqlv / interp);
  fmt::print(
      "  the columns it reads, summed       {:9.2f} ms   (2 threads: {:.2f} ms; a plain stream, for reference)\n"
      "  the same with the wide age, score  {:9.2f} ms   (what the scan read before the scan columns: {:.0f}× SQLite)\n",
      f1, f2, fw, sqlv / fw);
  fmt::print("row predicate per event (1M random friends)\n");
  fmt::print("  hand-inlined C++                  {:9.2f} ns\n", rh);
  fmt::print("  JIT                               {:9.2f} ns   {:5.2f}× hand   target ≤ 1.5×\n", rj, rj / rh);
  fmt::print("  interpreter                       {:9.2f} ns   JIT {:.1f}× faster (target ≥ 2×)\n", ri, ri / rj);
  fmt::print("compile the 500-line fixture ({} predicates)\n", fpreds.size());
  fmt::print("  tier 1                            {:9.2f} ms   target ≤ 50 ms\n", m1);
  fmt::print("  tier 2                            {:9.2f} ms   target ≤ 150 ms\n", m2);
  fmt::print("  warm start from the object cache  {:9.2f} ms   {:.1f}× faster than tier 1 (target ≥ 10×)\n", mw, m1 / mw);
  fmt::print("core state: {:.1f} bytes per friend with 64 tags (target ≤ 96)\n", bytes_per_friend);
  if (long_mode) fmt::print("long differential: JIT and interpreter agree on {} predicate × friend pairs\n", long_pairs);
  return sink + floor_sink == 42 ? 1 : 0;
}
