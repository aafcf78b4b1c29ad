#include "service/lease_keeper.hpp"

#include <fmt/format.h>

#include <chrono>

namespace okuri::svc {

LeaseKeeper::LeaseKeeper(Store& store, int every_ms, std::function<void()> changed, Log log)
    : store_(store), every_ms_(every_ms), changed_(std::move(changed)), log_(std::move(log)), thread_([this] {
        loop();
      }) {}

LeaseKeeper::~LeaseKeeper() { stop(); }

void LeaseKeeper::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::loop() {
  PartitionSet before = store_.held();
  bool failing = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(every_ms_), [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    try {
      const PartitionSet now = store_.renew_leases();
      if (failing) log_("the database answers again: leases renewed");
      failing = false;
      if (now != before) {
        before = now;
        changed_();
      }
    } catch (const std::exception& e) {
      // The database is away (a restart, the network): the leases lapse if it stays away, and the
      // writer's fence refuses every commit of a lapsed one. Keep trying.
      if (!failing) log_(fmt::format("renewing the partition leases: {}", e.what()));
      failing = true;
    }
    lock.lock();
  }
}

}  // namespace okuri::svc
