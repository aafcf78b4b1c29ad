// Bulk input end to end, as a user meets it: the `okuri` command on generated files, timed as
// whole processes (wall time and peak memory), side by side with what they would otherwise reach
// for.
//   - `okuri segment count` on a 2,000,000-friend CSV against DuckDB's `read_csv` with the same
//     WHERE and the same thread count (DuckDB's Node API, installed into bench/duckdb by npm;
//     skipped with a message when it cannot be).
//   - `okuri simulate` on 1,000,000 events of 100,000 friends, against the engine alone on the
//     same events in a process of its own (its events made in memory, never read from a file):
//     events per second, and peak memory against the engine's state.
//   - with --big, `okuri segment count` on a 10,000,000-friend CSV: time and peak memory.
//
//   build/bench/okuri_bench_bulk [--okuri build/okuri] [--dir DIR] [--friends N] [--events M]
//                                [--event-friends K] [--threads T] [--reps R] [--big]
// Generated files are kept in DIR (default: bulk-data beside this program) and reused.
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/engine_workload.hpp"
#include "compiler/literals.hpp"
#include "compiler/workspace.hpp"
#include "runtime/engine.hpp"
#include "runtime/jit/jit.hpp"

using namespace okuri;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const char* const kSegmentProject = R"(tag t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15
segment target = age in 20..29 and region in [tokyo, kanagawa, chiba, saitama] and tagged(t3) and not tagged(t7) and score >= 5
)";

// The same condition for DuckDB, over the same file.
const char* const kDuckWhere =
    "age BETWEEN 20 AND 29 AND region IN ('tokyo', 'kanagawa', 'chiba', 'saitama') AND "
    "list_contains(string_split(tags, ';'), 't3') AND NOT list_contains(string_split(tags, ';'), 't7') AND score >= 5";

const char* const kRegions[] = {"tokyo", "kanagawa", "chiba",    "saitama", "osaka",
                                "aichi", "fukuoka",  "hokkaido", "kyoto",   "hyogo"};
const char* const kNames[] = {"山田 花子", "佐藤 太郎", "Suzuki Ken", "田中 美咲", "高橋 翔", "伊藤 さくら"};

// A CRM export: id, display name, gender, age (some unknown), region, friend_since, tags, score, source.
void write_friends_csv(const fs::path& path, std::size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path.string());
  std::mt19937_64 rng(42);
  std::string buf = "id,display_name,gender,age,region,friend_since,tags,score,source\n";
  for (std::size_t i = 0; i < n; ++i) {
    std::string tags;
    for (int t = 0; t < 16; ++t) {
      if (rng() % 5 == 0) tags += (tags.empty() ? "" : ";") + fmt::format("t{}", t);
    }
    const auto age = rng() % 10 == 0 ? std::string() : std::to_string(15 + rng() % 60);
    const CivilDate since = civil_from_days(19000 + static_cast<std::int64_t>(rng() % 1500));
    fmt::format_to(std::back_inserter(buf), "U{:016x}{:016x},{},{},{},{},{:04}-{:02}-{:02},{},{},{}\n", rng(), rng(),
                   kNames[rng() % 6], rng() % 2 ? "female" : "male", age, kRegions[rng() % 10], since.year, since.month,
                   since.day, tags, static_cast<int>(rng() % 20) - 5, rng() % 3 ? "qr" : "ad");
    if (buf.size() > (1u << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), f);
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  std::fclose(f);
}

void write_events(const fs::path& path, const std::vector<std::string>& ids, std::int64_t start, std::size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path.string());
  bench::Stream s(ids, start);
  std::string buf;
  for (std::size_t i = 0; i < n; ++i) {
    buf += bench::Stream::jsonl(s.next());
    buf += '\n';
    if (buf.size() > (1u << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), f);
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  std::fclose(f);
}

struct Run {
  double seconds = 0;
  double peak_mb = 0;
  int status = 0;
  std::string out;
};

