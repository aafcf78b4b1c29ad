// Tables are copied in chunks through one canonical form (texts, decimal integers, raw bytes,
// booleans as t/f), so that either store can be read or written and both can be read back and
// compared the same way. Computed columns (a friend's partition and checksum) are computed again
// on the way in, from the copied values.
#include "service/store_copy.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "service/database_lock.hpp"
#include "service/pg_connection.hpp"
#include "service/postgres_schema.hpp"
#include "service/store.hpp"

namespace okuri::svc {

using nlohmann::json;

namespace {

enum class Kind { text, integer, bytes, boolean };
struct Column {
  const char* name;
  Kind kind;
  bool nullable = false;
};
using Value = std::optional<std::string>;
using Row = std::vector<Value>;

// The tables that move, in the columns both stores share (same names on both sides). `computed`:
// columns the target fills from the row (its partition, its checksum).
struct Table {
  const char* name;
  const char* order;  // a unique key: rows are read in its order
  std::vector<Column> columns;
  const char* friend_column = nullptr;  // the partition is computed from it
  bool checksum = false;                // friends: `sum` is the state's checksum
};

const std::vector<Table>& tables() {
  static const std::vector<Table> t = {
      {"friends", "id", {{"id", Kind::text}, {"state", Kind::bytes}, {"updated", Kind::integer}}, "id", true},
      {"processed_events", "id", {{"id", Kind::text}, {"at", Kind::integer}}},
      {"outbox",
       "id",
       {{"id", Kind::integer},
        {"key", Kind::text},
        {"friend", Kind::text},
        {"due", Kind::integer},
        {"reply", Kind::boolean},
        {"reply_token", Kind::text},
        {"messages", Kind::text},
        {"scenario", Kind::text},
        {"node", Kind::text},
        {"created", Kind::integer},
        {"attempts", Kind::integer},
        {"next_attempt", Kind::integer},
        {"status", Kind::text},
        {"error", Kind::text},
        {"kind", Kind::text},
        {"message_names", Kind::text},
        {"recipients", Kind::text},
        {"unit", Kind::text},
        {"line_request", Kind::text},
        {"audience_id", Kind::integer},
        {"audience_uploaded", Kind::integer},
        {"request_id", Kind::text},
        {"progress", Kind::text}},
       "friend"},
      {"profiles",
       "friend",
       {{"friend", Kind::text},
        {"display_name", Kind::text, true},
        {"language", Kind::text, true},
        {"fetched", Kind::integer},
        {"found", Kind::boolean}}},
      {"project_versions", "shape", {{"shape", Kind::integer}, {"sources", Kind::text}, {"served", Kind::integer}}},
  };
  return t;
}

constexpr std::size_t kChunk = 5000;

std::string select_of(const Table& t) {
  std::string cols;
  for (const auto& c : t.columns) {
    if (!cols.empty()) cols += ", ";
    // Booleans are 0/1 in SQLite and bool in PostgreSQL: t/f from both.
    cols += c.kind == Kind::boolean ? fmt::format("CASE WHEN {} THEN 't' ELSE 'f' END", c.name) : std::string(c.name);
  }
  return fmt::format("SELECT {} FROM {} ORDER BY {}", cols, t.name, t.order);
}

std::int64_t state_sum(std::string_view state) {
  return static_cast<std::int64_t>(XXH3_64bits(state.data(), state.size()));
}

// One side of the copy: a SQLite file or a PostgreSQL database.
class Side {
 public:
  virtual ~Side() = default;
  virtual std::string shown() const = 0;
  // Every row of `t`, in chunks, in key order (one consistent snapshot across calls of one read).
  virtual void read(const Table& t, const std::function<void(std::vector<Row>&)>& chunk) = 0;
  virtual void begin_write() = 0;
  virtual void write(const Table& t, const std::vector<Row>& rows) = 0;
  virtual void end_write() = 0;
  virtual std::int64_t rows_in(const char* table) = 0;
  virtual std::int64_t project_shape() = 0;
  virtual std::int64_t clock() = 0;
  virtual std::map<std::int64_t, std::string> report_stats() = 0;  // merged per shape
  // Within the write: the version served, the clock, the report's figures.
  virtual void finish(std::int64_t shape, std::int64_t clock, const std::map<std::int64_t, std::string>& stats) = 0;
};

class SqliteSide final : public Side {
 public:
  explicit SqliteSide(const std::string& path, bool create) : path_(path) {
    // A new file gets the store's schema from the store itself (its migrations), before the lock.
    if (create) {
      open_sqlite_store(path).reset();
    } else if (!std::filesystem::exists(path)) {
      throw StoreError(fmt::format("{}: no such file", path));
    }
    lock_ = std::make_unique<DatabaseLock>(path);  // refused while `okuri serve` holds it
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StoreError(fmt::format("{}: cannot open the database: {}", path, why));
    }
    sqlite3_busy_timeout(db_, 10000);
    if (scalar("SELECT count(*) FROM sqlite_master WHERE name = 'friends'") == 0) {
      throw StoreError(fmt::format("{}: not a database written by okuri serve (it has no friends table)", path));
    }
  }
  ~SqliteSide() override { sqlite3_close(db_); }
  std::string shown() const override { return path_; }

