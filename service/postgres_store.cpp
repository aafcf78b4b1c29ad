// The PostgreSQL store: several workers on one database (docs/scale-out.md,
// docs/design/scale-out.md).
//
// Partitions are leased to one worker at a time under a fencing epoch. Every writing
// transaction of the writer starts by locking its partitions' lease rows FOR KEY SHARE and
// checking that they are still its own at the epoch it took: a takeover locks the row FOR
// UPDATE, which waits for such a transaction to end, so a worker that lost a lease can never
// commit after the new owner started. Renewals change only lease_until (FOR NO KEY UPDATE, which
// KEY SHARE does not block), so a long batch does not hold the keeper back.
//
// Four connections, one per thread that uses the store: the writer's (batches), the sender's
// (the outbox), the ingest's (the inbox, before a 200) and the lease keeper's.
#include <fmt/format.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include "service/pg_connection.hpp"
#include "service/postgres_schema.hpp"
#include "service/store.hpp"

namespace okuri::svc {
namespace {

std::int64_t checksum(std::string_view state) {
  return static_cast<std::int64_t>(XXH3_64bits(state.data(), state.size()));
}

std::string num(std::int64_t v) { return std::to_string(v); }

// The columns every outbox query starts with: id, key, friend, due, reply, reply_token, messages,
// scenario, node, created.
OutboxRow delivery_at(const PgResult& r, int k) {
  OutboxRow o;
  o.id = r.integer(k, 0);
  o.key = r.text(k, 1);
  o.friend_id = r.text(k, 2);
  o.due = r.integer(k, 3);
  o.reply = r.boolean(k, 4);
  o.reply_token = r.text(k, 5);
  o.messages = r.text(k, 6);
  o.scenario = r.text(k, 7);
  o.node = r.text(k, 8);
  o.created = r.integer(k, 9);
  return o;
}

std::string parts_array(const PartitionSet& parts) {
  std::string out = "{";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : ",") + std::to_string(parts[i]);
  return out + "}";
}

// A name no other process start has: a restarted worker takes new epochs, never its old leases.
std::string worker_name() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  return fmt::format("{}:{}:{:08x}", host, getpid(), rd());
}

class PostgresStore final : public Store {
 public:
  PostgresStore(const std::string& url, const PostgresOptions& o)
      : opt_(o), me_(worker_name()), k_(url, "lease keeper"), w_(url, "writer"), s_(url, "sender"), i_(url, "ingest") {
    postgres_migrate(k_);
    postgres_check_layout(k_);
    // A worker paused inside a transaction must not hold its lease rows locked for ever: the
    // server ends such a transaction after the lease time, and the worker finds out at commit.
    for (PgConnection* c : {&w_, &s_, &i_, &k_}) {
      c->exec(fmt::format("SET idle_in_transaction_session_timeout = '{}s'", opt_.lease_seconds));
    }
    prepare();
    k_.run("hello", {me_});
    renew_leases();
  }

  ~PostgresStore() override {
    // Leases given back at a clean stop: the others need not wait for them to expire.
    try {
      std::lock_guard<std::mutex> lock(km_);
      k_.exec("BEGIN");
      k_.run("give_back", {parts_array(all_partitions()), me_});
      k_.run("goodbye", {me_});
      k_.exec("COMMIT");
    } catch (const std::exception&) {
      k_.rollback_quietly();
    }
  }

  bool shared() const override { return true; }
  std::string worker() const override { return me_; }

  bool sure_to_hold(std::uint32_t partition) override {
    std::lock_guard<std::mutex> lock(lm_);
    const auto it = sure_until_.find(partition);
    return it != sure_until_.end() && epochs_.count(partition) != 0 && std::chrono::steady_clock::now() < it->second;
  }

  PartitionSet held() override {
    std::lock_guard<std::mutex> lock(lm_);
    PartitionSet out;
    for (const auto& [p, epoch] : epochs_) {
      if (releasing_.count(p) == 0) out.push_back(p);
    }
    return out;
  }

  void set_writing(const PartitionSet& parts) override {
    std::lock_guard<std::mutex> lock(lm_);
    writing_ = parts;
  }

