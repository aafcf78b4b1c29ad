// Broadcasts on the account's own data go out as multicasts: recipients whose rendered messages
// are the same (same broadcast, step, due time and message objects — so per split arm and per
// message set) share requests of at most 500 user ids, LINE's limit for one multicast.
#pragma once

#include <cstddef>
#include <vector>

#include "service/store.hpp"

namespace okuri::svc {

inline constexpr std::size_t kMulticastMax = 500;

// `pushes`: outbox rows of one batch that may be merged (pushes of a broadcast, not replies, not
// held). Returns the rows to store: a multicast row per group of two or more (its own retry key,
// derived from its members' keys; friend_id its first recipient), and the single ones unchanged.
// Texts that differ per friend ({display_name}) make groups of one, so they stay pushes.
std::vector<OutboxRow> group_into_multicasts(std::vector<OutboxRow> pushes);

}  // namespace okuri::svc
