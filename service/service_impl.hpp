// The service's inside (service.cpp and its rooms): one struct the files share, each file one
// job — service.cpp (start, stop, the engine's loading, metrics), service_writer.cpp (the
// batching writer: events, timers, outputs into the outbox, held deliveries, the quota),
// service_shared.cpp (a shared store: the inbox, leases and catch-up), service_reload.cpp (hot
// reload and the watcher) and service_http.cpp (the endpoints). Private to service/.
#pragma once

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
#include "service/profile_fetcher.hpp"
#include "service/project_version.hpp"
#include "service/quota.hpp"
#include "service/request_intake.hpp"
#include "service/sender.hpp"
#include "service/service.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::svc {

using nlohmann::json;

// A request's events (or the service's own work) handed to the writer, and the HTTP status it answers with.
struct Job {
  std::vector<rt::InputEvent> events;
  std::function<void()> apply;  // work of the service's own (a fetched profile), run inside the batch
  std::promise<int> done;       // the HTTP status to answer
};

// 0-15,32,40-41: partitions as a person reads them.
std::string partition_ranges(const PartitionSet& parts);

inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Service::Impl {
  std::shared_ptr<const Program> prog;  // the version running (the writer's; swapped by switch_to)
  ServeOptions opt;
  std::unique_ptr<Store> store;
  std::unique_ptr<rt::Engine> engine;
  std::shared_ptr<const rt::EventCatalog> catalog;  // what requests are parsed against (HTTP threads: under cmu)
  std::mutex cmu;
  std::mutex reload_mu;         // one reload at a time
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

  std::unique_ptr<ClickLinks> clicks;        // with --public-url: declared links go out as tracked redirects
  std::unique_ptr<ProfileFetcher> profiles;  // LINE profiles, unless --no-profiles
  std::unique_ptr<QuotaWatcher> quota;       // the month's message quota, read periodically
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

  Impl(std::shared_ptr<const Program> p, ServeOptions o);

  std::shared_ptr<const rt::EventCatalog> current_catalog() {
    std::lock_guard<std::mutex> lock(cmu);
    return catalog;
  }
  // The declared links of the running version, by name (what a click redirects to): under cmu.
  std::shared_ptr<const std::map<std::string, std::string>> links_now;
  std::vector<std::string> message_files;  // the JSON message files of the last compile (the watcher's): under cmu
  static std::shared_ptr<const std::map<std::string, std::string>> link_urls(const Program& p);

  void log(const std::string& line) const {
    if (!opt.quiet) std::cerr << "okuri serve: " << line << "\n";
  }

  // A fresh engine with every friend's saved state; overdue timers are armed (they fire at the next batch).
  void load_engine();

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
  void save_stats(bool own, bool force = false);
  std::chrono::steady_clock::time_point stats_saved{};
  std::string stats_last;  // as last saved
  std::int64_t shape = 0;  // of the running version

  // Into the open batch: the friends the engine changed, its deliveries and menu links since
  // the last call. False when there was nothing.
  bool write_outputs(std::int64_t created);

  // Moves every friend to a new version (its engine `ne`, not yet started) and commits the states,
  // the deliveries that made and the version's sources together. On the writer thread, or before
  // it starts. On failure nothing changed: the running version goes on.
  bool switch_to(std::shared_ptr<const Program> np, std::unique_ptr<rt::Engine> ne, const std::string& sources);

  bool reload(const std::string& why);

  void stop_watching();

  std::vector<std::string> watched_messages() {
    std::lock_guard<std::mutex> lock(cmu);
    return message_files;
  }

  void watch_loop();

  // One event through the engine, inside a batch.
  void apply_event(rt::InputEvent& ev, std::int64_t now_ms);

  // One transaction for every queued request (and the timers due by now).
  void batch(std::vector<std::shared_ptr<Job>>& jobs);

  void writer_loop();

  // ------------------------------------------------------- a shared store (several workers)

  static constexpr int kInboxPollMs = 20;
  // Before a broadcast goes out the quota is read again, waiting this long for LINE at most.
  static constexpr int kQuotaReadSeconds = 2;
  bool inbox_nudged = false;  // under qmu: this worker's ingest committed events
  std::chrono::steady_clock::time_point last_turn{};

  // One turn of the writer on a shared store: follow the leases, then one batch of the inbox of
  // the partitions it writes (and the timers due), when there is anything to do.
  void shared_turn(std::vector<std::shared_ptr<Job>>& jobs);

  // One transaction: the oldest inbox events of the partitions written, then the timers due by
  // now (by `until_s` when catching up). Returns whether the inbox may hold more (the batch took
  // as many as it could).
  bool inbox_batch(std::vector<std::shared_ptr<Job>>* jobs, std::optional<std::int64_t> until_s = std::nullopt);

  // The partitions held changed (taken, given back, lost): the engine moves to them. Partitions
  // taken from another worker first catch up alone to this engine's clock (their inbox and their
  // timers in their own order), so that the friends already here see no timer or broadcast twice.
  void rebalance();

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
  void catch_up(const PartitionSet& gained, std::int64_t until);

  int submit(std::vector<rt::InputEvent> events);

  // ---------------------------------------------------------------- HTTP

  std::string metrics_text();

  // `Authorization: Bearer $OKURI_EVENTS_TOKEN`, compared in constant time.
  bool bearer_ok(const HttpRequest& req) const {
    const std::string auth = req.header("Authorization");
    const std::string want = "Bearer " + opt.events_token;
    return !opt.events_token.empty() && auth.size() == want.size() &&
           CRYPTO_memcmp(auth.data(), want.data(), want.size()) == 0;
  }

  // Answers a request from what its body gave (request_intake.hpp): the refusal, or 200 once its
  // events are committed.
  void answer(Intake in, HttpResponse& res, std::chrono::steady_clock::time_point t0);

  SenderOptions sender_options() const;

  // The one way the service stops, once HTTP no longer accepts requests: the watcher stops, the
  // writer finishes every queued request and commits, then the profile fetcher and the sender stop.
  void shut_down();

  // What may still be sent this month: LINE's figures as last read, less what was handed to LINE
  // since and what waits in the outbox. None while LINE has not answered, or has no limit.
  std::optional<std::int64_t> quota_remaining();

  static std::int64_t recipients_of(const OutboxRow& r) {
    return r.kind == "multicast" ? static_cast<std::int64_t>(json::parse(r.recipients).size()) : 1;
  }

  // A broadcast is sent whole or not at all: one that needs more messages than remain this month
  // is held (status `quota`) until the quota allows all of it.
  void hold_over_quota(std::vector<OutboxRow>& rows, std::optional<std::int64_t>& remaining);

  // Keeps the first `left` recipients of broadcast `name` in `rows`; the rest are marked unsent
  // (a multicast cut in two leaves its tail in `beyond`, a row of its own).
  static void cut_to_quota(std::vector<OutboxRow>& rows, const std::string& name, std::int64_t left,
                           std::vector<OutboxRow>& beyond);

  // New quota figures from LINE: held broadcasts that now fit go out, oldest first.
  void quota_read();

  // Held deliveries go out, rendered again from the friend's state now: those of one friend whose
  // profile arrived, or every one held since before `created_before` (it waited long enough).
  // Returns how many went out.
  std::size_t release_held(std::int64_t created_before, const std::string& friend_id);

  // A profile came back from LINE: into the friend's state, then their held deliveries go out.
  void profile_arrived(ProfileAnswer a);

  // Once at start and after a reload: what the project uses that this service cannot provide.
  void warn_about_needs();

  // Repeated requests for one token within this window count as one click (a double tap, a reload,
  // a retry after a lost answer): a sliding window from the last click counted.
  static constexpr std::int64_t kClickWindowSeconds = 10;

  void click(const HttpRequest& req, HttpResponse& res);

  // Read under the writer's lock: the writer thread owns the engine.
  std::string friend_json(const std::string& id);

  void routes();
};

}  // namespace okuri::svc
