// One libpq connection, as the PostgreSQL store and `okuri store copy` use it: statements
// prepared once by name (and again after a reconnect), text parameters, results that free
// themselves, and every failure as a StoreError that names the statement's purpose.
//
// A connection that broke (PostgreSQL restarted, the network dropped, the server ended an
// idle transaction) is opened again before its next statement; the statement that met the
// break fails, and whoever ran it decides what to retry. Nothing is retried here, because
// only the caller knows whether its transaction had committed.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace okuri::svc {

// A query's result: rows of text values (bytea columns arrive in PostgreSQL's hex form; see unhex).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::int64_t integer(int row, int col) const;
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  // A bytea column (hex output, PostgreSQL's default since 9.0) as its bytes.
  std::string bytes(int row, int col) const;
  std::int64_t affected() const;  // rows an INSERT, UPDATE or DELETE touched

 private:
  std::shared_ptr<PGresult> r_;
};

// A parameter: text, or NULL.
using PgParam = std::optional<std::string>;

class PgConnection {
 public:
  // `url`: postgresql://user@host:port/db (any libpq connection string). `role` names the
  // connection in errors and in pg_stat_activity (application_name).
  PgConnection(std::string url, std::string role);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // A statement run again and again: prepared on first use (and after a reconnect).
  void prepare(std::string name, std::string sql);
  PgResult run(const std::string& name, const std::vector<PgParam>& params = {});
  // A one-off statement (schema, transaction control); several may be separated by `;`.
  PgResult exec(const std::string& sql);
  std::int64_t scalar(const std::string& sql);
  // Whether a transaction is open on the server (a failed statement inside one leaves it aborted).
  bool in_transaction() const;
  // Ends an open transaction without keeping anything; never throws (the connection may be gone).
  void rollback_quietly();
  const std::string& url_shown() const { return shown_; }

 private:
  void connect();
  [[noreturn]] void fail(const std::string& what, PGresult* r);
  PgResult check(PGresult* r, const std::string& what);

  std::string url_, role_, shown_;
  PGconn* conn_ = nullptr;
  std::vector<std::pair<std::string, std::string>> statements_;  // name, sql
  std::vector<std::string> prepared_;                            // names prepared on this connection
};

// Encoding for parameters: a bytea value as PostgreSQL's hex text (`\x…`), and a text array
// literal (`{"a","b"}`) whose elements may hold any character.
std::string pg_hex(std::string_view bytes);
std::string pg_text_array(const std::vector<std::string>& items);

}  // namespace okuri::svc
