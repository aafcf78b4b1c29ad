// `okuri serve`: the engine kept durable in a Store, LINE webhooks and custom
// events over HTTP, a timer loop, and a sender that drains the outbox to the
// Messaging API exactly once (X-Line-Retry-Key).
//
// Hot reload (SIGHUP, or a changed file when watching): the new version is compiled
// off the writer, then the writer moves every friend to it between two batches.
//
// Threads: HTTP handlers verify and parse a request, then hand its events to
// the one writer thread and wait; the writer takes every request queued so far,
// runs their events (and the timers due by now) through the engine, writes the
// friends they changed and the deliveries they made in one transaction (group
// commit), and only then are the requests answered 200. The sender thread
// reads the outbox on its own connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "compiler/program.hpp"
#include "runtime/engine.hpp"
#include "service/store.hpp"
#include "service/webhook_signature.hpp"

namespace okuri::svc {

struct ServeOptions {
  std::string db_path;
  // A shared store instead of the SQLite file (postgresql://…): several workers, leased partitions.
  std::string store_url;
  PostgresOptions postgres;
  std::string project_path;  // what reload() compiles (a folder or a file); empty: no reloads
  bool watch = true;         // reload when a `.okuri` file of the project changes
  int watch_interval_ms = 1000;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string line_api = "https://api.line.me";  // the Messaging API base URL
  std::string channel_secret;                     // LINE_CHANNEL_SECRET
  std::string access_token;                       // LINE_CHANNEL_ACCESS_TOKEN
  std::string events_token;                       // OKURI_EVENTS_TOKEN (empty: /events is closed)
  std::size_t max_body = 1 << 20;                 // bytes
  int http_request_seconds = 10;                  // a request's header and body must arrive within this
  std::size_t max_connections = 4096;             // open HTTP connections at most (beyond: closed at once)
  double push_rate = 2000;                        // push (and reply) requests per second (LINE's limit)
  double multicast_rate = 200;                    // multicast requests per second (LINE's limit)
  double audience_rate = 1;                       // audience uploads (POST/PUT audienceGroup/upload) per second
  double progress_rate = 10;                      // reads of narrowcast progress and audience status per second
  double narrowcast_per_hour = 60;                // narrowcast and broadcast requests per hour (LINE's limit)
  int progress_every = 5;                         // seconds between reads of a narrowcast's progress
  // When a broadcast needs more messages than this month's quota has left: hold it whole (the
  // default), or send what the quota covers (LINE's upToRemainingQuota for a narrowcast).
  bool quota_up_to_remaining = false;
  int connections = 128;                          // requests to LINE in flight at once
  // Pushes and multicasts name their scenario or broadcast in customAggregationUnits, for LINE's
  // per-unit statistics. Off by default: LINE takes it only from accounts approved for it.
  bool aggregation_units = false;
  int quota_interval = 60;                        // seconds between reads of the month's quota
  int request_timeout = 15;                       // seconds to wait for the Messaging API's answer
  int max_batch = 512;                            // requests per transaction at most
  // Click tracking: links go out as redirects under this URL (https://example.com), sealed with
  // OKURI_LINK_KEY. Empty: links as declared (clicks arrive only through POST /events).
  std::string public_url;
  std::string link_key;
  // Staff notifications (`notify`): POSTed as JSON to this URL (empty: none), and pushed to the
  // project's `account { staff … }` LINE user ids.
  std::string notify_url;
  // LINE profiles: fetched on follow and before a delivery that reads one; refreshed when older.
  bool profiles = true;
  int profile_wait = 3;                      // seconds a delivery that reads the profile waits for it
  std::int64_t profile_max_age = 7 * 86400;  // seconds
  double profile_rate = 2000;                // profile requests per second at most
  rt::EngineOptions engine;
  bool quiet = false;                             // no log lines on stderr
};

class Service {
 public:
  // `p` is the project as compiled now (without errors).
  Service(std::shared_ptr<const Program> p, ServeOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Opens the store, loads every friend, fires overdue timers, then serves until stop().
  // Throws StoreError or std::runtime_error when it cannot start.
  void run();
  // Stops accepting requests, finishes the queued ones, commits, stops the sender. Safe from a signal-watching thread.
  void stop();
  // Hot reload: recompiles the project (options.project_path). With errors, the running version
  // goes on and the diagnostics are logged. Otherwise the writer switches between two batches:
  // every friend is taken over by the new version (each scenario's `on_update`), and the states,
  // the deliveries this makes and the new version's sources commit in one transaction.
  // Returns whether the new version runs. Safe from any thread; `why` is for the log.
  bool reload(const std::string& why);
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace okuri::svc