  void read(const Table& t, const std::function<void(std::vector<Row>&)>& chunk) override {
    sqlite3_stmt* s = prepare(select_of(t));
    std::vector<Row> rows;
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Row r;
      for (int c = 0; c < static_cast<int>(t.columns.size()); ++c) {
        if (sqlite3_column_type(s, c) == SQLITE_NULL) {
          r.emplace_back(std::nullopt);
          continue;
        }
        const auto* p = static_cast<const char*>(sqlite3_column_blob(s, c));
        r.emplace_back(std::string(p == nullptr ? "" : p, static_cast<std::size_t>(sqlite3_column_bytes(s, c))));
      }
      rows.push_back(std::move(r));
      if (rows.size() == kChunk) {
        chunk(rows);
        rows.clear();
      }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) fail("reading " + std::string(t.name));
    if (!rows.empty()) chunk(rows);
  }

  void begin_write() override { exec("BEGIN IMMEDIATE"); }
  void end_write() override { exec("COMMIT"); }

  void write(const Table& t, const std::vector<Row>& rows) override {
    std::string cols, marks;
    for (const auto& c : t.columns) {
      cols += (cols.empty() ? "" : ", ") + std::string(c.name);
      marks += marks.empty() ? "?" : ", ?";
    }
    if (t.friend_column != nullptr) cols += ", partition", marks += ", ?";
    if (t.checksum) cols += ", sum", marks += ", ?";
    sqlite3_stmt* s = prepare(fmt::format("INSERT INTO {}({}) VALUES ({})", t.name, cols, marks));
    for (const auto& r : rows) {
      int i = 1;
      std::string friend_id, state;
      for (std::size_t c = 0; c < t.columns.size(); ++c, ++i) {
        const auto& v = r[c];
        if (t.friend_column != nullptr && std::string_view(t.columns[c].name) == t.friend_column && v) friend_id = *v;
        if (t.checksum && t.columns[c].kind == Kind::bytes && v) state = *v;
        if (!v) {
          sqlite3_bind_null(s, i);
        } else if (t.columns[c].kind == Kind::integer) {
          sqlite3_bind_int64(s, i, std::stoll(*v));
        } else if (t.columns[c].kind == Kind::boolean) {
          sqlite3_bind_int64(s, i, *v == "t" ? 1 : 0);
        } else if (t.columns[c].kind == Kind::bytes) {
          sqlite3_bind_blob(s, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
        } else {
          sqlite3_bind_text(s, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
        }
      }
      if (t.friend_column != nullptr) sqlite3_bind_int64(s, i++, partition_of(friend_id));
      if (t.checksum) sqlite3_bind_int64(s, i++, state_sum(state));
      if (sqlite3_step(s) != SQLITE_DONE) {
        sqlite3_finalize(s);
        fail("writing " + std::string(t.name));
      }
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
  }

  std::int64_t rows_in(const char* table) override { return scalar(fmt::format("SELECT count(*) FROM {}", table)); }
  std::int64_t project_shape() override {
    return scalar("SELECT coalesce((SELECT value FROM meta WHERE key = 'project'), 0)");
  }
  std::int64_t clock() override { return scalar("SELECT value FROM meta WHERE key = 'clock'"); }
  std::map<std::int64_t, std::string> report_stats() override {
    std::map<std::int64_t, std::string> out;
    sqlite3_stmt* s = prepare("SELECT shape, stats FROM report_stats");
    while (sqlite3_step(s) == SQLITE_ROW) {
      out[sqlite3_column_int64(s, 0)] = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    }
    sqlite3_finalize(s);
    return out;
  }
  void finish(std::int64_t shape, std::int64_t clock, const std::map<std::int64_t, std::string>& stats) override {
    exec(fmt::format("INSERT INTO meta(key, value) VALUES ('project', {0}) ON CONFLICT(key) DO UPDATE SET value = {0}",
                     shape));
    exec(fmt::format("UPDATE meta SET value = {} WHERE key = 'clock'", clock));
    exec("UPDATE meta SET value = (SELECT count(*) FROM friends) WHERE key = 'friends'");
    for (const auto& [sh, text] : stats) {
      sqlite3_stmt* s = prepare("INSERT INTO report_stats(shape, stats, saved) VALUES (?, ?, strftime('%s','now'))");
      sqlite3_bind_int64(s, 1, sh);
      sqlite3_bind_text(s, 2, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      const int rc = sqlite3_step(s);
      sqlite3_finalize(s);
      if (rc != SQLITE_DONE) fail("writing report_stats");
    }
  }

 private:
  std::string path_;
  std::unique_ptr<DatabaseLock> lock_;
  sqlite3* db_ = nullptr;

  [[noreturn]] void fail(const std::string& what) {
    throw StoreError(fmt::format("{}: {}: {}", path_, what, sqlite3_errmsg(db_)));
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) fail("preparing a statement");
    return s;
  }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err != nullptr ? err : "";
      sqlite3_free(err);
      throw StoreError(fmt::format("{}: {}", path_, why));
    }
  }
  std::int64_t scalar(const std::string& sql) {
    sqlite3_stmt* s = prepare(sql);
    std::int64_t v = 0;
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }
};

const char* pg_type(Kind k) {
  switch (k) {
    case Kind::integer:
      return "bigint[]";
    case Kind::bytes:
      return "bytea[]";
    case Kind::boolean:
      return "bool[]";
    case Kind::text:
      break;
  }
  return "text[]";
}

class PostgresSide final : public Side {
 public:
  explicit PostgresSide(const std::string& url) : c_(url, "store copy") {
    postgres_migrate(c_);
    postgres_check_layout(c_);
    const auto serving =
        c_.scalar("SELECT count(*) FROM partition_lease WHERE owner IS NOT NULL AND lease_until > now()");
    if (serving > 0) {
      throw StoreError(
          fmt::format("{} is being served ({} partitions are leased to running workers): stop every "
                      "worker first, or wait for their leases to lapse",
                      c_.url_shown(), serving));
    }
  }
  std::string shown() const override { return c_.url_shown(); }

