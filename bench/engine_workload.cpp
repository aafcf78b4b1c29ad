#include "bench/engine_workload.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "compiler/literals.hpp"

namespace okuri::bench {

const char* const kEngineProject = R"(account {
  quiet_hours 22:00 - 08:00
  daily_limit 5
  plan standard
}

tag engaged, purchased, vip
score engagement

link lp "https://example.com/lp"
link price "https://example.com/price"

message welcome text "welcome"
message tips text "tips"
message offer text "offer"
message nudge text "nudge"
message thanks text "thanks"
message faq text "faq"

event purchase { amount: int }

on link_clicked(lp) { score += 2; score(engagement) += 1 }
on link_clicked(price) { score += 3; tag engaged }
on message_opened { score += 1 }
on message_received when contains(event.text, "price") { reply faq }
on purchase when event.amount >= 5000 { tag vip }
on purchase { tag purchased }

scenario onboarding {
  start on friend_added
  stop when tagged(purchased)

  send welcome
  wait 1d at 20:00
  if score >= 5 and tagged(engaged) {
    send offer
  } else {
    send tips
  }
  wait up to 3d for {
    on link_clicked(price) => { send offer }
    timeout => { send nudge }
  }
}

scenario hot {
  start when score >= 20

  send offer
  goal tagged(purchased) within 7d
}

scenario after_purchase {
  start on purchase
  restart always

  send thanks
}
)";

std::vector<std::string> friend_ids(std::size_t n, unsigned seed) {
  std::vector<std::string> ids(n);
  std::mt19937_64 rng(seed);
  for (auto& id : ids) id = fmt::format("U{:016x}{:016x}", rng(), rng());
  return ids;
}

std::string Stream::jsonl(const rt::InputEvent& e) {
  nlohmann::ordered_json j;
  const std::int64_t secs = e.time_ms / 1000;
  const CivilDate d = civil_from_days(secs / 86400);
  const std::int64_t s = secs % 86400;
  j["time"] = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", d.year, d.month, d.day, s / 3600, s / 60 % 60,
                          s % 60, e.time_ms % 1000);
  j["friend"] = e.friend_id;
  j["type"] = e.type;
  if (e.type == "link_clicked") j["link"] = e.arg;
  if (e.type == "message_opened") j["message"] = e.arg;
  for (const auto& [k, v] : e.fields) {
    if (v.is_text) {
      j[k] = v.text;
    } else {
      j[k] = v.i;
    }
  }
  return j.dump();
}

}  // namespace okuri::bench
