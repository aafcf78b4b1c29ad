// Hot reload: a new version compiled off the writer, every friend moved to it between two
// batches; the watcher that notices edited sources and JSON message files.
#include "service/service_impl.hpp"

namespace okuri::svc {

bool Service::Impl::switch_to(std::shared_ptr<const Program> np, std::unique_ptr<rt::Engine> ne,
                              const std::string& sources) {
  const auto t0 = std::chrono::steady_clock::now();
  ne->resume_at(engine->now());
  const auto sum = ne->take_over(*engine);
  std::swap(engine, ne);
  std::swap(prog, np);
  const std::int64_t old_shape = shape;
  try {
    in_transaction([&] {
      write_outputs(wall_ms() / 1000);
      shape = project_shape(*engine);
      store->set_project(shape, sources);
      return true;
    });
  } catch (const StoreError& e) {
    std::swap(engine, ne);
    std::swap(prog, np);
    shape = old_shape;
    log(fmt::format("could not switch to the new version: {}; the running version goes on", e.what()));
    return false;
  }
  ne.reset();  // the old engine first: it refers to its program
  np.reset();
  {
    std::lock_guard<std::mutex> lock(cmu);
    catalog = std::make_shared<const rt::EventCatalog>(*prog);
    links_now = link_urls(*prog);
  }
  timer_backlog = engine->timers_pending();
  warn_about_needs();
  log(
      fmt::format("now running the new version ({:.0f} ms): {} friend{}; {} waiting at the same step, {} moved on, {} "
                  "restarted, {} left a scenario",
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(), sum.friends,
                  sum.friends == 1 ? "" : "s", sum.waiting, sum.moved, sum.restarted, sum.exited));
  return true;
}

bool Service::Impl::reload(const std::string& why) {
  std::lock_guard<std::mutex> guard(reload_mu);
  if (!ready || opt.project_path.empty()) return false;
  log(fmt::format("{}: recompiling {}", why, opt.project_path));
  std::shared_ptr<const Program> np;
  try {
    np = compile_path(opt.project_path);
  } catch (const std::exception& e) {
    ++reloads_failed;
    log(fmt::format("cannot read the project: {}; the running version goes on", e.what()));
    return false;
  }
  {
    // Watched from now on, even when this version is refused: fixing the file reloads it.
    std::lock_guard<std::mutex> lock(cmu);
    message_files = np->message_files;
  }
  if (np->diags.error_count() > 0) {
    ++reloads_failed;
    std::string text = error_text(*np);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    log(fmt::format("the project has errors; the running version goes on:\n{}", text));
    return false;
  }
  const std::string sources = sources_of(*np);
  if (sources == running_sources) {
    log("no change in the project's sources");
    return true;
  }
  auto ne = std::make_unique<rt::Engine>(*np, opt.engine);  // compiled here, not on the writer
  std::promise<bool> done;
  auto f = done.get_future();
  {
    std::lock_guard<std::mutex> lock(qmu);
    if (stopping) return false;
    reads.push_back([&] {
      if (store->shared() && writing.size() < kPartitions) {
        // Other workers hold friends too, and they run the old version: one version at a time.
        log(
            fmt::format("this worker holds {} of {} partitions: a new version is taken up by restarting every worker "
                        "with it (docs/scale-out.md, \"New versions\"); the running version goes on",
                        writing.size(), kPartitions));
        done.set_value(false);
        return;
      }
      done.set_value(switch_to(np, std::move(ne), sources));
    });
  }
  qcv.notify_one();
  const bool ok = f.get();
  if (ok) {
    running_sources = sources;
    ++reloads_ok;
  } else {
    ++reloads_failed;
  }
  return ok;
}

void Service::Impl::stop_watching() {
  {
    std::lock_guard<std::mutex> lock(wmu);
    watch_stop = true;
  }
  wcv.notify_all();
  if (watcher.joinable()) watcher.join();
}

void Service::Impl::watch_loop() {
  std::string loaded = fingerprint(opt.project_path, watched_messages()), seen = loaded;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(wmu);
      if (wcv.wait_for(lock, std::chrono::milliseconds(opt.watch_interval_ms), [&] { return watch_stop; })) return;
    }
    const std::string now = fingerprint(opt.project_path, watched_messages());
    if (now != seen) {  // changing: wait until it has stayed the same for one interval (an editor still saving)
      seen = now;
      continue;
    }
    if (now != loaded) {
      loaded = now;
      reload("a file of the project changed");
    }
  }
}

}  // namespace okuri::svc
