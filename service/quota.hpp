// The month's message quota as LINE reports it (GET /v2/bot/message/quota and
// /v2/bot/message/quota/consumption), read periodically off the writer and again before each
// broadcast goes out: the service holds a broadcast that needs more messages than remain,
// rather than send part of it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace okuri::svc {

class LineApi;

struct Quota {
  bool limited = false;      // LINE's type `limited`: a target limit is set for the month
  std::int64_t limit = 0;    // messages this month (when limited)
  std::int64_t used = 0;     // messages sent this month (LINE counts one per recipient)
  std::int64_t fetched = 0;  // seconds since the epoch
  // What remains (a very large number when there is no limit).
  std::int64_t remaining() const { return limited ? limit - used : INT64_MAX; }
};

class QuotaWatcher {
 public:
  static constexpr std::int64_t kFollowersEvery = 3600;  // seconds between counts of the account's friends
  using Updated = std::function<void(const Quota&)>;
  using Log = std::function<void(const std::string&)>;
  QuotaWatcher(std::string line_api, std::string access_token, int timeout, int every_seconds, Updated updated,
               Log log);
  ~QuotaWatcher();
  QuotaWatcher(const QuotaWatcher&) = delete;
  QuotaWatcher& operator=(const QuotaWatcher&) = delete;

  // The last figures read (none until LINE first answered).
  std::optional<Quota> latest() const;
  // How many friends LINE lists for the account (GET /v2/bot/followers/ids, counted at start and
  // hourly): the reach of a broadcast to every friend. None when LINE does not list them (it
  // does for verified and premium accounts only) or has not answered yet.
  std::optional<std::int64_t> followers() const;
  // Reads them now, on the caller's thread, waiting at most `timeout_seconds` for LINE (before a
  // broadcast goes out); the last figures read when LINE does not answer.
  std::optional<Quota> read_now(int timeout_seconds);
  void stop();

 private:
  void loop();
  std::optional<Quota> read(LineApi& api, std::string& failure);
  void count_followers(LineApi& api);
  std::string line_api_, token_;
  int timeout_, every_;
  Updated updated_;
  Log log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::optional<Quota> latest_;
  std::optional<std::int64_t> followers_;
  std::int64_t followers_counted_ = INT64_MIN / 2;  // seconds; the loop's own
  bool followers_unlisted_ = false;                 // LINE refused to list them: not asked again
  std::thread thread_;
};

}  // namespace okuri::svc