  PartitionSet renew_leases() override {
    std::lock_guard<std::mutex> lock(km_);
    try {
      keep_leases();
    } catch (const StoreError&) {
      k_.rollback_quietly();
      throw;
    }
    return held();
  }

  std::vector<bool> enqueue(const std::vector<InboxEntry>& entries, std::int64_t now, std::int64_t window) override {
    std::lock_guard<std::mutex> lock(im_);
    std::vector<bool> taken(entries.size(), false);
    try {
      i_.exec("BEGIN");
      std::vector<std::string> ids;
      for (const auto& e : entries) {
        if (!e.event_id.empty() && e.event_id.rfind("click:", 0) != 0) ids.push_back(e.event_id);
      }
      std::set<std::string, std::less<>> fresh;
      if (!ids.empty()) {
        const auto r = i_.run("claim_many", {pg_text_array(ids), num(now)});
        for (int k = 0; k < r.rows(); ++k) fresh.emplace(r.text(k, 0));
      }
      std::vector<std::string> parts, events;
      for (std::size_t k = 0; k < entries.size(); ++k) {
        const auto& e = entries[k];
        if (e.event_id.empty()) {
          taken[k] = true;
        } else if (e.event_id.rfind("click:", 0) == 0) {
          taken[k] = i_.run("claim_click", {e.event_id, num(now), num(window)}).affected() == 1;
        } else if (const auto it = fresh.find(e.event_id); it != fresh.end()) {
          taken[k] = true;
          fresh.erase(it);  // the same id twice in one request: the first
        }
        if (!taken[k]) continue;
        parts.push_back(std::to_string(partition_of(e.friend_id)));
        events.push_back(pg_hex(e.event));
      }
      if (!events.empty()) i_.run("inbox_add", {pg_text_array(parts), pg_text_array(events)});
      i_.exec("COMMIT");
    } catch (...) {
      i_.rollback_quietly();
      throw;
    }
    return taken;
  }

  std::vector<std::string> take_inbox(std::size_t limit) override {
    flush();
    const auto r = w_.run("inbox_take", {writing_array(), num(static_cast<std::int64_t>(limit))});
    std::vector<std::pair<std::int64_t, std::string>> rows;
    rows.reserve(static_cast<std::size_t>(r.rows()));
    for (int k = 0; k < r.rows(); ++k) rows.emplace_back(r.integer(k, 0), r.bytes(k, 1));
    std::sort(rows.begin(), rows.end());
    std::vector<std::string> out;
    out.reserve(rows.size());
    for (auto& [seq, ev] : rows) out.push_back(std::move(ev));
    return out;
  }

  bool inbox_waiting() override {
    std::lock_guard<std::mutex> lock(wm_);
    return w_.run("inbox_any", {writing_array()}).rows() > 0;
  }

  std::vector<FriendState> load_friends() override {
    std::lock_guard<std::mutex> lock(wm_);
    const auto r = w_.run("friends_of", {writing_array()});
    std::vector<FriendState> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    std::int64_t bad = 0;
    std::string first_bad;
    for (int k = 0; k < r.rows(); ++k) {
      FriendState f;
      f.id = std::string(r.text(k, 0));
      f.state = r.bytes(k, 1);
      if (r.integer(k, 2) != checksum(f.state)) {
        if (bad++ == 0) first_bad = f.id;
        continue;
      }
      out.push_back(std::move(f));
    }
    if (bad > 0) {
      throw StoreError(
          fmt::format("{}: {} friend state{} do not match {} checksum (the first: {}); restore the database "
                      "from its last backup (docs/scale-out.md, \"Backups\")",
                      w_.url_shown(), bad, bad == 1 ? "" : "s", bad == 1 ? "its" : "their", first_bad));
    }
    return out;
  }

  std::int64_t clock() override {
    std::lock_guard<std::mutex> lock(wm_);
    const auto r = w_.run("clock_of", {writing_array()});
    return r.rows() > 0 && !r.null(0, 0) ? r.integer(0, 0) : 0;
  }

  std::int64_t project_shape() override {
    std::lock_guard<std::mutex> lock(wm_);
    return w_.scalar("SELECT coalesce((SELECT value FROM okuri_meta WHERE key = 'project'), 0)");
  }

