// The writer: each batch of events (and the timers due) through the engine, and what it made
// into the outbox in the same transaction — deliveries, multicasts, broadcasts LINE sends, staff
// notifications, rich menu links; held deliveries released; broadcasts held for the quota.
#include "service/service_impl.hpp"

namespace okuri::svc {

bool Service::Impl::write_outputs(std::int64_t created) {
  const auto dirty = engine->take_dirty();
  auto deliveries = std::move(taken_early);
  taken_early.clear();
  for (auto& d : engine->take_deliveries()) deliveries.push_back(std::move(d));
  const auto menus = engine->take_menu_links();
  const auto notes = engine->take_notifications();
  for (const auto row : dirty) store->save_friend(engine->store().id_of(row), engine->export_friend(row));
  std::vector<OutboxRow> broadcast_pushes;  // merged into multicasts where their messages are the same
  LineWideBatch line_wide(
      *engine, zone(), opt.quota_up_to_remaining, [this](const std::string& l) { log(l); },
      line_wide_said,  // broadcasts LINE sends itself
      store->shared() && writing.size() < kPartitions ? partition_ranges(writing) : "");
  for (const auto& d : deliveries) {
    if (d.skipped) continue;
    OutboxRow r;
    r.key = d.key;
    r.friend_id = engine->store().id_of(d.row);
    r.due = d.time;
    r.reply = d.reply && !d.reply_token.empty();
    r.reply_token = d.reply_token;
    r.messages = d.rendered;  // rendered by the engine when the scenario sent it
    if (standby_keys.erase(d.key) > 0) {
      // LINE's rule for a channel on standby (another channel is active in a module): it must not
      // answer. The friend's state moved, and the delivery is kept as a record, not sent.
      r.status = "standby";
      ++metrics.standby_unsent;
    }
    r.scenario = d.flow < 0 ? "" : engine->flow(static_cast<std::size_t>(d.flow)).name;
    if (opt.aggregation_units && !r.scenario.empty())
      r.unit = aggregation_unit(r.scenario);  // LINE's statistics per scenario
    r.node = d.node;
    r.created = created;
    // The project's message names: a held delivery is rendered again from them, and `okuri
    // report` counts deliveries per message by them.
    json names = json::array();
    for (auto m : d.messages) names.push_back(engine->schema().messages[m]);
    r.message_names = names.dump();
    if (profiles && engine->renderer().reads_profile(d.messages)) {
      // It reads the LINE profile: fetch it when it was never fetched or is old; a delivery that
      // would show a fallback instead waits for it (at most --profile-wait), then is rendered again.
      const auto fetched = store->profile_fetched(r.friend_id);
      if (!fetched || *fetched < created - opt.profile_max_age) profiles->want(r.friend_id);
      if (d.needs_profile && !fetched && is_line_user_id(r.friend_id) && r.status == "pending") {
        r.status = "profile";
      }
    }
    const plan::Flow* flow = d.flow < 0 ? nullptr : &engine->plan().flows[static_cast<std::size_t>(d.flow)];
    if (flow != nullptr && flow->broadcast && r.status == "pending" && line_wide.takes(d.flow, *flow)) {
      // LINE sends it (one request, below): this friend's part is recorded, not sent alone.
      line_wide.add_part(d.flow, std::move(r));
      continue;
    }
    if (flow != nullptr && flow->broadcast && !r.reply && r.status == "pending") {
      broadcast_pushes.push_back(std::move(r));
    } else {
      store->add_delivery(r);
    }
  }
  // What this month's quota has left, read once for the batch when a broadcast needs it; each
  // broadcast of the batch takes its part (the rows are not committed, so the store cannot count them).
  std::optional<std::optional<std::int64_t>> quota_left;
  const auto fired = engine->take_fired_broadcasts();
  auto left = [&]() -> std::optional<std::int64_t>& {
    if (!quota_left) {
      // A broadcast goes out in this batch: the figures of the moment, not of the last periodic
      // read (a short wait: without an answer the last figures stand, and the writer goes on).
      // Later steps of a broadcast, as their timers fire, weigh on the figures already read.
      if (quota && !fired.empty()) quota->read_now(kQuotaReadSeconds);
      quota_left = quota_remaining();
    }
    return *quota_left;
  };
  auto grouped = group_into_multicasts(std::move(broadcast_pushes));
  if (!grouped.empty()) hold_over_quota(grouped, left());
  for (const auto& r : grouped) store->add_delivery(r);
  for (const auto& r : line_wide.rows(fired, created, left, quota ? quota->followers() : std::nullopt))
    store->add_delivery(r);
  for (const auto& n : notes) {
    // A staff notification: the sender posts it to --notify-url and pushes it to the staff.
    OutboxRow r;
    r.kind = "notify";
    r.key = n.key;
    r.friend_id = engine->store().id_of(n.row);
    r.due = n.time;
    r.scenario = n.flow < 0 ? "" : engine->flow(static_cast<std::size_t>(n.flow)).name;
    const auto name = engine->store().display_name[n.row];
    r.messages = json{{"text", n.text},
                      {"friend", r.friend_id},
                      {"display_name", name < 0 ? json(nullptr) : json(std::string(engine->store().texts.get(name)))},
                      {"scenario", r.scenario.empty() ? json(nullptr) : json(r.scenario)},
                      {"node", n.node},
                      {"time", rt::format_time(n.time, zone())}}
                     .dump();
    r.node = n.node;
    r.created = created;
    if (!opt.notify_url.empty()) store->add_delivery(r);
    // To each staff member of the project: a push of the text, like any push (retry key, retries).
    const std::string who = name < 0 ? r.friend_id : std::string(engine->store().texts.get(name));
    for (std::size_t k = 0; k < prog->account.staff.size(); ++k) {
      OutboxRow push = r;
      push.kind = "message";
      push.key = rt::delivery_key(n.key, "staff", static_cast<std::uint32_t>(k), prog->account.staff[k], 0);
      push.friend_id = prog->account.staff[k];
      push.messages = json::array({{{"type", "text"}, {"text", fmt::format("{}\n({})", n.text, who)}}}).dump();
      store->add_delivery(push);
    }
  }
  for (const auto& ml : menus) {
    OutboxRow r;
    r.kind = "menu";
    r.key = ml.key;
    r.friend_id = engine->store().id_of(ml.row);
    r.due = ml.time;
    r.messages = ml.richmenu;
    r.created = created;
    store->add_delivery(r);
  }
  return !dirty.empty() || !deliveries.empty() || !menus.empty() || !notes.empty();
}

void Service::Impl::apply_event(rt::InputEvent& ev, std::int64_t now_ms) {
  ev.time_ms = std::min(ev.time_ms, now_ms);  // a clock ahead of ours does not move time forward
  if (ev.standby) {
    for (auto& d : engine->take_deliveries()) taken_early.push_back(std::move(d));
    engine->handle(ev);
    for (auto& d : engine->take_deliveries()) {
      standby_keys.insert(d.key);
      taken_early.push_back(std::move(d));
    }
  } else {
    engine->handle(ev);
  }
  if (profiles && ev.type == "friend_added") profiles->want(ev.friend_id);  // a new (or returning) friend
}

void Service::Impl::batch(std::vector<std::shared_ptr<Job>>& jobs) {
  const auto t0 = std::chrono::steady_clock::now();
  int status = 200;
  bool wrote = true;
  // Counted into the metrics once the batch is committed: a batch rolled back (a full disk)
  // accepted nothing.
  std::uint64_t accepted = 0, duplicates = 0, clicks_recorded = 0, clicks_repeated = 0;
  try {
    in_transaction([&] {
      const std::int64_t now_ms = wall_ms();
      for (auto& job : jobs) {
        for (auto& ev : job->events) {
          if (ev.webhook_event_id.rfind("click:", 0) == 0) {
            if (!store->claim_click(ev.webhook_event_id, now_ms / 1000, kClickWindowSeconds)) {
              ++clicks_repeated;  // the same link tapped again within the window
              continue;
            }
            ++clicks_recorded;
          } else if (!ev.webhook_event_id.empty() && !store->claim_event(ev.webhook_event_id)) {
            ++duplicates;
            continue;
          }
          apply_event(ev, now_ms);
          ++accepted;
        }
        if (job->apply) job->apply();
      }
      engine->run_until(now_ms / 1000);
      const bool released = release_held(now_ms / 1000 - opt.profile_wait, {}) > 0;
      wrote = write_outputs(now_ms / 1000) || released || !jobs.empty();
      return wrote;
    });
    metrics.accepted += accepted;
    metrics.duplicates += duplicates;
    for (std::uint64_t k = 0; k < clicks_recorded; ++k) metrics.click("recorded");
    for (std::uint64_t k = 0; k < clicks_repeated; ++k) metrics.click("repeated");
    if (!wrote) return;  // a quiet moment: nothing was written
  } catch (const StoreError& e) {
    // Nothing of this batch is on disk: the engine goes back to what is, and the senders retry.
    log(fmt::format("could not commit {} request(s): {}; answering 503", jobs.size(), e.what()));
    metrics.reject("storage");
    status = 503;
    try {
      load_engine();
    } catch (const std::exception& again) {
      log(fmt::format("reloading the state failed too: {}", again.what()));
    }
  }
  metrics.commit_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  timer_backlog = engine ? engine->timers_pending() : 0;
  for (auto& job : jobs) job->done.set_value(status);
  if (sender) sender->wake();
}

void Service::Impl::writer_loop() {
  while (true) {
    std::vector<std::shared_ptr<Job>> jobs;
    std::vector<std::function<void()>> todo;
    bool stop_now = false;
    {
      std::unique_lock<std::mutex> lock(qmu);
      // A shared store's inbox is filled by every worker: it is looked at every few milliseconds.
      qcv.wait_for(lock, std::chrono::milliseconds(store->shared() ? kInboxPollMs : 500),
                   [&] { return !queue.empty() || !reads.empty() || stopping || inbox_nudged; });
      inbox_nudged = false;
      todo.swap(reads);
      while (!queue.empty() && jobs.size() < static_cast<std::size_t>(opt.max_batch)) {
        jobs.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      stop_now = stopping && queue.empty();
    }
    for (auto& r : todo) r();  // reads and reloads, outside the queue's lock
    if (store->shared()) {
      shared_turn(jobs);
    } else {
      batch(jobs);  // also the timers due by now, when there are no requests
    }
    save_stats(/*own=*/true, /*force=*/stop_now);
    if (stop_now) return;
  }
}

int Service::Impl::submit(std::vector<rt::InputEvent> events) {
  if (ingest) return ingest->submit(std::move(events));
  auto job = std::make_shared<Job>();
  job->events = std::move(events);
  auto f = job->done.get_future();
  {
    std::lock_guard<std::mutex> lock(qmu);
    if (stopping) return 503;
    queue.push_back(job);
  }
  qcv.notify_one();
  return f.get();
}

std::optional<std::int64_t> Service::Impl::quota_remaining() {
  const auto q = quota ? quota->latest() : std::nullopt;
  if (!q || !q->limited) return std::nullopt;
  const auto since = static_cast<std::int64_t>(metrics.messages_sent.load() - sent_at_quota.load());
  return q->remaining() - since - store->counts().pending_messages;
}

void Service::Impl::hold_over_quota(std::vector<OutboxRow>& rows, std::optional<std::int64_t>& remaining) {
  if (rows.empty() || !remaining) return;
  std::map<std::string, std::int64_t> needs;
  for (const auto& r : rows) needs[r.scenario] += recipients_of(r);
  std::vector<OutboxRow> beyond;  // --when-quota-short up-to-remaining: the recipients the quota does not cover
  for (const auto& [name, n] : needs) {
    if (n <= *remaining) {
      *remaining -= n;
      continue;
    }
    const std::int64_t left = std::max<std::int64_t>(0, *remaining);
    if (opt.quota_up_to_remaining) {
      cut_to_quota(rows, name, left, beyond);
      *remaining = 0;
      log(
          fmt::format("broadcast `{}` needs {} messages and {} remain of this month's quota: it goes to the first {} "
                      "friends, and not to the other {} (--when-quota-short up-to-remaining)",
                      name, n, left, left, n - left));
      continue;
    }
    const std::string why = fmt::format("held: needs {} messages, {} remain this month", n, left);
    for (auto& r : rows) {
      if (r.scenario != name) continue;
      r.status = "quota";
      r.error = why;
    }
    log(
        fmt::format("broadcast `{}` is held, not sent: it needs {} messages and {} remain of this month's quota "
                    "(okuri_quota_limit, okuri_quota_used in /metrics); it goes out whole when the quota allows it",
                    name, n, left));
  }
  for (auto& r : beyond) rows.push_back(std::move(r));
}

void Service::Impl::cut_to_quota(std::vector<OutboxRow>& rows, const std::string& name, std::int64_t left,
                                 std::vector<OutboxRow>& beyond) {
  const std::string why = "not sent: beyond this month's quota (--when-quota-short up-to-remaining)";
  for (auto& r : rows) {
    if (r.scenario != name) continue;
    const std::int64_t n = recipients_of(r);
    if (n <= left) {
      left -= n;
      continue;
    }
    if (left > 0 && r.kind == "multicast") {
      auto ids = json::parse(r.recipients).get<std::vector<std::string>>();
      OutboxRow tail = r;
      tail.key = rt::delivery_key(r.key, "beyond the quota", 0, "", 0);
      tail.friend_id = ids[static_cast<std::size_t>(left)];
      tail.recipients = json(std::vector<std::string>(ids.begin() + left, ids.end())).dump();
      tail.status = "unsent";
      tail.error = why;
      beyond.push_back(std::move(tail));
      r.recipients = json(std::vector<std::string>(ids.begin(), ids.begin() + left)).dump();
      left = 0;
      continue;
    }
    r.status = "unsent";
    r.error = why;
    left = 0;
  }
}

void Service::Impl::quota_read() {
  sent_at_quota = metrics.messages_sent.load();
  auto job = std::make_shared<Job>();
  job->apply = [this] {
    const auto held = store->quota_held();
    if (held.empty()) return;
    auto remaining = quota_remaining();
    for (const auto& [name, n] : held) {
      if (remaining && n > *remaining) continue;
      store->release_quota_held(name);
      if (remaining) *remaining -= n;
      log(fmt::format("broadcast `{}` was held for the quota and goes out now ({} messages)", name, n));
    }
  };
  std::lock_guard<std::mutex> lock(qmu);
  if (stopping) return;
  queue.push_back(std::move(job));
  qcv.notify_one();
}

std::size_t Service::Impl::release_held(std::int64_t created_before, const std::string& friend_id) {
  auto held = store->held_deliveries(friend_id, created_before);
  // On a shared store, each worker releases the deliveries of the friends it holds.
  held.erase(std::remove_if(held.begin(), held.end(), [&](const OutboxRow& h) { return !writes(h.friend_id); }),
             held.end());
  for (const auto& h : held) {
    std::string rendered = h.messages;
    if (auto row = engine->store().find(h.friend_id)) {
      std::vector<plan::MessageId> ids;
      const auto names = json::parse(h.message_names, nullptr, false);
      const auto& all = engine->schema().messages;
      for (const auto& n : names.is_array() ? names : json::array()) {
        auto it = std::find(all.begin(), all.end(), n.is_string() ? n.get<std::string>() : std::string());
        if (it != all.end()) ids.push_back(static_cast<plan::MessageId>(it - all.begin()));
      }
      if (!ids.empty() && ids.size() == names.size()) rendered = engine->render(ids, *row);
    }
    store->release_delivery(h.id, rendered);
    metrics.held_released(friend_id.empty() ? "waited" : "profile");
  }
  return held.size();
}

void Service::Impl::profile_arrived(ProfileAnswer a) {
  if (!a.answered) return;  // held deliveries go out at their time limit, with the fallbacks
  auto job = std::make_shared<Job>();
  job->apply = [this, a = std::move(a)] {
    if (!writes(a.friend_id)) {
      // The friend's partition moved to another worker meanwhile: the profile is kept for it.
      store->save_profile(Profile{a.friend_id, a.display_name, a.language, wall_ms() / 1000, a.found});
      return;
    }
    const std::uint32_t row = engine->friend_row(a.friend_id);
    if (a.found) engine->set_profile(row, a.display_name, a.language);
    store->save_profile(Profile{a.friend_id, a.display_name, a.language, wall_ms() / 1000, a.found});
    release_held(std::numeric_limits<std::int64_t>::max(), a.friend_id);
  };
  auto f = job->done.get_future();
  {
    std::lock_guard<std::mutex> lock(qmu);
    if (stopping) return;
    queue.push_back(job);
  }
  qcv.notify_one();
  f.wait();
}

}  // namespace okuri::svc
