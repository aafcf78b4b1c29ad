#include "service/sender.hpp"

#include "service/profile_fetcher.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "service/line_api.hpp"
#include "service/request_intake.hpp"

namespace okuri::svc {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// LINE keeps a retry key for 24 hours: a retry later than that could deliver twice.
constexpr std::int64_t kRetryHorizon = 23 * 3600;
// How long a reply token is tried again after a connection that failed before the request went out.
constexpr std::int64_t kReplyTokenFresh = 50;
// After LINE's "monthly limit" answer, how long pushes wait before one is tried again.
constexpr std::int64_t kMonthlyLimitPause = 600;
// The dispatcher reads more rows when fewer than this many per connection are in flight.
constexpr std::size_t kQueuedPerConnection = 4;
// Outcomes are committed when this many are waiting, or every kCommitEvery.
constexpr std::size_t kCommitGroup = 256;
constexpr auto kCommitEvery = std::chrono::milliseconds(20);

// "https://hooks.example.com/okuri?x=1" → {"https://hooks.example.com", "/okuri?x=1"}.
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

}  // namespace

Sender::Sender(Store& store, SenderOptions opt, Metrics& metrics, Log log)
    : store_(store),
      opt_(std::move(opt)),
      metrics_(metrics),
      log_(std::move(log)),
      push_rate_(opt_.push_rate),
      reply_rate_(opt_.reply_rate),
      multicast_rate_(opt_.multicast_rate),
      menu_rate_(opt_.menu_rate),
      notify_rate_(50),
      narrowcast_rate_(opt_.narrowcast_rate),
      broadcast_rate_(opt_.broadcast_rate),
      audience_rate_(opt_.audience_rate),
      progress_rate_(opt_.progress_rate) {}

Sender::~Sender() { stop(); }

void Sender::start() {
  dispatcher_ = std::thread([this] { dispatch_loop(); });
  for (int k = 0; k < std::max(1, opt_.connections); ++k) workers_.emplace_back([this] { work_loop(); });
}

void Sender::stop() {
  stop_ = true;
  work_cv_.notify_all();
  dispatch_cv_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
  {
    // Replies claimed (or whose claim's answer was lost) and never begun are unsent for
    // certain: pending again, rather than `uncertain` at the next start. The other rows not
    // begun are pending in the store still.
    std::vector<OutboxRow> unsent;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& r : work_) {
        if (r.status == "replying") unsent.push_back(std::move(r));
      }
      work_.clear();
      for (auto& r : unsure_) {
        if (r.status == "replying") unsent.push_back(std::move(r));  // put back only if the lease still holds
      }
      unsure_.clear();
      for (auto& r : unclaimed_) unsent.push_back(std::move(r));
      unclaimed_.clear();
    }
    try {
      store_.release_claims(unsent);
    } catch (const std::exception& e) {
      log_(fmt::format("putting back {} unsent repl{}: {}; they are uncertain at the next start", unsent.size(),
                       unsent.size() == 1 ? "y" : "ies", e.what()));
    }
  }
  try {
    commit_outcomes();  // what the last requests answered
  } catch (const std::exception& e) {
    log_(fmt::format("recording the last sends: {}", e.what()));
  }
}

void Sender::wake() { dispatch_cv_.notify_one(); }

std::int64_t Sender::backoff(std::int64_t attempts) {
  const double base = std::min(300.0, std::pow(2.0, static_cast<double>(std::min<std::int64_t>(attempts, 10))));
  std::uint64_t x;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    x = rng_;
  }
  const double jitter = 0.5 + static_cast<double>(x % 1000) / 1000.0;  // 0.5 to 1.5
  return static_cast<std::int64_t>(std::ceil(base * jitter));
}

Sender::Endpoint Sender::endpoint_of(const OutboxRow& r) {
  if (r.kind == "menu") return Endpoint::menu;
  if (r.kind == "notify") return Endpoint::notify;
  if (r.kind == "multicast") return Endpoint::multicast;
  if (r.kind == "broadcast") return Endpoint::broadcast;
  if (r.kind == "narrowcast") return Endpoint::narrowcast;
  return r.reply ? Endpoint::reply : Endpoint::push;
}

RateLimiter& Sender::limiter(Endpoint e) {
  switch (e) {
    case Endpoint::push:
      return push_rate_;
    case Endpoint::reply:
      return reply_rate_;
    case Endpoint::multicast:
      return multicast_rate_;
    case Endpoint::menu:
      return menu_rate_;
    case Endpoint::notify:
      return notify_rate_;
    case Endpoint::broadcast:
      return broadcast_rate_;
    case Endpoint::narrowcast:
      return narrowcast_rate_;
  }
  return push_rate_;
}

