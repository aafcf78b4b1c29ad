#include "service/metrics.hpp"

namespace okuri::svc {

std::string Metrics::text(const Gauges& g) const {
  std::string s;
  s += "# HELP okuri_events_accepted_total Events applied (after deduplication).\n# TYPE okuri_events_accepted_total "
       "counter\n";
  s += fmt::format("okuri_events_accepted_total {}\n", accepted.load());
  s += "# HELP okuri_events_duplicate_total Webhook events seen before (redeliveries), not applied again.\n"
       "# TYPE okuri_events_duplicate_total counter\n";
  s += fmt::format("okuri_events_duplicate_total {}\n", duplicates.load());
  s += "# HELP okuri_events_ignored_total Webhook events not applied, by type and why (types the project does not use, "
       "group and room events).\n# TYPE okuri_events_ignored_total counter\n";
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [why, n] : ignored) s += fmt::format("okuri_events_ignored_total{{why=\"{}\"}} {}\n", why, n);
  }
  s += "# HELP okuri_standby_unsent_total Deliveries answering events of a channel on standby: recorded, not sent.\n"
       "# TYPE okuri_standby_unsent_total counter\n";
  s += fmt::format("okuri_standby_unsent_total {}\n", standby_unsent.load());
  s += "# HELP okuri_multicast_recipients_total Friends reached through accepted multicast requests.\n"
       "# TYPE okuri_multicast_recipients_total counter\n";
  s += fmt::format("okuri_multicast_recipients_total {}\n", multicast_recipients.load());
  s += "# HELP okuri_narrowcasts_total Narrowcasts LINE finished, by how they ended.\n"
       "# TYPE okuri_narrowcasts_total counter\n";
  s += fmt::format("okuri_narrowcasts_total{{phase=\"succeeded\"}} {}\nokuri_narrowcasts_total{{phase=\"failed\"}} {}\n",
                   narrowcast_succeeded.load(), narrowcast_failed.load());
  s += "# HELP okuri_narrowcast_recipients_total Friends of finished narrowcasts, as LINE counted them: targeted, "
       "received, failed.\n# TYPE okuri_narrowcast_recipients_total counter\n";
  s += fmt::format(
      "okuri_narrowcast_recipients_total{{count=\"target\"}} {}\nokuri_narrowcast_recipients_total{{count=\"success\"}} "
      "{}\nokuri_narrowcast_recipients_total{{count=\"failure\"}} {}\n",
      narrowcast_target.load(), narrowcast_success.load(), narrowcast_failure.load());
  if (broadcast_day.load() != 0) {
    s +=
        "# HELP okuri_broadcast_day_messages Messages LINE counts as sent by broadcasts on the day (UTC+9) of the last "
        "broadcast whose count was read (every broadcast of that day together).\n"
        "# TYPE okuri_broadcast_day_messages gauge\n";
    s += fmt::format("okuri_broadcast_day_messages{{date=\"{}\"}} {}\n", broadcast_day.load(),
                     broadcast_day_messages.load());
  }
  s += "# HELP okuri_monthly_limit_reached 1 while LINE refuses pushes for the month's message limit.\n"
       "# TYPE okuri_monthly_limit_reached gauge\n";
  s += fmt::format("okuri_monthly_limit_reached {}\n", monthly_limit.load() ? 1 : 0);
  s +=
      "# HELP okuri_requests_rejected_total Requests refused, by reason (timeout: a request not whole by its deadline; "
      "too_many_connections: closed at --max-connections).\n# TYPE okuri_requests_rejected_total "
      "counter\n";
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const char* why : {"signature", "malformed", "too_large", "unauthorized", "storage", "shutting_down",
                            "timeout", "encoding", "too_many_connections", "inbox_unreadable"}) {
      auto it = rejected.find(why);
      s += fmt::format("okuri_requests_rejected_total{{reason=\"{}\"}} {}\n", why,
                       it == rejected.end() ? 0 : it->second);
    }
    s += "# HELP okuri_line_requests_total Requests to the Messaging API, by outcome.\n# TYPE "
         "okuri_line_requests_total counter\n";
    for (const auto& [what, n] : sends) s += fmt::format("okuri_line_requests_total{{outcome=\"{}\"}} {}\n", what, n);
  }
  if (g.store) {
    const StoreCounts& c = *g.store;
    s += "# HELP okuri_deliveries Deliveries in the outbox, by status.\n# TYPE okuri_deliveries gauge\n";
    s += fmt::format("okuri_deliveries{{status=\"pending\"}} {}\nokuri_deliveries{{status=\"sent\"}} {}\n", c.pending,
                     c.sent);
    s += fmt::format("okuri_deliveries{{status=\"failed\"}} {}\nokuri_deliveries{{status=\"uncertain\"}} {}\n",
                     c.failed, c.uncertain);
    s += fmt::format("okuri_deliveries{{status=\"profile\"}} {}\n", c.held);
    s += fmt::format("okuri_deliveries{{status=\"quota\"}} {}\n", c.quota_held);
    s += fmt::format("okuri_deliveries{{status=\"replying\"}} {}\n", c.in_flight);
    s += fmt::format("okuri_deliveries{{status=\"accepted\"}} {}\n", c.line_sending);
    s += fmt::format("okuri_deliveries{{status=\"via_line\"}} {}\n", c.via_line);
    s += fmt::format("okuri_deliveries{{status=\"unsent\"}} {}\n", c.unsent);
    s += "# HELP okuri_outbox_depth Deliveries waiting to be sent or in flight.\n# TYPE okuri_outbox_depth gauge\n";
    s += fmt::format("okuri_outbox_depth {}\n", c.pending + c.in_flight);
    s += "# HELP okuri_friends Friends with saved state.\n# TYPE okuri_friends gauge\n";
    s += fmt::format("okuri_friends {}\n", c.friends);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    s += "# HELP okuri_clicks_total Requests for tracked links: recorded, repeated (within 10 s), preview "
         "(link-preview fetchers, "
         "not counted), invalid (forged), unknown_link (removed), lost (could not be stored).\n# TYPE "
         "okuri_clicks_total counter\n";
    for (const char* what : {"recorded", "repeated", "preview", "invalid", "unknown_link", "lost"}) {
      auto it = clicks.find(what);
      s += fmt::format("okuri_clicks_total{{result=\"{}\"}} {}\n", what, it == clicks.end() ? 0 : it->second);
    }
  }
  if (g.profiles) {
    const auto& pc = *g.profiles;
    s += "# HELP okuri_profiles_total LINE profile requests, by result (not_found: not a friend, or blocked).\n"
         "# TYPE okuri_profiles_total counter\n";
    s += fmt::format(
        "okuri_profiles_total{{result=\"fetched\"}} {}\nokuri_profiles_total{{result=\"not_found\"}} {}\n"
        "okuri_profiles_total{{result=\"failed\"}} {}\n",
        pc.fetched, pc.not_found, pc.failed);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    s += "# HELP okuri_held_released_total Deliveries held for the friend's LINE profile, released: when it arrived "
         "(profile) or at the time limit (waited).\n# TYPE okuri_held_released_total counter\n";
    for (const char* why : {"profile", "waited"}) {
      auto it = released.find(why);
      s += fmt::format("okuri_held_released_total{{why=\"{}\"}} {}\n", why, it == released.end() ? 0 : it->second);
    }
  }
  s += "# HELP okuri_reloads_total Hot reloads of the project, by result (failed: errors in the project, or a store "
       "failure).\n"
       "# TYPE okuri_reloads_total counter\n";
  s += fmt::format("okuri_reloads_total{{result=\"ok\"}} {}\nokuri_reloads_total{{result=\"failed\"}} {}\n",
                   g.reloads_ok, g.reloads_failed);
  if (g.quota_used) {
    s += "# HELP okuri_quota_used Messages sent this month, as LINE last reported (GET "
         "/v2/bot/message/quota/consumption).\n"
         "# TYPE okuri_quota_used gauge\n";
    s += fmt::format("okuri_quota_used {}\n", *g.quota_used);
  }
  if (g.quota_limit) {
    s += "# HELP okuri_quota_limit The month's message limit LINE reports (GET /v2/bot/message/quota).\n# TYPE "
         "okuri_quota_limit gauge\n";
    s += fmt::format("okuri_quota_limit {}\n", *g.quota_limit);
  }
  s += "# HELP okuri_timer_backlog Pending waits.\n# TYPE okuri_timer_backlog gauge\n";
  s += fmt::format("okuri_timer_backlog {}\n", g.timer_backlog);
  if (g.partitions_held) {
    s += "# HELP okuri_partitions_held Partitions this worker holds under lease (of okuri_partitions)\n"
         "# TYPE okuri_partitions_held gauge\n";
    s += fmt::format("okuri_partitions_held {}\nokuri_partitions {}\n", *g.partitions_held, kPartitions);
    s += "# HELP okuri_inbox_applied_total Inbox events this worker applied (accepted by any worker)\n"
         "# TYPE okuri_inbox_applied_total counter\n";
    s += fmt::format("okuri_inbox_applied_total {}\n", applied.load());
  }
  s += request_latency.text("okuri_request_seconds", "Time from a request's arrival to its answer (after commit).");
  s += commit_latency.text("okuri_commit_seconds", "Time to run and commit one batch.");
  s += send_latency.text("okuri_line_request_seconds", "Time of one request to the Messaging API.");
  return s;
}

}  // namespace okuri::svc
