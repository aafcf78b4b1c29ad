#include <fmt/format.h>
#include <sqlite3.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <initializer_list>
#include <mutex>
#include <string_view>

#include "service/database_lock.hpp"
#include "service/store.hpp"

namespace okuri::svc {

namespace {

// Schema versions: each step migrates from the one before (PRAGMA user_version).
const char* const kMigrations[] = {
    // 1
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta VALUES ('clock', 0), ('epoch', 0);"
    "CREATE TABLE friends(id TEXT PRIMARY KEY, partition INTEGER NOT NULL, state BLOB NOT NULL, updated INTEGER NOT "
    "NULL) "
    "WITHOUT ROWID;"
    "CREATE TABLE processed_events(id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, friend TEXT NOT NULL, partition INTEGER NOT "
    "NULL,"
    " due INTEGER NOT NULL, reply INTEGER NOT NULL, reply_token TEXT NOT NULL, messages TEXT NOT NULL,"
    " scenario TEXT NOT NULL, node TEXT NOT NULL, created INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'pending', error TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX outbox_pending ON outbox(status, due) WHERE status = 'pending';",
    // 2: rich menu links travel through the outbox too
    "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'message';",
    // 3: the sources of every version served, by shape (hot reload and restarts with a changed project)
    "CREATE TABLE project_versions(shape INTEGER PRIMARY KEY, sources TEXT NOT NULL, served INTEGER NOT NULL);",
    // 4: LINE profiles, and deliveries held until the friend's profile arrives (they read it)
    "ALTER TABLE outbox ADD COLUMN message_names TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX outbox_held ON outbox(status, created) WHERE status = 'profile';"
    "CREATE TABLE profiles(friend TEXT PRIMARY KEY, display_name TEXT, language TEXT, fetched INTEGER NOT NULL,"
    " found INTEGER NOT NULL) WITHOUT ROWID;",
    // 5: multicasts (one row, many recipients) and the aggregation unit LINE counts a delivery under
    "ALTER TABLE outbox ADD COLUMN recipients TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE outbox ADD COLUMN unit TEXT NOT NULL DEFAULT '';",
    // 6: broadcasts and narrowcasts LINE sends: the request's filter and limit, the audience
    // uploaded for it, and LINE's request id and progress once accepted
    "ALTER TABLE outbox ADD COLUMN line_request TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE outbox ADD COLUMN audience_id INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN audience_uploaded INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE outbox ADD COLUMN request_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE outbox ADD COLUMN progress TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX outbox_accepted ON outbox(status, due) WHERE status = 'accepted';",
    // 7: the report's figures of each version served (funnel per step, A/B per arm), as JSON
    "CREATE TABLE report_stats(shape INTEGER PRIMARY KEY, stats TEXT NOT NULL, saved INTEGER NOT NULL);",
    // 8: damage shows at start: each state's checksum, and how many friends there are
    "ALTER TABLE friends ADD COLUMN sum INTEGER;"
    "INSERT INTO meta(key, value) SELECT 'friends', count(*) FROM friends;",
    // 9: and each delivery's checksum over what is sent and to whom (delivery_sum below)
    "ALTER TABLE outbox ADD COLUMN sum INTEGER;",
};

// A friend state's checksum (kept beside it, checked at start).
std::int64_t checksum(std::string_view state) {
  return static_cast<std::int64_t>(XXH3_64bits(state.data(), state.size()));
}

// A delivery's checksum over what goes to LINE and to whom (the fields never changed after it is
// made, and its messages): damage inside a row, which SQLite's own check does not see, is found
// at start instead of being sent. The same function is registered in SQL as delivery_sum().
std::int64_t delivery_checksum(std::initializer_list<std::string_view> fields) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  for (const auto f : fields) {
    const std::uint64_t n = f.size();  // length-prefixed: ("ab", "c") and ("a", "bc") differ
    XXH3_64bits_update(&st, &n, sizeof n);
    XXH3_64bits_update(&st, f.data(), f.size());
  }
  return static_cast<std::int64_t>(XXH3_64bits_digest(&st));
}

std::int64_t delivery_checksum(const OutboxRow& r) {
  return delivery_checksum({r.key, r.friend_id, r.reply_token, r.messages, r.recipients, r.line_request});
}

// delivery_sum(key, friend, reply_token, messages, recipients, line_request) in SQL.
void delivery_sum_sql(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string_view f[6];
  for (int i = 0; i < argc && i < 6; ++i) {
    const auto* t = sqlite3_value_text(argv[i]);
    f[i] = t == nullptr ? std::string_view()
                        : std::string_view(reinterpret_cast<const char*>(t),
                                           static_cast<std::size_t>(sqlite3_value_bytes(argv[i])));
  }
  sqlite3_result_int64(ctx, delivery_checksum({f[0], f[1], f[2], f[3], f[4], f[5]}));
}

std::string damaged(const std::string& path, std::string what) {
  // SQLite's integrity report can run to many lines: one line, and the first of them.
  std::replace(what.begin(), what.end(), '\n', ';');
  if (what.size() > 300) what = what.substr(0, 300) + " …";
  return fmt::format(
      "{} is damaged: {}. None of its data was written (only its lease counter moved on). Restore it from the last "
      "backup (docs/serve.md, \"Backup\") and "
      "start "
      "again; LINE redelivers webhooks it could not deliver, and your systems can post their events again",
      path, what);
}

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw StoreError(fmt::format("{}: cannot open the database: {}", path, why));
    }
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
  }
  ~Db() {
    for (auto* s : stmts_) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err != nullptr ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw StoreError(fmt::format("database: {}", why));
    }
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      throw StoreError(fmt::format("database: {}", sqlite3_errmsg(db_)));
    }
    stmts_.push_back(s);
    return s;
  }
  // Runs a prepared statement to completion (resetting it); throws on failure.
  int step(sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      const std::string why = sqlite3_errmsg(db_);
      sqlite3_reset(s);
      throw StoreError(fmt::format("database: {}", why));
    }
    return rc;
  }
  sqlite3* raw() { return db_; }
  std::int64_t scalar(const char* sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, sql, -1, &s, nullptr);
    std::int64_t v = 0;
    if (s != nullptr && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> stmts_;
};