  std::string project_sources(std::int64_t shape) override {
    std::lock_guard<std::mutex> lock(wm_);
    const auto r = w_.run("sources_of", {num(shape)});
    return r.rows() > 0 ? std::string(r.text(0, 0)) : std::string();
  }

  void set_project(std::int64_t shape, std::string_view sources) override {
    w_.run("set_project", {num(shape)});
    w_.run("add_version", {num(shape), std::string(sources)});
  }

  void save_stats(std::int64_t shape, std::string_view stats) override {
    w_.run("save_stats", {num(shape), me_, std::string(stats)});
  }

  std::string load_stats(std::int64_t shape) override {
    std::lock_guard<std::mutex> lock(wm_);
    const auto r = w_.run("load_stats", {num(shape), me_});
    return r.rows() > 0 ? std::string(r.text(0, 0)) : std::string();
  }

  void begin() override {
    wm_.lock();
    try {
      w_.exec("BEGIN");
      fence(w_, writing_now());
    } catch (...) {
      w_.rollback_quietly();
      wm_.unlock();
      throw;
    }
  }

  bool claim_event(std::string_view id) override {
    return w_.run("claim_many", {pg_text_array({std::string(id)}), num(now_seconds())}).rows() == 1;
  }

  bool claim_click(std::string_view id, std::int64_t now, std::int64_t window) override {
    return w_.run("claim_click", {std::string(id), num(now), num(window)}).affected() == 1;
  }

  void save_friend(std::string_view id, std::string_view state) override {
    const auto [it, fresh] = friend_at_.try_emplace(std::string(id), friend_ids_.size());
    if (fresh) {
      friend_ids_.push_back(std::string(id));
      friend_states_.emplace_back(state);
    } else {
      friend_states_[it->second] = std::string(state);
    }
  }

  void add_delivery(const OutboxRow& r) override { adds_.push_back(r); }

  std::vector<OutboxRow> held_deliveries(std::string_view friend_id, std::int64_t created_before) override {
    // Inside a batch (the writer holds wm_) or at start, outside one.
    std::unique_lock<std::mutex> lock(wm_, std::defer_lock);
    if (!w_.in_transaction()) lock.lock();
    flush();
    const auto r = w_.run("held", {num(created_before), std::string(friend_id)});
    std::vector<OutboxRow> out;
    for (int k = 0; k < r.rows(); ++k) {
      OutboxRow o = delivery_at(r, k);
      o.message_names = r.text(k, 10);
      o.status = "profile";
      out.push_back(std::move(o));
    }
    return out;
  }

  void release_delivery(std::int64_t id, std::string_view messages) override {
    flush();
    w_.run("release", {std::string(messages), num(id)});
  }

  void save_profile(const Profile& p) override {
    w_.run("profile", {p.friend_id, p.display_name, p.language, num(p.fetched), p.found ? "t" : "f"});
  }

  std::vector<std::pair<std::string, std::int64_t>> quota_held() override {
    flush();
    const auto r = w_.exec(
        "SELECT scenario, sum(CASE WHEN recipients != '' THEN json_array_length(recipients::json) ELSE 1 END) FROM "
        "outbox WHERE status = 'quota' GROUP BY scenario ORDER BY min(id)");
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (int k = 0; k < r.rows(); ++k) out.emplace_back(std::string(r.text(k, 0)), r.integer(k, 1));
    return out;
  }

  void release_quota_held(std::string_view broadcast) override {
    flush();
    w_.run("quota_release", {std::string(broadcast)});
  }

  std::optional<std::int64_t> profile_fetched(std::string_view friend_id) override {
    std::unique_lock<std::mutex> lock(wm_, std::defer_lock);
    if (!w_.in_transaction()) lock.lock();
    const auto r = w_.run("fetched", {std::string(friend_id)});
    if (r.rows() == 0) return std::nullopt;
    return r.integer(0, 0);
  }

