// The sender: drains the outbox to the Messaging API (and staff notifications to --notify-url)
// with many requests in flight, each endpoint paced at LINE's rate for it, and the outcomes
// committed to the store in groups.
//
// Threads: one dispatcher reads due rows, records replies as in flight before they go out,
// hands the rows to the workers and commits what they report; each worker holds one kept-alive
// connection. Exactly-once does not rest on the commit of an outcome: a push or multicast carries
// its retry key (a repeat after a crash is answered 409 and counted as sent), and a reply is on
// disk as in flight before its request, so after a crash it is `uncertain`, never sent again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "service/aggregation_units.hpp"
#include "service/metrics.hpp"
#include "service/rate_limiter.hpp"
#include "service/store.hpp"

namespace okuri::svc {

class LineApi;
struct LineAnswer;

struct SenderOptions {
  std::string line_api = "https://api.line.me";
  std::string access_token;
  std::string notify_url;  // empty: no notification rows are made
  int connections = 128;   // requests in flight: at 50 ms an answer, 128 reach LINE's 2,000/s
  int request_timeout = 15;
  // Requests per second, per endpoint (LINE's published limits).
  double push_rate = 2000, reply_rate = 2000, multicast_rate = 200, menu_rate = 1000;
  double narrowcast_rate = 60.0 / 3600, broadcast_rate = 60.0 / 3600;  // LINE: 60 an hour each
  double audience_rate = 1;  // audience uploads
  double progress_rate = 10;  // progress and audience status reads
  int progress_every = 5;     // seconds between reads of a narrowcast's progress
};

class Sender {
 public:
  using Log = std::function<void(const std::string&)>;
  Sender(Store& store, SenderOptions opt, Metrics& metrics, Log log);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void start();
  // Finishes the requests in flight, commits their outcomes, and stops. Idempotent.
  void stop();
  // New rows are in the outbox.
  void wake();
  // The part of the channel's rate limits this process may use (several workers on one channel).
  void set_share(double share);

 private:
  enum class Endpoint { push, reply, multicast, menu, notify, broadcast, narrowcast };
  void dispatch_loop();
  void work_loop();
  std::size_t commit_outcomes();
  std::vector<OutboxRow> claim_replies(std::vector<OutboxRow> replies);
  // Whether the leases of every friend `r` reaches are certain now (Store::sure_to_hold).
  bool lease_certain(const OutboxRow& r);
  // The dispatcher's turn over unsure_.
  void recheck_unsure();
  OutboxRow send(LineApi& api, OutboxRow r);
  OutboxRow send_reply(LineApi& api, OutboxRow r);
  OutboxRow send_keyed(LineApi& api, OutboxRow r);  // push or multicast
  OutboxRow send_menu(LineApi& api, OutboxRow r);
  OutboxRow send_notification(OutboxRow r);
  // LINE sends to friends it chooses (line_wide_sender.cpp).
  OutboxRow send_broadcast(LineApi& api, OutboxRow r);
  OutboxRow send_narrowcast(LineApi& api, OutboxRow r);
  // One step of a narrowcast's audience: create it, add the next ids, or see whether LINE has it
  // ready. True when it is ready; otherwise `r` says when to come back (or that it failed).
  bool prepare_audience(LineApi& api, OutboxRow& r);
  // A narrowcast row's recipients, parsed once while its audience is being uploaded.
  std::shared_ptr<const std::vector<std::string>> audience_ids(const OutboxRow& r);
  void forget_audience_ids(std::int64_t row);
  void delete_audience(LineApi& api, const OutboxRow& r);
  void follow_progress(LineApi& api, OutboxRow& r);
  // A broadcast LINE accepted: its day's count of broadcast messages, once LINE has it.
  void count_broadcast(LineApi& api, OutboxRow& r);
  // A broadcast or narrowcast LINE did not accept: the monthly limit, again later, or refused.
  void not_accepted(OutboxRow& r, const LineAnswer& a, const std::string& what, RateLimiter& rate);
  // LINE refused for good (a 4xx): the delivery failed, and the log says why.
  void refused(OutboxRow& r, const LineAnswer& a, const std::string& what);
  // A 5xx, a 429 or no answer: again later, unless LINE's 24-hour hold of the retry key would lapse.
  void retry_later(OutboxRow& r, const LineAnswer& a, RateLimiter& rate);
  RateLimiter& limiter(Endpoint e);
  static Endpoint endpoint_of(const OutboxRow& r);
  std::int64_t backoff(std::int64_t attempts);

  Store& store_;
  SenderOptions opt_;
  Metrics& metrics_;
  Log log_;
  RateLimiter push_rate_, reply_rate_, multicast_rate_, menu_rate_, notify_rate_;
  RateLimiter narrowcast_rate_, broadcast_rate_, audience_rate_, progress_rate_;

  std::atomic<bool> stop_{false};
  std::mutex mu_;  // guards work_, unsure_, outcomes_, in_flight_ and rng_
  std::condition_variable work_cv_, dispatch_cv_;
  std::deque<OutboxRow> work_;
  std::vector<OutboxRow> outcomes_;
  std::set<std::int64_t> in_flight_;  // row ids handed out and not yet committed, or not yet claimed
  // The dispatcher's: replies whose claim failed. Its commit may have landed all the same (the
  // connection lost while committing), so they are neither sent nor read again until a claim is known.
  std::vector<OutboxRow> unclaimed_;
  // Rows a worker did not send because the lease on their friend's partition was no longer
  // certain (Store::sure_to_hold): the dispatcher hands them out again once it is, or forgets
  // them once the partition is lost (its new owner sends them). Guarded by mu_.
  std::vector<OutboxRow> unsure_;
  std::mutex audience_mu_;                                                                // guards audience_ids_
  std::map<std::int64_t, std::shared_ptr<const std::vector<std::string>>> audience_ids_;  // by outbox row
  AggregationUnits units_;                      // LINE's unit names of the month (--aggregation-units)
  std::atomic<bool> units_full_logged_{false};  // said once that new units go without
  bool claims_failing_ = false;  // the dispatcher's: a claim failed and none has gone through since
  std::uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  std::thread dispatcher_;
  std::vector<std::thread> workers_;
};

}  // namespace okuri::svc
