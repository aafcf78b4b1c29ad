// The lease keeper of a shared store: renews this worker's partition leases every
// --renew-interval, takes free or lapsed ones up to its fair share, and tells the writer when
// the partitions held changed (it moves its engine to them between two batches).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "service/store.hpp"

namespace okuri::svc {

class LeaseKeeper {
 public:
  using Log = std::function<void(const std::string&)>;
  LeaseKeeper(Store& store, int every_ms, std::function<void()> changed, Log log);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;
  void stop();

 private:
  void loop();
  Store& store_;
  int every_ms_;
  std::function<void()> changed_;
  Log log_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace okuri::svc