  void read(const Table& t, const std::function<void(std::vector<Row>&)>& chunk) override {
    if (!c_.in_transaction()) c_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    c_.exec(fmt::format("DECLARE copy_rows NO SCROLL CURSOR FOR {}", select_of(t)));
    while (true) {
      const auto r = c_.exec(fmt::format("FETCH {} FROM copy_rows", kChunk));
      std::vector<Row> rows;
      for (int k = 0; k < r.rows(); ++k) {
        Row row;
        for (int c = 0; c < static_cast<int>(t.columns.size()); ++c) {
          if (r.null(k, c)) {
            row.emplace_back(std::nullopt);
          } else if (t.columns[static_cast<std::size_t>(c)].kind == Kind::bytes) {
            row.emplace_back(r.bytes(k, c));
          } else {
            row.emplace_back(std::string(r.text(k, c)));
          }
        }
        rows.push_back(std::move(row));
      }
      if (rows.empty()) break;
      chunk(rows);
    }
    c_.exec("CLOSE copy_rows");
  }
  void end_read() {
    if (c_.in_transaction()) c_.exec("COMMIT");
  }

  void begin_write() override { c_.exec("BEGIN"); }
  void end_write() override { c_.exec("COMMIT"); }

  void write(const Table& t, const std::vector<Row>& rows) override {
    std::vector<std::vector<std::string>> cols(t.columns.size());
    std::vector<std::string> parts, sums;
    std::string names, args;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      for (const auto& r : rows) {
        const auto& v = r[c];
        cols[c].push_back(!v ? std::string() : t.columns[c].kind == Kind::bytes ? pg_hex(*v) : *v);
      }
    }
    std::vector<PgParam> params;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      params.emplace_back(pg_text_array(cols[c]));
      names += (names.empty() ? "" : ", ") + std::string(t.columns[c].name);
      const std::string arg = fmt::format("u.c{}", c);
      if (t.columns[c].nullable) {
        // NULL where the row had none: an array of flags beside the values.
        std::vector<std::string> flags;
        for (const auto& r : rows) flags.push_back(r[c] ? "f" : "t");
        params.emplace_back(pg_text_array(flags));
        args += fmt::format("{}CASE WHEN u.n{} THEN NULL ELSE {} END", args.empty() ? "" : ", ", c, arg);
      } else {
        args += (args.empty() ? "" : ", ") + arg;
      }
    }
    for (const auto& r : rows) {
      std::string friend_id, state;
      for (std::size_t c = 0; c < t.columns.size(); ++c) {
        if (t.friend_column != nullptr && std::string_view(t.columns[c].name) == t.friend_column && r[c])
          friend_id = *r[c];
        if (t.checksum && t.columns[c].kind == Kind::bytes && r[c]) state = *r[c];
      }
      parts.push_back(std::to_string(partition_of(friend_id)));
      sums.push_back(std::to_string(state_sum(state)));
    }
    // unnest(values…, null flags…) AS u(c0, n1, c1, …), then the computed columns.
    std::string unnest, aliases;
    std::size_t p = 0;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      unnest += fmt::format("{}${}::{}", unnest.empty() ? "" : ", ", ++p, pg_type(t.columns[c].kind));
      aliases += fmt::format("{}c{}", aliases.empty() ? "" : ", ", c);
      if (t.columns[c].nullable) {
        unnest += fmt::format(", ${}::bool[]", ++p);
        aliases += fmt::format(", n{}", c);
      }
    }
    if (t.friend_column != nullptr) {
      params.emplace_back(pg_text_array(parts));
      unnest += fmt::format(", ${}::int[]", ++p);
      aliases += ", part";
      names += t.checksum ? "" : ", part";
      args += t.checksum ? "" : ", u.part";
    }
    if (t.checksum) {
      params.emplace_back(pg_text_array(sums));
      unnest += fmt::format(", ${}::bigint[]", ++p);
      aliases += ", sum";
      names += ", part, sum";
      args += ", u.part, u.sum";
    }
    const std::string sql =
        fmt::format("INSERT INTO {}({}) SELECT {} FROM unnest({}) AS u({})", t.name, names, args, unnest, aliases);
    c_.prepare(std::string("copy_") + t.name, sql);
    c_.run(std::string("copy_") + t.name, params);
  }

  std::int64_t rows_in(const char* table) override { return c_.scalar(fmt::format("SELECT count(*) FROM {}", table)); }
  std::int64_t project_shape() override {
    return c_.scalar("SELECT coalesce((SELECT value FROM okuri_meta WHERE key = 'project'), 0)");
  }
  std::int64_t clock() override {
    // Each partition keeps its own clock; one store resumes at the earliest of them, so that no
    // friend misses a broadcast (one made again keeps its delivery key, and is not sent twice).
    return c_.scalar("SELECT coalesce(min(clock) FILTER (WHERE clock > 0), 0) FROM partition_clock");
  }
  std::map<std::int64_t, std::string> report_stats() override {
    std::map<std::int64_t, std::vector<std::string>> by_shape;
    const auto r = c_.exec("SELECT shape, stats FROM report_stats ORDER BY shape, worker");
    for (int k = 0; k < r.rows(); ++k) by_shape[r.integer(k, 0)].emplace_back(r.text(k, 1));
    std::map<std::int64_t, std::string> out;
    for (const auto& [shape, texts] : by_shape) out[shape] = merge_report_stats(texts);
    return out;
  }
  void finish(std::int64_t shape, std::int64_t clock, const std::map<std::int64_t, std::string>& stats) override {
    c_.exec(
        fmt::format("INSERT INTO okuri_meta(key, value) VALUES ('project', {0}) ON CONFLICT (key) DO UPDATE SET "
                    "value = {0}",
                    shape));
    c_.exec(fmt::format("UPDATE partition_clock SET clock = {}", clock));
    c_.exec(
        "SELECT setval(pg_get_serial_sequence('outbox', 'id'), coalesce((SELECT max(id) FROM outbox), 0) + 1, false)");
    c_.prepare("copy_stats",
               "INSERT INTO report_stats(shape, worker, stats, saved) VALUES ($1, 'copied', $2, extract(epoch FROM "
               "now())::bigint)");
    for (const auto& [sh, text] : stats) c_.run("copy_stats", {std::to_string(sh), text});
  }

 private:
  PgConnection c_;
};

