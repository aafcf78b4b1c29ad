// `okuri store copy`: an account moved between a SQLite file and a PostgreSQL database, either
// way — every friend's state (their timers are in it), the outbox (pending and past deliveries:
// the report counts them), the webhook event ids already processed, the LINE profiles, the
// versions of the project served and the report's figures — then read back from both sides and
// compared, table by table. Neither side may be served meanwhile, and the target must be empty.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace okuri::svc {

struct CopiedTable {
  std::string name;
  std::int64_t rows = 0;
};

struct CopyResult {
  std::vector<CopiedTable> tables;
  std::int64_t clock = 0;  // the engine's clock the target resumes at (seconds)
};

// `from` and `to`: a SQLite file, or a postgresql:// URL (one of each, or two of a kind).
// `progress(table, rows so far)` is called every few thousand rows. Throws StoreError with what
// went wrong and where; the target may then hold part of the copy (it was empty: drop it and
// copy again).
CopyResult copy_store(const std::string& from, const std::string& to,
                      const std::function<void(const std::string&, std::int64_t)>& progress = {});

// The report's figures of several workers (rt::Engine::export_stats, one JSON text each) as one:
// every count is a sum.
std::string merge_report_stats(const std::vector<std::string>& texts);

}  // namespace okuri::svc