  void commit(std::int64_t clock) override {
    try {
      flush();
      w_.run("set_clock", {num(clock), writing_array()});
      w_.exec("COMMIT");
    } catch (...) {
      w_.rollback_quietly();
      clear_buffers();
      wm_.unlock();
      throw;
    }
    wm_.unlock();
  }

  void rollback() override {
    clear_buffers();
    w_.rollback_quietly();
    wm_.unlock();
  }

  std::vector<OutboxRow> due_deliveries(std::int64_t now, std::size_t limit) override {
    const std::string parts = parts_array(held());
    std::lock_guard<std::mutex> lock(sm_);
    std::vector<OutboxRow> out;
    for (const char* status : {"accepted", "pending"}) {
      if (out.size() >= limit) break;
      const auto r = s_.run("due", {num(now), status, parts, num(static_cast<std::int64_t>(limit - out.size()))});
      for (int k = 0; k < r.rows(); ++k) {
        OutboxRow o = delivery_at(r, k);
        o.attempts = r.integer(k, 10);
        o.next_attempt = r.integer(k, 11);
        o.status = r.text(k, 12);
        o.error = r.text(k, 13);
        o.kind = r.text(k, 14);
        o.recipients = r.text(k, 15);
        o.unit = r.text(k, 16);
        o.line_request = r.text(k, 17);
        o.audience_id = r.integer(k, 18);
        o.audience_uploaded = r.integer(k, 19);
        o.request_id = r.text(k, 20);
        o.progress = r.text(k, 21);
        out.push_back(std::move(o));
      }
    }
    return out;
  }

  void update_deliveries(const std::vector<OutboxRow>& rows) override {
    if (rows.empty()) return;
    std::lock_guard<std::mutex> lock(sm_);
    std::vector<std::string> id, reply, attempts, next, status, error, audience, uploaded, request, progress;
    for (const auto& r : rows) {
      id.push_back(num(r.id));
      reply.push_back(r.reply ? "t" : "f");
      attempts.push_back(num(r.attempts));
      next.push_back(num(r.next_attempt));
      status.push_back(r.status);
      error.push_back(r.error);
      audience.push_back(num(r.audience_id));
      uploaded.push_back(num(r.audience_uploaded));
      request.push_back(r.request_id);
      progress.push_back(r.progress);
    }
    try {
      // Not fenced: an outcome records what LINE answered, which stays true whoever owns the row now.
      s_.exec("BEGIN");
      s_.run("update", {pg_text_array(id), pg_text_array(reply), pg_text_array(attempts), pg_text_array(next),
                        pg_text_array(status), pg_text_array(error), pg_text_array(audience), pg_text_array(uploaded),
                        pg_text_array(request), pg_text_array(progress)});
      s_.exec("COMMIT");
    } catch (...) {
      s_.rollback_quietly();
      throw;
    }
  }

  std::vector<std::int64_t> claim_replies(const std::vector<OutboxRow>& rows) override {
    return set_claims("claim_replies", rows);
  }

  void release_claims(const std::vector<OutboxRow>& rows) override { set_claims("release_claims", rows); }

  // One claim statement ($1 ids, $2 attempts) over the rows, fenced by their partitions' leases:
  // the ids it changed.
  std::vector<std::int64_t> set_claims(const char* statement, const std::vector<OutboxRow>& rows) {
    std::vector<std::int64_t> claimed;
    if (rows.empty()) return claimed;
    std::vector<std::string> id, attempts;
    PartitionSet parts;
    for (const auto& r : rows) {
      id.push_back(num(r.id));
      attempts.push_back(num(r.attempts));
      parts.push_back(partition_of(r.friend_id));
    }
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
    std::lock_guard<std::mutex> lock(sm_);
    try {
      // A reply's token is used once: marking it in flight is the one outcome the lease fences.
      s_.exec("BEGIN");
      fence(s_, parts);
      const auto r = s_.run(statement, {pg_text_array(id), pg_text_array(attempts)});
      for (int k = 0; k < r.rows(); ++k) claimed.push_back(r.integer(k, 0));
      s_.exec("COMMIT");
    } catch (...) {
      s_.rollback_quietly();
      throw;
    }
    return claimed;
  }