void Sender::set_share(double share) {
  for (RateLimiter* r : {&push_rate_, &reply_rate_, &multicast_rate_, &menu_rate_, &notify_rate_, &narrowcast_rate_,
                         &broadcast_rate_, &audience_rate_, &progress_rate_}) {
    r->set_share(share);
  }
}

std::size_t Sender::commit_outcomes() {
  std::vector<OutboxRow> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done.swap(outcomes_);
  }
  if (done.empty()) return 0;
  try {
    store_.update_deliveries(done);
  } catch (const std::exception& e) {
    // Not recorded yet (the database is away): kept, and tried again at the next turn — what LINE
    // answered stays true. If the process stops first, the rows are still pending in the store and
    // go out again with the same retry keys (LINE answers 409 to those it accepted), and replies
    // are `replying` there: uncertain at the next start.
    log_(fmt::format("recording {} send outcome(s): {}; trying again", done.size(), e.what()));
    std::lock_guard<std::mutex> lock(mu_);
    outcomes_.insert(outcomes_.begin(), std::make_move_iterator(done.begin()), std::make_move_iterator(done.end()));
    return 0;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : done) in_flight_.erase(r.id);
  return done.size();
}

// A reply is on disk as in flight before its request leaves: if the process dies then, the reply
// may have arrived, and its token must not be used again. Returns the replies to send.
std::vector<OutboxRow> Sender::claim_replies(std::vector<OutboxRow> replies) {
  if (replies.empty()) return replies;
  std::vector<std::int64_t> claimed;
  try {
    claimed = store_.claim_replies(replies);
  } catch (const std::exception& e) {
    // Claimed again at the next turn, unless the friend's partition went to another worker
    // meanwhile: that worker settles what this one left `replying`, and sends what is `pending`.
    // Said once until a claim goes through (the store may be away for a while).
    if (!claims_failing_) {
      log_(fmt::format("recording {} repl{} in flight: {}; trying again until the store answers", replies.size(),
                       replies.size() == 1 ? "y" : "ies", e.what()));
    }
    claims_failing_ = true;
    const PartitionSet held = store_.held();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& r : replies) {
      if (std::binary_search(held.begin(), held.end(), partition_of(r.friend_id))) {
        in_flight_.insert(r.id);
        unclaimed_.push_back(std::move(r));
      } else {
        in_flight_.erase(r.id);
      }
    }
    return {};
  }
  claims_failing_ = false;
  std::sort(claimed.begin(), claimed.end());
  std::vector<OutboxRow> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& r : replies) {
    if (std::binary_search(claimed.begin(), claimed.end(), r.id)) {
      r.status = "replying";
      out.push_back(std::move(r));
    } else {
      in_flight_.erase(r.id);  // sent or settled meanwhile (another worker held the friend's partition)
    }
  }
  return out;
}

// A multicast reaches friends of several partitions the writer held: each lease must hold.
bool Sender::lease_certain(const OutboxRow& r) {
  if (!store_.sure_to_hold(partition_of(r.friend_id))) return false;
  if (r.kind != "multicast" || !store_.shared()) return true;
  const auto ids = nlohmann::json::parse(r.recipients, nullptr, false);
  if (!ids.is_array()) return true;  // sending refuses it with the reason
  for (const auto& id : ids) {
    if (id.is_string() && !store_.sure_to_hold(partition_of(id.get<std::string>()))) return false;
  }
  return true;
}

// Rows held back for an uncertain lease: sent once it is certain again, forgotten once the
// partition is lost (the new owner sends what is pending, and settles a claimed reply as a crashed
// worker's).
void Sender::recheck_unsure() {
  std::vector<OutboxRow> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (unsure_.empty()) return;
    rows.swap(unsure_);
  }
  const PartitionSet held = store_.held();
  std::vector<OutboxRow> again, waiting;
  std::size_t lost = 0;
  for (auto& r : rows) {
    const std::uint32_t p = partition_of(r.friend_id);
    if (!std::binary_search(held.begin(), held.end(), p)) {
      ++lost;
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_.erase(r.id);
    } else {
      (lease_certain(r) ? again : waiting).push_back(std::move(r));
    }
  }
  if (lost > 0)
    log_(fmt::format("{} queued deliver{} left unsent: their partitions went to another worker", lost,
                     lost == 1 ? "y" : "ies"));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& r : again) work_.push_back(std::move(r));
  for (auto& r : waiting) unsure_.push_back(std::move(r));
  if (!again.empty()) work_cv_.notify_all();
}

