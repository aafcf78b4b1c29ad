// The service: HTTP (http_server.cpp), the writer thread (engine + group commit), and the parts
// it starts: the sender (outbox → LINE, sender.cpp) and the profile fetcher (profile_fetcher.cpp).
#include <fmt/format.h>
#include <openssl/crypto.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "compiler/literals.hpp"
#include "compiler/workspace.hpp"
#include "runtime/event_input.hpp"
#include "runtime/report.hpp"
#include "service/click_links.hpp"
#include "service/http_server.hpp"
#include "service/inbox_event.hpp"
#include "service/inbox_ingest.hpp"
#include "service/lease_keeper.hpp"
#include "service/line_api.hpp"
#include "service/line_wide.hpp"
#include "service/metrics.hpp"
#include "service/multicast.hpp"
#include "service/pg_connection.hpp"
#include "service/profile_fetcher.hpp"
#include "service/project_version.hpp"
#include "service/quota.hpp"
#include "service/sender.hpp"
#include "service/service.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::svc {

using nlohmann::json;

namespace {

struct Job {
  std::vector<rt::InputEvent> events;
  std::function<void()> apply;  // work of the service's own (a fetched profile), run inside the batch
  std::promise<int> done;  // the HTTP status to answer
};

// 0-15,32,40-41: partitions as a person reads them.
std::string partition_ranges(const PartitionSet& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size();) {
    std::size_t j = i;
    while (j + 1 < parts.size() && parts[j + 1] == parts[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", parts[i]) : fmt::format("{}-{}", parts[i], parts[j]);
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

// ------------------------------------------------------------------ the service

struct Service::Impl {
  std::shared_ptr<const Program> prog;  // the version running (the writer's; swapped by switch_to)
  ServeOptions opt;
  std::unique_ptr<Store> store;
  std::unique_ptr<rt::Engine> engine;
  std::shared_ptr<const rt::EventCatalog> catalog;  // what requests are parsed against (HTTP threads: under cmu)
  std::mutex cmu;
  std::mutex reload_mu;      // one reload at a time
  std::string running_sources;  // under reload_mu
  std::atomic<bool> ready{false};
  std::atomic<std::uint64_t> reloads_ok{0}, reloads_failed{0};
  std::thread watcher;
  std::mutex wmu;
  std::condition_variable wcv;
  bool watch_stop = false;
  std::unique_ptr<HttpServer> http;
  Metrics metrics;
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<std::shared_ptr<Job>> queue;
  std::vector<std::function<void()>> reads;  // run by the writer between batches
  bool stopping = false;
  std::unique_ptr<Sender> sender;
  std::thread writer;
  std::atomic<int> bound_port{0};
  std::atomic<std::uint64_t> timer_backlog{0};

  std::unique_ptr<ClickLinks> clicks;           // with --public-url: declared links go out as tracked redirects
  std::unique_ptr<ProfileFetcher> profiles;     // LINE profiles, unless --no-profiles
  std::unique_ptr<QuotaWatcher> quota;          // the month's message quota, read periodically
  // A shared store (several workers): events go into its inbox (ingest), the keeper renews the
  // partition leases, and the writer applies the inbox of the partitions it writes.
  std::unique_ptr<InboxIngest> ingest;
  std::unique_ptr<LeaseKeeper> keeper;
  PartitionSet writing = all_partitions();  // the partitions whose friends the engine holds (the writer's)
  std::atomic<bool> leases_changed{false};
  bool engine_stale = false;  // the engine could not be rebuilt from the store: again at the next turn
  std::mutex held_mu;
  PartitionSet held_shown;  // for /healthz and /metrics (under held_mu)
  bool writes(std::string_view friend_id) const {
    return std::binary_search(writing.begin(), writing.end(), partition_of(friend_id));
  }
  std::atomic<std::uint64_t> sent_at_quota{0};  // metrics.messages_sent when the quota was last read
  std::string zone_name;
  std::unique_ptr<stdlib::Zone> zone_of_prog;
  const stdlib::Zone& zone() {
    if (!zone_of_prog || zone_name != prog->account.timezone) {
      zone_name = prog->account.timezone;
      zone_of_prog = std::make_unique<stdlib::Zone>(zone_name.c_str());
    }
    return *zone_of_prog;
  }

  Impl(std::shared_ptr<const Program> p, ServeOptions o) : prog(std::move(p)), opt(std::move(o)) {
    // What friends receive is rendered by the engine when a scenario sends it (the same renderer
    // as simulate --render), with declared links as tracked redirects when there is a public URL.
    opt.engine.render = true;
    if (!opt.public_url.empty()) {
      clicks = std::make_unique<ClickLinks>(opt.public_url, opt.link_key);
      opt.engine.links = clicks.get();
    }
    HttpServer::Options ho;
    ho.max_body = opt.max_body;
    ho.request_seconds = opt.http_request_seconds;
    ho.max_connections = opt.max_connections;
    http = std::make_unique<HttpServer>(ho, [this](const std::string& why) { metrics.reject(why); });
  }

  std::shared_ptr<const rt::EventCatalog> current_catalog() {
    std::lock_guard<std::mutex> lock(cmu);
    return catalog;
  }
  // The declared links of the running version, by name (what a click redirects to): under cmu.
  std::shared_ptr<const std::map<std::string, std::string>> links_now;
  std::vector<std::string> message_files;  // the JSON message files of the last compile (the watcher's): under cmu
  static std::shared_ptr<const std::map<std::string, std::string>> link_urls(const Program& p) {
    auto out = std::make_shared<std::map<std::string, std::string>>();
    for (const auto& sym : p.symbols) {
      if (sym.kind == SymbolKind::Link) (*out)[sym.name] = std::get<ast::LinkDecl>(sym.decl->v).url;
    }
    return out;
  }

  void log(const std::string& line) const {
    if (!opt.quiet) std::cerr << "okuri serve: " << line << "\n";
  }

  // A fresh engine with every friend's saved state; overdue timers are armed (they fire at the next batch).
  void load_engine() {
    store->set_writing(writing);
    engine = std::make_unique<rt::Engine>(*prog, opt.engine);
    const std::int64_t clock = store->clock();
    const std::int64_t now = wall_ms() / 1000;
    if (clock > 0) {
      engine->resume_at(std::min(clock, now));  // what was due at the saved clock has run
    } else {
      engine->start_at(now);
    }
    for (const auto& f : store->load_friends()) engine->import_friend(engine->friend_row(f.id), f.state);
    shape = project_shape(*engine);
    engine->import_stats(store->load_stats(shape));
    engine->take_dirty();
    engine->take_deliveries();
    engine->take_fired_broadcasts();
    taken_early.clear();
    standby_keys.clear();
  }

  // Deliveries taken out of the engine in the middle of a batch (around a standby-mode event),
  // and the keys of those that answer such an event: they are recorded, never sent.
  std::vector<rt::Delivery> taken_early;
  std::set<std::string> standby_keys;
  std::set<std::string> line_wide_said;  // broadcasts whose way of going out was logged (once each)

  // Runs `body` in one transaction, committed at the engine's clock when it returns true and
  // rolled back when it returns false. Any failure rolls back and comes out as StoreError.
  template <typename Body>
  void in_transaction(Body body) {
    store->begin();
    bool closed = false;  // commit() rolls back by itself when it fails
    try {
      const bool keep = body();
      if (keep) save_stats(/*own=*/false);
      closed = true;
      if (keep) {
        store->commit(engine->now());
      } else {
        store->rollback();
      }
    } catch (const StoreError&) {
      if (!closed) store->rollback();
      throw;
    } catch (const std::exception& e) {
      if (!closed) store->rollback();
      throw StoreError(e.what());
    }
  }

  // The report's figures (`okuri report`), saved when they changed: into the open batch at most
  // once a second, else on their own (`own`) from the writer's idle turns and at shutdown
  // (`force`: whatever the time). A crash loses at most the last second's counts.
  void save_stats(bool own, bool force = false) {
    const auto t = std::chrono::steady_clock::now();
    if (!force && t - stats_saved < std::chrono::seconds(1)) return;
    std::string now = engine->export_stats();
    if (now == stats_last) return;
    stats_saved = t;
    if (!own) {
      store->save_stats(shape, now);
      stats_last = std::move(now);
      return;
    }
    try {
      store->begin();
      store->save_stats(shape, now);
      store->commit(engine->now());
      stats_last = std::move(now);
    } catch (const StoreError& e) {
      log(fmt::format("could not save the report's figures: {}", e.what()));
    }
  }
  std::chrono::steady_clock::time_point stats_saved{};
  std::string stats_last;  // as last saved
  std::int64_t shape = 0;  // of the running version

  // Into the open batch: the friends the engine changed, its deliveries and menu links since
  // the last call. False when there was nothing.
  bool write_outputs(std::int64_t created) {
    const auto dirty = engine->take_dirty();
    auto deliveries = std::move(taken_early);
    taken_early.clear();
    for (auto& d : engine->take_deliveries()) deliveries.push_back(std::move(d));
    const auto menus = engine->take_menu_links();
    const auto notes = engine->take_notifications();
    for (const auto row : dirty) store->save_friend(engine->store().id_of(row), engine->export_friend(row));
    std::vector<OutboxRow> broadcast_pushes;  // merged into multicasts where their messages are the same
    LineWideBatch line_wide(
        *engine, zone(), opt.quota_up_to_remaining, [this](const std::string& l) { log(l); },
        line_wide_said,  // broadcasts LINE sends itself
        store->shared() && writing.size() < kPartitions ? partition_ranges(writing) : "");
    for (const auto& d : deliveries) {
      if (d.skipped) continue;
      OutboxRow r;
      r.key = d.key;
      r.friend_id = engine->store().id_of(d.row);
      r.due = d.time;
      r.reply = d.reply && !d.reply_token.empty();
      r.reply_token = d.reply_token;
      r.messages = d.rendered;  // rendered by the engine when the scenario sent it
      if (standby_keys.erase(d.key) > 0) {
        // LINE's rule for a channel on standby (another channel is active in a module): it must not
        // answer. The friend's state moved, and the delivery is kept as a record, not sent.
        r.status = "standby";
        ++metrics.standby_unsent;
      }
      r.scenario = d.flow < 0 ? "" : engine->flow(static_cast<std::size_t>(d.flow)).name;
      if (opt.aggregation_units && !r.scenario.empty())
        r.unit = aggregation_unit(r.scenario);  // LINE's statistics per scenario
      r.node = d.node;
      r.created = created;
      // The project's message names: a held delivery is rendered again from them, and `okuri
      // report` counts deliveries per message by them.
      json names = json::array();
      for (auto m : d.messages) names.push_back(engine->schema().messages[m]);
      r.message_names = names.dump();
      if (profiles && engine->renderer().reads_profile(d.messages)) {
        // It reads the LINE profile: fetch it when it was never fetched or is old; a delivery that
        // would show a fallback instead waits for it (at most --profile-wait), then is rendered again.
        const auto fetched = store->profile_fetched(r.friend_id);
        if (!fetched || *fetched < created - opt.profile_max_age) profiles->want(r.friend_id);
        if (d.needs_profile && !fetched && is_line_user_id(r.friend_id) && r.status == "pending") {
          r.status = "profile";
        }
      }
      const plan::Flow* flow = d.flow < 0 ? nullptr : &engine->plan().flows[static_cast<std::size_t>(d.flow)];
      if (flow != nullptr && flow->broadcast && r.status == "pending" && line_wide.takes(d.flow, *flow)) {
        // LINE sends it (one request, below): this friend's part is recorded, not sent alone.
        line_wide.add_part(d.flow, std::move(r));
        continue;
      }
      if (flow != nullptr && flow->broadcast && !r.reply && r.status == "pending") {
        broadcast_pushes.push_back(std::move(r));
      } else {
        store->add_delivery(r);
      }
    }
    // What this month's quota has left, read once for the batch when a broadcast needs it; each
    // broadcast of the batch takes its part (the rows are not committed, so the store cannot count them).
    std::optional<std::optional<std::int64_t>> quota_left;
    auto left = [&]() -> std::optional<std::int64_t>& {
      if (!quota_left) quota_left = quota_remaining();
      return *quota_left;
    };
    auto grouped = group_into_multicasts(std::move(broadcast_pushes));
    if (!grouped.empty()) hold_over_quota(grouped, left());
    for (const auto& r : grouped) store->add_delivery(r);
    for (const auto& r : line_wide.rows(engine->take_fired_broadcasts(), created, left))
      store->add_delivery(r);
    for (const auto& n : notes) {
      // A staff notification: the sender posts it to --notify-url and pushes it to the staff.
      OutboxRow r;
      r.kind = "notify";
      r.key = n.key;
      r.friend_id = engine->store().id_of(n.row);
      r.due = n.time;
      r.scenario = n.flow < 0 ? "" : engine->flow(static_cast<std::size_t>(n.flow)).name;
      const auto name = engine->store().display_name[n.row];
      r.messages =
          json{{"text", n.text},
               {"friend", r.friend_id},
               {"display_name", name < 0 ? json(nullptr) : json(std::string(engine->store().texts.get(name)))},
               {"scenario", r.scenario.empty() ? json(nullptr) : json(r.scenario)},
               {"node", n.node},
               {"time", rt::format_time(n.time, zone())}}
              .dump();
      r.node = n.node;
      r.created = created;
      if (!opt.notify_url.empty()) store->add_delivery(r);
      // To each staff member of the project: a push of the text, like any push (retry key, retries).
      const std::string who = name < 0 ? r.friend_id : std::string(engine->store().texts.get(name));
      for (std::size_t k = 0; k < prog->account.staff.size(); ++k) {
        OutboxRow push = r;
        push.kind = "message";
        push.key = rt::delivery_key(n.key, "staff", static_cast<std::uint32_t>(k), prog->account.staff[k], 0);
        push.friend_id = prog->account.staff[k];
        push.messages = json::array({{{"type", "text"}, {"text", fmt::format("{}\n({})", n.text, who)}}}).dump();
        store->add_delivery(push);
      }
    }
    for (const auto& ml : menus) {
      OutboxRow r;
      r.kind = "menu";
      r.key = ml.key;
      r.friend_id = engine->store().id_of(ml.row);
      r.due = ml.time;
      r.messages = ml.richmenu;
      r.created = created;
      store->add_delivery(r);
    }
    return !dirty.empty() || !deliveries.empty() || !menus.empty() || !notes.empty();
  }

  // Moves every friend to a new version (its engine `ne`, not yet started) and commits the states,
  // the deliveries that made and the version's sources together. On the writer thread, or before
  // it starts. On failure nothing changed: the running version goes on.
  bool switch_to(std::shared_ptr<const Program> np, std::unique_ptr<rt::Engine> ne, const std::string& sources) {
    const auto t0 = std::chrono::steady_clock::now();
    ne->resume_at(engine->now());
    const auto sum = ne->take_over(*engine);
    std::swap(engine, ne);
    std::swap(prog, np);
    const std::int64_t old_shape = shape;
    try {
      in_transaction([&] {
        write_outputs(wall_ms() / 1000);
        shape = project_shape(*engine);
        store->set_project(shape, sources);
        return true;
      });
    } catch (const StoreError& e) {
      std::swap(engine, ne);
      std::swap(prog, np);
      shape = old_shape;
      log(fmt::format("could not switch to the new version: {}; the running version goes on", e.what()));
      return false;
    }
    ne.reset();  // the old engine first: it refers to its program
    np.reset();
    {
      std::lock_guard<std::mutex> lock(cmu);
      catalog = std::make_shared<const rt::EventCatalog>(*prog);
      links_now = link_urls(*prog);
    }
    timer_backlog = engine->timers_pending();
    warn_about_needs();
    log(fmt::format("now running the new version ({:.0f} ms): {} friend{}; {} waiting at the same step, {} moved on, {} restarted, {} left a scenario",
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(), sum.friends,
                    sum.friends == 1 ? "" : "s", sum.waiting, sum.moved, sum.restarted, sum.exited));
    return true;
  }

  bool reload(const std::string& why) {
    std::lock_guard<std::mutex> guard(reload_mu);
    if (!ready || opt.project_path.empty()) return false;
    log(fmt::format("{}: recompiling {}", why, opt.project_path));
    std::shared_ptr<const Program> np;
    try {
      np = compile_path(opt.project_path);
    } catch (const std::exception& e) {
      ++reloads_failed;
      log(fmt::format("cannot read the project: {}; the running version goes on", e.what()));
      return false;
    }
    {
      // Watched from now on, even when this version is refused: fixing the file reloads it.
      std::lock_guard<std::mutex> lock(cmu);
      message_files = np->message_files;
    }
    if (np->diags.error_count() > 0) {
      ++reloads_failed;
      std::string text = error_text(*np);
      while (!text.empty() && text.back() == '\n') text.pop_back();
      log(fmt::format("the project has errors; the running version goes on:\n{}", text));
      return false;
    }
    const std::string sources = sources_of(*np);
    if (sources == running_sources) {
      log("no change in the project's sources");
      return true;
    }
    auto ne = std::make_unique<rt::Engine>(*np, opt.engine);  // compiled here, not on the writer
    std::promise<bool> done;
    auto f = done.get_future();
    {
      std::lock_guard<std::mutex> lock(qmu);
      if (stopping) return false;
      reads.push_back([&] {
        if (store->shared() && writing.size() < kPartitions) {
          // Other workers hold friends too, and they run the old version: one version at a time.
          log(
              fmt::format("this worker holds {} of {} partitions: a new version is taken up by restarting every worker "
                          "with it (docs/scale-out.md, \"New versions\"); the running version goes on",
                          writing.size(), kPartitions));
          done.set_value(false);
          return;
        }
        done.set_value(switch_to(np, std::move(ne), sources));
      });
    }
    qcv.notify_one();
    const bool ok = f.get();
    if (ok) {
      running_sources = sources;
      ++reloads_ok;
    } else {
      ++reloads_failed;
    }
    return ok;
  }

  void stop_watching() {
    {
      std::lock_guard<std::mutex> lock(wmu);
      watch_stop = true;
    }
    wcv.notify_all();
    if (watcher.joinable()) watcher.join();
  }

  std::vector<std::string> watched_messages() {
    std::lock_guard<std::mutex> lock(cmu);
    return message_files;
  }

  void watch_loop() {
    std::string loaded = fingerprint(opt.project_path, watched_messages()), seen = loaded;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(wmu);
        if (wcv.wait_for(lock, std::chrono::milliseconds(opt.watch_interval_ms), [&] { return watch_stop; })) return;
      }
      const std::string now = fingerprint(opt.project_path, watched_messages());
      if (now != seen) {  // changing: wait until it has stayed the same for one interval (an editor still saving)
        seen = now;
        continue;
      }
      if (now != loaded) {
        loaded = now;
        reload("a file of the project changed");
      }
    }
  }

  // One event through the engine, inside a batch.
  void apply_event(rt::InputEvent& ev, std::int64_t now_ms) {
    ev.time_ms = std::min(ev.time_ms, now_ms);  // a clock ahead of ours does not move time forward
    if (ev.standby) {
      for (auto& d : engine->take_deliveries()) taken_early.push_back(std::move(d));
      engine->handle(ev);
      for (auto& d : engine->take_deliveries()) {
        standby_keys.insert(d.key);
        taken_early.push_back(std::move(d));
      }
    } else {
      engine->handle(ev);
    }
    if (profiles && ev.type == "friend_added") profiles->want(ev.friend_id);  // a new (or returning) friend
  }

  // One transaction for every queued request (and the timers due by now).
  void batch(std::vector<std::shared_ptr<Job>>& jobs) {
    const auto t0 = std::chrono::steady_clock::now();
    int status = 200;
    bool wrote = true;
    // Counted into the metrics once the batch is committed: a batch rolled back (a full disk)
    // accepted nothing.
    std::uint64_t accepted = 0, duplicates = 0, clicks_recorded = 0, clicks_repeated = 0;
    try {
      in_transaction([&] {
        const std::int64_t now_ms = wall_ms();
        for (auto& job : jobs) {
          for (auto& ev : job->events) {
            if (ev.webhook_event_id.rfind("click:", 0) == 0) {
              if (!store->claim_click(ev.webhook_event_id, now_ms / 1000, kClickWindowSeconds)) {
                ++clicks_repeated;  // the same link tapped again within the window
                continue;
              }
              ++clicks_recorded;
            } else if (!ev.webhook_event_id.empty() && !store->claim_event(ev.webhook_event_id)) {
              ++duplicates;
              continue;
            }
            apply_event(ev, now_ms);
            ++accepted;
          }
          if (job->apply) job->apply();
        }
        engine->run_until(now_ms / 1000);
        const bool released = release_held(now_ms / 1000 - opt.profile_wait, {}) > 0;
        wrote = write_outputs(now_ms / 1000) || released || !jobs.empty();
        return wrote;
      });
      metrics.accepted += accepted;
      metrics.duplicates += duplicates;
      for (std::uint64_t k = 0; k < clicks_recorded; ++k) metrics.click("recorded");
      for (std::uint64_t k = 0; k < clicks_repeated; ++k) metrics.click("repeated");
      if (!wrote) return;  // a quiet moment: nothing was written
    } catch (const StoreError& e) {
      // Nothing of this batch is on disk: the engine goes back to what is, and the senders retry.
      log(fmt::format("could not commit {} request(s): {}; answering 503", jobs.size(), e.what()));
      metrics.reject("storage");
      status = 503;
      try {
        load_engine();
      } catch (const std::exception& again) {
        log(fmt::format("reloading the state failed too: {}", again.what()));
      }
    }
    metrics.commit_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    timer_backlog = engine ? engine->timers_pending() : 0;
    for (auto& job : jobs) job->done.set_value(status);
    if (sender) sender->wake();
  }

  void writer_loop() {
    while (true) {
      std::vector<std::shared_ptr<Job>> jobs;
      std::vector<std::function<void()>> todo;
      bool stop_now = false;
      {
        std::unique_lock<std::mutex> lock(qmu);
        // A shared store's inbox is filled by every worker: it is looked at every few milliseconds.
        qcv.wait_for(lock, std::chrono::milliseconds(store->shared() ? kInboxPollMs : 500),
                     [&] { return !queue.empty() || !reads.empty() || stopping || inbox_nudged; });
        inbox_nudged = false;
        todo.swap(reads);
        while (!queue.empty() && jobs.size() < static_cast<std::size_t>(opt.max_batch)) {
          jobs.push_back(std::move(queue.front()));
          queue.pop_front();
        }
        stop_now = stopping && queue.empty();
      }
      for (auto& r : todo) r();  // reads and reloads, outside the queue's lock
      if (store->shared()) {
        shared_turn(jobs);
      } else {
        batch(jobs);  // also the timers due by now, when there are no requests
      }
      save_stats(/*own=*/true, /*force=*/stop_now);
      if (stop_now) return;
    }
  }

  // ------------------------------------------------------- a shared store (several workers)

  static constexpr int kInboxPollMs = 20;
  bool inbox_nudged = false;  // under qmu: this worker's ingest committed events
  std::chrono::steady_clock::time_point last_turn{};

  // One turn of the writer on a shared store: follow the leases, then one batch of the inbox of
  // the partitions it writes (and the timers due), when there is anything to do.
  void shared_turn(std::vector<std::shared_ptr<Job>>& jobs) {
    if (leases_changed.exchange(false) || engine_stale) {
      try {
        rebalance();
      } catch (const std::exception& e) {
        if (!engine_stale) log(fmt::format("taking up the partitions held: {}; trying again", e.what()));
        engine_stale = true;
      }
    }
    if (engine_stale) {
      for (auto& job : jobs) job->done.set_value(503);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      return;
    }
    const auto t = std::chrono::steady_clock::now();
    bool waiting = !jobs.empty() || t - last_turn >= std::chrono::milliseconds(500);
    if (!waiting) {
      try {
        waiting = store->inbox_waiting();
      } catch (const StoreError&) {
        waiting = true;  // the batch meets the same failure and says so
      }
    }
    if (!waiting) return;
    last_turn = t;
    int status = 200;
    try {
      bool more = true;
      while (more) more = inbox_batch(jobs.empty() ? nullptr : &jobs) && jobs.empty();
    } catch (const LeaseLost& e) {
      log(fmt::format("{}: those friends are the new owner's now; this worker goes on with the partitions it keeps",
                      e.what()));
      try {
        store->renew_leases();
      } catch (const std::exception&) {
      }
      engine_stale = true;
      status = 503;
    } catch (const StoreError& e) {
      // Nothing of the batch was kept: the inbox still holds its events, and the engine is rebuilt.
      log(fmt::format("could not commit a batch of the inbox: {}; the events stay in the inbox", e.what()));
      engine_stale = true;
      status = 503;
    }
    for (auto& job : jobs) job->done.set_value(status);
    timer_backlog = engine ? engine->timers_pending() : 0;
    if (sender) sender->wake();
  }

  // One transaction: the oldest inbox events of the partitions written, then the timers due by
  // now (by `until_s` when catching up). Returns whether the inbox may hold more (the batch took
  // as many as it could).
  bool inbox_batch(std::vector<std::shared_ptr<Job>>* jobs, std::optional<std::int64_t> until_s = std::nullopt) {
    const std::size_t limit = static_cast<std::size_t>(opt.max_batch) * 8;
    std::size_t taken = 0;
    const auto t0 = std::chrono::steady_clock::now();
    in_transaction([&] {
      const std::int64_t now_ms = until_s ? *until_s * 1000 : wall_ms();
      const auto events = store->take_inbox(limit);
      taken = events.size();
      for (const auto& bytes : events) {
        rt::InputEvent ev;
        try {
          ev = decode_inbox_event(bytes);
        } catch (const std::exception& e) {
          // Bytes this okuri cannot read (written by a newer one?): kept out of the engine, said once each.
          log(fmt::format("an inbox event could not be read ({}); it is skipped", e.what()));
          metrics.reject("inbox_unreadable");
          continue;
        }
        apply_event(ev, now_ms);
      }
      if (jobs != nullptr) {
        for (auto& job : *jobs) {
          if (job->apply) job->apply();
        }
      }
      engine->run_until(now_ms / 1000);
      const bool released = release_held(now_ms / 1000 - opt.profile_wait, {}) > 0;
      return write_outputs(now_ms / 1000) || released || taken > 0 || jobs != nullptr;
    });
    if (taken > 0) {
      metrics.commit_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      metrics.applied += taken;
    }
    return taken == limit;
  }

  // The partitions held changed (taken, given back, lost): the engine moves to them. Partitions
  // taken from another worker first catch up alone to this engine's clock (their inbox and their
  // timers in their own order), so that the friends already here see no timer or broadcast twice.
  void rebalance() {
    const PartitionSet now = store->held();
    PartitionSet gained, lost;
    std::set_difference(now.begin(), now.end(), writing.begin(), writing.end(), std::back_inserter(gained));
    std::set_difference(writing.begin(), writing.end(), now.begin(), now.end(), std::back_inserter(lost));
    if (gained.empty() && lost.empty() && !engine_stale && engine) return;
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t until = engine && engine->now() > 0 ? engine->now() : wall_ms() / 1000;
    if (!gained.empty()) catch_up(gained, until);
    writing = now;
    load_engine();
    engine_stale = false;
    {
      std::lock_guard<std::mutex> lock(held_mu);
      held_shown = writing;
    }
    share_rates();
    log(fmt::format("holding {} of {} partitions ({} taken up, {} given back or lost; {:.0f} ms): {} friends",
                    writing.size(), kPartitions, gained.size(), lost.size(),
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                    engine->store().size()));
  }

  // LINE's limits are per channel: each worker takes the part of them its partitions are of the whole.
  void share_rates() {
    const double share = static_cast<double>(writing.size()) / kPartitions;
    if (sender) sender->set_share(share);
    if (profiles) profiles->set_share(share);
  }

  // Brings partitions taken from another worker to `until`, each group of the same clock on its
  // own engine: their inbox first (events in the order accepted, each after the timers due
  // before it), then the timers and broadcasts due by `until`. Replies the old owner left in
  // flight become uncertain.
  void catch_up(const PartitionSet& gained, std::int64_t until) {
    std::map<std::int64_t, PartitionSet> by_clock;
    for (const auto p : gained) {
      store->set_writing({p});
      by_clock[store->clock()].push_back(p);
    }
    auto main = std::move(engine);
    const PartitionSet main_writing = writing;
    try {
      for (const auto& [clock, parts] : by_clock) {
        writing = parts;
        load_engine();
        if (const auto n = store->settle_inflight(); n > 0) {
          log(fmt::format(
              "{} repl{} left in flight by the worker that held these friends: marked uncertain, not sent again", n,
              n == 1 ? "y" : "ies"));
        }
        if (clock == 0) continue;  // never written: nothing to catch up
        while (inbox_batch(nullptr, until)) {
        }
        if (engine->now() < until) {
          in_transaction([&] {
            engine->run_until(until);
            write_outputs(until);
            return true;
          });
        }
      }
    } catch (...) {
      engine = std::move(main);
      writing = main_writing;
      store->set_writing(writing);
      throw;
    }
    engine = std::move(main);
    writing = main_writing;
  }

  int submit(std::vector<rt::InputEvent> events) {
    if (ingest) return ingest->submit(std::move(events));
    auto job = std::make_shared<Job>();
    job->events = std::move(events);
    auto f = job->done.get_future();
    {
      std::lock_guard<std::mutex> lock(qmu);
      if (stopping) return 503;
      queue.push_back(job);
    }
    qcv.notify_one();
    return f.get();
  }

  // ---------------------------------------------------------------- HTTP

  std::string metrics_text() {
    Gauges g;
    if (store->shared()) {
      std::lock_guard<std::mutex> lock(held_mu);
      g.partitions_held = held_shown.size();
    }
    try {
      g.store = store->counts();
    } catch (const std::exception&) {
    }
    if (profiles) {
      const auto pc = profiles->counts();
      g.profiles = {pc.fetched, pc.not_found, pc.failed};
    }
    g.reloads_ok = reloads_ok.load();
    g.reloads_failed = reloads_failed.load();
    g.timer_backlog = timer_backlog.load();
    if (const auto q = quota ? quota->latest() : std::nullopt) {
      g.quota_used = q->used;
      if (q->limited) g.quota_limit = q->limit;
    }
    return metrics.text(g);
  }

  // `Authorization: Bearer $OKURI_EVENTS_TOKEN`, compared in constant time.
  bool bearer_ok(const HttpRequest& req) const {
    const std::string auth = req.header("Authorization");
    const std::string want = "Bearer " + opt.events_token;
    return !opt.events_token.empty() && auth.size() == want.size() && CRYPTO_memcmp(auth.data(), want.data(), want.size()) == 0;
  }

  // Parses a request's events (400 with the reason when it cannot), then waits for their commit.
  template <typename Parse>
  void accept(const std::string& body, HttpResponse& res, std::chrono::steady_clock::time_point t0, Parse parse) {
    std::vector<rt::InputEvent> events;
    try {
      const auto cat = current_catalog();
      rt::EventReader reader(*cat);
      events = parse(reader, body);
      // A friend is a LINE user: an id that is not one (`all`, `../x`) would reach LINE's URLs.
      for (const auto& ev : events) {
        if (!is_line_user_id(ev.friend_id)) {
          throw std::runtime_error(fmt::format(
              "{}: friend `{}` is not a LINE user id (U followed by 32 hexadecimal digits)", ev.origin, ev.friend_id));
        }
      }
      metrics.duplicates += reader.duplicates();  // the same webhookEventId twice in one body
      for (const auto& [why, n] : reader.ignored()) {
        // A label without spaces: "message (from a group)" → "message_from_a_group".
        std::string label;
        for (const char c : why) {
          if (c == ' ')
            label += '_';
          else if (c != '(' && c != ')')
            label += c;
        }
        metrics.ignore(label, n);
      }
    } catch (const std::exception& e) {
      metrics.reject("malformed");
      res.status = 400;
      // The reason may quote the body's own bytes, invalid UTF-8 included: replaced, so the 400 always has its reason.
      res.set_content(json{{"message", e.what()}}.dump(-1, ' ', false, json::error_handler_t::replace),
                      "application/json");
      return;
    }
    res.status = submit(std::move(events));
    if (res.status == 503) res.set_header("Retry-After", "5");
    res.set_content("{}", "application/json");
    metrics.request_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  SenderOptions sender_options() const {
    SenderOptions so;
    so.line_api = opt.line_api;
    so.access_token = opt.access_token;
    so.notify_url = opt.notify_url;
    so.connections = opt.connections;
    so.request_timeout = opt.request_timeout;
    so.push_rate = opt.push_rate;
    so.reply_rate = opt.push_rate;
    so.multicast_rate = opt.multicast_rate;
    so.narrowcast_rate = opt.narrowcast_per_hour / 3600;
    so.broadcast_rate = opt.narrowcast_per_hour / 3600;
    so.progress_every = opt.progress_every;
    return so;
  }

  // The one way the service stops, once HTTP no longer accepts requests: the watcher stops, the
  // writer finishes every queued request and commits, then the profile fetcher and the sender stop.
  void shut_down() {
    stop_watching();
    if (ingest) ingest->stop();  // what it accepted is in the inbox; the owners apply it
    if (keeper) keeper->stop();
    {
      std::lock_guard<std::mutex> lock(qmu);
      stopping = true;
    }
    qcv.notify_all();
    if (writer.joinable()) writer.join();
    if (profiles) profiles->stop();
    if (quota) quota->stop();
    if (sender) sender->stop();
  }

  // What may still be sent this month: LINE's figures as last read, less what was handed to LINE
  // since and what waits in the outbox. None while LINE has not answered, or has no limit.
  std::optional<std::int64_t> quota_remaining() {
    const auto q = quota ? quota->latest() : std::nullopt;
    if (!q || !q->limited) return std::nullopt;
    const auto since = static_cast<std::int64_t>(metrics.messages_sent.load() - sent_at_quota.load());
    return q->remaining() - since - store->counts().pending_messages;
  }

  static std::int64_t recipients_of(const OutboxRow& r) {
    return r.kind == "multicast" ? static_cast<std::int64_t>(json::parse(r.recipients).size()) : 1;
  }

  // A broadcast is sent whole or not at all: one that needs more messages than remain this month
  // is held (status `quota`) until the quota allows all of it.
  void hold_over_quota(std::vector<OutboxRow>& rows, std::optional<std::int64_t>& remaining) {
    if (rows.empty() || !remaining) return;
    std::map<std::string, std::int64_t> needs;
    for (const auto& r : rows) needs[r.scenario] += recipients_of(r);
    std::vector<OutboxRow> beyond;  // --when-quota-short up-to-remaining: the recipients the quota does not cover
    for (const auto& [name, n] : needs) {
      if (n <= *remaining) {
        *remaining -= n;
        continue;
      }
      const std::int64_t left = std::max<std::int64_t>(0, *remaining);
      if (opt.quota_up_to_remaining) {
        cut_to_quota(rows, name, left, beyond);
        *remaining = 0;
        log(fmt::format("broadcast `{}` needs {} messages and {} remain of this month's quota: it goes to the first {} "
                        "friends, and not to the other {} (--when-quota-short up-to-remaining)",
                        name, n, left, left, n - left));
        continue;
      }
      const std::string why = fmt::format("held: needs {} messages, {} remain this month", n, left);
      for (auto& r : rows) {
        if (r.scenario != name) continue;
        r.status = "quota";
        r.error = why;
      }
      log(
          fmt::format("broadcast `{}` is held, not sent: it needs {} messages and {} remain of this month's quota "
                      "(okuri_quota_limit, okuri_quota_used in /metrics); it goes out whole when the quota allows it",
                      name, n, left));
    }
    for (auto& r : beyond) rows.push_back(std::move(r));
  }

  // Keeps the first `left` recipients of broadcast `name` in `rows`; the rest are marked unsent
  // (a multicast cut in two leaves its tail in `beyond`, a row of its own).
  static void cut_to_quota(std::vector<OutboxRow>& rows, const std::string& name, std::int64_t left,
                           std::vector<OutboxRow>& beyond) {
    const std::string why = "not sent: beyond this month's quota (--when-quota-short up-to-remaining)";
    for (auto& r : rows) {
      if (r.scenario != name) continue;
      const std::int64_t n = recipients_of(r);
      if (n <= left) {
        left -= n;
        continue;
      }
      if (left > 0 && r.kind == "multicast") {
        auto ids = json::parse(r.recipients).get<std::vector<std::string>>();
        OutboxRow tail = r;
        tail.key = rt::delivery_key(r.key, "beyond the quota", 0, "", 0);
        tail.friend_id = ids[static_cast<std::size_t>(left)];
        tail.recipients = json(std::vector<std::string>(ids.begin() + left, ids.end())).dump();
        tail.status = "unsent";
        tail.error = why;
        beyond.push_back(std::move(tail));
        r.recipients = json(std::vector<std::string>(ids.begin(), ids.begin() + left)).dump();
        left = 0;
        continue;
      }
      r.status = "unsent";
      r.error = why;
      left = 0;
    }
  }

  // New quota figures from LINE: held broadcasts that now fit go out, oldest first.
  void quota_read() {
    sent_at_quota = metrics.messages_sent.load();
    auto job = std::make_shared<Job>();
    job->apply = [this] {
      const auto held = store->quota_held();
      if (held.empty()) return;
      auto remaining = quota_remaining();
      for (const auto& [name, n] : held) {
        if (remaining && n > *remaining) continue;
        store->release_quota_held(name);
        if (remaining) *remaining -= n;
        log(fmt::format("broadcast `{}` was held for the quota and goes out now ({} messages)", name, n));
      }
    };
    std::lock_guard<std::mutex> lock(qmu);
    if (stopping) return;
    queue.push_back(std::move(job));
    qcv.notify_one();
  }

  // Held deliveries go out, rendered again from the friend's state now: those of one friend whose
  // profile arrived, or every one held since before `created_before` (it waited long enough).
  // Returns how many went out.
  std::size_t release_held(std::int64_t created_before, const std::string& friend_id) {
    auto held = store->held_deliveries(friend_id, created_before);
    // On a shared store, each worker releases the deliveries of the friends it holds.
    held.erase(std::remove_if(held.begin(), held.end(), [&](const OutboxRow& h) { return !writes(h.friend_id); }),
               held.end());
    for (const auto& h : held) {
      std::string rendered = h.messages;
      if (auto row = engine->store().find(h.friend_id)) {
        std::vector<plan::MessageId> ids;
        const auto names = json::parse(h.message_names, nullptr, false);
        const auto& all = engine->schema().messages;
        for (const auto& n : names.is_array() ? names : json::array()) {
          auto it = std::find(all.begin(), all.end(), n.is_string() ? n.get<std::string>() : std::string());
          if (it != all.end()) ids.push_back(static_cast<plan::MessageId>(it - all.begin()));
        }
        if (!ids.empty() && ids.size() == names.size()) rendered = engine->render(ids, *row);
      }
      store->release_delivery(h.id, rendered);
      metrics.held_released(friend_id.empty() ? "waited" : "profile");
    }
    return held.size();
  }

  // A profile came back from LINE: into the friend's state, then their held deliveries go out.
  void profile_arrived(ProfileAnswer a) {
    if (!a.answered) return;  // held deliveries go out at their time limit, with the fallbacks
    auto job = std::make_shared<Job>();
    job->apply = [this, a = std::move(a)] {
      if (!writes(a.friend_id)) {
        // The friend's partition moved to another worker meanwhile: the profile is kept for it.
        store->save_profile(Profile{a.friend_id, a.display_name, a.language, wall_ms() / 1000, a.found});
        return;
      }
      const std::uint32_t row = engine->friend_row(a.friend_id);
      if (a.found) engine->set_profile(row, a.display_name, a.language);
      store->save_profile(Profile{a.friend_id, a.display_name, a.language, wall_ms() / 1000, a.found});
      release_held(std::numeric_limits<std::int64_t>::max(), a.friend_id);
    };
    auto f = job->done.get_future();
    {
      std::lock_guard<std::mutex> lock(qmu);
      if (stopping) return;
      queue.push_back(job);
    }
    qcv.notify_one();
    f.wait();
  }

  // Once at start and after a reload: what the project uses that this service cannot provide.
  void warn_about_needs() {
    const ProjectNeeds n = needs_of(engine->plan());
    if (n.clicks && !clicks) {
      log("the project reads link clicks, but without --public-url (and OKURI_LINK_KEY) links go out as declared and "
          "LINE "
          "reports no clicks: clicks can only arrive through POST /events");
    }
    if (n.notify && opt.notify_url.empty() && prog->account.staff.empty()) {
      log("the project uses `notify`, but there is nowhere to send notifications: give --notify-url, or staff LINE "
          "user ids "
          "in the project (`account { staff \"U…\" }`); until then they are counted and dropped");
    }
  }

  // Repeated requests for one token within this window count as one click (a double tap, a reload,
  // a retry after a lost answer): a sliding window from the last click counted.
  static constexpr std::int64_t kClickWindowSeconds = 10;

  void click(const HttpRequest& req, HttpResponse& res) {
    const auto t0 = std::chrono::steady_clock::now();
    res.set_header("Cache-Control", "no-store");
    res.set_header("Referrer-Policy", "no-referrer");
    auto not_found = [&](const char* why) {
      metrics.click(why);
      res.status = 404;
      res.set_content("not found\n", "text/plain");
    };
    if (!clicks) return not_found("invalid");
    const std::string token = req.matches[1];
    const auto t = clicks->open(token);
    if (!t) return not_found("invalid");  // forged, altered, or sealed with another key
    std::string url;
    {
      std::lock_guard<std::mutex> lock(cmu);
      auto it = links_now->find(t->link);
      if (it != links_now->end()) url = it->second;
    }
    if (url.empty()) return not_found("unknown_link");  // the link was removed from the project
    const auto q = req.target.find('?');
    const std::string target =
        with_query(url, q == std::string::npos ? std::string_view() : std::string_view(req.target).substr(q + 1));
    if (req.method == "HEAD" || is_link_preview_agent(req.header("User-Agent"))) {
      metrics.click("preview");
    } else {
      rt::InputEvent ev;
      ev.time_ms = wall_ms();
      ev.friend_id = t->friend_id;
      ev.type = "link_clicked";
      ev.arg = t->link;
      ev.fields["url"] = rt::FieldValue{true, 0, target};
      ev.webhook_event_id = fmt::format("click:{:016x}", XXH64(token.data(), token.size(), 0));
      ev.origin = "tracked link";
      const int status = submit({std::move(ev)});
      // The friend is sent on even when the click could not be stored: the page matters more.
      // (A stored click is counted by the writer, which alone knows whether it was a repeat.)
      if (status != 200) metrics.click("lost");
      if (status != 200) log(fmt::format("a click on `{}` could not be stored (status {})", t->link, status));
    }
    res.status = 302;
    res.set_header("Location", target);
    metrics.request_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  // Read under the writer's lock: the writer thread owns the engine.
  std::string friend_json(const std::string& id) {
    std::promise<std::string> out;
    auto f = out.get_future();
    {
      std::lock_guard<std::mutex> lock(qmu);
      if (stopping) return "null";
      reads.push_back([&] {
        const auto row = engine->store().find(id);
        if (!row) {
          out.set_value("null");
          return;
        }
        const rt::FriendStore& st = engine->store();
        json j;
        j["id"] = id;
        j["score"] = st.score[*row];
        json tags = json::array();
        for (std::size_t t = 0; t < st.tags.size(); ++t) {
          if (st.tags[t].get(*row)) tags.push_back(engine->schema().tags[t]);
        }
        j["tags"] = tags;
        j["blocked"] = st.blocked.get(*row);
        json scenarios = json::object();
        for (std::size_t k = 0; k < engine->flow_count(); ++k) {
          if (auto pos = engine->position(*row, k)) scenarios[engine->flow(k).name] = engine->flow(k).node(*pos).id;
        }
        j["inside"] = scenarios;
        out.set_value(j.dump());
      });
    }
    qcv.notify_one();
    return f.get();
  }

  void routes() {
    // Bodies arrive limited whatever their transfer encoding (http_server.cpp): `Content-Length`
    // past --max-body is refused before the body is read, a chunked body is cut off as it arrives,
    // and a compressed one is counted while it inflates — all before any signature check.
    http->route("POST", "/webhook", [this](const HttpRequest& req, HttpResponse& res) {
      const auto t0 = std::chrono::steady_clock::now();
      // The signature is checked on the body, before anything is parsed.
      if (!signature_ok(opt.channel_secret, req.body, req.header("X-Line-Signature"))) {
        metrics.reject("signature");
        res.status = 401;
        res.set_content("{\"message\":\"bad or missing X-Line-Signature\"}", "application/json");
        return;
      }
      accept(req.body, res, t0, [](rt::EventReader& r, const std::string& b) { return r.read_webhook(b); });
    });
    http->route("POST", "/events", [this](const HttpRequest& req, HttpResponse& res) {
      const auto t0 = std::chrono::steady_clock::now();
      if (!bearer_ok(req)) {
        metrics.reject("unauthorized");
        res.status = 401;
        res.set_content("{\"message\":\"a valid bearer token (OKURI_EVENTS_TOKEN) is required\"}", "application/json");
        return;
      }
      accept(req.body, res, t0,
             [](rt::EventReader& r, const std::string& b) { return r.read_jsonl("request body", b); });
    });
    // One friend's state, for operators (the same bearer token as /events).
    http->route("GET", R"(/friends/([^/]+))", [this](const HttpRequest& req, HttpResponse& res) {
      if (!bearer_ok(req)) {
        metrics.reject("unauthorized");
        res.status = 401;
        return;
      }
      res.set_content(friend_json(req.matches[1]), "application/json");
      if (res.body == "null") res.status = 404;
    });
    // A tracked link (`--public-url`): 302 to the link's URL; a real click is applied as
    // link_clicked through the same durable path as a webhook.
    http->route("GET", R"(/l/([A-Za-z0-9_-]{1,600}))",
                [this](const HttpRequest& req, HttpResponse& res) { click(req, res); });
    http->route("GET", "/healthz", [this](const HttpRequest&, HttpResponse& res) {
      std::string body = "ok\n";
      if (store->shared()) {
        // Which worker this is, and the partitions it holds (what a load balancer's operator asks).
        std::lock_guard<std::mutex> lock(held_mu);
        body += fmt::format("worker {}\npartitions {} of {}: {}\n", store->worker(), held_shown.size(), kPartitions,
                            partition_ranges(held_shown));
      }
      res.set_content(body, "text/plain");
    });
    http->route("GET", "/metrics", [this](const HttpRequest&, HttpResponse& res) {
      res.set_content(metrics_text(), "text/plain; version=0.0.4");
    });
  }
};

Service::Service(std::shared_ptr<const Program> p, ServeOptions options) : impl_(std::make_unique<Impl>(std::move(p), std::move(options))) {}

Service::~Service() {
  stop();
  if (impl_->writer.joinable()) impl_->writer.join();
  if (impl_->watcher.joinable()) impl_->watcher.join();
}

bool Service::reload(const std::string& why) { return impl_->reload(why); }


void Service::run() {
  Impl& m = *impl_;
  const bool shared = !m.opt.store_url.empty();
  const std::string where = shared ? pg_url_shown(m.opt.store_url) : m.opt.db_path;
  if (shared) {
    m.store = open_postgres_store(m.opt.store_url, m.opt.postgres);
    m.writing.clear();  // the engine starts with no friends; the partitions held are taken up below
    m.log(fmt::format("worker {} on {}", m.store->worker(), where));
  } else {
    m.store = open_sqlite_store(m.opt.db_path);
  }
  m.catalog = std::make_shared<const rt::EventCatalog>(*m.prog);
  m.links_now = Impl::link_urls(*m.prog);
  m.message_files = m.prog->message_files;
  const std::string sources = sources_of(*m.prog);
  std::int64_t shape = 0;
  {
    rt::Engine probe(*m.prog, rt::EngineOptions{});
    shape = project_shape(probe);
  }
  const std::int64_t saved = m.store->project_shape();
  if (saved != 0 && saved != shape) {
    // The states on disk were written by another version: load them with that version, then
    // move them to this one as a hot reload would.
    const std::string old_sources = m.store->project_sources(saved);
    if (old_sources.empty()) {
      throw std::runtime_error(fmt::format(
          "{} was written by a different version of the project, and does not hold that version's sources (it predates "
          "them): serve the version that wrote it once, so that it records itself, then this one",
          where));
    }
    if (shared && m.store->held().size() < kPartitions) {
      throw std::runtime_error(fmt::format(
          "{} is served by other workers running another version of the project: stop every worker, then start them "
          "with this version (the first one moves every friend to it; docs/scale-out.md, \"New versions\")",
          where));
    }
    std::shared_ptr<const Program> old_p = program_from(old_sources);
    if (old_p->diags.error_count() > 0) {
      throw std::runtime_error(
          fmt::format("the version of the project that wrote {} no longer compiles, so its friends cannot be "
                      "moved to this one:\n{}",
                      where, error_text(*old_p)));
    }
    std::shared_ptr<const Program> new_p = m.prog;
    m.prog = old_p;
    m.load_engine();
    if (shared) m.rebalance();
    m.log(fmt::format("{} was written by another version of the project: moving its friends to this one", where));
    if (!m.switch_to(new_p, std::make_unique<rt::Engine>(*new_p, m.opt.engine), sources)) {
      throw std::runtime_error("could not move the friends to this version of the project");
    }
  } else {
    m.load_engine();
    if (shared) m.rebalance();
    if (m.store->project_sources(shape) != sources) {
      m.in_transaction([&] {
        m.store->set_project(shape, sources);
        return true;
      });
    }
  }
  m.running_sources = sources;
  m.warn_about_needs();
  if (shared) {
    // Replies left in flight were settled as their partitions were taken up (catch_up).
    m.log(fmt::format("{} friends of {} loaded ({} of {} partitions)", m.engine->store().size(), where,
                      m.writing.size(), kPartitions));
  } else {
    if (const auto n = m.store->settle_inflight(); n > 0) {
      m.log(fmt::format("{} repl{} in flight when the process stopped: marked uncertain, not sent again", n,
                        n == 1 ? "y was" : "ies were"));
    }
    m.log(fmt::format("{} friends loaded from {}", m.store->counts().friends, where));
  }
  if (m.opt.profiles) {
    m.profiles = std::make_unique<ProfileFetcher>(
        ProfileFetcher::Options{m.opt.line_api, m.opt.access_token, m.opt.profile_rate, m.opt.request_timeout, 3},
        [&m](ProfileAnswer a) { m.profile_arrived(std::move(a)); });
    // Deliveries still held when the process stopped: their profiles are asked for again.
    for (const auto& h : m.store->held_deliveries({}, std::numeric_limits<std::int64_t>::max()))
      m.profiles->want(h.friend_id);
  }
  m.writer = std::thread([&m] { m.writer_loop(); });
  m.sender =
      std::make_unique<Sender>(*m.store, m.sender_options(), m.metrics, [&m](const std::string& line) { m.log(line); });
  if (shared) m.share_rates();
  m.sender->start();
  if (shared) {
    m.ingest = std::make_unique<InboxIngest>(
        *m.store, m.metrics, Impl::kClickWindowSeconds, static_cast<std::size_t>(m.opt.max_batch),
        [&m] {
          {
            std::lock_guard<std::mutex> lock(m.qmu);
            m.inbox_nudged = true;
          }
          m.qcv.notify_one();
        },
        [&m](const std::string& line) { m.log(line); });
    m.keeper = std::make_unique<LeaseKeeper>(
        *m.store, m.opt.postgres.renew_ms, [&m] { m.leases_changed = true; },
        [&m](const std::string& line) { m.log(line); });
  }
  m.quota = std::make_unique<QuotaWatcher>(
      m.opt.line_api, m.opt.access_token, m.opt.request_timeout, m.opt.quota_interval,
      [&m](const Quota&) { m.quota_read(); }, [&m](const std::string& line) { m.log(line); });
  m.ready = true;
  if (m.opt.watch && !m.opt.project_path.empty()) m.watcher = std::thread([&m] { m.watch_loop(); });
  m.routes();
  int port = m.opt.port;
  if (port == 0) {
    port = m.http->bind(m.opt.host, 0);
  } else if (m.http->bind(m.opt.host, port) < 0) {
    port = -1;
  }
  if (port <= 0) {
    m.shut_down();
    throw std::runtime_error(fmt::format("cannot listen on {}:{}", m.opt.host, m.opt.port));
  }
  m.bound_port = port;
  m.log(fmt::format("listening on http://{}:{} (webhook: POST /webhook; events: POST /events; /healthz, /metrics)", m.opt.host, port));
  m.http->run();
  m.shut_down();
  m.log("stopped; everything accepted is committed");
}

void Service::stop() { impl_->http->stop(); }

int Service::port() const { return impl_->bound_port; }

}  // namespace okuri::svc