  StoreCounts counts() override {
    std::lock_guard<std::mutex> lock(sm_);
    const auto r = s_.exec(
        "SELECT (SELECT count(*) FROM friends),"
        " count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'sent'),"
        " count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'uncertain'),"
        " count(*) FILTER (WHERE status = 'profile'), count(*) FILTER (WHERE status = 'quota'),"
        " count(*) FILTER (WHERE status = 'replying'), count(*) FILTER (WHERE status = 'accepted'),"
        " count(*) FILTER (WHERE status = 'via_line'), count(*) FILTER (WHERE status = 'unsent'),"
        " coalesce(sum(CASE WHEN status <> 'pending' THEN 0 WHEN kind IN ('multicast', 'narrowcast') AND recipients"
        " != '' THEN json_array_length(recipients::json) WHEN kind = 'message' AND NOT reply THEN 1 ELSE 0 END), 0),"
        " (SELECT count(*) FROM processed_events) FROM outbox");
    StoreCounts c;
    if (r.rows() == 0) return c;
    std::int64_t* fields[] = {&c.friends,         &c.pending,  &c.sent,       &c.failed,
                              &c.uncertain,       &c.held,     &c.quota_held, &c.in_flight,
                              &c.line_sending,    &c.via_line, &c.unsent,     &c.pending_messages,
                              &c.processed_events};
    for (int k = 0; k < 13; ++k) *fields[k] = r.integer(0, k);
    return c;
  }

  std::int64_t settle_inflight() override {
    // Replies of the writer's partitions left in flight by the worker that held them before.
    std::lock_guard<std::mutex> lock(sm_);
    return s_.run("settle", {writing_array()}).affected();
  }

 private:
  PostgresOptions opt_;
  std::string me_;
  PgConnection k_, w_, s_, i_;
  std::mutex km_, wm_, sm_, im_;
  std::mutex lm_;                                 // guards epochs_, sure_until_, releasing_ and writing_
  std::map<std::uint32_t, std::int64_t> epochs_;  // the partitions held, at the epoch each was taken
  // Until when each held partition's lease is certain (this process's clock): see sure_to_hold().
  std::map<std::uint32_t, std::chrono::steady_clock::time_point> sure_until_;
  std::set<std::uint32_t> releasing_;             // held, over this worker's share: given back once not written
  PartitionSet writing_;

  // The open batch's writes, sent in one statement each at commit (or before a read of them).
  std::unordered_map<std::string, std::size_t> friend_at_;
  std::vector<std::string> friend_ids_, friend_states_;
  std::vector<OutboxRow> adds_;

  static std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  PartitionSet writing_now() {
    std::lock_guard<std::mutex> lock(lm_);
    return writing_;
  }
  std::string writing_array() { return parts_array(writing_now()); }

  // Inside a transaction on `c`: the lease rows of `parts` locked FOR KEY SHARE, and each must be
  // this worker's at the epoch it took. Otherwise the partition was taken over: LeaseLost.
  void fence(PgConnection& c, const PartitionSet& parts) {
    if (parts.empty()) return;
    const auto r = c.run("fence", {parts_array(parts), me_});
    std::map<std::uint32_t, std::int64_t> now;
    for (int k = 0; k < r.rows(); ++k) now[static_cast<std::uint32_t>(r.integer(k, 0))] = r.integer(k, 1);
    std::lock_guard<std::mutex> lock(lm_);
    for (const auto p : parts) {
      const auto mine = epochs_.find(p);
      const auto there = now.find(p);
      if (mine == epochs_.end() || there == now.end() || there->second != mine->second) {
        throw LeaseLost(fmt::format("partition {} was taken over by another worker (its lease lapsed)", p));
      }
    }
  }

