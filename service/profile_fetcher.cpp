#include "service/profile_fetcher.hpp"

#include "service/line_api.hpp"
#include "service/request_intake.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace okuri::svc {

ProfileFetcher::ProfileFetcher(Options o, Deliver deliver)
    : opt_(std::move(o)), deliver_(std::move(deliver)), rate_(opt_.rate) {
  for (int k = 0; k < std::max(1, opt_.connections); ++k) workers_.emplace_back([this] { loop(); });
}

ProfileFetcher::~ProfileFetcher() { stop(); }

void ProfileFetcher::stop() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

void ProfileFetcher::want(const std::string& friend_id) {
  if (!is_line_user_id(friend_id)) return;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_ || !queued_.insert(friend_id).second) return;
    queue_.push_back(friend_id);
  }
  queue_cv_.notify_one();
}

ProfileFetcher::Counts ProfileFetcher::counts() const {
  std::lock_guard<std::mutex> lock(queue_mu_);
  return counts_;
}

void ProfileFetcher::loop() {
  httplib::Client cli(opt_.line_api);
  cli.set_connection_timeout(5);
  cli.set_read_timeout(opt_.timeout);
  cli.set_keep_alive(true);
  const httplib::Headers headers = {{"Authorization", "Bearer " + opt_.access_token}};
  for (;;) {
    std::string id;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = std::move(queue_.front());
      queue_.pop_front();
    }
    ProfileAnswer a;
    a.friend_id = id;
    for (int attempt = 0; attempt < opt_.attempts && !a.answered; ++attempt) {
      if (!rate_.acquire(stopping_)) return;
      // The id was checked to be a LINE user id; it is escaped all the same.
      auto res = cli.Get(("/v2/bot/profile/" + url_path_segment(id)).c_str(), headers);
      const int code = res ? res->status : 0;
      if (code == 200) {
        const auto j = nlohmann::json::parse(res->body, nullptr, false);
        if (j.is_object()) {
          if (j.contains("displayName") && j["displayName"].is_string())
            a.display_name = j["displayName"].get<std::string>();
          if (j.contains("language") && j["language"].is_string()) a.language = j["language"].get<std::string>();
          a.found = true;
          a.answered = true;
        }
      } else if (code == 404) {
        a.found = false;  // not a friend (never added, or blocked the account)
        a.answered = true;
      } else if (code == 429 && res->has_header("Retry-After")) {
        rate_.pause_for(
            std::chrono::seconds(std::clamp(std::atoll(res->get_header_value("Retry-After").c_str()), 1LL, 60LL)));
      } else if (code == 429 || code == 0 || code >= 500) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
      } else {
        break;  // refused (a bad token): asking again does not help
      }
      if (stopping_) return;
    }
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (!a.answered) {
        ++counts_.failed;
      } else if (a.found) {
        ++counts_.fetched;
      } else {
        ++counts_.not_found;
      }
    }
    deliver_(std::move(a));
    // Only now, with the answer applied, may the same friend be asked for again.
    std::lock_guard<std::mutex> lock(queue_mu_);
    queued_.erase(id);
  }
}

}  // namespace okuri::svc