std::unique_ptr<Side> open_side(const std::string& where, bool target) {
  if (is_postgres_url(where)) return std::make_unique<PostgresSide>(where);
  return std::make_unique<SqliteSide>(where, target);
}

// A table's rows as one number: their count and a hash of every value, in key order.
struct Fingerprint {
  std::int64_t rows = 0;
  XXH64_hash_t hash = 0;
  bool operator==(const Fingerprint& o) const { return rows == o.rows && hash == o.hash; }
};

Fingerprint fingerprint(Side& side, const Table& t) {
  Fingerprint f;
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  side.read(t, [&](std::vector<Row>& rows) {
    for (const auto& r : rows) {
      for (const auto& v : r) {
        const std::uint64_t n = v ? v->size() : ~0ull;  // NULL differs from ""
        XXH3_64bits_update(st, &n, sizeof n);
        if (v) XXH3_64bits_update(st, v->data(), v->size());
      }
    }
    f.rows += static_cast<std::int64_t>(rows.size());
  });
  f.hash = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return f;
}

void merge_into(json& into, const json& more) {
  if (into.is_number() && more.is_number()) {
    into = into.get<std::uint64_t>() + more.get<std::uint64_t>();
  } else if (into.is_object() && more.is_object()) {
    for (const auto& [k, v] : more.items()) {
      if (into.contains(k)) {
        merge_into(into[k], v);
      } else {
        into[k] = v;
      }
    }
  } else if (into.is_array() && more.is_array() && into.size() == more.size()) {
    for (std::size_t i = 0; i < into.size(); ++i) merge_into(into[i], more[i]);
  }
}

}  // namespace