void Sender::dispatch_loop() {
  const std::size_t low_water = static_cast<std::size_t>(std::max(1, opt_.connections)) * kQueuedPerConnection;
  while (!stop_) {
    commit_outcomes();
    recheck_unsure();
    std::size_t busy;
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy = in_flight_.size() - unclaimed_.size();  // those wait for their claim, not for LINE
    }
    bool idle = true;
    if (busy < low_water) {
      std::vector<OutboxRow> rows;
      try {
        rows = store_.due_deliveries(wall_seconds(), busy + low_water);
      } catch (const LeaseLost& e) {
        log_(fmt::format("{}: this process sends nothing more", e.what()));
        stop_ = true;
        break;
      } catch (const std::exception& e) {
        log_(fmt::format("reading the outbox: {}", e.what()));
      }
      std::vector<OutboxRow> fresh, replies;
      replies.swap(unclaimed_);
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& r : rows) {
          if (in_flight_.count(r.id) != 0) continue;
          (r.reply && r.kind == "message" ? replies : fresh).push_back(std::move(r));
        }
      }
      for (auto& r : claim_replies(std::move(replies))) fresh.push_back(std::move(r));
      if (!fresh.empty()) {
        idle = false;
        {
          std::lock_guard<std::mutex> lock(mu_);
          for (auto& r : fresh) {
            in_flight_.insert(r.id);
            work_.push_back(std::move(r));
          }
        }
        work_cv_.notify_all();
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    // Held-back claims wait at the idle pace; rows of an uncertain lease are looked at every turn.
    const bool waiting = in_flight_.size() > unclaimed_.size() || !unsure_.empty();
    dispatch_cv_.wait_for(lock, waiting || !idle ? kCommitEvery : std::chrono::milliseconds(250),
                          [&] { return stop_.load() || outcomes_.size() >= kCommitGroup; });
  }
}

void Sender::work_loop() {
  LineApi api(opt_.line_api, opt_.access_token, opt_.request_timeout);
  while (true) {
    OutboxRow r;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_.load() || !work_.empty(); });
      if (stop_) return;  // rows not begun: stop() sees to them
      r = std::move(work_.front());
      work_.pop_front();
    }
    // Queued while the lease held; a worker paused or cut off since must not send it now.
    if (!lease_certain(r)) {
      std::lock_guard<std::mutex> lock(mu_);
      unsure_.push_back(std::move(r));
      dispatch_cv_.notify_one();
      continue;
    }
    OutboxRow out;
    try {
      out = send(api, r);
    } catch (const std::exception& e) {
      // Nothing went out (the row could not be made into a request): tried again later, and logged.
      log_(fmt::format("sending delivery {}: {}", r.key, e.what()));
      out = std::move(r);
      if (out.reply) out.status = "pending";
      out.next_attempt = wall_seconds() + 60;
      out.error = e.what();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      outcomes_.push_back(std::move(out));
    }
    dispatch_cv_.notify_one();
  }
}

OutboxRow Sender::send(LineApi& api, OutboxRow r) {
  switch (endpoint_of(r)) {
    case Endpoint::reply:
      return send_reply(api, std::move(r));
    case Endpoint::push:
    case Endpoint::multicast:
      return send_keyed(api, std::move(r));
    case Endpoint::menu:
      return send_menu(api, std::move(r));
    case Endpoint::notify:
      return send_notification(std::move(r));
    case Endpoint::broadcast:
      return send_broadcast(api, std::move(r));
    case Endpoint::narrowcast:
      return send_narrowcast(api, std::move(r));
  }
  return r;
}

void Sender::retry_later(OutboxRow& r, const LineAnswer& a, RateLimiter& rate) {
  const std::int64_t now = wall_seconds();
  std::int64_t wait = backoff(r.attempts);
  if (a.status == 429) {
    if (a.retry_after) wait = std::max<long long>(1, *a.retry_after);
    rate.pause_for(std::chrono::seconds(wait));  // LINE's limit is per endpoint: every connection waits
  }
  r.next_attempt = now + wait;
  r.error = a.describe();
  if (r.next_attempt - r.created > kRetryHorizon) {
    r.status = "uncertain";
    log_(fmt::format("delivery {} to {} is uncertain after {} attempts ({}): not sent again", r.key, r.friend_id,
                     r.attempts, r.error));
  }
}

