// Event input: the JSONL format of runtime.md and LINE webhook request bodies
// (../line-openapi/webhook.yml), checked against the project's events.
//
// A malformed line or a payload of the wrong type raises EventError naming
// file:line (or the webhook event's index) and the field; nothing of a bad
// event is returned. Unknown event types are recorded and skipped, never an
// error; webhook events are deduplicated by webhookEventId.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "compiler/program.hpp"

namespace simdjson::dom {
class parser;
}

namespace okuri::rt {

struct EventError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A field value of an event: ints carry int, bool, date (days), datetime (s),
// duration (s), time (min), enum index, set mask; text carries text.
struct FieldValue {
  bool is_text = false;
  std::int64_t i = 0;
  std::string text;
};

struct InputEvent {
  std::int64_t time_ms = 0;  // milliseconds since the epoch
  std::string friend_id;
  std::string type;  // friend_added … field_changed, or a custom event's name
  std::string arg;   // the link, message, form, tag or field named by the event
  std::map<std::string, FieldValue> fields;  // source, text, data, url, custom fields
  std::optional<std::string> reply_token;
  std::string webhook_event_id;
  bool redelivery = false;
  // A webhook event delivered while the channel is on standby (another channel is active in a
  // module): it changes the friend's state, but the account must not answer it.
  bool standby = false;
  std::string origin;  // "events.jsonl:12" or "webhook event 3": for messages and traces
};

// What the project says events look like.
class EventCatalog {
 public:
  explicit EventCatalog(const Program& p);
  struct FieldSpec {
    Type type;
    std::vector<std::string> values;  // enum / set values
  };
  struct Spec {
    bool builtin = true;
    std::optional<SymbolKind> arg;  // link_clicked(link) …
    std::string arg_field;          // the JSON key carrying it: "link", "message", …
    std::map<std::string, FieldSpec> fields;
  };
  const Spec* find(std::string_view type) const;
  bool has_symbol(SymbolKind k, std::string_view name) const;
  const std::string& timezone() const { return timezone_; }

 private:
  std::map<std::string, Spec, std::less<>> specs_;
  std::set<std::pair<SymbolKind, std::string>> symbols_;
  std::string timezone_;
};

class EventReader {
 public:
  explicit EventReader(const EventCatalog& catalog);
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // One line of a JSONL file: the event, or nothing for a blank line, an event type the project
  // does not know (counted in ignored()) or a webhook event id seen before.
  std::optional<InputEvent> read_line(std::string_view file, std::size_t line_no, std::string_view line);
  // One JSONL file (or text): events in file order.
  std::vector<InputEvent> read_jsonl(const std::string& shown_path, std::string_view text);
  // One webhook request body: {"destination": …, "events": [ … ]}.
  std::vector<InputEvent> read_webhook(std::string_view body);

  // Event types seen and skipped (unknown to the project or to Okuri), with counts.
  const std::map<std::string, std::size_t>& ignored() const { return ignored_; }
  // Where each type unknown to the project first appeared in a JSONL file ("events.jsonl:12").
  const std::map<std::string, std::string>& ignored_at() const { return ignored_at_; }
  std::size_t duplicates() const { return duplicates_; }
  // Whether events from JSONL lines carry their origin ("events.jsonl:12", for traces); on by
  // default, off for runs that keep no trace (it costs a text per event).
  void keep_origins(bool on) { origins_ = on; }

 private:
  const EventCatalog& catalog_;
  std::unique_ptr<simdjson::dom::parser> json_;
  std::unordered_set<std::string> seen_ids_;
  std::map<std::string, std::size_t> ignored_;
  std::map<std::string, std::string> ignored_at_;
  std::size_t duplicates_ = 0;
  bool origins_ = true;
};

// Events in time order; equal times keep their input order (a redelivered
// webhook event lands where its timestamp puts it).
void sort_by_time(std::vector<InputEvent>& events);

// RFC 3339 (`2026-01-05T12:00:00+09:00`, `Z`, fractions) → milliseconds since the epoch.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s);

}  // namespace okuri::rt