  void flush() {
    if (!friend_ids_.empty()) {
      std::vector<std::string> parts, states, sums;
      for (std::size_t k = 0; k < friend_ids_.size(); ++k) {
        parts.push_back(std::to_string(partition_of(friend_ids_[k])));
        states.push_back(pg_hex(friend_states_[k]));
        sums.push_back(num(checksum(friend_states_[k])));
      }
      w_.run("save_friends", {pg_text_array(friend_ids_), pg_text_array(parts), pg_text_array(states),
                              pg_text_array(sums), num(now_seconds())});
      friend_at_.clear();
      friend_ids_.clear();
      friend_states_.clear();
    }
    if (!adds_.empty()) {
      std::vector<std::vector<std::string>> cols(18);
      for (const auto& r : adds_) {
        const std::string values[18] = {r.key,
                                        r.friend_id,
                                        std::to_string(partition_of(r.friend_id)),
                                        num(r.due),
                                        r.reply ? "t" : "f",
                                        r.reply_token,
                                        r.messages,
                                        r.scenario,
                                        r.node,
                                        num(r.created),
                                        num(r.due),
                                        r.kind,
                                        r.status.empty() ? "pending" : r.status,
                                        r.message_names,
                                        r.recipients,
                                        r.unit,
                                        r.line_request,
                                        r.error};
        for (int c = 0; c < 18; ++c) cols[static_cast<std::size_t>(c)].push_back(values[c]);
      }
      std::vector<PgParam> params;
      for (const auto& c : cols) params.emplace_back(pg_text_array(c));
      w_.run("add_deliveries", params);
      adds_.clear();
    }
  }

  void clear_buffers() {
    friend_at_.clear();
    friend_ids_.clear();
    friend_states_.clear();
    adds_.clear();
  }

  // The keeper's turn: say this worker is alive, renew its leases (learning which it lost), give
  // back what is over its share and no longer written, and take what is free up to its share.
  void keep_leases() {
    // The lease runs from the database's now() inside the transaction, which is later than this:
    // counted from here, by this process's clock, it is never thought longer than it is.
    const auto began = std::chrono::steady_clock::now();
    const auto sure_for = std::chrono::milliseconds(opt_.lease_seconds * 750);
    k_.exec("BEGIN");
    k_.run("hello", {me_});
    const auto alive = k_.run("alive", {num(opt_.lease_seconds)}).integer(0, 0);
    const auto renewed = k_.run("renew", {me_, num(opt_.lease_seconds)});
    k_.exec("COMMIT");
    std::map<std::uint32_t, std::int64_t> still;
    for (int k = 0; k < renewed.rows(); ++k)
      still[static_cast<std::uint32_t>(renewed.integer(k, 0))] = renewed.integer(k, 1);
    const std::size_t share = (kPartitions + static_cast<std::size_t>(std::max<std::int64_t>(alive, 1)) - 1) /
                              static_cast<std::size_t>(std::max<std::int64_t>(alive, 1));
    PartitionSet give_back;
    std::size_t held_now = 0;
    {
      std::lock_guard<std::mutex> lock(lm_);
      // Lost: taken over while this worker was away (paused, cut off). Kept: renewed at the same epoch.
      for (auto it = epochs_.begin(); it != epochs_.end();) {
        const auto s = still.find(it->first);
        if (s == still.end() || s->second != it->second) {
          releasing_.erase(it->first);
          sure_until_.erase(it->first);
          it = epochs_.erase(it);
        } else {
          sure_until_[it->first] = began + sure_for;
          ++it;
        }
      }
      // Over the share: the highest partitions are marked; once the writer no longer writes one, it goes back.
      const std::size_t keep = std::min(share, epochs_.size());
      std::size_t counted = 0;
      for (const auto& [p, epoch] : epochs_) {
        if (counted++ >= keep && releasing_.count(p) == 0) releasing_.insert(p);
      }
      for (const auto p : releasing_) {
        if (!std::binary_search(writing_.begin(), writing_.end(), p)) give_back.push_back(p);
      }
      for (const auto p : give_back) {
        releasing_.erase(p);
        epochs_.erase(p);
        sure_until_.erase(p);
      }
      held_now = epochs_.size();
    }
    if (!give_back.empty()) k_.run("give_back", {parts_array(give_back), me_});
    if (held_now < share) {
      const auto taking = std::chrono::steady_clock::now();
      k_.exec("BEGIN");
      const auto taken =
          k_.run("take", {me_, num(opt_.lease_seconds), num(static_cast<std::int64_t>(share - held_now))});
      k_.exec("COMMIT");
      std::lock_guard<std::mutex> lock(lm_);
      for (int k = 0; k < taken.rows(); ++k) {
        const auto p = static_cast<std::uint32_t>(taken.integer(k, 0));
        epochs_[p] = taken.integer(k, 1);
        sure_until_[p] = taking + sure_for;
      }
    }
    std::lock_guard<std::mutex> lock(lm_);
    k_.run("count_held", {me_, num(static_cast<std::int64_t>(epochs_.size()))});
  }