OutboxRow Sender::send_reply(LineApi& api, OutboxRow r) {
  if (!reply_rate_.acquire(stop_)) {
    r.status = "pending";  // stopping before the request left: the token is unused
    return r;
  }
  ++r.attempts;
  const auto t0 = Clock::now();
  const LineAnswer a = api.reply(r.reply_token, r.messages);
  metrics_.send_latency.observe(std::chrono::duration<double>(Clock::now() - t0).count());
  const std::int64_t now = wall_seconds();
  if (a.ok()) {
    r.status = "sent";
    r.error.clear();
    metrics_.sent("reply_sent");
    return r;
  }
  r.error = a.describe();
  if ((a.never_sent || a.status == 429) && now - r.created < kReplyTokenFresh) {
    // The token was not used (the request never left, or LINE refused it for the rate): the
    // reply is tried again while the token is fresh, rather than billed as a push.
    r.status = "pending";
    r.next_attempt = now + (a.retry_after ? std::max<long long>(1, *a.retry_after) : 1);
    if (a.status == 429) reply_rate_.pause_for(std::chrono::seconds(r.next_attempt - now));
    metrics_.sent("reply_retry");
    return r;
  }
  if (a.status == 0 && !a.never_sent) {
    // The request went out and no answer came: it may have arrived, and a token cannot be used twice.
    r.status = "uncertain";
    r.error += "; the reply may have arrived, so it is not sent again";
    metrics_.sent("reply_uncertain");
    log_(fmt::format("reply {} to {} is uncertain ({})", r.key, r.friend_id, r.error));
    return r;
  }
  // LINE refused the reply (an expired token, for one), or the token went stale: it goes as a push, keyed for retries.
  r.reply = false;
  r.status = "pending";
  r.next_attempt = now;
  r.error = fmt::format("reply {}; sent as a push", a.describe());
  metrics_.sent("reply_failed_to_push");
  return r;
}

OutboxRow Sender::send_keyed(LineApi& api, OutboxRow r) {
  const bool multi = r.kind == "multicast";
  RateLimiter& rate = multi ? multicast_rate_ : push_rate_;
  const std::int64_t now0 = wall_seconds();
  if (const auto ahead = rate.backlog(); ahead > std::chrono::seconds(2)) {
    // The endpoint is paused (a long Retry-After, the monthly limit): back to the outbox, not pinning a connection.
    r.next_attempt = now0 + std::chrono::duration_cast<std::chrono::seconds>(ahead).count();
    return r;
  }
  if (!rate.acquire(stop_)) return r;
  ++r.attempts;
  const auto t0 = Clock::now();
  std::vector<std::string> to;
  if (multi) to = nlohmann::json::parse(r.recipients).get<std::vector<std::string>>();
  const std::string what = multi ? "multicast" : "push";
  // The statistics unit, within LINE's 1,000 names a month; past it the message goes without one.
  std::string unit = r.unit.empty() ? std::string() : units_.admit(api, r.unit, now0);
  auto request = [&] {
    return multi ? api.multicast(to, r.messages, r.key, unit) : api.push(r.friend_id, r.messages, r.key, unit);
  };
  LineAnswer a = request();
  if (!unit.empty() && refused_for_units(a.status, a.body)) {
    // Refused for its unit alone: nothing was sent (the retry key was not taken), so at once again without it.
    units_.refused(now0);
    unit.clear();
    if (!rate.acquire(stop_)) return r;  // stopping: still pending, tried again at the next start
    a = request();
  }
  if (unit != r.unit) {
    metrics_.sent(what + "_without_unit");
    if (!units_full_logged_.exchange(true)) {
      log_(
          fmt::format("LINE's {} aggregation unit names for the month are used: `{}` and later new units go "
                      "without customAggregationUnits (their messages are sent; their statistics are not "
                      "counted per unit)",
                      AggregationUnits::kMonthlyNames, r.unit));
    }
  }
  metrics_.send_latency.observe(std::chrono::duration<double>(Clock::now() - t0).count());
  const std::int64_t now = wall_seconds();
  if (a.status == 200 || a.status == 409) {
    r.status = "sent";  // 409: LINE accepted this retry key before
    r.error.clear();
    metrics_.sent(what + (a.status == 200 ? "_sent" : "_already_accepted"));
    if (multi) metrics_.multicast_recipients += to.size();
    if (a.status == 200) metrics_.messages_sent += multi ? to.size() : 1;  // LINE counts one message per recipient
    if (metrics_.monthly_limit.exchange(false)) log_("LINE accepts pushes again: the monthly limit no longer holds");
    return r;
  }
  if (a.monthly_limit()) {
    // Not a rate limit to wait out: nothing goes until the month ends or the plan changes. The
    // deliveries stay pending with LINE's answer, and one is tried again every 10 minutes.
    push_rate_.pause_for(std::chrono::seconds(kMonthlyLimitPause));
    multicast_rate_.pause_for(std::chrono::seconds(kMonthlyLimitPause));
    r.next_attempt = now + kMonthlyLimitPause;
    r.error = a.describe();
    metrics_.sent(what + "_monthly_limit");
    if (!metrics_.monthly_limit.exchange(true)) {
      log_(
          fmt::format("LINE {}: the month's message limit is reached; pushes and multicasts wait (tried again every "
                      "{} minutes) until the month ends or the plan is raised",
                      r.error, kMonthlyLimitPause / 60));
    }
    return r;
  }
  if (a.status == 429 || a.status == 0 || a.status >= 500) {
    metrics_.sent(what + (a.status == 429 ? "_throttled" : a.status == 0 ? "_no_answer" : "_server_error"));
    retry_later(r, a, rate);
    return r;
  }
  r.status = "failed";
  r.error = a.describe();
  metrics_.sent(what + "_failed");
  log_(fmt::format("delivery {} to {} failed: {}", r.key, multi ? fmt::format("{} friends", to.size()) : r.friend_id,
                   r.error));
  return r;
}

