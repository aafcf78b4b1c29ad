#include "service/pg_connection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "service/store.hpp"

namespace okuri::svc {

std::int64_t PgResult::integer(int row, int col) const {
  const auto t = text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

std::string PgResult::bytes(int row, int col) const {
  const auto t = text(row, col);
  if (t.size() < 2 || t[0] != '\\' || t[1] != 'x') return std::string(t);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string out((t.size() - 2) / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(t[2 + 2 * i]) << 4 | nibble(t[3 + 2 * i]));
  }
  return out;
}

std::int64_t PgResult::affected() const {
  if (!r_) return 0;
  const char* n = PQcmdTuples(r_.get());
  std::int64_t v = 0;
  if (n != nullptr) std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

std::string pg_url_shown(std::string_view url) {
  // postgresql://user:secret@host/db → postgresql://user@host/db
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) return std::string(url);
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon)) + std::string(url.substr(at));
}

PgConnection::PgConnection(std::string url, std::string role)
    : url_(std::move(url)), role_(std::move(role)), shown_(pg_url_shown(url_)) {
  connect();
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

void PgConnection::connect() {
  if (conn_ != nullptr) PQfinish(conn_);
  prepared_.clear();
  const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const std::string app = "okuri " + role_;
  const char* values[] = {url_.c_str(), app.c_str(), "10", nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    std::replace(why.begin(), why.end(), '\n', ' ');
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
    throw StoreError(fmt::format("{}: cannot connect ({}): {}", shown_, role_, why));
  }
  // The server's notices (`relation … already exists, skipping`) are not the operator's business.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

void PgConnection::fail(const std::string& what, PGresult* r) {
  std::string why = r != nullptr ? PQresultErrorMessage(r) : "";
  if (why.empty() && conn_ != nullptr) why = PQerrorMessage(conn_);
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state != nullptr ? state : "";
  if (r != nullptr) PQclear(r);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  std::replace(why.begin(), why.end(), '\n', ' ');
  // The connection broke: the next statement opens a new one. Whatever was open is gone.
  if (conn_ != nullptr && PQstatus(conn_) != CONNECTION_OK) {
    PQfinish(conn_);
    conn_ = nullptr;
    prepared_.clear();
  }
  throw StoreError(fmt::format("PostgreSQL ({}, {}): {}{}", role_, what, why, code.empty() ? "" : " [" + code + "]"));
}

PgResult PgConnection::check(PGresult* r, const std::string& what) {
  const auto st = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(what, r);
  return PgResult(r);
}

void PgConnection::prepare(std::string name, std::string sql) {
  for (auto& [n, s] : statements_) {
    if (n == name) {
      s = std::move(sql);
      return;
    }
  }
  statements_.emplace_back(std::move(name), std::move(sql));
}

PgResult PgConnection::run(const std::string& name, const std::vector<PgParam>& params) {
  if (conn_ == nullptr) connect();
  if (std::find(prepared_.begin(), prepared_.end(), name) == prepared_.end()) {
    const auto it =
        std::find_if(statements_.begin(), statements_.end(), [&](const auto& s) { return s.first == name; });
    if (it == statements_.end()) throw StoreError(fmt::format("PostgreSQL ({}): no statement named {}", role_, name));
    check(PQprepare(conn_, name.c_str(), it->second.c_str(), 0, nullptr), "preparing " + name);
    prepared_.push_back(name);
  }
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i] ? params[i]->c_str() : nullptr;
    lengths[i] = params[i] ? static_cast<int>(params[i]->size()) : 0;
  }
  return check(
      PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(), lengths.data(), nullptr, 0),
      name);
}

PgResult PgConnection::exec(const std::string& sql) {
  if (conn_ == nullptr) connect();
  std::string what = sql.substr(0, std::min<std::size_t>(sql.find_first_of("(\n"), 60));
  return check(PQexec(conn_, sql.c_str()), what);
}

std::int64_t PgConnection::scalar(const std::string& sql) {
  const auto r = exec(sql);
  return r.rows() > 0 && !r.null(0, 0) ? r.integer(0, 0) : 0;
}

bool PgConnection::in_transaction() const {
  return conn_ != nullptr && PQtransactionStatus(conn_) != PQTRANS_IDLE &&
         PQtransactionStatus(conn_) != PQTRANS_UNKNOWN;
}

void PgConnection::rollback_quietly() {
  if (conn_ == nullptr) return;
  if (PQstatus(conn_) != CONNECTION_OK) {
    PQfinish(conn_);
    conn_ = nullptr;
    prepared_.clear();
    return;
  }
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
}

std::string pg_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (const unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string pg_text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace okuri::svc