// Runs a command with stdout into `out_file` (or captured), and returns its wall time and peak memory.
Run run(const std::vector<std::string>& argv, const std::string& out_file = {}) {
  const fs::path capture = fs::temp_directory_path() / fmt::format("okuri-bulk-{}.out", getpid());
  const std::string target = out_file.empty() ? capture.string() : out_file;
  std::fflush(stdout);
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    std::FILE* o = std::freopen(target.c_str(), "wb", stdout);
    if (o == nullptr) _exit(127);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  Run r;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.peak_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  if (out_file.empty()) {
    std::ifstream in(capture);
    r.out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    fs::remove(capture);
  }
  return r;
}

// The median run of `reps` by wall time.
Run median(int reps, const std::function<Run()>& f) {
  std::vector<Run> runs;
  for (int i = 0; i < reps; ++i) runs.push_back(f());
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.seconds < b.seconds; });
  return runs[runs.size() / 2];
}

// The engine alone on the simulation's events: the body of the child process below. It
// writes its seconds (the run itself, after the program's start) on stdout.
int engine_alone_child(std::size_t event_friends, std::size_t events) {
  const std::vector<std::string> ids = bench::friend_ids(event_friends);
  const std::int64_t start = local_to_utc_seconds(CivilDateTime{CivilDate{2026, 3, 1}, 9 * 60}, "Asia/Tokyo");
  auto p = compile_sources(".", {{"bench.okuri", bench::kEngineProject}});
  rt::EngineOptions o;
  o.keep_deliveries = false;
  if (jit::Jit::available()) o.compile_rows = jit::engine_row_compiler({}, jit::Tier::Optimized);
  rt::Engine e(*p, o);
  bench::Stream s(ids, start);
  e.start_at(start);
  const auto a = Clock::now();
  std::vector<rt::InputEvent> chunk;
  std::int64_t last = start;
  for (std::size_t base = 0; base < events; base += 4096) {
    chunk.clear();
    for (std::size_t k = 0; k < 4096 && base + k < events; ++k) chunk.push_back(s.next());
    last = chunk.back().time_ms / 1000;
    e.handle_all(chunk);
  }
  e.run_until(last + 90LL * 86400);
  std::printf("%.6f\n", std::chrono::duration<double>(Clock::now() - a).count());
  return 0;
}

// The engine alone on the simulation's events, in a process of its own: its peak memory is the
// engine's state for those friends plus the program, and its rate the engine's. The process is
// this program started afresh (not a fork of it): a fork would inherit this process's memory,
// and would not count the libraries' pages that a fresh `okuri simulate` pays for.
Run engine_alone(std::size_t event_friends, std::size_t events) {
  const std::string friends_arg = std::to_string(event_friends), events_arg = std::to_string(events);
  Run r = run({"/proc/self/exe", "--engine-alone", friends_arg, events_arg});
  if (r.status == 0) r.seconds = std::atof(r.out.c_str());
  return r;
}

// DuckDB's count over the same CSV, timed inside Node (DuckDB's own load excluded).
struct Duck {
  bool ran = false;
  std::string why;
  std::size_t count = 0;
  double seconds = 0;
};

Duck duckdb_count(const fs::path& source_dir, const fs::path& csv, unsigned threads, int reps) {
  Duck d;
  const fs::path dir = source_dir / "bench" / "duckdb";
  if (!fs::exists(dir / "node_modules" / "@duckdb" / "node-api")) {
    const std::string cmd =
        fmt::format("cd '{}' && npm install --no-audit --no-fund --silent >/dev/null 2>&1", dir.string());
    if (std::system(cmd.c_str()) != 0 || !fs::exists(dir / "node_modules" / "@duckdb" / "node-api")) {
      d.why = "DuckDB's Node API could not be installed (npm install in bench/duckdb failed)";
      return d;
    }
  }
  const Run r = run(
      {"node", (dir / "count.mjs").string(), csv.string(), std::to_string(threads), std::to_string(reps), kDuckWhere});
  if (r.status != 0) {
    d.why = "the DuckDB script failed: " + r.out;
    return d;
  }
  try {
    const auto j = nlohmann::json::parse(r.out);
    d.count = j.at("count").get<std::size_t>();
    d.seconds = j.at("seconds").get<double>();
    d.ran = true;
  } catch (const std::exception& e) {
    d.why = std::string("the DuckDB script printed something else: ") + e.what();
  }
  return d;
}

