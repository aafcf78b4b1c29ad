// Broadcasts LINE sends itself, as one request for many friends: a broadcast without a target
// whose body is sends alone (LINE's broadcast reaches every friend, also those the service has
// never heard from), and a broadcast narrowed by LINE's estimates (a narrowcast with LINE's
// demographic filter, to an audience of the friends matching the account's own data).
//
// In one batch, the engine's deliveries for such a broadcast are each friend's part: recorded
// (status `via_line`), not sent alone. The batch's fired broadcasts become LINE's requests, one
// per `send` of the body, rendered for no friend in particular.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/engine.hpp"
#include "service/store.hpp"

namespace okuri::svc {

// LINE refuses a narrowcast that reaches fewer friends than this before its filter.
inline constexpr std::size_t kNarrowcastMinReach = 100;

class LineWideBatch {
 public:
  using Log = std::function<void(const std::string&)>;
  // What the month's quota has left for this batch (none: no limit, or unknown); taken from as it is used.
  using QuotaLeft = std::function<std::optional<std::int64_t>&()>;
  // `said`: the broadcasts a reason was logged for already (kept across batches: once each).
  // `part`: with several workers, the partitions this one holds ("0-31"): a narrowcast to the
  // account's own friends is then one request per worker, to its friends, under its own retry
  // key (empty: one process holds every friend).
  LineWideBatch(const rt::Engine& engine, const stdlib::Zone& zone, bool up_to_remaining, Log log,
                std::set<std::string>& said, std::string part = {});

  // Whether LINE sends this broadcast's deliveries; then add_part takes each one.
  bool takes(std::int32_t flow, const plan::Flow& fl);
  void add_part(std::int32_t flow, OutboxRow part);
  // The rows to store: each friend's part, and LINE's requests for the broadcasts that fired.
  // `followers`: the friends LINE lists for the account (none: unknown), what a broadcast to
  // every friend reaches; the friends the service knows are the least it reaches.
  std::vector<OutboxRow> rows(const std::vector<rt::FiredBroadcast>& fired, std::int64_t created,
                              const QuotaLeft& quota_left, std::optional<std::int64_t> followers);

 private:
  // Why LINE cannot send this broadcast as one message for everyone (empty: it can).
  const std::string& blocker(std::int32_t flow, const plan::Flow& fl);
  void say_once(const std::string& broadcast, const std::string& line);

  const rt::Engine& engine_;
  const stdlib::Zone& zone_;
  bool up_to_remaining_;
  Log log_;
  std::set<std::string>& said_;
  std::string part_;
  std::map<std::int32_t, std::string> blockers_;
  std::map<std::int32_t, std::vector<OutboxRow>> parts_;
};

}  // namespace okuri::svc
