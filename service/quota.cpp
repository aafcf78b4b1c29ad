#include "service/quota.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "service/line_api.hpp"

namespace okuri::svc {

QuotaWatcher::QuotaWatcher(std::string line_api, std::string access_token, int timeout, int every_seconds,
                           Updated updated, Log log)
    : line_api_(std::move(line_api)),
      token_(std::move(access_token)),
      timeout_(timeout),
      every_(every_seconds),
      updated_(std::move(updated)),
      log_(std::move(log)) {
  thread_ = std::thread([this] { loop(); });
}

QuotaWatcher::~QuotaWatcher() { stop(); }

void QuotaWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<Quota> QuotaWatcher::latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

// Both figures, or nothing when LINE did not answer both; `failure` says why.
std::optional<Quota> QuotaWatcher::read(LineApi& api, std::string& failure) {
  const auto limit = api.get("/v2/bot/message/quota");
  const auto usage = limit.status == 200 ? api.get("/v2/bot/message/quota/consumption") : LineAnswer{};
  const auto lj = nlohmann::json::parse(limit.body, nullptr, false);
  const auto uj = nlohmann::json::parse(usage.body, nullptr, false);
  if (usage.status == 200 && lj.is_object() && uj.is_object() && lj.contains("type") && uj.contains("totalUsage") &&
      uj["totalUsage"].is_number_integer()) {
    Quota v;
    v.limited = lj["type"] == "limited";
    if (v.limited && lj.contains("value") && lj["value"].is_number_integer()) v.limit = lj["value"].get<std::int64_t>();
    v.used = uj["totalUsage"].get<std::int64_t>();
    v.fetched =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    {
      std::lock_guard<std::mutex> lock(mu_);
      latest_ = v;
    }
    updated_(v);
    return v;
  }
  failure = limit.status != 200 ? limit.describe() : usage.describe();
  return std::nullopt;
}

std::optional<std::int64_t> QuotaWatcher::followers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return followers_;
}

void QuotaWatcher::count_followers(LineApi& api) {
  std::int64_t n = 0;
  // 1,000 ids a page, up to a billion friends; stopped between pages when the service stops.
  const auto a =
      read_list(api, "/v2/bot/followers/ids?limit=1000", "userIds", 1000000, [&](std::vector<std::string>&& page) {
        n += static_cast<std::int64_t>(page.size());
        std::lock_guard<std::mutex> lock(mu_);
        return !stopping_;
      });
  if (a.status == 403) {
    followers_unlisted_ = true;
    log_(
        fmt::format("LINE does not list this account's friends ({}; verified and premium accounts only): a "
                    "broadcast to every friend is weighed against the quota by the friends okuri serve knows",
                    a.describe()));
    return;
  }
  if (a.status != 200) return;  // counted again at the next turn
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;  // cut short: not a count
  }
  followers_counted_ =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::optional<std::int64_t> before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = followers_;
    followers_ = n;
  }
  if (!before) log_(fmt::format("LINE lists {} friends of the account", n));
}

std::optional<Quota> QuotaWatcher::read_now(int timeout_seconds) {
  LineApi api(line_api_, token_, timeout_seconds);
  std::string failure;
  if (auto q = read(api, failure)) return q;
  return latest();
}

void QuotaWatcher::loop() {
  LineApi api(line_api_, token_, timeout_);
  bool said = false;  // a failure is logged once until LINE answers again
  while (true) {
    std::string failure;
    const auto q = read(api, failure);
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (!followers_unlisted_ && now - followers_counted_ >= kFollowersEvery) count_followers(api);
    if (q) {
      said = false;
    } else if (!said) {
      said = true;
      log_(fmt::format("cannot read the message quota from LINE ({}): broadcasts are sent without checking it",
                       failure));
    }
    // Without an answer, asked again soon: a broadcast may be about to go out.
    const int wait = q ? every_ : std::min(every_, 5);
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(wait), [&] { return stopping_; })) return;
  }
}

}  // namespace okuri::svc
