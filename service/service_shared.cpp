// The writer on a shared store (several workers): the inbox of the partitions held, applied in
// order; the partitions followed as leases move, those taken from another worker caught up alone.
#include "service/service_impl.hpp"

namespace okuri::svc {

void Service::Impl::shared_turn(std::vector<std::shared_ptr<Job>>& jobs) {
  // The keeper's signal alone can be missed: after a lost lease the writer renews the leases
  // itself, and the keeper compares what it takes later with what it saw last, not with what
  // the engine holds. Partitions held and not taken up would then wait, their events with them.
  if (leases_changed.exchange(false) || engine_stale || store->held() != writing) {
    try {
      rebalance();
    } catch (const std::exception& e) {
      if (!engine_stale) log(fmt::format("taking up the partitions held: {}; trying again", e.what()));
      engine_stale = true;
    }
  }
  if (engine_stale) {
    for (auto& job : jobs) job->done.set_value(503);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return;
  }
  const auto t = std::chrono::steady_clock::now();
  bool waiting = !jobs.empty() || t - last_turn >= std::chrono::milliseconds(500);
  if (!waiting) {
    try {
      waiting = store->inbox_waiting();
    } catch (const StoreError&) {
      waiting = true;  // the batch meets the same failure and says so
    }
  }
  if (!waiting) return;
  last_turn = t;
  int status = 200;
  try {
    bool more = true;
    while (more) more = inbox_batch(jobs.empty() ? nullptr : &jobs) && jobs.empty();
  } catch (const LeaseLost& e) {
    log(fmt::format("{}: those friends are the new owner's now; this worker goes on with the partitions it keeps",
                    e.what()));
    try {
      store->renew_leases();
    } catch (const std::exception&) {
    }
    engine_stale = true;
    status = 503;
  } catch (const StoreError& e) {
    // Nothing of the batch was kept: the inbox still holds its events, and the engine is rebuilt.
    log(fmt::format("could not commit a batch of the inbox: {}; the events stay in the inbox", e.what()));
    engine_stale = true;
    status = 503;
  }
  for (auto& job : jobs) job->done.set_value(status);
  timer_backlog = engine ? engine->timers_pending() : 0;
  if (sender) sender->wake();
}

bool Service::Impl::inbox_batch(std::vector<std::shared_ptr<Job>>* jobs, std::optional<std::int64_t> until_s) {
  const std::size_t limit = static_cast<std::size_t>(opt.max_batch) * 8;
  std::size_t taken = 0;
  const auto t0 = std::chrono::steady_clock::now();
  in_transaction([&] {
    const std::int64_t now_ms = until_s ? *until_s * 1000 : wall_ms();
    const auto events = store->take_inbox(limit);
    taken = events.size();
    for (const auto& bytes : events) {
      rt::InputEvent ev;
      try {
        ev = decode_inbox_event(bytes);
      } catch (const std::exception& e) {
        // Bytes this okuri cannot read (written by a newer one?): kept out of the engine, said once each.
        log(fmt::format("an inbox event could not be read ({}); it is skipped", e.what()));
        metrics.reject("inbox_unreadable");
        continue;
      }
      apply_event(ev, now_ms);
    }
    if (jobs != nullptr) {
      for (auto& job : *jobs) {
        if (job->apply) job->apply();
      }
    }
    engine->run_until(now_ms / 1000);
    const bool released = release_held(now_ms / 1000 - opt.profile_wait, {}) > 0;
    return write_outputs(now_ms / 1000) || released || taken > 0 || jobs != nullptr;
  });
  if (taken > 0) {
    metrics.commit_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    metrics.applied += taken;
  }
  return taken == limit;
}

void Service::Impl::rebalance() {
  const PartitionSet now = store->held();
  PartitionSet gained, lost;
  std::set_difference(now.begin(), now.end(), writing.begin(), writing.end(), std::back_inserter(gained));
  std::set_difference(writing.begin(), writing.end(), now.begin(), now.end(), std::back_inserter(lost));
  if (gained.empty() && lost.empty() && !engine_stale && engine) return;
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t until = engine && engine->now() > 0 ? engine->now() : wall_ms() / 1000;
  if (!gained.empty()) catch_up(gained, until);
  writing = now;
  load_engine();
  engine_stale = false;
  {
    std::lock_guard<std::mutex> lock(held_mu);
    held_shown = writing;
  }
  share_rates();
  log(fmt::format("holding {} of {} partitions ({} taken up, {} given back or lost; {:.0f} ms): {} friends",
                  writing.size(), kPartitions, gained.size(), lost.size(),
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                  engine->store().size()));
}

void Service::Impl::catch_up(const PartitionSet& gained, std::int64_t until) {
  std::map<std::int64_t, PartitionSet> by_clock;
  for (const auto p : gained) {
    store->set_writing({p});
    by_clock[store->clock()].push_back(p);
  }
  auto main = std::move(engine);
  const PartitionSet main_writing = writing;
  try {
    for (const auto& [clock, parts] : by_clock) {
      writing = parts;
      load_engine();
      if (const auto n = store->settle_inflight(); n > 0) {
        log(fmt::format(
            "{} repl{} left in flight by the worker that held these friends: marked uncertain, not sent again", n,
            n == 1 ? "y" : "ies"));
      }
      if (clock == 0) continue;  // never written: nothing to catch up
      while (inbox_batch(nullptr, until)) {
      }
      if (engine->now() < until) {
        in_transaction([&] {
          engine->run_until(until);
          write_outputs(until);
          return true;
        });
      }
    }
  } catch (...) {
    engine = std::move(main);
    writing = main_writing;
    store->set_writing(writing);
    throw;
  }
  engine = std::move(main);
  writing = main_writing;
}

}  // namespace okuri::svc
