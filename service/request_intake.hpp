// What the service makes of one request body on POST /webhook or POST /events, before anything
// is written: the signature or token decision, the parse, and the checks every event must pass.
// One function per endpoint, free of the service's state, so the fuzz target (fuzz/fuzz_inputs.cpp)
// drives exactly the code the HTTP handlers run.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/event_input.hpp"

namespace okuri::svc {

struct Intake {
  // 0: accepted (the events go on to the durable inbox); otherwise the HTTP status to answer.
  int status = 0;
  // The metrics label of a refusal: "signature" or "malformed".
  std::string rejected;
  // The answer's JSON body when refused: {"message": …}, always valid UTF-8.
  std::string body;
  std::vector<rt::InputEvent> events;
  std::size_t duplicates = 0;                  // the same webhookEventId twice in one body
  std::map<std::string, std::size_t> ignored;  // events read and left aside, by metrics label
};

// A LINE webhook: X-Line-Signature checked on the raw body before any byte of it is parsed.
Intake take_webhook(const rt::EventCatalog& catalog, std::string_view channel_secret, std::string_view signature,
                    const std::string& body);
// Custom events as JSON lines (the bearer token is checked by the caller, as for /friends).
Intake take_events(const rt::EventCatalog& catalog, const std::string& body);

// `U` and 32 hexadecimal digits: what LINE's user ids look like (other ids are never sent to LINE's URLs).
bool is_line_user_id(std::string_view id);

}  // namespace okuri::svc
