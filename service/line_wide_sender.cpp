// The sender's part for what LINE sends to friends it chooses: a broadcast (every friend) and a
// narrowcast (friends matching LINE's estimates, of an audience uploaded from the account's own
// data). A narrowcast takes several requests over time — the audience is created, filled and
// made ready, the narrowcast is accepted, then its progress is read until LINE finishes — and
// each step is recorded on the outbox row before the next, so a restart goes on where it was.
// The narrowcast carries its retry key: after a crash it is answered 409 with the request id
// LINE accepted it as, never sent twice.
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "service/line_api.hpp"
#include "service/sender.hpp"

namespace okuri::svc {

namespace {

using nlohmann::json;

std::int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// LINE's errorCode of a failed narrowcast, in words.
std::string narrowcast_error(const json& p) {
  const std::string description = p.value("failedDescription", "");
  std::string why;
  switch (p.value("errorCode", 0)) {
    case 1:
      why = "an internal error at LINE";
      break;
    case 2:
      why = "too few recipients (LINE sends a narrowcast only when it reaches at least 100 friends)";
      break;
    case 3:
      why = "a request already accepted was sent again";
      break;
    case 4:
      why = "the audience has fewer than 50 friends";
      break;
    case 5:
      why = "cancelled, because the month's quota could not cover every recipient (it is never partly sent)";
      break;
    default:
      why = "LINE gave no reason";
  }
  return description.empty() ? why : fmt::format("{} ({})", why, description);
}

// yyyyMMdd of the day at LINE (UTC+9) at `seconds`: how LINE names a day in its counts.
std::string line_day(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds + 9 * 3600);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

// At most `max` bytes of `s`, not cutting a UTF-8 character.
std::string utf8_prefix(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

void Sender::not_accepted(OutboxRow& r, const LineAnswer& a, const std::string& what, RateLimiter& rate) {
  if (a.monthly_limit()) {
    // Nothing goes until the month ends or the plan is raised: asked again every 10 minutes.
    r.next_attempt = wall_seconds() + 600;
    r.error = a.describe();
    metrics_.sent(what + "_monthly_limit");
    log_(fmt::format("{} of `{}` waits: LINE {} (tried again every 10 minutes)", what, r.scenario, r.error));
  } else if (a.status == 429 || a.status == 0 || a.status >= 500) {
    metrics_.sent(what + "_retry");
    retry_later(r, a, rate);
  } else {
    refused(r, a, what);
  }
}

void Sender::refused(OutboxRow& r, const LineAnswer& a, const std::string& what) {
  r.status = "failed";
  r.error = a.describe();
  metrics_.sent(what + "_failed");
  log_(fmt::format("{} of `{}` (step {}) failed: {}", what, r.scenario, r.node, r.error));
}

OutboxRow Sender::send_broadcast(LineApi& api, OutboxRow r) {
  if (r.status == "accepted") {
    count_broadcast(api, r);
    return r;
  }
  if (const auto ahead = broadcast_rate_.backlog(); ahead > std::chrono::seconds(2)) {
    r.next_attempt = wall_seconds() + std::chrono::duration_cast<std::chrono::seconds>(ahead).count();
    return r;
  }
  if (!broadcast_rate_.acquire(stop_)) return r;
  ++r.attempts;
  const LineAnswer a = api.broadcast(r.messages, r.key);
  if (a.status == 200 || a.status == 409) {
    // LINE reports no progress for a broadcast, only how many messages the day's broadcasts sent
    // (GET /v2/bot/message/delivery/broadcast, by day in UTC+9): read from now on until LINE has it.
    r.status = "accepted";
    r.error.clear();
    r.request_id = a.status == 200 ? a.request_id : a.accepted_request_id;
    r.progress = json{{"date", line_day(wall_seconds())}}.dump();
    r.next_attempt = wall_seconds();
    metrics_.sent(a.status == 200 ? "broadcast_sent" : "broadcast_already_accepted");
    log_(fmt::format("broadcast `{}` (step {}) was accepted by LINE{}: LINE sends it to every friend of the account",
                     r.scenario, r.node, r.request_id.empty() ? "" : fmt::format(" (request {})", r.request_id)));
    return r;
  }
  not_accepted(r, a, "broadcast", broadcast_rate_);
  return r;
}

void Sender::count_broadcast(LineApi& api, OutboxRow& r) {
  if (!progress_rate_.acquire(stop_)) return;
  const auto p = json::parse(r.progress, nullptr, false);
  std::string day = p.is_object() && p.contains("date") && p["date"].is_string() ? p["date"].get<std::string>() : "";
  if (day.size() != 8 || day.find_first_not_of("0123456789") != std::string::npos) day.clear();  // yyyyMMdd only
  const std::int64_t now = wall_seconds();
  // LINE has the day's figure the next day or so; after three days it is not asked for again.
  const bool give_up = now - r.created > 3 * 86400 || day.empty();
  const LineAnswer a = day.empty() ? LineAnswer{} : api.get("/v2/bot/message/delivery/broadcast?date=" + day);
  const auto j = json::parse(a.body, nullptr, false);
  if (a.status == 200 && j.is_object() && j.value("status", "") == "ready") {
    const auto success =
        j.contains("success") && j["success"].is_number_integer() ? j["success"].get<std::int64_t>() : 0;
    r.status = "sent";
    r.error.clear();
    r.progress = json{{"date", day}, {"success", success}}.dump();
    metrics_.broadcast_day = std::stoull(day);  // eight digits
    metrics_.broadcast_day_messages = static_cast<std::uint64_t>(std::max<std::int64_t>(0, success));
    log_(
        fmt::format("broadcast `{}` (step {}): LINE counts {} messages sent by broadcasts on {} (UTC+9), this one "
                    "and any other of that day",
                    r.scenario, r.node, success, day));
    return;
  }
  const bool later = (a.status == 200 && j.is_object() && j.value("status", "") == "unready") || a.status == 429 ||
                     a.status == 0 || a.status >= 500;
  if (later && !give_up) {
    // Not ready (the day is not over at LINE), or LINE did not answer: asked again within the hour.
    r.next_attempt = now + (a.status == 200 ? 3600 : std::max<std::int64_t>(opt_.progress_every, backoff(r.attempts)));
    r.error = a.status == 200 ? "" : "reading the day's broadcast count: " + a.describe();
    return;
  }
  // Sent all the same: only LINE's count is missing (out_of_service, refused, or too late).
  r.status = "sent";
  r.error = a.status == 200
                ? fmt::format("LINE has no count of the day's broadcasts ({})", j.value("status", "?"))
                : "reading the day's broadcast count: " + (day.empty() ? std::string("no day recorded") : a.describe());
  log_(fmt::format("broadcast `{}` (step {}): {}", r.scenario, r.node, r.error));
}

std::shared_ptr<const std::vector<std::string>> Sender::audience_ids(const OutboxRow& r) {
  std::lock_guard<std::mutex> lock(audience_mu_);
  auto& ids = audience_ids_[r.id];
  if (!ids)
    ids = std::make_shared<const std::vector<std::string>>(json::parse(r.recipients).get<std::vector<std::string>>());
  return ids;
}

void Sender::forget_audience_ids(std::int64_t row) {
  std::lock_guard<std::mutex> lock(audience_mu_);
  audience_ids_.erase(row);
}

bool Sender::prepare_audience(LineApi& api, OutboxRow& r) {
  // Parsed once for all its uploads (a million ids is tens of MB of JSON), not once per 10,000.
  const auto shared_ids = audience_ids(r);
  const std::vector<std::string>& ids = *shared_ids;
  const auto total = static_cast<std::int64_t>(ids.size());
  if (r.audience_id == 0 || r.audience_uploaded < total) {
    if (!audience_rate_.acquire(stop_)) return false;
    const auto from = static_cast<std::size_t>(r.audience_id == 0 ? 0 : r.audience_uploaded);
    const std::size_t n = std::min(kAudienceUploadMax, ids.size() - from);
    const std::vector<std::string> part(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                        ids.begin() + static_cast<std::ptrdiff_t>(from + n));
    ++r.attempts;
    LineAnswer a;
    if (r.audience_id == 0) {
      // Its name says what it is for; LINE allows 120 characters.
      a = api.create_audience(utf8_prefix(fmt::format("okuri {} {}", r.scenario, r.key), 120), part);
      const auto j = json::parse(a.body, nullptr, false);
      if (a.ok() && j.is_object() && j.contains("audienceGroupId") && j["audienceGroupId"].is_number_integer()) {
        r.audience_id = j["audienceGroupId"].get<std::int64_t>();
        r.audience_uploaded = static_cast<std::int64_t>(n);
        r.next_attempt = wall_seconds();  // recorded before the next step, so a restart adds to this audience
        return false;
      }
    } else {
      a = api.add_to_audience(r.audience_id, part);
      if (a.ok()) {
        r.audience_uploaded += static_cast<std::int64_t>(n);
        r.next_attempt = wall_seconds();
        return false;
      }
    }
    if (a.status == 429 || a.status == 0 || a.status >= 500) {
      metrics_.sent("audience_retry");
      retry_later(r, a, audience_rate_);
    } else {
      forget_audience_ids(r.id);
      refused(r, a, "audience upload");
    }
    return false;
  }
  forget_audience_ids(r.id);  // every id is uploaded
  // LINE takes a while to make an uploaded audience usable.
  if (!progress_rate_.acquire(stop_)) return false;
  const LineAnswer a = api.get(fmt::format("/v2/bot/audienceGroup/{}", r.audience_id));
  const auto j = json::parse(a.body, nullptr, false);
  if (a.status == 200 && j.is_object() && j.contains("audienceGroup") && j["audienceGroup"].is_object()) {
    const std::string status = j["audienceGroup"].value("status", "");
    if (status == "READY") return true;
    if (status == "IN_PROGRESS" || status == "ACTIVATING") {
      r.next_attempt = wall_seconds() + opt_.progress_every;
      return false;
    }
    r.status = "failed";
    r.error = fmt::format("LINE made the audience {} {}{}", r.audience_id, status,
                          j["audienceGroup"].contains("failedType")
                              ? fmt::format(" ({})", j["audienceGroup"]["failedType"].dump())
                              : std::string());
    metrics_.sent("audience_failed");
    log_(fmt::format("narrowcast of `{}` (step {}) failed: {}", r.scenario, r.node, r.error));
    return false;
  }
  if (a.status == 429 || a.status == 0 || a.status >= 500) {
    retry_later(r, a, progress_rate_);
  } else {
    refused(r, a, "audience status");
  }
  return false;
}

// LINE keeps a limited number of audiences per account: the one made for a narrowcast is deleted
// once LINE has finished with it. Best effort: one left behind is logged, and can be deleted in
// LINE Official Account Manager.
void Sender::delete_audience(LineApi& api, const OutboxRow& r) {
  if (r.audience_id == 0 || !audience_rate_.acquire(stop_)) return;
  const LineAnswer a = api.delete_audience(r.audience_id);
  if (a.status == 200 || a.status == 404) return;  // 404: deleted already (a restart in between)
  metrics_.sent("audience_not_deleted");
  log_(
      fmt::format("narrowcast of `{}` (step {}): its audience {} is left at LINE ({}); it can be deleted in LINE "
                  "Official Account Manager",
                  r.scenario, r.node, r.audience_id, a.describe()));
}

void Sender::follow_progress(LineApi& api, OutboxRow& r) {
  if (!progress_rate_.acquire(stop_)) return;
  const LineAnswer a = api.get("/v2/bot/message/progress/narrowcast?requestId=" + r.request_id);
  const auto j = json::parse(a.body, nullptr, false);
  const std::int64_t now = wall_seconds();
  if (a.status != 200 || !j.is_object()) {
    // Accepted is accepted: the progress is only asked for again, never the narrowcast sent again.
    r.next_attempt = now + std::max<std::int64_t>(opt_.progress_every, backoff(r.attempts));
    r.error = "reading its progress: " + a.describe();
    return;
  }
  r.progress = a.body;
  r.error.clear();
  const std::string phase = j.value("phase", "");
  if (phase != "succeeded" && phase != "failed") {
    r.next_attempt = now + opt_.progress_every;
    return;
  }
  const auto target = j.value("targetCount", std::int64_t{0});
  const auto success = j.value("successCount", std::int64_t{0});
  const auto failure = j.value("failureCount", std::int64_t{0});
  metrics_.narrowcast_target += static_cast<std::uint64_t>(std::max<std::int64_t>(0, target));
  metrics_.narrowcast_success += static_cast<std::uint64_t>(std::max<std::int64_t>(0, success));
  metrics_.narrowcast_failure += static_cast<std::uint64_t>(std::max<std::int64_t>(0, failure));
  metrics_.messages_sent += static_cast<std::uint64_t>(std::max<std::int64_t>(0, success));
  delete_audience(api, r);
  if (phase == "succeeded") {
    r.status = "sent";
    ++metrics_.narrowcast_succeeded;
    log_(fmt::format("narrowcast of `{}` (step {}) is done: LINE targeted {} friends, {} received it, {} failed",
                     r.scenario, r.node, target, success, failure));
  } else {
    r.status = "failed";
    r.error = narrowcast_error(j);
    ++metrics_.narrowcast_failed;
    log_(fmt::format("narrowcast of `{}` (step {}) failed at LINE: {}", r.scenario, r.node, r.error));
  }
}

OutboxRow Sender::send_narrowcast(LineApi& api, OutboxRow r) {
  if (r.status == "accepted") {
    follow_progress(api, r);
    return r;
  }
  json request = r.line_request.empty() ? json::object() : json::parse(r.line_request);
  if (!r.recipients.empty()) {
    if (!prepare_audience(api, r)) return r;
    request["recipient"] = {{"type", "audience"}, {"audienceGroupId", r.audience_id}};
  }
  if (const auto ahead = narrowcast_rate_.backlog(); ahead > std::chrono::seconds(2)) {
    r.next_attempt = wall_seconds() + std::chrono::duration_cast<std::chrono::seconds>(ahead).count();
    return r;
  }
  if (!narrowcast_rate_.acquire(stop_)) return r;
  ++r.attempts;
  const LineAnswer a = api.narrowcast(r.messages, request.dump(), r.key);
  const std::int64_t now = wall_seconds();
  if (a.status == 202 || a.status == 200 || a.status == 409) {
    // 409: this retry key was accepted before (the process stopped before recording it).
    r.request_id = a.status == 409 ? a.accepted_request_id : a.request_id;
    r.error.clear();
    metrics_.sent(a.status == 409 ? "narrowcast_already_accepted" : "narrowcast_accepted");
    if (r.request_id.empty()) {
      r.status = "sent";
      r.error = "accepted, but LINE gave no request id: its progress cannot be read";
    } else {
      r.status = "accepted";
      r.progress = json{{"phase", "waiting"}}.dump();
      r.next_attempt = now + opt_.progress_every;
    }
    log_(fmt::format("narrowcast of `{}` (step {}) was accepted by LINE{}{}", r.scenario, r.node,
                     r.request_id.empty() ? "" : fmt::format(" (request {})", r.request_id),
                     r.recipients.empty() ? "" : fmt::format(", to an audience of {} friends", r.audience_uploaded)));
    return r;
  }
  not_accepted(r, a, "narrowcast", narrowcast_rate_);
  return r;
}

}  // namespace okuri::svc
