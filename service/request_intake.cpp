// The checks between a request body and the durable inbox (see request_intake.hpp).
#include "service/request_intake.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "service/webhook_signature.hpp"

namespace okuri::svc {

namespace {

template <typename Parse>
Intake take(const rt::EventCatalog& catalog, const std::string& body, Parse parse) {
  Intake out;
  try {
    rt::EventReader reader(catalog);
    out.events = parse(reader, body);
    // A friend is a LINE user: an id that is not one (`all`, `../x`) would reach LINE's URLs.
    for (const auto& ev : out.events) {
      if (!is_line_user_id(ev.friend_id)) {
        throw std::runtime_error(fmt::format(
            "{}: friend `{}` is not a LINE user id (U followed by 32 hexadecimal digits)", ev.origin, ev.friend_id));
      }
    }
    out.duplicates = reader.duplicates();
    for (const auto& [why, n] : reader.ignored()) {
      // A label without spaces: "message (from a group)" → "message_from_a_group".
      std::string label;
      for (const char c : why) {
        if (c == ' ')
          label += '_';
        else if (c != '(' && c != ')')
          label += c;
      }
      out.ignored[label] += n;
    }
  } catch (const std::exception& e) {
    out = Intake{};
    out.status = 400;
    out.rejected = "malformed";
    // The reason may quote the body's own bytes, invalid UTF-8 included: replaced, so the 400 always has its reason.
    out.body = nlohmann::json{{"message", e.what()}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return out;
}

}  // namespace

Intake take_webhook(const rt::EventCatalog& catalog, std::string_view channel_secret, std::string_view signature,
                    const std::string& body) {
  if (!signature_ok(channel_secret, body, signature)) {
    Intake out;
    out.status = 401;
    out.rejected = "signature";
    out.body = R"({"message":"bad or missing X-Line-Signature"})";
    return out;
  }
  return take(catalog, body, [](rt::EventReader& r, const std::string& b) { return r.read_webhook(b); });
}

Intake take_events(const rt::EventCatalog& catalog, const std::string& body) {
  return take(catalog, body, [](rt::EventReader& r, const std::string& b) { return r.read_jsonl("request body", b); });
}

bool is_line_user_id(std::string_view id) {
  if (id.size() != 33 || id[0] != 'U') return false;
  for (std::size_t i = 1; i < id.size(); ++i) {
    const char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace okuri::svc
