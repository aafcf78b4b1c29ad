// LINE profiles (GET /v2/bot/profile/{userId}) fetched off the writer: on follow, before a
// delivery that reads `{display_name}` or `{language}`, and when the saved one is old. The
// answers go back to the writer (deliver), which applies them to the friend's state durably.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "service/rate_limiter.hpp"

namespace okuri::svc {

struct ProfileAnswer {
  std::string friend_id;
  std::optional<std::string> display_name, language;
  bool found = false;     // LINE knows the friend (404: not a friend, or the account is blocked)
  bool answered = false;  // false: no usable answer after the retries (the held deliveries wait for their time limit)
};

class ProfileFetcher {
 public:
  struct Options {
    std::string line_api;
    std::string access_token;
    double rate = 2000;  // requests per second at most (LINE's limit for this endpoint)
    int timeout = 15;
    int attempts = 3;
    int connections = 8;  // requests in flight at once (LINE answers in tens of milliseconds)
  };
  using Deliver = std::function<void(ProfileAnswer)>;
  ProfileFetcher(Options o, Deliver deliver);
  ~ProfileFetcher();
  ProfileFetcher(const ProfileFetcher&) = delete;
  ProfileFetcher& operator=(const ProfileFetcher&) = delete;

  // Asks for a friend's profile (once while it is queued). Only LINE user ids are asked for.
  void want(const std::string& friend_id);
  void stop();
  // This process's part of the channel's profile rate (several workers on one channel).
  void set_share(double share) { rate_.set_share(share); }
  struct Counts {
    std::uint64_t fetched = 0, not_found = 0, failed = 0;
  };
  Counts counts() const;

 private:
  void loop();
  Options opt_;
  Deliver deliver_;
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;  // asked for and not yet answered: asked for once
  std::atomic<bool> stopping_{false};
  Counts counts_;
  RateLimiter rate_;
  std::vector<std::thread> workers_;
};

}  // namespace okuri::svc
