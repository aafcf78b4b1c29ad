// `message NAME json "file.json"`: the file must exist and hold one LINE message
// object or an array of 1–5 of them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace okuri {

struct MessageFileCheck {
  std::string error;  // empty when the file is valid; else a full sentence naming the file
  std::int64_t message_count = 0;
  std::string json;      // when valid: the LINE message objects as a JSON array (what is sent)
  std::string resolved;  // the file's path as read (relative to the working folder, or absolute)
};

// Message files larger than this are refused (LINE's largest messages are far smaller).
inline constexpr std::uintmax_t kMaxMessageFileBytes = 1 << 20;

// `root` is the project folder; `path` is relative to it (or absolute). Only a regular file of at
// most kMaxMessageFileBytes is read (not a FIFO or a device, which could block or never end).
MessageFileCheck check_message_file(const std::string& root, const std::string& path);
// The same check on text already read (for tests and the language server).
MessageFileCheck check_message_json(const std::string& shown_path, const std::string& text);

// The keys of a LINE message object whose string is a URL an action opens: `uri` (an action's,
// in templates, flex and quick replies), `linkUri` (an imagemap's action) and `desktop` (an
// action's `altUri`). A declared link written there (`{trial_lp}`, or its URL) goes out tracked.
bool is_uri_key(std::string_view key);
// Calls `fn(value)` for each string under such a key in a message's JSON (an nlohmann::json,
// const or not: the renderer rewrites them in place), in document order.
template <typename Json, typename Fn>
void for_each_uri(Json& j, Fn&& fn) {
  if (j.is_array()) {
    for (auto& x : j) for_each_uri(x, fn);
    return;
  }
  if (!j.is_object()) return;
  for (auto& [k, v] : j.items()) {
    if (is_uri_key(k) && v.is_string()) {
      fn(v);
    } else {
      for_each_uri(v, fn);
    }
  }
}
// Every string under such a key in a message file's JSON (MessageFileCheck::json), in order.
std::vector<std::string> message_uris(const std::string& json);

}  // namespace okuri
