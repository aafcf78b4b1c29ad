#include "cli/message_for_friend.hpp"

#include <algorithm>
#include <ctime>
#include <iostream>

#include "compiler/literals.hpp"
#include "runtime/event_input.hpp"
#include "runtime/friends_file.hpp"
#include "stdlib/functions.hpp"

namespace okuri::cli {

std::string MessageForFriend::readable(const Program& p) const {
  const stdlib::Zone zone(p.account.timezone.c_str());
  const rt::RenderContext ctx{engine->store(), row, engine->now(), zone, nullptr, nullptr};
  return engine->renderer().readable(ids, ctx);
}

std::optional<MessageForFriend> render_for_friend(const Program& p, const std::vector<std::string>& messages,
                                                  const FriendChoice& who, const char* command, int& status) {
  auto fail = [&](const std::string& why) -> std::optional<MessageForFriend> {
    std::cerr << "okuri " << command << ": " << why << "\n";
    status = 2;
    return std::nullopt;
  };
  if (!who.friend_id.empty() && who.friends.empty()) {
    return fail("the friend's data comes from a friends file: give --friends with the friend");
  }
  MessageForFriend out;
  out.engine = std::make_unique<rt::Engine>(p, rt::EngineOptions{});
  rt::Engine& e = *out.engine;
  std::int64_t at = std::time(nullptr);
  if (!who.at.empty()) {
    std::optional<std::int64_t> t;
    if (auto ms = rt::parse_rfc3339_ms(who.at)) t = *ms / 1000;
    if (!t) {
      if (auto dt = parse_datetime(who.at)) t = local_to_utc_seconds(*dt, p.account.timezone);
    }
    if (!t) {
      if (auto d = parse_date(who.at)) t = local_to_utc_seconds(CivilDateTime{*d, 0}, p.account.timezone);
    }
    if (!t) return fail("--at `" + who.at + "` is not a date or time (2026-06-01, '2026-06-01 10:00' or RFC 3339)");
    at = *t;
  }
  e.start_at(at);
  if (!who.friends.empty()) {
    try {
      for (const auto& w : rt::load_friends(e.store(), who.friends).warnings)
        std::cerr << "okuri: warning: " << w << "\n";
    } catch (const rt::DataError& x) {
      return fail(x.what());
    }
  }
  if (!who.friend_id.empty()) {
    auto r = e.store().find(who.friend_id);
    if (!r) return fail("no friend `" + who.friend_id + "` in " + who.friends);
    out.row = *r;
  } else {
    out.row = e.friend_row("(preview)");
  }
  const auto& names = e.schema().messages;
  for (const auto& name : messages) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return fail("no message `" + name + "` in the project");
    out.ids.push_back(static_cast<plan::MessageId>(it - names.begin()));
  }
  out.json = e.render(out.ids, out.row);
  return out;
}

}  // namespace okuri::cli
