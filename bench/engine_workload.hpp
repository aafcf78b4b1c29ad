// The engine benchmarks' workload: a project with rules, waits, branches and goals, and a
// deterministic stream of events for it (generated one at a time: 10M events need not sit in
// memory), also written as the events JSONL a user would give `okuri simulate`.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "runtime/event_input.hpp"

namespace okuri::bench {

extern const char* const kEngineProject;

// Friend ids as LINE gives them (U + 32 hex digits), the same for a seed.
std::vector<std::string> friend_ids(std::size_t n, unsigned seed = 7);

// A deterministic stream of events, generated one at a time (10M events do not sit in memory).
class Stream {
 public:
  Stream(const std::vector<std::string>& ids, std::int64_t start) : ids_(ids), t_(start * 1000) {}
  const rt::InputEvent& next() {
    t_ += static_cast<std::int64_t>(rng_() % 520);  // ≈ 10M events over 30 days
    ev_.time_ms = t_;
    ev_.friend_id = ids_[rng_() % ids_.size()];
    ev_.arg.clear();
    ev_.fields.clear();
    const auto k = rng_() % 100;
    if (k < 35) {
      ev_.type = "link_clicked";
      ev_.arg = "lp";
    } else if (k < 50) {
      ev_.type = "link_clicked";
      ev_.arg = "price";
    } else if (k < 75) {
      ev_.type = "message_opened";
      ev_.arg = kMessages[rng_() % 6];
    } else if (k < 85) {
      ev_.type = "message_received";
      ev_.fields["text"] = rt::FieldValue{true, 0, rng_() % 2 ? "what is the price?" : "hello"};
    } else if (k < 90) {
      ev_.type = "purchase";
      ev_.fields["amount"] = rt::FieldValue{false, static_cast<std::int64_t>(rng_() % 10000), {}};
    } else {
      ev_.type = "friend_added";
      ev_.fields["source"] = rt::FieldValue{true, 0, "qr"};
    }
    return ev_;
  }

  // The event as one line of the events JSONL (no newline), its time in UTC.
  static std::string jsonl(const rt::InputEvent& e);

 private:
  static constexpr const char* kMessages[] = {"welcome", "tips", "offer", "nudge", "thanks", "faq"};
  const std::vector<std::string>& ids_;
  std::mt19937_64 rng_{42};
  std::int64_t t_;
  rt::InputEvent ev_;
};

}  // namespace okuri::bench