std::string merge_report_stats(const std::vector<std::string>& texts) {
  json out;
  for (const auto& t : texts) {
    const json j = json::parse(t, nullptr, false);
    if (j.is_discarded()) continue;
    if (out.is_null()) {
      out = j;
    } else {
      merge_into(out, j);
    }
  }
  return out.is_null() ? std::string() : out.dump();
}

CopyResult copy_store(const std::string& from, const std::string& to,
                      const std::function<void(const std::string&, std::int64_t)>& progress) {
  if (from == to) throw StoreError("--from and --to name the same store");
  auto source = open_side(from, /*target=*/false);
  auto target = open_side(to, /*target=*/true);
  for (const char* table : {"friends", "outbox", "processed_events"}) {
    if (const auto n = target->rows_in(table); n > 0) {
      throw StoreError(fmt::format("{} already holds an account ({} rows in {}): copy into a new, empty database",
                                   target->shown(), n, table));
    }
  }
  CopyResult result;
  result.clock = source->clock();
  target->begin_write();
  for (const auto& t : tables()) {
    std::int64_t n = 0;
    source->read(t, [&](std::vector<Row>& rows) {
      target->write(t, rows);
      n += static_cast<std::int64_t>(rows.size());
      if (progress) progress(t.name, n);
    });
    result.tables.push_back({t.name, n});
  }
  const auto stats = source->report_stats();
  target->finish(source->project_shape(), result.clock, stats);
  target->end_write();
  if (auto* pg = dynamic_cast<PostgresSide*>(source.get())) pg->end_read();

  // Read back from both sides: every table the same, row by row.
  for (const auto& t : tables()) {
    const auto a = fingerprint(*source, t);
    const auto b = fingerprint(*target, t);
    if (!(a == b)) {
      throw StoreError(
          fmt::format("the copy of {} differs from its source ({} rows there, {} here): drop {} and copy "
                      "again",
                      t.name, a.rows, b.rows, target->shown()));
    }
  }
  for (auto* side : {source.get(), target.get()}) {
    if (auto* pg = dynamic_cast<PostgresSide*>(side)) pg->end_read();
  }
  if (target->project_shape() != source->project_shape() || target->clock() != result.clock ||
      target->report_stats() != stats) {
    throw StoreError(fmt::format("the copy's version, clock or report figures differ from {}'s", source->shown()));
  }
  return result;
}

}  // namespace okuri::svc
