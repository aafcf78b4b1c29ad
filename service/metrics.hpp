// The service's counters and histograms, shared by its threads (HTTP, writer, sender, profile
// fetcher) and printed as Prometheus text by GET /metrics.
#pragma once

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "service/store.hpp"

namespace okuri::svc {

struct Histogram {
  static constexpr std::array<double, 10> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
  std::array<std::atomic<std::uint64_t>, 11> buckets{};
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum_us{0};
  void observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    ++buckets[i];
    ++count;
    sum_us += static_cast<std::uint64_t>(seconds * 1e6);
  }
  std::string text(const std::string& name, const std::string& help) const {
    std::string s = fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
      acc += buckets[i];
      s += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], acc);
    }
    acc += buckets[kBounds.size()];
    s += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, acc, name,
                     static_cast<double>(sum_us.load()) / 1e6, name, count.load());
    return s;
  }
};

// What /metrics shows besides the counters: read from the store and the other parts when asked.
struct Gauges {
  std::optional<StoreCounts> store;  // none when the store could not be read
  struct Profiles {
    std::uint64_t fetched = 0, not_found = 0, failed = 0;
  };
  std::optional<Profiles> profiles;  // none when profiles are not fetched
  std::uint64_t reloads_ok = 0, reloads_failed = 0;
  std::optional<std::int64_t> quota_limit;  // LINE's target limit for the month (when it has one)
  std::optional<std::int64_t> quota_used;   // messages sent this month, as LINE last said
  std::size_t timer_backlog = 0;
  std::optional<std::size_t> partitions_held;  // a shared store: the partitions this worker holds
};

struct Metrics {
  std::atomic<std::uint64_t> accepted{0}, duplicates{0};
  std::atomic<std::uint64_t> applied{0};  // a shared store: inbox events this worker's engine applied
  mutable std::mutex mu;
  std::map<std::string, std::uint64_t> rejected;  // by reason
  std::map<std::string, std::uint64_t> sends;     // by outcome of a request to LINE
  Histogram request_latency, commit_latency, send_latency;
  void reject(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu);
    ++rejected[why];
  }
  std::map<std::string, std::uint64_t> clicks;    // tracked link requests, by what became of them
  std::map<std::string, std::uint64_t> released;  // held deliveries released, by why
  void held_released(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu);
    ++released[why];
  }
  void click(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    ++clicks[what];
  }
  void sent(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    ++sends[what];
  }
  std::map<std::string, std::uint64_t> ignored;  // webhook events not applied, by type and why
  void ignore(const std::string& why, std::uint64_t n) {
    std::lock_guard<std::mutex> lock(mu);
    ignored[why] += n;
  }
  std::atomic<std::uint64_t> standby_unsent{0};        // deliveries answering standby-mode events: recorded, not sent
  std::atomic<std::uint64_t> multicast_recipients{0};  // friends reached through accepted multicasts
  std::atomic<bool> monthly_limit{false};              // LINE said the month's message limit is reached
  std::atomic<std::uint64_t> messages_sent{0};         // recipients of accepted pushes and multicasts (LINE's count)
  // Narrowcasts LINE finished, with the counts its progress gave.
  std::atomic<std::uint64_t> narrowcast_succeeded{0}, narrowcast_failed{0};
  std::atomic<std::uint64_t> narrowcast_target{0}, narrowcast_success{0}, narrowcast_failure{0};
  // LINE's count of the messages broadcasts sent on one day (UTC+9), as last read after a
  // broadcast: the day's every broadcast together, so a figure, not a sum.
  std::atomic<std::uint64_t> broadcast_day{0}, broadcast_day_messages{0};

  // Everything in Prometheus's text format.
  std::string text(const Gauges& g) const;
};

}  // namespace okuri::svc