  void prepare() {
    k_.prepare("hello", "INSERT INTO workers(id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen = now()");
    k_.prepare("goodbye", "DELETE FROM workers WHERE id = $1");
    k_.prepare("count_held", "UPDATE workers SET partitions = $2 WHERE id = $1");
    k_.prepare("alive", "SELECT count(*) FROM workers WHERE seen > now() - make_interval(secs => $1)");
    k_.prepare("renew",
               "UPDATE partition_lease SET lease_until = now() + make_interval(secs => $2) WHERE owner = $1 "
               "RETURNING part, epoch");
    // Free or lapsed leases, skipping any a running batch holds (its KEY SHARE blocks FOR UPDATE).
    k_.prepare("take",
               "UPDATE partition_lease l SET owner = $1, epoch = l.epoch + 1, lease_until = now() + make_interval(secs "
               "=> $2) FROM (SELECT part FROM partition_lease WHERE owner IS NULL OR lease_until < now() ORDER BY part "
               "LIMIT $3 FOR UPDATE SKIP LOCKED) f WHERE l.part = f.part RETURNING l.part, l.epoch");
    k_.prepare(
        "give_back",
        "UPDATE partition_lease SET owner = NULL, lease_until = '-infinity' WHERE part = ANY($1::int[]) AND owner "
        "= $2");
    for (PgConnection* c : {&w_, &s_}) {
      c->prepare("fence",
                 "SELECT part, epoch FROM partition_lease WHERE part = ANY($1::int[]) AND owner = $2 FOR KEY SHARE");
    }
    for (PgConnection* c : {&w_, &i_}) {
      c->prepare("claim_many",
                 "INSERT INTO processed_events(id, at) SELECT unnest($1::text[]), $2 ON CONFLICT (id) DO NOTHING "
                 "RETURNING id");
      c->prepare("claim_click",
                 "INSERT INTO processed_events(id, at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET at = excluded.at "
                 "WHERE processed_events.at <= $2 - $3");
    }
    i_.prepare("inbox_add",
               "INSERT INTO inbox(part, event) SELECT p, e FROM unnest($1::int[], $2::bytea[]) WITH ORDINALITY AS "
               "u(p, e, n) ORDER BY n");
    w_.prepare(
        "inbox_take",
        "DELETE FROM inbox WHERE seq IN (SELECT seq FROM inbox WHERE part = ANY($1::int[]) ORDER BY seq LIMIT $2) "
        "RETURNING seq, event");
    w_.prepare("inbox_any", "SELECT 1 FROM inbox WHERE part = ANY($1::int[]) LIMIT 1");
    w_.prepare("friends_of", "SELECT id, state, sum FROM friends WHERE part = ANY($1::int[]) ORDER BY id");
    w_.prepare("clock_of",
               "SELECT min(clock) FILTER (WHERE clock > 0) FROM partition_clock WHERE part = ANY($1::int[])");
    w_.prepare("set_clock", "UPDATE partition_clock SET clock = $1 WHERE part = ANY($2::int[])");
    w_.prepare("sources_of", "SELECT sources FROM project_versions WHERE shape = $1");
    w_.prepare("set_project",
               "INSERT INTO okuri_meta(key, value) VALUES ('project', $1) ON CONFLICT (key) DO UPDATE SET value = "
               "excluded.value");
    w_.prepare(
        "add_version",
        "INSERT INTO project_versions(shape, sources, served) VALUES ($1, $2, extract(epoch FROM now())::bigint) "
        "ON CONFLICT (shape) DO UPDATE SET sources = excluded.sources, served = excluded.served");
    w_.prepare(
        "save_stats",
        "INSERT INTO report_stats(shape, worker, stats, saved) VALUES ($1, $2, $3, extract(epoch FROM "
        "now())::bigint) ON CONFLICT (shape, worker) DO UPDATE SET stats = excluded.stats, saved = excluded.saved");
    w_.prepare("load_stats", "SELECT stats FROM report_stats WHERE shape = $1 AND worker = $2");
    w_.prepare("save_friends",
               "INSERT INTO friends(id, part, state, sum, updated) SELECT i, p, s, c, $5 FROM unnest($1::text[], "
               "$2::int[], $3::bytea[], $4::bigint[]) AS u(i, p, s, c) ON CONFLICT (id) DO UPDATE SET state = "
               "excluded.state, sum = excluded.sum, updated = excluded.updated");
    w_.prepare(
        "add_deliveries",
        "INSERT INTO outbox(key, friend, part, due, reply, reply_token, messages, scenario, node, created, "
        "next_attempt, kind, status, message_names, recipients, unit, line_request, error) SELECT * FROM "
        "unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bool[], $6::text[], $7::text[], $8::text[], "
        "$9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::text[], $14::text[], $15::text[], "
        "$16::text[], $17::text[], $18::text[]) ON CONFLICT (key) DO NOTHING");
    w_.prepare("held",
               "SELECT id, key, friend, due, reply, reply_token, messages, scenario, node, created, message_names FROM "
               "outbox WHERE status = 'profile' AND created < $1 AND ($2 = '' OR friend = $2) ORDER BY id");
    w_.prepare("release", "UPDATE outbox SET status = 'pending', messages = $1 WHERE id = $2 AND status = 'profile'");
    w_.prepare("quota_release",
               "UPDATE outbox SET status = 'pending', error = '' WHERE status = 'quota' AND scenario = $1");
    w_.prepare("profile",
               "INSERT INTO profiles(friend, display_name, language, fetched, found) VALUES ($1, $2, $3, $4, $5) ON "
               "CONFLICT (friend) DO UPDATE SET display_name = excluded.display_name, language = excluded.language, "
               "fetched = excluded.fetched, found = excluded.found");
    w_.prepare("fetched", "SELECT fetched FROM profiles WHERE friend = $1");
    s_.prepare("due",
               "SELECT id, key, friend, due, reply, reply_token, messages, scenario, node, created, attempts, "
               "next_attempt, status, error, kind, recipients, unit, line_request, audience_id, audience_uploaded, "
               "request_id, progress FROM outbox WHERE part = ANY($3::int[]) AND status = $2 AND due <= $1 AND "
               "next_attempt <= $1 ORDER BY due, id LIMIT $4");
    s_.prepare("update",
               "UPDATE outbox o SET reply = u.reply, attempts = u.attempts, next_attempt = u.next, status = u.status, "
               "error = u.error, audience_id = u.audience, audience_uploaded = u.uploaded, request_id = u.request, "
               "progress = u.progress FROM unnest($1::bigint[], $2::bool[], $3::bigint[], $4::bigint[], $5::text[], "
               "$6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[]) AS u(id, reply, attempts, next, "
               "status, error, audience, uploaded, request, progress) WHERE o.id = u.id");
    s_.prepare("claim_replies",
               "UPDATE outbox o SET status = 'replying' FROM unnest($1::bigint[], $2::bigint[]) AS u(id, attempts) "
               "WHERE o.id = u.id AND o.attempts = u.attempts AND o.status IN ('pending', 'replying') RETURNING o.id");
    s_.prepare("release_claims",
               "UPDATE outbox o SET status = 'pending' FROM unnest($1::bigint[], $2::bigint[]) AS u(id, attempts) "
               "WHERE o.id = u.id AND o.attempts = u.attempts AND o.status = 'replying' RETURNING o.id");
    s_.prepare("settle",
               "UPDATE outbox SET status = 'uncertain', error = 'the worker that held this friend stopped while this "
               "reply was in flight; it may have arrived, and a reply token cannot be used twice' WHERE status = "
               "'replying' AND part = ANY($1::int[])");
  }
};

}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& url, const PostgresOptions& options) {
  return std::make_unique<PostgresStore>(url, options);
}

}  // namespace okuri::svc
