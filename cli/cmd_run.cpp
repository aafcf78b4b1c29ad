// `okuri simulate`, `okuri test` and `okuri explain`: the engine on a virtual clock.
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/friends_input.hpp"
#include "cli/html_output.hpp"
#include "cli/progress.hpp"
#include "compiler/literals.hpp"
#include "compiler/suggest.hpp"
#include "runtime/engine.hpp"
#include "runtime/event_input.hpp"
#include "runtime/event_stream.hpp"
#include "runtime/jit_module.hpp"
#include "runtime/report.hpp"
#include "runtime/report_tally.hpp"
#include "runtime/testing.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::cli {
namespace {

struct EngineChoice {
  std::string engine = "auto";
  std::string cache_dir;
};

void add_engine_options(CLI::App* cmd, EngineChoice& c) {
  cmd->add_option("--engine", c.engine,
                  "How conditions are evaluated: interp, jit or auto (default: the JIT when its module, "
                  "libokuri_jit.so beside okuri, loads; else the interpreter, which gives the same results)")
      ->check(CLI::IsMember({"interp", "jit", "auto"}));
  cmd->add_option("--cache-dir", c.cache_dir, "Where the JIT keeps compiled code (default: ~/.cache/okuri/jit)");
}

void add_sort_window(CLI::App* cmd, std::string& window) {
  cmd->add_option("--sort-window", window,
                  "How far out of time order the events may come (default 1h); an event earlier than that is an error "
                  "at its line");
}

// Engine options with the JIT's row functions when chosen and available; false on bad usage.
bool engine_options(const EngineChoice& c, rt::EngineOptions& o, int& status) {
  if (c.engine == "interp") return true;
  if (!jit::module_loaded()) {
    if (c.engine == "auto") {  // the interpreter gives the same answers
      if (jit::module_built()) std::cerr << "okuri: " << jit::module_error() << "; conditions run on the interpreter\n";
      return true;
    }
    std::cerr << "okuri: " << jit::module_error() << "; use --engine interp\n";
    status = 2;
    return false;
  }
  o.compile_rows = jit::module_row_compiler(c.cache_dir);
  return true;
}

// `2026-03-01`, `2026-03-01 10:00` (account time) or RFC 3339.
std::optional<std::int64_t> parse_when(const std::string& s, const std::string& tz) {
  if (auto ms = rt::parse_rfc3339_ms(s)) return *ms / 1000;
  if (auto dt = parse_datetime(s)) return local_to_utc_seconds(*dt, tz);
  if (auto d = parse_date(s)) return local_to_utc_seconds(CivilDateTime{*d, 0}, tz);
  return std::nullopt;
}

// The run of a stream of events: the first and last event's times and the end of the run.
struct Played {
  std::int64_t first = 0, last = 0, to = 0;
  std::map<std::string, std::size_t> ignored;
  std::size_t duplicates = 0;
};

// `--sort-window 1h`: how far out of time order an events file may be.
bool stream_options(const std::string& window, rt::EventStreamOptions& o, const char* command, int& status) {
  if (window.empty()) return true;
  const auto d = parse_duration(window);
  if (!d || *d <= 0) {
    std::cerr << "okuri " << command << ": --sort-window `" << window << "` is not a duration (30m, 1h, 2d)\n";
    status = 2;
    return false;
  }
  o.window_ms = *d * 1000;
  return true;
}

// Plays the events of the files as they are read: each batch is handled, then what the engine
// delivered before the clock is settled in the tally (when given), which hands deliveries on to
// `out` in time order. The clock then runs to --to (default: the last event + 90 days). Progress
// on a terminal. nullopt (status 2, the reason printed) on a bad --to or a bad input line.
std::optional<Played> play(rt::Engine& e, const Program& p, const std::vector<std::string>& files,
                           const rt::EventStreamOptions& so, const std::string& to_option, const char* command,
                           bool quiet, rt::ReportTally* tally, const std::function<void(const rt::Delivery&)>& out,
                           int& status) {
  std::optional<std::int64_t> to;
  if (!to_option.empty()) {
    to = parse_when(to_option, p.account.timezone);
    if (!to) {
      std::cerr << "okuri " << command << ": --to `" << to_option
                << "` is not a date or time (2026-06-01, '2026-06-01 10:00' or RFC 3339)\n";
      status = 2;
      return std::nullopt;
    }
  }
  rt::EventCatalog catalog(p);
  Played played;
  // The report counts each delivery as it is made: no list of them is kept in between.
  if (tally != nullptr) e.deliver_to([tally](rt::Delivery&& d) { tally->made(std::move(d)); });
  Progress progress(fmt::format("{} {}", command, files.size() == 1 ? files[0] : fmt::format("{} files", files.size())),
                    "events", quiet);
  try {
    rt::EventStream stream(catalog, files, so);
    std::vector<rt::InputEvent> batch;
    std::vector<rt::FriendStore::IdKey> keys;  // the batch's friend ids, parsed on the reading thread
    std::vector<std::uint32_t> rows;
    bool started = false;
    while (stream.next(batch, &keys)) {
      if (!started) {
        played.first = batch.front().time_ms / 1000;
        e.start_at(played.first);
        started = true;
      }
      e.handle_all(batch, {}, &rows, &keys);
      played.last = batch.back().time_ms / 1000;
      if (tally != nullptr) {
        for (std::size_t i = 0; i < batch.size(); ++i) tally->event(batch[i], rows[i]);
        tally->settle(e.now(), out);
      }
      progress.show(stream.bytes_read(), stream.bytes_total(), e.events_handled());
    }
    progress.finish();
    const auto& reader = stream.reader();
    played.ignored = reader.ignored();
    played.duplicates = reader.duplicates();
    // A type the project does not declare is most often a typo: say where it first appeared.
    std::vector<std::string> event_names;
    if (!reader.ignored_at().empty()) {
      for (const auto& b : stdlib::events()) event_names.emplace_back(b.name);
      for (const auto& s : p.symbols) {
        if (s.kind == SymbolKind::Event) event_names.push_back(s.name);
      }
    }
    for (const auto& [type, at] : reader.ignored_at()) {
      const auto n = reader.ignored().at(type);
      const auto best = suggest(type, event_names);
      std::cerr << fmt::format(
          "okuri: warning: {}: event type `{}` is not declared in the project{}; {} event{} of it skipped\n", at, type,
          best ? fmt::format(" (did you mean `{}`?)", *best) : std::string(), n, n == 1 ? "" : "s");
    }
  } catch (const rt::EventError& x) {
    progress.finish();
    std::cerr << "okuri: " << x.what() << "\n";
    status = 2;
    return std::nullopt;
  }
  played.to = to.value_or(played.last + 90LL * 86400);
  if (tally == nullptr) {
    e.run_until(played.to);
    return played;
  }
  // The clock runs on an hour at a time, so that what the timers deliver is settled as it goes:
  // memory holds an hour's deliveries (those deferred to later stay held until their time).
  for (std::int64_t t = e.now(); t < played.to;) {
    t = std::min(played.to, t + 3600);
    e.run_until(t);
    tally->settle(e.now(), out);
  }
  e.run_until(played.to);
  tally->finish(played.to, out);
  return played;
}

// Deliveries on stdout through one buffer.
class DeliveryWriter {
 public:
  DeliveryWriter(const rt::Engine& e, const stdlib::Zone& zone, bool text) : e_(e), zone_(zone), text_(text) {}
  ~DeliveryWriter() { flush(); }
  void operator()(const rt::Delivery& d) {
    if (text_) {
      buf_ += rt::delivery_text(e_, d, zone_);
    } else {
      rt::append_delivery_line(buf_, e_, d, zone_);
    }
    buf_ += '\n';
    if (buf_.size() > (1u << 18)) flush();
  }
  void flush() {
    std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    std::fflush(stdout);
    buf_.clear();
  }