OutboxRow Sender::send_menu(LineApi& api, OutboxRow r) {
  // Linking a rich menu is idempotent: retried like a push, without a retry key.
  if (!is_line_user_id(r.friend_id)) {
    // `all`, `../` or `?x`: a friend id from your events that is not a LINE user id must never
    // become a path of LINE's API (`/v2/bot/user/all/richmenu/…` links every user's menu).
    r.status = "failed";
    r.error = "not a LINE user id (U followed by 32 hexadecimal digits): no rich menu linked";
    metrics_.sent("menu_failed");
    log_(fmt::format("linking rich menu {} to `{}` not tried: {}", r.messages, r.friend_id, r.error));
    return r;
  }
  if (!menu_rate_.acquire(stop_)) return r;
  ++r.attempts;
  const auto t0 = Clock::now();
  const LineAnswer a = api.link_rich_menu(r.friend_id, r.messages);
  metrics_.send_latency.observe(std::chrono::duration<double>(Clock::now() - t0).count());
  if (a.status == 200) {
    r.status = "sent";
    metrics_.sent("menu_linked");
  } else if (a.status == 429 || a.status == 0 || a.status >= 500) {
    metrics_.sent("menu_retry");
    retry_later(r, a, menu_rate_);
  } else {
    r.status = "failed";
    r.error = a.describe();
    metrics_.sent("menu_failed");
    log_(fmt::format("linking rich menu {} to {} failed: {}", r.messages, r.friend_id, r.error));
  }
  return r;
}

OutboxRow Sender::send_notification(OutboxRow r) {
  if (!notify_rate_.acquire(stop_)) return r;
  ++r.attempts;
  const auto t0 = Clock::now();
  const auto [base, path] = split_url(opt_.notify_url);
  httplib::Client cli(base);
  cli.set_connection_timeout(5);
  cli.set_read_timeout(opt_.request_timeout);
  // The same header on every retry: the receiver can drop a notification it already has.
  const httplib::Headers headers = {{"X-Okuri-Delivery", r.key}};
  auto res = cli.Post(path.c_str(), headers, r.messages, "application/json");
  metrics_.send_latency.observe(std::chrono::duration<double>(Clock::now() - t0).count());
  const int code = res ? res->status : 0;
  if (code >= 200 && code < 300) {
    r.status = "sent";
    r.error.clear();
    metrics_.sent("notify_sent");
  } else if (code == 0 || code == 429 || code >= 500) {
    r.next_attempt = wall_seconds() + backoff(r.attempts);
    r.error = code == 0 ? "no answer from the notification URL" : fmt::format("the notification URL answered {}", code);
    metrics_.sent("notify_retry");
    if (r.next_attempt - r.created > kRetryHorizon) {
      r.status = "failed";
      log_(fmt::format("notification {} gave up after {} attempts: {}", r.key, r.attempts, r.error));
    }
  } else {
    r.status = "failed";
    r.error = fmt::format("the notification URL answered {}", code);
    metrics_.sent("notify_failed");
    log_(fmt::format("notification {} failed: {}", r.key, r.error));
  }
  return r;
}

}  // namespace okuri::svc