std::size_t count_of(const std::string& json_out) {
  try {
    return nlohmann::json::parse(json_out).at("count").get<std::size_t>();
  } catch (const std::exception&) {
    return SIZE_MAX;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t friends = 2'000'000, events = 1'000'000, event_friends = 100'000, big = 10'000'000;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  int reps = 3;
  bool with_big = false;
  if (argc == 4 && std::strcmp(argv[1], "--engine-alone") == 0) {
    return engine_alone_child(std::stoull(argv[2]), std::stoull(argv[3]));
  }
  fs::path self = fs::canonical("/proc/self/exe").parent_path();
  std::string okuri = (self.parent_path() / "okuri").string();
  fs::path dir = self / "bulk-data";
  for (int i = 1; i < argc; ++i) {
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (std::strcmp(argv[i], "--okuri") == 0)
      okuri = next();
    else if (std::strcmp(argv[i], "--dir") == 0)
      dir = next();
    else if (std::strcmp(argv[i], "--friends") == 0)
      friends = std::stoull(next());
    else if (std::strcmp(argv[i], "--events") == 0)
      events = std::stoull(next());
    else if (std::strcmp(argv[i], "--event-friends") == 0)
      event_friends = std::stoull(next());
    else if (std::strcmp(argv[i], "--threads") == 0)
      threads = static_cast<unsigned>(std::stoul(next()));
    else if (std::strcmp(argv[i], "--reps") == 0)
      reps = std::stoi(next());
    else if (std::strcmp(argv[i], "--big") == 0)
      with_big = true;
    else {
      std::fprintf(stderr,
                   "usage: okuri_bench_bulk [--okuri PATH] [--dir DIR] [--friends N] [--events M] [--event-friends K] "
                   "[--threads T] [--reps R] [--big]\n");
      return 2;
    }
  }
  fs::create_directories(dir);
  const fs::path project = dir / "segment.okuri";
  const fs::path engine_project = dir / "engine.okuri";
  std::ofstream(project) << kSegmentProject;
  std::ofstream(engine_project) << bench::kEngineProject;
  const fs::path csv = dir / fmt::format("friends-{}.csv", friends);
  const fs::path jsonl = dir / fmt::format("events-{}-{}.jsonl", events, event_friends);
  const std::vector<std::string> ids = bench::friend_ids(event_friends);
  const std::int64_t start = local_to_utc_seconds(CivilDateTime{CivilDate{2026, 3, 1}, 9 * 60}, "Asia/Tokyo");
  if (!fs::exists(csv)) {
    std::fprintf(stderr, "generating %s…\n", csv.c_str());
    write_friends_csv(csv, friends);
  }
  if (!fs::exists(jsonl)) {
    std::fprintf(stderr, "generating %s…\n", jsonl.c_str());
    write_events(jsonl, ids, start, events);
  }
  const std::string thread_env = fmt::format("OKURI_THREADS={}", threads);
  auto okuri_cmd = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"env", thread_env, okuri});
    return args;
  };
  // Warm the page cache for both (every contender then reads from memory).
  run({"cat", csv.string()}, "/dev/null");
  run({"cat", jsonl.string()}, "/dev/null");

  std::printf("bulk input: %u thread%s, %d repetitions (median)\n\n", threads, threads == 1 ? "" : "s", reps);
  // ---- segment count against DuckDB
  const Run seg = median(reps, [&] {
    return run(okuri_cmd(
        {"segment", "count", project.string(), "target", "--friends", csv.string(), "--format", "json", "--quiet"}));
  });
  const Duck duck = duckdb_count(fs::path(OKURI_SOURCE_DIR), csv, threads, reps);
  // The program's own start (loading its libraries; the JIT's module is not among them), which the DuckDB figure
  // does not include: `okuri --version`.
  const Run start_only = median(std::max(reps, 5), [&] { return run(okuri_cmd({"--version"}), "/dev/null"); });
  const double csv_mb = static_cast<double>(fs::file_size(csv)) / 1e6;
  std::printf("segment count, %zu friends (%.0f MB CSV)\n", friends, csv_mb);
  std::printf("  okuri segment count   %7.3f s  %6.0f MB peak  (count %zu)\n", seg.seconds, seg.peak_mb,
              count_of(seg.out));
  if (duck.ran) {
    std::printf("  DuckDB read_csv+WHERE %7.3f s  (query alone, in Node; count %zu)\n", duck.seconds, duck.count);
    std::printf("  Okuri / DuckDB wall time: %.2f   target <= 1.00%s\n", seg.seconds / duck.seconds,
                duck.count == count_of(seg.out) ? "" : "   COUNTS DIFFER");
    std::printf("  like for like, each without its program's start (okuri --version: %.3f s): %.3f s / %.3f s = %.2f\n",
                start_only.seconds, seg.seconds - start_only.seconds, duck.seconds,
                (seg.seconds - start_only.seconds) / duck.seconds);
  } else {
    std::printf("  DuckDB skipped: %s\n", duck.why.c_str());
  }

  // ---- simulate against the engine alone
  const Run sim = median(reps, [&] {
    return run(okuri_cmd({"simulate", engine_project.string(), "--events", jsonl.string(), "--report", "/dev/null",
                          "--quiet"}),
               "/dev/null");
  });
  const Run alone = engine_alone(event_friends, events);
  // The programs themselves (code, libraries, the JIT) on the first 1,000 events: what each
  // process holds before the friends' state.
  const fs::path head = dir / "events-head-1000.jsonl";
  {
    std::ifstream in(jsonl);
    std::ofstream out(head);
    std::string l;
    for (int i = 0; i < 1000 && std::getline(in, l); ++i) out << l << '\n';
  }
  const Run sim_base = run(
      okuri_cmd({"simulate", engine_project.string(), "--events", head.string(), "--report", "/dev/null", "--quiet"}),
      "/dev/null");
  const Run alone_base = engine_alone(event_friends, 1000);
  std::printf("\nsimulate, %zu events of %zu friends (%.0f MB JSONL)\n", events, event_friends,
              static_cast<double>(fs::file_size(jsonl)) / 1e6);
  std::printf("  okuri simulate        %7.3f s = %8.0f events/s  %6.0f MB peak   target >= 500000 events/s\n",
              sim.seconds, static_cast<double>(events) / sim.seconds, sim.peak_mb);
  std::printf("  the engine alone      %7.3f s = %8.0f events/s  %6.0f MB peak (its state, and the program)\n",
              alone.seconds, static_cast<double>(events) / alone.seconds, alone.peak_mb);
  std::printf("  peak memory, simulate / engine alone: %.2f   target <= 1.50\n", sim.peak_mb / alone.peak_mb);
  std::printf(
      "  the programs on 1,000 events: simulate %.0f MB, engine alone %.0f MB; above that, simulate %.0f MB, "
      "the engine %.0f MB: %.2f\n",
      sim_base.peak_mb, alone_base.peak_mb, sim.peak_mb - sim_base.peak_mb, alone.peak_mb - alone_base.peak_mb,
      (sim.peak_mb - sim_base.peak_mb) / std::max(1.0, alone.peak_mb - alone_base.peak_mb));

  if (with_big) {
    const fs::path big_csv = dir / fmt::format("friends-{}.csv", big);
    if (!fs::exists(big_csv)) {
      std::fprintf(stderr, "generating %s…\n", big_csv.c_str());
      write_friends_csv(big_csv, big);
    }
    run({"cat", big_csv.string()}, "/dev/null");
    const Run b = median(std::min(reps, 2), [&] {
      return run(okuri_cmd({"segment", "count", project.string(), "target", "--friends", big_csv.string(), "--format",
                            "json", "--quiet"}));
    });
    const double per_friend = b.peak_mb * 1024 * 1024 / static_cast<double>(big);
    std::printf("\nsegment count, %zu friends (%.0f MB CSV)\n", big, static_cast<double>(fs::file_size(big_csv)) / 1e6);
    std::printf(
        "  okuri segment count   %7.3f s  %6.0f MB peak = %.0f bytes a friend, all in (the program, a chunk per "
        "thread, a hash of each id; the 10M targets: core state <= 96 bytes a friend)\n",
        b.seconds, b.peak_mb, per_friend);
  }
  return 0;
}
