// An accepted event as the durable inbox keeps it until its partition's owner applies it: every
// member of rt::InputEvent, exactly, in a compact binary form (a PostgreSQL `bytea`).
//
// The bytes: a version byte (1), then varints (LEB128; signed ones zigzagged) and texts as a
// varint length and the bytes themselves, any bytes:
//   time_ms  flags (1 reply_token present, 2 redelivery, 4 standby)
//   friend_id  type  arg  [reply_token]  webhook_event_id  origin
//   field count, then per field in name order: name  kind (0 int, 1 text)  i  text
// Both i and text are kept for every field, so a value decodes to exactly what was encoded.
#pragma once

#include <string>
#include <string_view>

#include "runtime/event_input.hpp"

namespace okuri::svc {

std::string encode_inbox_event(const rt::InputEvent& ev);
// Throws std::runtime_error naming what is wrong and at which byte: an unknown version, bytes
// missing or left over, an unknown flag or kind, fields out of order. Reads nothing past `bytes`.
rt::InputEvent decode_inbox_event(std::string_view bytes);

}  // namespace okuri::svc
