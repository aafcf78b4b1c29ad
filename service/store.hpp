// The durable store of a running account: every friend's state, the outbox of
// deliveries, the webhook event ids already processed, and the engine's clock.
// One batch of events is one transaction: the friends it changed, the
// deliveries it made and the ids it consumed commit together, or not at all.
//
// Friends are hashed into kPartitions fixed partitions, and every commit checks
// the writer's lease on the partitions it writes. SQLite (one process) holds a
// single lease over all of them, an epoch taken at open, so a second process
// opening the same database cannot interleave writes with the first.
// PostgreSQL (several workers, docs/scale-out.md) leases each partition to one
// worker at a time with a fencing epoch; any worker accepts events into a
// durable inbox, and the owner of a friend's partition applies them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace okuri::svc {

inline constexpr std::uint32_t kPartitions = 64;
std::uint32_t partition_of(std::string_view friend_id);

// A storage failure (disk full, I/O error, a lost lease): the batch was rolled back.
struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Another process took the database's lease: this one must neither write nor send any more.
struct LeaseLost : StoreError {
  using StoreError::StoreError;
};

// Partition numbers, sorted and distinct.
using PartitionSet = std::vector<std::uint32_t>;
PartitionSet all_partitions();

// An accepted event waiting in a shared store's inbox for its partition's owner.
struct InboxEntry {
  // webhookEventId (taken once across every worker), `click:…` (a tracked click, counted once per
  // window), or empty (no deduplication).
  std::string event_id;
  std::string friend_id;
  std::string event;  // encoded (service/inbox_event.hpp)
};

struct OutboxRow {
  std::int64_t id = 0;
  // message | multicast (one request to `recipients`) | menu (link the rich menu named in `messages`
  // to the friend) | notify (POST to --notify-url) | broadcast (LINE sends to every friend) |
  // narrowcast (LINE sends to the friends matching `line_request`, of `recipients` when not empty)
  std::string kind = "message";
  std::string key;        // X-Line-Retry-Key
  std::string friend_id;
  std::int64_t due = 0;   // seconds: not before (quiet hours, daily limit)
  bool reply = false;     // try the reply token first
  std::string reply_token;
  std::string messages;   // the JSON array of LINE message objects
  std::string scenario, node;
  std::int64_t created = 0;  // seconds, when the delivery was committed (the retry key's clock)
  std::int64_t attempts = 0;
  std::int64_t next_attempt = 0;
  // profile (held for the LINE profile) | pending | replying (in flight) | sent | failed | uncertain
  // | standby (answers an event of a channel on standby: recorded, never sent) | quota (held for the
  // month's quota) | accepted (a narrowcast LINE took and is sending: its progress is asked for)
  // | via_line (one friend's part of a broadcast or narrowcast LINE sends: recorded, not sent
  // alone) | unsent (not sent, by a rule the error names)
  std::string status = "pending";
  std::string error;
  std::string message_names;  // held rows: the project's message names (a JSON array), rendered when released
  std::string recipients;     // kind multicast: the user ids (a JSON array of at most 500); friend_id is the first
  std::string unit;           // LINE's aggregation unit for statistics (customAggregationUnits); empty: none
  // Broadcasts and narrowcasts LINE sends.
  std::string line_request;            // narrowcast: its `filter` and `limit` (a JSON object)
  std::int64_t audience_id = 0;        // narrowcast to `recipients`: LINE's audienceGroupId once created
  std::int64_t audience_uploaded = 0;  // how many of `recipients` the audience holds
  std::string request_id;              // LINE's request id once accepted (its progress is asked for by it)
  std::string progress;                // LINE's last progress answer (a JSON object)
};

// A friend's LINE profile as last fetched (GET /v2/bot/profile/{userId}).
struct Profile {
  std::string friend_id;
  std::optional<std::string> display_name, language;
  std::int64_t fetched = 0;  // seconds
  bool found = true;         // false: LINE answered 404 (not a friend, or blocked)
};

struct StoreCounts {
  std::int64_t friends = 0;
  std::int64_t pending = 0, sent = 0, failed = 0, uncertain = 0, held = 0;
  std::int64_t quota_held = 0;        // deliveries of broadcasts held for the month's quota
  std::int64_t in_flight = 0;         // replies sent and not yet answered (status `replying`)
  std::int64_t line_sending =
      0;  // narrowcasts LINE accepted and is still sending, broadcasts whose count is awaited (status `accepted`)
  std::int64_t via_line = 0;          // friends' parts of broadcasts and narrowcasts LINE sent (status `via_line`)
  std::int64_t unsent = 0;            // deliveries not sent by a rule (status `unsent`)
  // Recipients of the pending deliveries LINE bills (pushes and multicasts; a reply is free, as
  // the simulate report counts it): what they will take of the month's quota.
  std::int64_t pending_messages = 0;
  std::int64_t processed_events = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Several workers share this store (PostgreSQL): events go through the inbox, and partitions
  // are leased. False for SQLite: one process holds every partition.
  virtual bool shared() const { return false; }
  // The partitions held under lease now, and the writer's part of them: the partitions whose
  // friends the writer's engine holds. load_friends() and clock() read those, a batch checks their
  // leases at begin() and commits its clock to them, and take_inbox() reads their events.
  virtual PartitionSet held() { return all_partitions(); }
  virtual void set_writing(const PartitionSet& /*parts*/) {}
  // Whether this process's lease on `partition` is certain to hold now, by its own clock: held,
  // and renewed within the last three quarters of the lease. The sender asks before each request,
  // so a worker paused (or cut off) past its lease sends nothing of what it had queued: the new
  // owner sends it. SQLite: one process holds the file's lock, so always.
  virtual bool sure_to_hold(std::uint32_t /*partition*/) { return true; }
  // Shared stores, on the lease keeper's thread: renews the leases held, takes free or expired
  // ones up to this worker's fair share (of the workers alive), and gives back what is over it
  // once the writer no longer writes it. Returns the partitions held after.
  virtual PartitionSet renew_leases() { return held(); }
  // Shared stores: accepted events into the inbox, in one transaction of their own (any worker,
  // before it answers 200). Returns, per entry, whether it was taken (false: seen before).
  virtual std::vector<bool> enqueue(const std::vector<InboxEntry>& entries, std::int64_t now,
                                    std::int64_t click_window);
  // Within a batch: the oldest inbox events of the writer's partitions (encoded), in the order
  // they were accepted, taken out of the inbox by the batch's commit.
  virtual std::vector<std::string> take_inbox(std::size_t /*limit*/) { return {}; }
  // Outside batches: whether the inbox holds events of the writer's partitions.
  virtual bool inbox_waiting() { return false; }
  // This worker's name in the store's lease table (empty for a store of one process).
  virtual std::string worker() const { return {}; }

