// A running account on PostgreSQL as `okuri report` reads it: one REPEATABLE READ, READ ONLY
// transaction (one consistent snapshot while the workers write), every worker's figures added up.
#include <fmt/format.h>

#include "service/account_snapshot.hpp"
#include "service/pg_connection.hpp"
#include "service/store.hpp"
#include "service/store_copy.hpp"

namespace okuri::svc {

AccountSnapshot read_account_postgres(const std::string& url) {
  PgConnection c(url, "report");
  AccountSnapshot a;
  c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (c.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'okuri_meta'") == 0) {
    throw StoreError(
        fmt::format("{}: not a database written by okuri serve --store (it has no okuri_meta table)", c.url_shown()));
  }
  a.shape = c.scalar("SELECT coalesce((SELECT value FROM okuri_meta WHERE key = 'project'), 0)");
  // Each partition's engine clock: the report is as of the latest commit.
  a.clock = c.scalar("SELECT coalesce(max(clock), 0) FROM partition_clock");
  c.prepare("sources", "SELECT sources FROM project_versions WHERE shape = $1");
  if (const auto r = c.run("sources", {std::to_string(a.shape)}); r.rows() > 0) a.sources = r.text(0, 0);
  c.prepare("stats", "SELECT stats FROM report_stats WHERE shape = $1 ORDER BY worker");
  std::vector<std::string> stats;
  const auto s = c.run("stats", {std::to_string(a.shape)});
  for (int k = 0; k < s.rows(); ++k) stats.emplace_back(s.text(k, 0));
  a.stats = merge_report_stats(stats);
  const auto f = c.exec("SELECT id, state FROM friends");
  a.friends.reserve(static_cast<std::size_t>(f.rows()));
  for (int k = 0; k < f.rows(); ++k) a.friends.push_back({std::string(f.text(k, 0)), f.bytes(k, 1)});
  const auto d = c.exec(
      "SELECT kind, friend, recipients, message_names, scenario, node, status, due, created, reply FROM outbox WHERE "
      "kind "
      "IN ('message', 'multicast') ORDER BY id");
  for (int k = 0; k < d.rows(); ++k) {
    a.deliveries.push_back(
        AccountSnapshot::Row{std::string(d.text(k, 0)), std::string(d.text(k, 1)), std::string(d.text(k, 2)),
                             std::string(d.text(k, 3)), std::string(d.text(k, 4)), std::string(d.text(k, 5)),
                             std::string(d.text(k, 6)), d.integer(k, 7), d.integer(k, 8), d.boolean(k, 9)});
  }
  c.exec("COMMIT");
  return a;
}

}  // namespace okuri::svc
