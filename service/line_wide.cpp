#include "service/line_wide.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "runtime/render.hpp"

namespace okuri::svc {

using nlohmann::json;

LineWideBatch::LineWideBatch(const rt::Engine& engine, const stdlib::Zone& zone, bool up_to_remaining, Log log,
                             std::set<std::string>& said, std::string part)
    : engine_(engine),
      zone_(zone),
      up_to_remaining_(up_to_remaining),
      log_(std::move(log)),
      said_(said),
      part_(std::move(part)) {}

void LineWideBatch::say_once(const std::string& broadcast, const std::string& line) {
  if (said_.insert(broadcast).second) log_(line);
}

const std::string& LineWideBatch::blocker(std::int32_t flow, const plan::Flow& fl) {
  auto it = blockers_.find(flow);
  if (it != blockers_.end()) return it->second;
  std::string why;
  if (const plan::Node* n = engine_.renderer().first_send_reading_friend(fl)) {
    why = fmt::format("its text ({}) reads each friend's data, and LINE sends one text to the friends it chooses",
                      n->label);
  }
  return blockers_.emplace(flow, std::move(why)).first->second;
}

bool LineWideBatch::takes(std::int32_t flow, const plan::Flow& fl) {
  using Reach = plan::Flow::Reach;
  if (fl.reach == Reach::Friends) {
    if (fl.target < 0) {
      say_once(fl.name, fmt::format("broadcast `{}` has no target but does more than send, per friend: it goes to the "
                                    "friends okuri serve has heard from (multicasts), not through LINE's broadcast "
                                    "to every friend",
                                    fl.name));
    }
    return false;
  }
  if (fl.reach == Reach::Everyone && !blocker(flow, fl).empty()) {
    say_once(fl.name, fmt::format("broadcast `{}` has no target, but {}: it goes to the friends okuri serve has heard "
                                  "from (multicasts and pushes), not through LINE's broadcast to every friend",
                                  fl.name, blocker(flow, fl)));
    return false;
  }
  return true;  // a narrowcast LINE cannot send is recorded as unsent (rows)
}

void LineWideBatch::add_part(std::int32_t flow, OutboxRow part) { parts_[flow].push_back(std::move(part)); }

std::vector<OutboxRow> LineWideBatch::rows(const std::vector<rt::FiredBroadcast>& fired, std::int64_t created,
                                           const QuotaLeft& quota_left, std::optional<std::int64_t> followers) {
  using Reach = plan::Flow::Reach;
  std::vector<OutboxRow> out;
  std::map<std::int32_t, std::string> unsent;  // flows whose parts are not sent, and why
  for (const auto& fb : fired) {
    const plan::Flow& fl = engine_.plan().flows[static_cast<std::size_t>(fb.flow)];
    if (fl.reach == Reach::Friends) continue;
    if (fl.reach == Reach::Everyone && !blocker(fb.flow, fl).empty()) continue;
    const bool narrow = fl.reach == Reach::Narrowcast;
    std::string why_not;
    if (narrow && !blocker(fb.flow, fl).empty()) {
      why_not = fmt::format("not sent: {}", blocker(fb.flow, fl));
    }
    // The friends of the account's own data it reaches: each friend's part at its first send.
    std::vector<std::string> friends;
    {
      const std::string* first = nullptr;
      for (const auto& n : fl.nodes) {
        if (n.kind == StepKind::Send) {
          first = &n.id;
          break;
        }
      }
      for (const auto& p : parts_[fb.flow]) {
        if (first != nullptr && p.node == *first) friends.push_back(p.friend_id);
      }
    }
    if (why_not.empty() && narrow && fl.audience && friends.size() < kNarrowcastMinReach) {
      why_not = fmt::format("not sent: its own-data part reaches {} friend{}, and LINE refuses a narrowcast that "
                            "reaches fewer than {}",
                            friends.size(), friends.size() == 1 ? "" : "s", kNarrowcastMinReach);
    }
    if (!why_not.empty()) {
      log_(fmt::format("narrowcast `{}` is {}", fl.name, why_not));
      unsent[fb.flow] = why_not;
    }
    // Every friend gets it (LINE's broadcast): as many as LINE lists, and at least those the service knows.
    std::string held;
    bool as_narrowcast = narrow;
    if (!narrow) {
      std::optional<std::int64_t> none;
      auto& left = quota_left ? quota_left() : none;
      const auto known = static_cast<std::int64_t>(std::max<std::size_t>(1, friends.size()));
      const bool listed = followers && *followers > known;
      const std::int64_t need = listed ? *followers : known;
      const char* counted = listed ? "the friends LINE lists" : "the friends okuri serve knows";
      if (left && need <= *left) {
        *left -= need;
      } else if (left) {
        const std::int64_t remain = std::max<std::int64_t>(0, *left);
        if (up_to_remaining_) {
          as_narrowcast = true;  // to every friend as far as the quota goes: only a narrowcast can say so
          *left = 0;
          log_(
              fmt::format("broadcast `{}` needs at least {} messages ({}) and {} remain of this month's quota: it "
                          "goes as a narrowcast to as many friends as the quota covers (--when-quota-short "
                          "up-to-remaining)",
                          fl.name, need, counted, remain));
        } else {
          held = fmt::format("held: needs at least {} messages, {} remain this month", need, remain);
          log_(
              fmt::format("broadcast `{}` is held, not sent: it needs at least {} messages ({}) and {} remain of "
                          "this month's quota; it goes out whole when the quota allows it",
                          fl.name, need, counted, remain));
        }
      }
    }
    rt::RenderContext ctx{engine_.store(), 0, fb.at, zone_, nullptr, nullptr, true};
    for (const auto& n : fl.nodes) {
      if (n.kind != StepKind::Send) continue;
      OutboxRow r;
      r.kind = as_narrowcast ? "narrowcast" : "broadcast";
      // One request for the account; with several workers, a narrowcast to the account's own
      // friends is one per worker (each knows only its friends), keyed by the partitions it holds.
      const bool per_worker = as_narrowcast && fl.audience && !part_.empty();
      r.key = rt::delivery_key(per_worker ? "partitions " + part_ : std::string(), fl.name,
                               static_cast<std::uint32_t>(fb.at), n.id, 0);
      r.due = fb.due;
      r.messages = engine_.renderer().messages(n.messages, ctx);
      r.scenario = fl.name;
      r.node = n.id;
      r.created = created;
      if (as_narrowcast) {
        json request = json::object();
        if (!fl.demographic.empty()) request["filter"] = {{"demographic", json::parse(fl.demographic)}};
        // LINE itself checks the month's quota against the friends it targets: never partly sent,
        // unless the project chose to send what the quota covers.
        request["limit"] = up_to_remaining_ ? json{{"upToRemainingQuota", true}}
                                            : json{{"upToRemainingQuota", true}, {"forbidPartialDelivery", true}};
        r.line_request = request.dump();
        if (fl.audience) r.recipients = json(friends).dump();
      }
      if (!why_not.empty()) {
        r.status = "unsent";
        r.error = why_not;
      } else if (!held.empty()) {
        r.status = "quota";
        r.error = held;
      }
      out.push_back(std::move(r));
    }
  }
  for (auto& [flow, parts] : parts_) {
    auto it = unsent.find(flow);
    for (auto& p : parts) {
      if (it != unsent.end()) {
        p.status = "unsent";
        p.error = it->second;
      } else {
        p.status = "via_line";
        p.error.clear();
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace okuri::svc