  // Startup: every friend's saved state, and the engine's clock at the last commit (0: new).
  struct FriendState {
    std::string id;
    std::string state;
  };
  virtual std::vector<FriendState> load_friends() = 0;
  virtual std::int64_t clock() = 0;
  // The shape of the project the saved states were written for (0: none yet), and the
  // sources of each version served (empty when unknown): what a new version needs to take
  // the friends over from the old one, after a restart as well as on a hot reload.
  virtual std::int64_t project_shape() = 0;
  virtual std::string project_sources(std::int64_t shape) = 0;
  // Within a batch (between begin and commit): the version the saved states are now written for.
  virtual void set_project(std::int64_t shape, std::string_view sources) = 0;
  // The report's figures of a version (rt::Engine::export_stats): saved within a batch, loaded at
  // start (empty when none). A crash loses at most what the last second's batches counted.
  virtual void save_stats(std::int64_t shape, std::string_view stats) = 0;
  virtual std::string load_stats(std::int64_t shape) = 0;

  // One batch. claim_event returns false for an id processed before (a redelivery).
  virtual void begin() = 0;
  virtual bool claim_event(std::string_view webhook_event_id) = 0;
  // A tracked link's click: false when the same id was counted less than `window` seconds before
  // `now` (a double tap, a reload); a sliding window from the last counted one.
  virtual bool claim_click(std::string_view id, std::int64_t now, std::int64_t window) = 0;
  virtual void save_friend(std::string_view id, std::string_view state) = 0;
  virtual void add_delivery(const OutboxRow& row) = 0;
  // Held deliveries (status `profile`) of one friend (any friend when empty) made before `created_before`.
  virtual std::vector<OutboxRow> held_deliveries(std::string_view friend_id, std::int64_t created_before) = 0;
  // A held delivery goes out: its rendered messages, status pending.
  virtual void release_delivery(std::int64_t id, std::string_view messages) = 0;
  virtual void save_profile(const Profile& p) = 0;
  // Broadcasts held for the month's quota (status `quota`): each one's name and recipients.
  virtual std::vector<std::pair<std::string, std::int64_t>> quota_held() = 0;
  // A held broadcast goes out: every delivery of it becomes pending.
  virtual void release_quota_held(std::string_view broadcast) = 0;
  // When the friend's profile was last fetched (nullopt: never). Inside or outside a batch, on the writer's side.
  virtual std::optional<std::int64_t> profile_fetched(std::string_view friend_id) = 0;
  virtual void commit(std::int64_t clock) = 0;  // throws StoreError (then rolled back)
  virtual void rollback() = 0;

  // The sender's side (outside batches).
  virtual std::vector<OutboxRow> due_deliveries(std::int64_t now, std::size_t limit) = 0;
  // The outcomes of many requests, committed together (a failure throws StoreError and keeps none).
  virtual void update_deliveries(const std::vector<OutboxRow>& rows) = 0;
  // Replies about to leave become `replying` (in flight), in a transaction the lease fences: a
  // reply token is used once. A row is claimed only while it is as the sender read it (the same
  // attempts, `pending`, or `replying` from a claim whose commit was not confirmed: a connection
  // lost while committing). Returns the ids claimed; the others were dealt with meanwhile.
  virtual std::vector<std::int64_t> claim_replies(const std::vector<OutboxRow>& rows) = 0;
  // Replies claimed and certainly not sent (the sender stops before their requests leave):
  // `pending` again where they are still `replying` with the same attempts, under the same fence.
  virtual void release_claims(const std::vector<OutboxRow>& rows) = 0;
  virtual StoreCounts counts() = 0;
  // At start: replies that were in flight when the process stopped cannot be known to have
  // arrived, and a reply token cannot be retried: they become `uncertain`. Returns how many.
  virtual std::int64_t settle_inflight() = 0;
};

// SQLite: WAL, synchronous=FULL, schema migrations by `PRAGMA user_version`.
std::unique_ptr<Store> open_sqlite_store(const std::string& path);

// PostgreSQL (postgresql_store.cpp): several workers on one database.
struct PostgresOptions {
  int lease_seconds = 10;  // a partition's lease lasts this long without renewal
  int renew_ms = 2000;     // how often the keeper renews (a few times per lease)
};
std::unique_ptr<Store> open_postgres_store(const std::string& url, const PostgresOptions& options);
// Whether a --store value names PostgreSQL (postgresql:// or postgres://).
bool is_postgres_url(std::string_view store);
// The connection string without its password, for messages and logs.
std::string pg_url_shown(std::string_view url);

}  // namespace okuri::svc
