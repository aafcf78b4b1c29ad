#include "service/multicast.hpp"

#include <fmt/format.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

namespace okuri::svc {

namespace {

// A UUID-shaped retry key (LINE wants a UUID) from the keys of the group's members: the same
// members give the same key.
std::string key_of(const std::vector<const OutboxRow*>& members) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  for (const auto* m : members) XXH3_128bits_update(st, m->key.data(), m->key.size() + 1);  // with the NUL: unambiguous
  const XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  // Version 4 and variant bits set, so it parses as a random UUID.
  const std::uint64_t hi = (h.high64 & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;
  const std::uint64_t lo = (h.low64 & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                     lo & 0xFFFFFFFFFFFFull);
}

}  // namespace

std::vector<OutboxRow> group_into_multicasts(std::vector<OutboxRow> pushes) {
  using GroupKey = std::tuple<std::int64_t, std::string, std::string, std::string, std::string>;
  std::map<GroupKey, std::vector<const OutboxRow*>> groups;
  std::vector<GroupKey> order;  // first-seen order, so the outbox keeps the engine's order
  for (const auto& r : pushes) {
    GroupKey k{r.due, r.scenario, r.node, r.unit, r.messages};
    auto [it, fresh] = groups.try_emplace(k);
    if (fresh) order.push_back(k);
    it->second.push_back(&r);
  }
  std::vector<OutboxRow> out;
  for (const auto& k : order) {
    const auto& members = groups[k];
    for (std::size_t from = 0; from < members.size(); from += kMulticastMax) {
      const std::size_t to = std::min(members.size(), from + kMulticastMax);
      if (to - from == 1) {
        out.push_back(*members[from]);
        continue;
      }
      std::vector<const OutboxRow*> part(members.begin() + static_cast<std::ptrdiff_t>(from),
                                         members.begin() + static_cast<std::ptrdiff_t>(to));
      OutboxRow m = *part.front();
      m.kind = "multicast";
      m.key = key_of(part);
      nlohmann::json ids = nlohmann::json::array();
      for (const auto* p : part) ids.push_back(p->friend_id);
      m.recipients = ids.dump();
      out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace okuri::svc