 private:
  const rt::Engine& e_;
  const stdlib::Zone& zone_;
  bool text_;
  std::string buf_;
};

void add_simulate(CLI::App& app, int& status) {
  struct Options {
    std::string path;
    std::vector<std::string> events;
    std::string friends;
    std::string to;
    std::string report;
    std::string html;
    std::string lang;
    std::size_t timelines = 200;
    bool trace = false;
    bool render = false;
    double overage = 3.0;
    std::string format = "jsonl";
    bool quiet = false;
    std::string sort_window;
    EngineChoice engine;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("simulate", "Dry-run a project on friends' events: deliveries, funnel, cost.");
  cmd->footer(
      "Plays the events (JSONL as in runtime.md, or LINE webhook bodies in .json files) against the project\n"
      "on a virtual clock and runs timers until --to (default: 90 days after the last event).\n"
      "stdout: one JSON object per delivery — time, friend, messages, kind (push|reply), scenario, node, key;\n"
      "        deferred ones also carry logical_time (when the scenario sent it) and deferred_by;\n"
      "        with --render, rendered: the LINE message objects with every {…} filled, as serve sends them.\n"
      "stderr: the report — funnel per step (entered, passed, left, converted by `goal`), deliveries per\n"
      "        message, pushes versus free replies, LINE messages against the plan's monthly allowance.\n"
      "        With --report FILE the report is written there as JSON instead.\n"
      "--html FILE: the same report as one HTML page for people (docs/report.md): flowcharts with their\n"
      "        counts, messages as friends see them, A/B results, the quota by month, friends' timelines.\n"
      "Example: okuri simulate examples/music_school --events examples/music_school/events.jsonl");
  cmd->add_option("path", o->path, "Project folder or .okuri file")->required();
  cmd->add_option("--events", o->events, "Events: .jsonl (one event a line) or .json (a LINE webhook body); repeatable")->required();
  cmd->add_option("--friends", o->friends, "Friends to start from: .csv or .jsonl");
  cmd->add_option("--to", o->to, "Run timers until this time: 2026-06-01, '2026-06-01 10:00' or RFC 3339");
  cmd->add_option("--report", o->report, "Write the report as JSON to this file instead of text on stderr");
  cmd->add_option("--html", o->html, "Also write the report as one self-contained HTML page to this file");
  cmd->add_option("--lang", o->lang,
                  "The HTML page's language: ja or en (default: ja when the project's messages are Japanese)")
      ->check(CLI::IsMember({"ja", "en"}));
  cmd->add_option("--timelines", o->timelines,
                  "Friends (the first seen) whose timelines the HTML page holds (default 200)");
  cmd->add_flag("--trace", o->trace, "Print every state change with its cause on stderr");
  cmd->add_flag(
      "--render", o->render,
      "Add the rendered LINE message objects to each delivery (\"rendered\"), exactly as `okuri serve` sends them; "
      "with --format text, the texts under each line");
  cmd->add_option("--format", o->format, "Deliveries on stdout as jsonl (default) or text (one readable line each)")
      ->check(CLI::IsMember({"jsonl", "text"}));
  cmd->add_option("--overage-price", o->overage, "Yen per message over the standard plan's allowance (default 3)");
  cmd->add_flag("--quiet", o->quiet, "No progress line on stderr during a long run");
  add_sort_window(cmd, o->sort_window);
  add_engine_options(cmd, o->engine);
  cmd->callback([o, &status] {
    auto p = compile_for_command(o->path, "simulate", status);
    if (!p) return;
    rt::EventStreamOptions so;
    if (!stream_options(o->sort_window, so, "simulate", status)) return;
    so.origins = o->trace || !o->html.empty();
    rt::EngineOptions eo;
    eo.trace = o->trace || !o->html.empty();
    // The page keeps the first friends' timelines; --trace prints everyone's.
    if (!o->trace && !o->html.empty())
      eo.trace_rows_below = static_cast<std::uint32_t>(std::min<std::size_t>(o->timelines, UINT32_MAX));
    eo.render = o->render;
    if (!engine_options(o->engine, eo, status)) return;
    rt::Engine e(*p, eo);
    if (!load_friends_file(e.store(), o->friends, o->quiet, status)) return;
    const stdlib::Zone zone(p->account.timezone.c_str());
    rt::ReportTally tally(e, zone);
    DeliveryWriter writer(e, zone, o->format == "text");
    const auto played = play(e, *p, o->events, so, o->to, "simulate", o->quiet, &tally, std::ref(writer), status);
    writer.flush();
    if (!played) return;
    if (o->trace) {
      for (const auto& t : e.trace()) std::cerr << "trace: " << rt::trace_line(e, t, zone) << "\n";
    }
    rt::ReportOptions ro;
    ro.from = played->first;
    ro.to = played->to;
    ro.overage_price = o->overage;
    ro.ignored_events = played->ignored;
    ro.duplicate_events = played->duplicates;
    ro.tally = &tally;
    const std::string json = o->report.empty() && o->html.empty() ? std::string() : rt::report_json(e, ro, zone);
    if (!o->html.empty()) {
      report::HtmlOptions ho;
      if (!o->lang.empty()) ho.ja = o->lang == "ja";
      ho.limits.timelines = o->timelines;
      ho.title = project_title(o->path);
      ho.tally = &tally;
      if (!write_html_report(e, json, ho, o->html, "simulate", status)) return;
    }
    if (!o->report.empty()) {
      if (!write_output(o->report, json)) {
        std::cerr << "okuri simulate: cannot write the report to " << o->report << "\n";
        status = 2;
      }
      return;
    }
    std::cerr << rt::report_text(e, ro, zone);
  });
}

void add_test(CLI::App& app, int& status) {
  struct Options {
    std::vector<std::string> paths;
    std::string filter;
    EngineChoice engine;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("test", "Run the project's `test` blocks on a virtual clock.");
  cmd->footer(
      "Each `test` block runs on a fresh engine: its friends, its events at their times, `expect … of`\n"
      "checked where it stands, `expect send` checked once the clock has run 90 days past the last event.\n"
      "A failure shows what was expected and the friend's actual timeline. The last line is\n"
      "`N passed, N failed`; the exit status is 1 when any test failed.");
  cmd->add_option("paths", o->paths, "Project folders or .okuri files (default: the current folder)");
  cmd->add_option("--filter", o->filter, "Only the tests whose name contains this text");
  add_engine_options(cmd, o->engine);
  cmd->callback([o, &status] {
    if (o->paths.empty()) o->paths.push_back(".");
    std::size_t passed = 0, failed = 0;
    for (const auto& path : o->paths) {
      auto p = compile_for_command(path, "test", status);
      if (!p) return;
      rt::EngineOptions eo;
      if (!engine_options(o->engine, eo, status)) return;
      for (const auto& t : rt::run_tests(*p, eo, o->filter)) {
        if (t.passed) {
          ++passed;
          std::cout << "ok    " << t.name << "\n";
        } else {
          ++failed;
          std::cout << "FAIL  " << t.name << "  (" << t.file << ")\n";
          for (const auto& f : t.failures) std::cout << f;
        }
      }
    }
    std::cout << passed << " passed, " << failed << " failed\n";
    if (failed > 0) status = 1;
  });
}

void add_explain(CLI::App& app, int& status) {
  struct Options {
    std::string path;
    std::string friend_id;
    std::vector<std::string> events;
    std::string friends;
    std::string to;
    std::string sort_window;
    bool quiet = false;
    EngineChoice engine;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("explain", "Why a friend got, or did not get, each message.");
  cmd->footer(
      "Runs the simulation for one friend and prints their timeline — events, rules that fired, steps,\n"
      "and every branch decision with the values that decided it — then, for each message of the project\n"
      "the friend never received, the reason: a condition that was false (when, with which values), a stop,\n"
      "a block, a delivery still deferred, or a scenario never entered and why.\n"
      "Example: okuri explain examples/music_school --friend yuki --events examples/music_school/events.jsonl");
  cmd->add_option("path", o->path, "Project folder or .okuri file")->required();
  cmd->add_option("--friend", o->friend_id, "The friend's id (U + 32 hex digits, or any id used in the events)")->required();
  cmd->add_option("--events", o->events, "Events: .jsonl or .json webhook bodies; repeatable")->required();
  cmd->add_option("--friends", o->friends, "Friends to start from: .csv or .jsonl");
  cmd->add_option("--to", o->to, "Run timers until this time (default: 90 days after the last event)");
  add_sort_window(cmd, o->sort_window);
  cmd->add_flag("--quiet", o->quiet, "No progress line on stderr during a long run");
  add_engine_options(cmd, o->engine);
  cmd->callback([o, &status] {
    auto p = compile_for_command(o->path, "explain", status);
    if (!p) return;
    rt::EventStreamOptions so;
    if (!stream_options(o->sort_window, so, "explain", status)) return;
    rt::EngineOptions eo;
    eo.trace = true;
    eo.render = true;  // the texts the friend received
    if (!engine_options(o->engine, eo, status)) return;
    // The friend's row: friends from the file first, then in order of their first event (a first
    // reading of the events, for their ids alone).
    {
      rt::Engine probe(*p, rt::EngineOptions{});
      if (!load_friends_file(probe.store(), o->friends, o->quiet, status)) return;
      try {
        rt::EventCatalog catalog(*p);
        rt::EventStream stream(catalog, o->events, so);
        std::vector<rt::InputEvent> batch;
        while (stream.next(batch)) {
          for (const auto& ev : batch) probe.friend_row(ev.friend_id);
        }
      } catch (const rt::EventError& x) {
        std::cerr << "okuri: " << x.what() << "\n";
        status = 2;
        return;
      }
      auto row = probe.store().find(o->friend_id);
      if (!row) {
        std::cerr << "okuri explain: no friend `" << o->friend_id << "` in the events" << (o->friends.empty() ? "" : " or the friends file")
                  << "\n";
        status = 2;
        return;
      }
      eo.trace_row = *row;
    }
    rt::Engine e(*p, eo);
    if (!load_friends_file(e.store(), o->friends, o->quiet, status)) return;
    // Friends of the file come first: their rows are there before the first event.
    const bool from_start = *eo.trace_row < e.store().size();
    const auto played = play(e, *p, o->events, so, o->to, "explain", o->quiet, nullptr, {}, status);
    if (!played) return;
    std::cout << rt::explain(e, *eo.trace_row, played->to, from_start);
  });
}

}  // namespace

void add_run_commands(CLI::App& app, int& status) {
  add_simulate(app, status);
  add_test(app, status);
  add_explain(app, status);
}

}  // namespace okuri::cli
