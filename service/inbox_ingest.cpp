#include "service/inbox_ingest.hpp"

#include <fmt/format.h>

#include <chrono>

#include "service/inbox_event.hpp"

namespace okuri::svc {

InboxIngest::InboxIngest(Store& store, Metrics& metrics, std::int64_t click_window, std::size_t max_batch,
                         std::function<void()> committed, Log log)
    : store_(store),
      metrics_(metrics),
      click_window_(click_window),
      max_batch_(max_batch),
      committed_(std::move(committed)),
      log_(std::move(log)),
      thread_([this] { loop(); }) {}

InboxIngest::~InboxIngest() { stop(); }

void InboxIngest::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int InboxIngest::submit(std::vector<rt::InputEvent> events) {
  auto r = std::make_shared<Request>();
  r->events = std::move(events);
  auto f = r->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return 503;
    queue_.push_back(r);
  }
  cv_.notify_one();
  return f.get();
}

void InboxIngest::loop() {
  while (true) {
    std::vector<std::shared_ptr<Request>> group;
    bool stop_now = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      while (!queue_.empty() && group.size() < max_batch_) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stop_now = stopping_ && queue_.empty();
    }
    if (!group.empty()) commit(group);
    if (stop_now) return;
  }
}

void InboxIngest::commit(std::vector<std::shared_ptr<Request>>& group) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<InboxEntry> entries;
  for (const auto& r : group) {
    for (const auto& ev : r->events) entries.push_back({ev.webhook_event_id, ev.friend_id, encode_inbox_event(ev)});
  }
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  int status = 200;
  try {
    const auto taken = store_.enqueue(entries, now, click_window_);
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const bool click = entries[k].event_id.rfind("click:", 0) == 0;
      if (click) {
        metrics_.click(taken[k] ? "recorded" : "repeated");
      } else if (taken[k]) {
        ++metrics_.accepted;
      } else {
        ++metrics_.duplicates;
      }
    }
  } catch (const std::exception& e) {
    // Nothing of the group is in the inbox: the senders retry (LINE redelivers, 503 says when).
    log_(fmt::format("could not accept {} request(s): {}; answering 503", group.size(), e.what()));
    metrics_.reject("storage");
    status = 503;
  }
  metrics_.commit_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  for (auto& r : group) r->done.set_value(status);
  if (status == 200 && committed_) committed_();
}

}  // namespace okuri::svc