void bind(sqlite3_stmt* s, int i, std::string_view v) { sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
void bind(sqlite3_stmt* s, int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
std::string text_at(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) : path_(path), lock_(path), w_(path) {
    check_integrity();  // before anything is written
    sqlite3_create_function(w_.raw(), "delivery_sum", 6, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, delivery_sum_sql,
                            nullptr, nullptr);
    migrate();
    check_deliveries();
    // Take the lease: a new epoch; every commit checks it is still ours.
    w_.exec("BEGIN IMMEDIATE");
    w_.exec("UPDATE meta SET value = value + 1 WHERE key = 'epoch'");
    epoch_ = w_.scalar("SELECT value FROM meta WHERE key = 'epoch'");
    w_.exec("COMMIT");
    r_ = std::make_unique<Db>(path);
    claim_ = w_.prepare("INSERT OR IGNORE INTO processed_events(id, at) VALUES (?, strftime('%s','now'))");
    click_ = w_.prepare(
        "INSERT INTO processed_events(id, at) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET at = excluded.at "
        "WHERE processed_events.at <= ?2 - ?3");
    stats_ = w_.prepare(
        "INSERT INTO report_stats(shape, stats, saved) VALUES (?, ?, strftime('%s','now')) "
        "ON CONFLICT(shape) DO UPDATE SET stats = excluded.stats, saved = excluded.saved");
    save_ =
        w_.prepare("INSERT INTO friends(id, partition, state, updated, sum) VALUES (?, ?, ?, strftime('%s','now'), ?)");
    update_friend_ = w_.prepare("UPDATE friends SET state = ?, sum = ?, updated = strftime('%s','now') WHERE id = ?");
    add_ = w_.prepare(
        "INSERT OR IGNORE INTO outbox(key, friend, partition, due, reply, reply_token, messages, scenario, node, "
        "created, next_attempt, "
        "kind, status, message_names, recipients, unit, line_request, error, sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?)");
    held_ = w_.prepare(
        "SELECT id, key, friend, due, reply, reply_token, messages, scenario, node, created, message_names FROM outbox "
        "WHERE status = 'profile' AND created < ? AND (? = '' OR friend = ?) ORDER BY id");
    release_ = w_.prepare(
        "UPDATE outbox SET status = 'pending', messages = ?1, sum = delivery_sum(key, friend, reply_token, ?1, "
        "recipients, line_request) WHERE id = ?2 AND status = 'profile'");
    quota_held_ = w_.prepare(
        "SELECT scenario, sum(CASE WHEN recipients != '' THEN json_array_length(recipients) ELSE 1 END) FROM outbox "
        "WHERE status = 'quota' GROUP BY scenario ORDER BY min(id)");
    quota_release_ =
        w_.prepare("UPDATE outbox SET status = 'pending', error = '' WHERE status = 'quota' AND scenario = ?");
    profile_ = w_.prepare(
        "INSERT INTO profiles(friend, display_name, language, fetched, found) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(friend) DO UPDATE SET display_name = excluded.display_name, language = excluded.language, "
        "fetched = excluded.fetched, found = excluded.found");
    fetched_ = w_.prepare("SELECT fetched FROM profiles WHERE friend = ?");
    version_ = w_.prepare(
        "INSERT INTO project_versions(shape, sources, served) VALUES (?, ?, strftime('%s','now')) "
        "ON CONFLICT(shape) DO UPDATE SET sources = excluded.sources, served = excluded.served");
    lease_ = w_.prepare("UPDATE meta SET value = ? WHERE key = 'clock' AND (SELECT value FROM meta WHERE key = 'epoch') = ?");
    due_ = r_->prepare(
        "SELECT id, key, friend, due, reply, reply_token, messages, scenario, node, created, attempts, next_attempt, "
        "status, error, kind, "
        "recipients, unit, line_request, audience_id, audience_uploaded, request_id, progress FROM outbox "
        "WHERE status = ?4 AND due <= ?1 AND next_attempt <= ?2 ORDER BY due, id LIMIT ?3");
    update_ = r_->prepare(
        "UPDATE outbox SET reply = ?, attempts = ?, next_attempt = ?, status = ?, error = ?, audience_id = ?, "
        "audience_uploaded = ?, request_id = ?, progress = ? WHERE id = ?");
    claim_reply_ = r_->prepare(
        "UPDATE outbox SET status = 'replying' WHERE id = ? AND attempts = ? AND status IN ('pending', 'replying')");
    release_claim_ =
        r_->prepare("UPDATE outbox SET status = 'pending' WHERE id = ? AND attempts = ? AND status = 'replying'");
  }

  std::int64_t project_shape() override {
    std::lock_guard<std::mutex> lock(wm_);
    return w_.scalar("SELECT coalesce((SELECT value FROM meta WHERE key = 'project'), 0)");
  }

  std::string project_sources(std::int64_t shape) override {
    return text_by_shape("SELECT sources FROM project_versions WHERE shape = ?", shape);
  }

  void set_project(std::int64_t shape, std::string_view sources) override {
    w_.exec(fmt::format("INSERT INTO meta(key, value) VALUES ('project', {}) ON CONFLICT(key) DO UPDATE SET value = excluded.value", shape));
    bind(version_, 1, shape);
    bind(version_, 2, sources);
    w_.step(version_);
    sqlite3_reset(version_);
  }

  void save_stats(std::int64_t shape, std::string_view stats) override {
    bind(stats_, 1, shape);
    bind(stats_, 2, stats);
    w_.step(stats_);
    sqlite3_reset(stats_);
  }

  std::string load_stats(std::int64_t shape) override {
    return text_by_shape("SELECT stats FROM report_stats WHERE shape = ?", shape);
  }

  std::vector<FriendState> load_friends() override {
    std::lock_guard<std::mutex> lock(wm_);
    std::vector<FriendState> out;
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(w_.raw(), "SELECT id, state, sum FROM friends ORDER BY id", -1, &s, nullptr);
    std::int64_t bad = 0;
    std::string first_bad;
    int rc = s == nullptr ? SQLITE_ERROR : SQLITE_ROW;
    while (s != nullptr && (rc = sqlite3_step(s)) == SQLITE_ROW) {
      FriendState f;
      f.id = text_at(s, 0);
      f.state.assign(static_cast<const char*>(sqlite3_column_blob(s, 1)), static_cast<std::size_t>(sqlite3_column_bytes(s, 1)));
      // A state saved before checksums were kept has none; every state saved since has one.
      if (sqlite3_column_type(s, 2) != SQLITE_NULL && sqlite3_column_int64(s, 2) != checksum(f.state)) {
        if (bad++ == 0) first_bad = f.id;
        continue;
      }
      out.push_back(std::move(f));
    }
    const std::string why = rc == SQLITE_DONE ? std::string() : sqlite3_errmsg(w_.raw());
    sqlite3_finalize(s);
    if (!why.empty()) throw StoreError(damaged(path_, fmt::format("reading the friends failed ({})", why)));
    if (bad > 0) {
      throw StoreError(damaged(
          path_, fmt::format("{} friend state{} do{} not match {} checksum{} (the first: {})", bad, bad == 1 ? "" : "s",
                             bad == 1 ? "es" : "", bad == 1 ? "its" : "their", bad == 1 ? "" : "s", first_bad)));
    }
    const std::int64_t expected = w_.scalar("SELECT value FROM meta WHERE key = 'friends'");
    if (static_cast<std::int64_t>(out.size()) != expected) {
      throw StoreError(damaged(path_, fmt::format("it holds {} friends where {} were saved", out.size(), expected)));
    }
    return out;
  }

  std::int64_t clock() override {
    std::lock_guard<std::mutex> lock(wm_);
    return w_.scalar("SELECT value FROM meta WHERE key = 'clock'");
  }

  void begin() override {
    wm_.lock();
    try {
      w_.exec("BEGIN IMMEDIATE");
    } catch (...) {
      wm_.unlock();
      throw;
    }
  }

  bool claim_event(std::string_view id) override {
    bind(claim_, 1, id);
    w_.step(claim_);
    sqlite3_reset(claim_);
    return sqlite3_changes(w_.raw()) == 1;
  }

  bool claim_click(std::string_view id, std::int64_t now, std::int64_t window) override {
    bind(click_, 1, id);
    bind(click_, 2, now);
    bind(click_, 3, window);
    w_.step(click_);
    sqlite3_reset(click_);
    return sqlite3_changes(w_.raw()) == 1;
  }

  void save_friend(std::string_view id, std::string_view state) override {
    // An update, else an insert: the count of friends in `meta` follows the inserts, and a
    // start that finds another number of friends knows rows were lost.
    sqlite3_bind_blob(update_friend_, 1, state.data(), static_cast<int>(state.size()), SQLITE_TRANSIENT);
    bind(update_friend_, 2, checksum(state));
    bind(update_friend_, 3, id);
    w_.step(update_friend_);
    sqlite3_reset(update_friend_);
    if (sqlite3_changes(w_.raw()) == 1) return;
    bind(save_, 1, id);
    bind(save_, 2, static_cast<std::int64_t>(partition_of(id)));
    sqlite3_bind_blob(save_, 3, state.data(), static_cast<int>(state.size()), SQLITE_TRANSIENT);
    bind(save_, 4, checksum(state));
    w_.step(save_);
    sqlite3_reset(save_);
    ++inserted_;
  }

  void add_delivery(const OutboxRow& r) override {
    bind(add_, 1, r.key);
    bind(add_, 2, r.friend_id);
    bind(add_, 3, static_cast<std::int64_t>(partition_of(r.friend_id)));
    bind(add_, 4, r.due);
    bind(add_, 5, static_cast<std::int64_t>(r.reply ? 1 : 0));
    bind(add_, 6, r.reply_token);
    bind(add_, 7, r.messages);
    bind(add_, 8, r.scenario);
    bind(add_, 9, r.node);
    bind(add_, 10, r.created);
    bind(add_, 11, r.due);
    bind(add_, 12, r.kind);
    bind(add_, 13, r.status.empty() ? std::string_view("pending") : std::string_view(r.status));
    bind(add_, 14, r.message_names);
    bind(add_, 15, r.recipients);
    bind(add_, 16, r.unit);
    bind(add_, 17, r.line_request);
    bind(add_, 18, r.error);
    bind(add_, 19, delivery_checksum(r));
    w_.step(add_);
    sqlite3_reset(add_);
  }

  std::vector<OutboxRow> held_deliveries(std::string_view friend_id, std::int64_t created_before) override {
    std::vector<OutboxRow> out;
    bind(held_, 1, created_before);
    bind(held_, 2, friend_id);
    bind(held_, 3, friend_id);
    while (w_.step(held_) == SQLITE_ROW) {
      OutboxRow r;
      r.id = sqlite3_column_int64(held_, 0);
      r.key = text_at(held_, 1);
      r.friend_id = text_at(held_, 2);
      r.due = sqlite3_column_int64(held_, 3);
      r.reply = sqlite3_column_int64(held_, 4) != 0;
      r.reply_token = text_at(held_, 5);
      r.messages = text_at(held_, 6);
      r.scenario = text_at(held_, 7);
      r.node = text_at(held_, 8);
      r.created = sqlite3_column_int64(held_, 9);
      r.message_names = text_at(held_, 10);
      r.status = "profile";
      out.push_back(std::move(r));
    }
    sqlite3_reset(held_);
    return out;
  }

  void release_delivery(std::int64_t id, std::string_view messages) override {
    bind(release_, 1, messages);
    bind(release_, 2, id);
    w_.step(release_);
    sqlite3_reset(release_);
  }

  std::vector<std::pair<std::string, std::int64_t>> quota_held() override {
    std::vector<std::pair<std::string, std::int64_t>> out;
    sqlite3_stmt* st = quota_held_;
    while (w_.step(st) == SQLITE_ROW) out.emplace_back(text_at(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return out;
  }

  void release_quota_held(std::string_view broadcast) override {
    sqlite3_stmt* st = quota_release_;
    bind(st, 1, broadcast);
    w_.step(st);
    sqlite3_reset(st);
  }

  void save_profile(const Profile& p) override {
    bind(profile_, 1, p.friend_id);
    if (p.display_name)
      bind(profile_, 2, *p.display_name);
    else
      sqlite3_bind_null(profile_, 2);
    if (p.language)
      bind(profile_, 3, *p.language);
    else
      sqlite3_bind_null(profile_, 3);
    bind(profile_, 4, p.fetched);
    bind(profile_, 5, static_cast<std::int64_t>(p.found ? 1 : 0));
    w_.step(profile_);
    sqlite3_reset(profile_);
  }

  std::optional<std::int64_t> profile_fetched(std::string_view friend_id) override {
    bind(fetched_, 1, friend_id);
    std::optional<std::int64_t> out;
    if (w_.step(fetched_) == SQLITE_ROW) out = sqlite3_column_int64(fetched_, 0);
    sqlite3_reset(fetched_);
    return out;
  }

  void commit(std::int64_t clock) override {
    try {
      if (inserted_ > 0) w_.exec(fmt::format("UPDATE meta SET value = value + {} WHERE key = 'friends'", inserted_));
      inserted_ = 0;
      bind(lease_, 1, clock);
      bind(lease_, 2, epoch_);
      w_.step(lease_);
      sqlite3_reset(lease_);
      if (sqlite3_changes(w_.raw()) != 1)
        throw LeaseLost("database: another process has taken over this database (lease lost)");
      w_.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(w_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      wm_.unlock();
      throw;
    }
    wm_.unlock();
  }

  void rollback() override {
    inserted_ = 0;
    sqlite3_exec(w_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    wm_.unlock();
  }

  std::vector<OutboxRow> due_deliveries(std::int64_t now, std::size_t limit) override {
    std::lock_guard<std::mutex> lock(rm_);
    check_lease(*r_);  // the sender is fenced by the writer's lease: a process that lost it sends nothing
    std::vector<OutboxRow> out;
    // Narrowcasts LINE is sending (their progress is due to be asked for) are few; then pending rows.
    for (const char* status : {"accepted", "pending"}) {
      if (out.size() >= limit) break;
      due_rows(status, now, limit - out.size(), out);
    }
    return out;
  }

  void due_rows(std::string_view status, std::int64_t now, std::size_t limit, std::vector<OutboxRow>& out) {
    bind(due_, 1, now);
    bind(due_, 2, now);
    bind(due_, 3, static_cast<std::int64_t>(limit));
    bind(due_, 4, status);
    while (r_->step(due_) == SQLITE_ROW) {
      OutboxRow r;
      r.id = sqlite3_column_int64(due_, 0);
      r.key = text_at(due_, 1);
      r.friend_id = text_at(due_, 2);
      r.due = sqlite3_column_int64(due_, 3);
      r.reply = sqlite3_column_int64(due_, 4) != 0;
      r.reply_token = text_at(due_, 5);
      r.messages = text_at(due_, 6);
      r.scenario = text_at(due_, 7);
      r.node = text_at(due_, 8);
      r.created = sqlite3_column_int64(due_, 9);
      r.attempts = sqlite3_column_int64(due_, 10);
      r.next_attempt = sqlite3_column_int64(due_, 11);
      r.status = text_at(due_, 12);
      r.error = text_at(due_, 13);
      r.kind = text_at(due_, 14);
      r.recipients = text_at(due_, 15);
      r.unit = text_at(due_, 16);
      r.line_request = text_at(due_, 17);
      r.audience_id = sqlite3_column_int64(due_, 18);
      r.audience_uploaded = sqlite3_column_int64(due_, 19);
      r.request_id = text_at(due_, 20);
      r.progress = text_at(due_, 21);
      out.push_back(std::move(r));
    }
    sqlite3_reset(due_);
  }

  void update_deliveries(const std::vector<OutboxRow>& rows) override {
    if (rows.empty()) return;
    std::lock_guard<std::mutex> lock(rm_);
    // One transaction (and one fsync) for the whole group: the sender's results arrive by the hundred.
    r_->exec("BEGIN IMMEDIATE");
    try {
      check_lease(*r_);
      for (const auto& r : rows) {
        bind(update_, 1, static_cast<std::int64_t>(r.reply ? 1 : 0));
        bind(update_, 2, r.attempts);
        bind(update_, 3, r.next_attempt);
        bind(update_, 4, r.status);
        bind(update_, 5, r.error);
        bind(update_, 6, r.audience_id);
        bind(update_, 7, r.audience_uploaded);
        bind(update_, 8, r.request_id);
        bind(update_, 9, r.progress);
        bind(update_, 10, r.id);
        r_->step(update_);
        sqlite3_reset(update_);
      }
      r_->exec("COMMIT");
    } catch (...) {
      sqlite3_reset(update_);
      sqlite3_exec(r_->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::vector<std::int64_t> claim_replies(const std::vector<OutboxRow>& rows) override {
    return set_claims(claim_reply_, rows);
  }

  void release_claims(const std::vector<OutboxRow>& rows) override { set_claims(release_claim_, rows); }

  std::int64_t settle_inflight() override {
    std::lock_guard<std::mutex> lock(rm_);
    r_->exec(
        "UPDATE outbox SET status = 'uncertain', error = 'the process stopped while this reply was in flight; "
        "it may have arrived, and a reply token cannot be used twice' WHERE status = 'replying'");
    return sqlite3_changes(r_->raw());
  }

  StoreCounts counts() override {
    std::lock_guard<std::mutex> lock(rm_);
    StoreCounts c;
    c.friends = r_->scalar("SELECT count(*) FROM friends");
    c.pending = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'pending'");
    c.sent = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'sent'");
    c.failed = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'failed'");
    c.uncertain = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'uncertain'");
    c.held = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'profile'");
    c.quota_held = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'quota'");
    c.in_flight = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'replying'");
    c.line_sending = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'accepted'");
    c.via_line = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'via_line'");
    c.unsent = r_->scalar("SELECT count(*) FROM outbox WHERE status = 'unsent'");
    c.pending_messages = r_->scalar(
        "SELECT coalesce(sum(CASE WHEN kind IN ('multicast', 'narrowcast') AND recipients != '' THEN "
        "json_array_length(recipients) WHEN kind = 'message' AND reply = 0 THEN 1 ELSE 0 END), 0) FROM outbox WHERE "
        "status = "
        "'pending'");
    c.processed_events = r_->scalar("SELECT count(*) FROM processed_events");
    return c;
  }

 private:
  std::string path_;
  DatabaseLock lock_;      // one process per database, before anything is read
  Db w_;                   // the writer's connection: batches
  std::unique_ptr<Db> r_;  // the sender's connection: the outbox
  std::mutex wm_, rm_;
  std::int64_t epoch_ = 0;
  sqlite3_stmt* claim_ = nullptr;
  sqlite3_stmt* click_ = nullptr;
  // SQLite's quick_check (every page and index entry readable and consistent), before anything
  // is written: a damaged file is refused, never served in part and overwritten.
  void check_integrity() {
    sqlite3_stmt* s = nullptr;
    std::string result;
    if (sqlite3_prepare_v2(w_.raw(), "PRAGMA quick_check", -1, &s, nullptr) != SQLITE_OK) {
      throw StoreError(damaged(path_, sqlite3_errmsg(w_.raw())));
    }
    int rc = 0;
    int lines = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (lines++ < 3) result += (result.empty() ? "" : "; ") + text_at(s, 0);
    }
    const std::string why = rc == SQLITE_DONE ? std::string() : sqlite3_errmsg(w_.raw());
    sqlite3_finalize(s);
    if (!why.empty()) throw StoreError(damaged(path_, why));
    if (result != "ok") throw StoreError(damaged(path_, "SQLite's integrity check says: " + result));
  }

  // Every delivery still to be sent against its checksum (rows made before checksums were kept
  // have none): a damaged one is refused at start, never sent.
  void check_deliveries() {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(w_.raw(),
                           "SELECT count(*), min(key) FROM outbox WHERE sum IS NOT NULL AND status IN ('pending', "
                           "'profile', 'quota', 'replying', 'accepted') AND sum != delivery_sum(key, friend, "
                           "reply_token, messages, recipients, line_request)",
                           -1, &s, nullptr) != SQLITE_OK) {
      throw StoreError(damaged(path_, sqlite3_errmsg(w_.raw())));
    }
    const int rc = sqlite3_step(s);
    const std::int64_t bad = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    const std::string first = rc == SQLITE_ROW ? text_at(s, 1) : std::string();
    const std::string why = rc == SQLITE_ROW ? std::string() : sqlite3_errmsg(w_.raw());
    sqlite3_finalize(s);
    if (!why.empty()) throw StoreError(damaged(path_, fmt::format("reading the outbox failed ({})", why)));
    if (bad > 0) {
      throw StoreError(
          damaged(path_, fmt::format("{} deliver{} not yet sent do{} not match {} checksum{} (the first: {})", bad,
                                     bad == 1 ? "y" : "ies", bad == 1 ? "es" : "", bad == 1 ? "its" : "their",
                                     bad == 1 ? "" : "s", first)));
    }
  }

  // One claim statement (id, attempts) over the rows, in one transaction under the lease: the ids it changed.
  std::vector<std::int64_t> set_claims(sqlite3_stmt* st, const std::vector<OutboxRow>& rows) {
    std::vector<std::int64_t> changed;
    if (rows.empty()) return changed;
    std::lock_guard<std::mutex> lock(rm_);
    r_->exec("BEGIN IMMEDIATE");
    try {
      check_lease(*r_);
      for (const auto& r : rows) {
        bind(st, 1, r.id);
        bind(st, 2, r.attempts);
        r_->step(st);
        sqlite3_reset(st);
        if (sqlite3_changes(r_->raw()) == 1) changed.push_back(r.id);
      }
      r_->exec("COMMIT");
    } catch (...) {
      sqlite3_reset(st);
      sqlite3_exec(r_->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    return changed;
  }

  void check_lease(Db& db) {
    if (db.scalar("SELECT value FROM meta WHERE key = 'epoch'") != epoch_) {
      throw LeaseLost("database: another process has taken over this database (lease lost)");
    }
  }

  // One text column of the row a version's shape keys (empty when there is none).
  std::string text_by_shape(const char* sql, std::int64_t shape) {
    std::lock_guard<std::mutex> lock(wm_);
    sqlite3_stmt* s = nullptr;
    std::string out;
    sqlite3_prepare_v2(w_.raw(), sql, -1, &s, nullptr);
    bind(s, 1, shape);
    if (s != nullptr && sqlite3_step(s) == SQLITE_ROW) out = text_at(s, 0);
    sqlite3_finalize(s);
    return out;
  }

  sqlite3_stmt* save_ = nullptr;
  sqlite3_stmt* update_friend_ = nullptr;
  std::int64_t inserted_ = 0;  // friends inserted by the open batch
  sqlite3_stmt* stats_ = nullptr;
  sqlite3_stmt* add_ = nullptr;
  sqlite3_stmt* lease_ = nullptr;
  sqlite3_stmt* version_ = nullptr;
  sqlite3_stmt* due_ = nullptr;
  sqlite3_stmt* update_ = nullptr;
  sqlite3_stmt* claim_reply_ = nullptr;
  sqlite3_stmt* release_claim_ = nullptr;
  sqlite3_stmt* held_ = nullptr;
  sqlite3_stmt* release_ = nullptr;
  sqlite3_stmt* quota_held_ = nullptr;
  sqlite3_stmt* quota_release_ = nullptr;
  sqlite3_stmt* profile_ = nullptr;
  sqlite3_stmt* fetched_ = nullptr;

  void migrate() {
    const std::int64_t version = w_.scalar("PRAGMA user_version");
    constexpr auto kLatest = static_cast<std::int64_t>(std::size(kMigrations));
    if (version > kLatest) {
      throw StoreError(fmt::format("database: schema version {} is newer than this okuri knows ({})", version, kLatest));
    }
    for (std::int64_t v = version; v < kLatest; ++v) {
      w_.exec("BEGIN IMMEDIATE");
      try {
        w_.exec(kMigrations[v]);
        w_.exec(fmt::format("PRAGMA user_version = {}", v + 1));
        w_.exec("COMMIT");
      } catch (...) {
        sqlite3_exec(w_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
  }
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path) {
  try {
    return std::make_unique<SqliteStore>(path);
  } catch (const StoreError& e) {
    // SQLite's own words for a damaged file, said the way the other damage is.
    const std::string what = e.what();
    if (what.find(" is damaged: ") == std::string::npos &&
        (what.find("not a database") != std::string::npos || what.find("malformed") != std::string::npos ||
         what.find("corrupt") != std::string::npos)) {
      throw StoreError(damaged(path, what));
    }
    throw;
  }
}

}  // namespace okuri::svc
