#include "service/account_snapshot.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "service/store.hpp"

namespace okuri::svc {

using nlohmann::json;

namespace {

class ReadOnly {
 public:
  explicit ReadOnly(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StoreError(fmt::format("{}: cannot open the database: {}", path, why));
    }
    sqlite3_busy_timeout(db_, 10000);
  }
  ~ReadOnly() { sqlite3_close(db_); }
  ReadOnly(const ReadOnly&) = delete;
  ReadOnly& operator=(const ReadOnly&) = delete;

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) fail(err);
  }
  // Each row of `sql` (bound to `arg` when not empty) to `row`.
  template <typename Row>
  void each(const char* sql, Row row, std::optional<std::int64_t> arg = std::nullopt) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) fail(nullptr);
    if (arg) sqlite3_bind_int64(s, 1, *arg);
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) row(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) fail(nullptr);
  }

 private:
  [[noreturn]] void fail(char* err) {
    std::string why = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    if (why.find("no such table") != std::string::npos || why.find("not a database") != std::string::npos) {
      why += " (is it a database written by okuri serve?)";
    }
    throw StoreError(fmt::format("{}: {}", path_, why));
  }
  std::string path_;
  sqlite3* db_ = nullptr;
};

std::string text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

}  // namespace

AccountSnapshot read_account(const std::string& db_path) {
  ReadOnly db(db_path);
  AccountSnapshot a;
  // One read transaction: under WAL it sees one commit, whatever serve writes meanwhile.
  db.exec("BEGIN");
  db.each("SELECT key, value FROM meta WHERE key IN ('clock', 'project')",
          [&](sqlite3_stmt* s) { (text(s, 0) == "clock" ? a.clock : a.shape) = sqlite3_column_int64(s, 1); });
  db.each(
      "SELECT sources FROM project_versions WHERE shape = ?", [&](sqlite3_stmt* s) { a.sources = text(s, 0); },
      a.shape);
  bool has_stats = false;
  db.each("SELECT name FROM sqlite_master WHERE name = 'report_stats'", [&](sqlite3_stmt*) { has_stats = true; });
  if (has_stats)
    db.each(
        "SELECT stats FROM report_stats WHERE shape = ?", [&](sqlite3_stmt* s) { a.stats = text(s, 0); }, a.shape);
  db.each("SELECT id, state FROM friends", [&](sqlite3_stmt* s) {
    a.friends.push_back({text(s, 0), std::string(static_cast<const char*>(sqlite3_column_blob(s, 1)),
                                                 static_cast<std::size_t>(sqlite3_column_bytes(s, 1)))});
  });
  db.each(
      "SELECT kind, friend, recipients, message_names, scenario, node, status, due, created, reply FROM outbox "
      "WHERE kind IN ('message', 'multicast') ORDER BY id",
      [&](sqlite3_stmt* s) {
        a.deliveries.push_back(AccountSnapshot::Row{text(s, 0), text(s, 1), text(s, 2), text(s, 3), text(s, 4),
                                                    text(s, 5), text(s, 6), sqlite3_column_int64(s, 7),
                                                    sqlite3_column_int64(s, 8), sqlite3_column_int(s, 9) != 0});
      });
  db.exec("COMMIT");
  return a;
}

std::unique_ptr<rt::Engine> engine_of(const AccountSnapshot& snapshot, const Program& p) {
  auto e = std::make_unique<rt::Engine>(p, rt::EngineOptions{});
  e->resume_at(snapshot.clock);
  for (const auto& f : snapshot.friends) e->import_friend(e->friend_row(f.id), f.state);
  e->import_stats(snapshot.stats);
  return e;
}

std::vector<rt::Delivery> deliveries_of(const AccountSnapshot& snapshot, rt::Engine& e) {
  std::vector<rt::Delivery> out;
  std::unordered_map<std::string, std::uint32_t> message_index;
  for (std::uint32_t m = 0; m < e.schema().messages.size(); ++m) message_index[e.schema().messages[m]] = m;
  for (const auto& r : snapshot.deliveries) {
    const bool went = r.status == "sent" || r.status == "via_line" || r.status == "uncertain";
    const bool waits = r.status == "pending" || r.status == "profile" || r.status == "quota" ||
                       r.status == "replying" || r.status == "accepted";
    if (!went && !waits) continue;  // failed, unsent, standby: nobody received it
    rt::Delivery d;
    d.time = went ? r.due : std::max(r.due, snapshot.clock + 1);
    d.logical = d.time;
    d.reply = r.reply;
    d.node = r.node;
    if (auto f = e.plan().flow_index(r.scenario)) d.flow = static_cast<std::int32_t>(*f);
    const json names = json::parse(r.message_names, nullptr, false);
    if (names.is_array()) {
      for (const auto& n : names) {
        if (!n.is_string()) continue;
        if (auto it = message_index.find(n.get<std::string>()); it != message_index.end())
          d.messages.push_back(it->second);
      }
    }
    std::vector<std::string> to{r.friend_id};
    if (r.kind == "multicast") {
      const json ids = json::parse(r.recipients, nullptr, false);
      if (ids.is_array()) {
        to.clear();
        for (const auto& id : ids) {
          if (id.is_string()) to.push_back(id.get<std::string>());
        }
      }
    }
    for (const auto& id : to) {
      d.row = e.friend_row(id);
      out.push_back(d);
    }
  }
  return out;
}

std::vector<rt::InputEvent> clicks_of(const rt::Engine& e) {
  std::vector<rt::InputEvent> out;
  const auto& s = e.store();
  for (std::size_t l = 0; l < s.links.size(); ++l) {
    for (std::uint32_t row = 0; row < s.size(); ++row) {
      for (std::uint32_t k = 0; k < s.links[l].clicks[row]; ++k) {
        rt::InputEvent ev;
        ev.time_ms = s.links[l].last[row] * 1000;
        ev.friend_id = s.id_of(row);
        ev.type = "link_clicked";
        ev.arg = e.plan().links[l].name;
        out.push_back(std::move(ev));
      }
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const rt::InputEvent& a, const rt::InputEvent& b) { return a.time_ms < b.time_ms; });
  return out;
}

}  // namespace okuri::svc
