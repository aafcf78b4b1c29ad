// Accepting events on a shared store (PostgreSQL, several workers): HTTP handlers hand their
// events here and wait; one thread takes every request queued so far, writes their events into
// the store's inbox in one transaction (group commit), and only then are they answered 200.
// Any worker accepts any friend's events; the owner of the friend's partition applies them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/event_input.hpp"
#include "service/metrics.hpp"
#include "service/store.hpp"

namespace okuri::svc {

class InboxIngest {
 public:
  using Log = std::function<void(const std::string&)>;
  // `committed` runs after each commit (the local writer may have events to apply now).
  InboxIngest(Store& store, Metrics& metrics, std::int64_t click_window, std::size_t max_batch,
              std::function<void()> committed, Log log);
  ~InboxIngest();
  InboxIngest(const InboxIngest&) = delete;
  InboxIngest& operator=(const InboxIngest&) = delete;

  // Waits until the events are in the inbox: 200, or 503 when the store could not take them
  // (nothing of the request was kept; the sender retries it).
  int submit(std::vector<rt::InputEvent> events);
  // Answers what is queued, then stops; later submits answer 503. Idempotent.
  void stop();

 private:
  struct Request {
    std::vector<rt::InputEvent> events;
    std::promise<int> done;
  };
  void loop();
  void commit(std::vector<std::shared_ptr<Request>>& group);

  Store& store_;
  Metrics& metrics_;
  std::int64_t click_window_;
  std::size_t max_batch_;
  std::function<void()> committed_;
  Log log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Request>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace okuri::svc
