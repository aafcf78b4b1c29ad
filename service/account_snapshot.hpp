// A running account as `okuri report` reads it: the database opened read-only, everything read
// in one read transaction (a consistent snapshot, safe while `okuri serve` writes), and turned
// into what the report takes — an engine holding every friend and the figures saved beside
// them, and the deliveries of the outbox as the engine's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "runtime/engine.hpp"
#include "runtime/event_input.hpp"

namespace okuri::svc {

struct AccountSnapshot {
  std::int64_t clock = 0;  // the engine's clock at the last commit (seconds)
  std::int64_t shape = 0;  // of the version served
  std::string sources;     // that version's sources (empty: not recorded)
  std::string stats;       // its report figures (rt::Engine::export_stats)
  struct Friend {
    std::string id, state;
  };
  std::vector<Friend> friends;
  struct Row {
    std::string kind, friend_id, recipients, message_names, scenario, node, status;
    std::int64_t due = 0, created = 0;
    bool reply = false;
  };
  std::vector<Row> deliveries;  // messages and multicasts, in the order they were made
};

// Throws StoreError naming the file when it cannot be read as an account's database.
AccountSnapshot read_account(const std::string& db_path);
// The same from PostgreSQL (account_snapshot_postgres.cpp): every worker's figures added up.
AccountSnapshot read_account_postgres(const std::string& url);

// The engine of the served version with every friend and the saved figures, at the saved clock.
// `p` is that version (compiled from `snapshot.sources`, or the project when they match).
std::unique_ptr<rt::Engine> engine_of(const AccountSnapshot& snapshot, const Program& p);

// The outbox as the engine's deliveries: what went out (sent, sent by LINE as part of a broadcast,
// or a reply that may have arrived) at its time; what waits (for its time, a profile, the quota)
// after the clock; failed and unsent deliveries are left out. Multicasts count once per recipient.
std::vector<rt::Delivery> deliveries_of(const AccountSnapshot& snapshot, rt::Engine& e);

// Tracked clicks as events for the report: a friend's clicks on a link, at their last click
// (the account keeps each friend's count and last time per link, not every click).
std::vector<rt::InputEvent> clicks_of(const rt::Engine& e);

}  // namespace okuri::svc
