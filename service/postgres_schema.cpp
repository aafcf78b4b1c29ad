// The PostgreSQL store's tables: created and migrated at start, shared by the store and `okuri
// store copy`.
#include "service/postgres_schema.hpp"

#include <fmt/format.h>

#include "service/store.hpp"

namespace okuri::svc {
namespace {

// Schema versions, recorded in schema_migrations; each applies to the one before. Several
// workers starting at once take an advisory lock, so each step runs once.
const char* const kMigrations[] = {
    // 1
    "CREATE TABLE okuri_meta(key text PRIMARY KEY, value bigint NOT NULL);"
    "CREATE TABLE partition_lease(part int PRIMARY KEY, owner text, epoch bigint NOT NULL DEFAULT 0,"
    " lease_until timestamptz NOT NULL DEFAULT '-infinity');"
    // The engine's clock per partition, written by its owner's batches (never by the keeper:
    // the two would wait on each other's row locks).
    "CREATE TABLE partition_clock(part int PRIMARY KEY, clock bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE workers(id text PRIMARY KEY, started timestamptz NOT NULL DEFAULT now(),"
    " seen timestamptz NOT NULL DEFAULT now(), partitions int NOT NULL DEFAULT 0);"
    "CREATE TABLE friends(id text PRIMARY KEY, part int NOT NULL, state bytea NOT NULL, sum bigint NOT NULL,"
    " updated bigint NOT NULL);"
    "CREATE INDEX friends_part ON friends(part);"
    "CREATE TABLE processed_events(id text PRIMARY KEY, at bigint NOT NULL);"
    "CREATE TABLE inbox(seq bigserial PRIMARY KEY, part int NOT NULL, event bytea NOT NULL);"
    "CREATE INDEX inbox_part ON inbox(part, seq);"
    "CREATE TABLE outbox(id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, friend text NOT NULL, part int NOT NULL,"
    " due bigint NOT NULL, reply bool NOT NULL, reply_token text NOT NULL, messages text NOT NULL,"
    " scenario text NOT NULL, node text NOT NULL, created bigint NOT NULL, attempts bigint NOT NULL DEFAULT 0,"
    " next_attempt bigint NOT NULL DEFAULT 0, status text NOT NULL DEFAULT 'pending', error text NOT NULL DEFAULT '',"
    " kind text NOT NULL DEFAULT 'message', message_names text NOT NULL DEFAULT '', recipients text NOT NULL DEFAULT"
    " '', unit text NOT NULL DEFAULT '', line_request text NOT NULL DEFAULT '', audience_id bigint NOT NULL DEFAULT 0,"
    " audience_uploaded bigint NOT NULL DEFAULT 0, request_id text NOT NULL DEFAULT '', progress text NOT NULL"
    " DEFAULT '');"
    "CREATE INDEX outbox_due ON outbox(part, status, due) WHERE status IN ('pending', 'accepted');"
    "CREATE INDEX outbox_held ON outbox(status, created) WHERE status IN ('profile', 'quota', 'replying');"
    "CREATE TABLE project_versions(shape bigint PRIMARY KEY, sources text NOT NULL, served bigint NOT NULL);"
    // Each worker counts what its own engine did; `okuri report` adds them up.
    "CREATE TABLE report_stats(shape bigint NOT NULL, worker text NOT NULL, stats text NOT NULL, saved bigint NOT"
    " NULL, PRIMARY KEY (shape, worker));"
    "CREATE TABLE profiles(friend text PRIMARY KEY, display_name text, language text, fetched bigint NOT NULL,"
    " found bool NOT NULL);",
};

}  // namespace

void postgres_migrate(PgConnection& c) {
  c.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations(version int PRIMARY KEY, applied timestamptz NOT NULL "
      "DEFAULT now())");
  constexpr auto kLatest = static_cast<std::int64_t>(std::size(kMigrations));
  c.exec("BEGIN");
  try {
    c.exec("SELECT pg_advisory_xact_lock(7370011)");  // one migrating worker at a time
    const std::int64_t version = c.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (version > kLatest) {
      throw StoreError(fmt::format("{}: schema version {} is newer than this okuri knows ({}): run the newer okuri",
                                   c.url_shown(), version, kLatest));
    }
    for (std::int64_t v = version; v < kLatest; ++v) {
      c.exec(kMigrations[v]);
      if (v == 0) {
        c.exec(
            fmt::format("INSERT INTO okuri_meta VALUES ('partitions', {});"
                        "INSERT INTO partition_lease(part) SELECT generate_series(0, {});"
                        "INSERT INTO partition_clock(part) SELECT generate_series(0, {})",
                        kPartitions, kPartitions - 1, kPartitions - 1));
      }
      c.exec(fmt::format("INSERT INTO schema_migrations(version) VALUES ({})", v + 1));
    }
    c.exec("COMMIT");
  } catch (...) {
    c.rollback_quietly();
    throw;
  }
}

void postgres_check_layout(PgConnection& c) {
  const std::int64_t parts = c.scalar("SELECT value FROM okuri_meta WHERE key = 'partitions'");
  if (parts != static_cast<std::int64_t>(kPartitions)) {
    throw StoreError(fmt::format(
        "{} is laid out for {} partitions, and this okuri uses {}: serve it with the okuri that created it, or move "
        "the account into a new database with `okuri store copy`",
        c.url_shown(), parts, kPartitions));
  }
}

}  // namespace okuri::svc
