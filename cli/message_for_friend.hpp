// Messages rendered for one friend, as `okuri serve` would send them: what `okuri preview` prints
// and `okuri send-test` pushes. The friend's data comes from a friends file, or is unknown (the
// texts' fallbacks show).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "runtime/engine.hpp"

namespace okuri::cli {

struct FriendChoice {
  std::string friends;    // a friends file (.csv or .jsonl); empty: none
  std::string friend_id;  // whose data fills the texts (needs `friends`); empty: nobody known
  std::string at;         // the moment of sending (2026-06-01, '2026-06-01 10:00', RFC 3339); empty: now
};

struct MessageForFriend {
  std::unique_ptr<rt::Engine> engine;  // holds the friend's row
  std::uint32_t row = 0;
  std::vector<plan::MessageId> ids;
  std::string json;  // the LINE message objects, a JSON array
  // The texts as people read them.
  std::string readable(const Program& p) const;
};

// Prints a clear error naming `command` and sets `status` (2) when the friend, the file, the
// time or a message is wrong.
std::optional<MessageForFriend> render_for_friend(const Program& p, const std::vector<std::string>& messages,
                                                  const FriendChoice& who, const char* command, int& status);

}  // namespace okuri::cli
