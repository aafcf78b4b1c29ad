// The service: HTTP (http_server.cpp), the writer thread (engine + group commit), and the parts
// it starts: the sender (outbox → LINE, sender.cpp) and the profile fetcher (profile_fetcher.cpp).
// This file: start and stop, the engine loaded from the store, metrics. Its rooms are listed in
// service_impl.hpp.
#include "service/pg_connection.hpp"
#include "service/service_impl.hpp"

namespace okuri::svc {

// 0-15,32,40-41: partitions as a person reads them.
std::string partition_ranges(const PartitionSet& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size();) {
    std::size_t j = i;
    while (j + 1 < parts.size() && parts[j + 1] == parts[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", parts[i]) : fmt::format("{}-{}", parts[i], parts[j]);
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

Service::Impl::Impl(std::shared_ptr<const Program> p, ServeOptions o) : prog(std::move(p)), opt(std::move(o)) {
  // What friends receive is rendered by the engine when a scenario sends it (the same renderer
  // as simulate --render), with declared links as tracked redirects when there is a public URL.
  opt.engine.render = true;
  if (!opt.public_url.empty()) {
    clicks = std::make_unique<ClickLinks>(opt.public_url, opt.link_key);
    opt.engine.links = clicks.get();
  }
  HttpServer::Options ho;
  ho.max_body = opt.max_body;
  ho.request_seconds = opt.http_request_seconds;
  ho.max_connections = opt.max_connections;
  http = std::make_unique<HttpServer>(ho, [this](const std::string& why) { metrics.reject(why); });
}

std::shared_ptr<const std::map<std::string, std::string>> Service::Impl::link_urls(const Program& p) {
  auto out = std::make_shared<std::map<std::string, std::string>>();
  for (const auto& sym : p.symbols) {
    if (sym.kind == SymbolKind::Link) (*out)[sym.name] = std::get<ast::LinkDecl>(sym.decl->v).url;
  }
  return out;
}

void Service::Impl::load_engine() {
  store->set_writing(writing);
  engine = std::make_unique<rt::Engine>(*prog, opt.engine);
  const std::int64_t clock = store->clock();
  const std::int64_t now = wall_ms() / 1000;
  if (clock > 0) {
    engine->resume_at(std::min(clock, now));  // what was due at the saved clock has run
  } else {
    engine->start_at(now);
  }
  for (const auto& f : store->load_friends()) engine->import_friend(engine->friend_row(f.id), f.state);
  shape = project_shape(*engine);
  engine->import_stats(store->load_stats(shape));
  engine->take_dirty();
  engine->take_deliveries();
  engine->take_fired_broadcasts();
  taken_early.clear();
  standby_keys.clear();
}

void Service::Impl::save_stats(bool own, bool force) {
  const auto t = std::chrono::steady_clock::now();
  if (!force && t - stats_saved < std::chrono::seconds(1)) return;
  std::string now = engine->export_stats();
  if (now == stats_last) return;
  stats_saved = t;
  if (!own) {
    store->save_stats(shape, now);
    stats_last = std::move(now);
    return;
  }
  try {
    store->begin();
    store->save_stats(shape, now);
    store->commit(engine->now());
    stats_last = std::move(now);
  } catch (const StoreError& e) {
    log(fmt::format("could not save the report's figures: {}", e.what()));
  }
}

std::string Service::Impl::metrics_text() {
  Gauges g;
  if (store->shared()) {
    std::lock_guard<std::mutex> lock(held_mu);
    g.partitions_held = held_shown.size();
  }
  try {
    g.store = store->counts();
  } catch (const std::exception&) {
  }
  if (profiles) {
    const auto pc = profiles->counts();
    g.profiles = {pc.fetched, pc.not_found, pc.failed};
  }
  g.reloads_ok = reloads_ok.load();
  g.reloads_failed = reloads_failed.load();
  g.timer_backlog = timer_backlog.load();
  if (const auto q = quota ? quota->latest() : std::nullopt) {
    g.quota_used = q->used;
    if (q->limited) g.quota_limit = q->limit;
  }
  return metrics.text(g);
}

SenderOptions Service::Impl::sender_options() const {
  SenderOptions so;
  so.line_api = opt.line_api;
  so.access_token = opt.access_token;
  so.notify_url = opt.notify_url;
  so.connections = opt.connections;
  so.request_timeout = opt.request_timeout;
  so.push_rate = opt.push_rate;
  so.reply_rate = opt.push_rate;
  so.multicast_rate = opt.multicast_rate;
  so.narrowcast_rate = opt.narrowcast_per_hour / 3600;
  so.broadcast_rate = opt.narrowcast_per_hour / 3600;
  so.progress_every = opt.progress_every;
  so.audience_rate = opt.audience_rate;
  so.progress_rate = opt.progress_rate;
  return so;
}

void Service::Impl::shut_down() {
  stop_watching();
  if (ingest) ingest->stop();  // what it accepted is in the inbox; the owners apply it
  if (keeper) keeper->stop();
  {
    std::lock_guard<std::mutex> lock(qmu);
    stopping = true;
  }
  qcv.notify_all();
  if (writer.joinable()) writer.join();
  if (profiles) profiles->stop();
  if (quota) quota->stop();
  if (sender) sender->stop();
}

void Service::Impl::warn_about_needs() {
  const ProjectNeeds n = needs_of(engine->plan());
  if (n.clicks && !clicks) {
    log("the project reads link clicks, but without --public-url (and OKURI_LINK_KEY) links go out as declared and "
        "LINE "
        "reports no clicks: clicks can only arrive through POST /events");
  }
  if (n.notify && opt.notify_url.empty() && prog->account.staff.empty()) {
    log("the project uses `notify`, but there is nowhere to send notifications: give --notify-url, or staff LINE "
        "user ids "
        "in the project (`account { staff \"U…\" }`); until then they are counted and dropped");
  }
}

Service::Service(std::shared_ptr<const Program> p, ServeOptions options) : impl_(std::make_unique<Impl>(std::move(p), std::move(options))) {}

Service::~Service() {
  stop();
  if (impl_->writer.joinable()) impl_->writer.join();
  if (impl_->watcher.joinable()) impl_->watcher.join();
}

bool Service::reload(const std::string& why) { return impl_->reload(why); }


void Service::run() {
  Impl& m = *impl_;
  const bool shared = !m.opt.store_url.empty();
  const std::string where = shared ? pg_url_shown(m.opt.store_url) : m.opt.db_path;
  if (shared) {
    m.store = open_postgres_store(m.opt.store_url, m.opt.postgres);
    m.writing.clear();  // the engine starts with no friends; the partitions held are taken up below
    m.log(fmt::format("worker {} on {}", m.store->worker(), where));
  } else {
    m.store = open_sqlite_store(m.opt.db_path);
  }
  m.catalog = std::make_shared<const rt::EventCatalog>(*m.prog);
  m.links_now = Impl::link_urls(*m.prog);
  m.message_files = m.prog->message_files;
  const std::string sources = sources_of(*m.prog);
  std::int64_t shape = 0;
  {
    rt::Engine probe(*m.prog, rt::EngineOptions{});
    shape = project_shape(probe);
  }
  const std::int64_t saved = m.store->project_shape();
  if (saved != 0 && saved != shape) {
    // The states on disk were written by another version: load them with that version, then
    // move them to this one as a hot reload would.
    const std::string old_sources = m.store->project_sources(saved);
    if (old_sources.empty()) {
      throw std::runtime_error(fmt::format(
          "{} was written by a different version of the project, and does not hold that version's sources (it predates "
          "them): serve the version that wrote it once, so that it records itself, then this one",
          where));
    }
    if (shared && m.store->held().size() < kPartitions) {
      throw std::runtime_error(fmt::format(
          "{} is served by other workers running another version of the project: stop every worker, then start them "
          "with this version (the first one moves every friend to it; docs/scale-out.md, \"New versions\")",
          where));
    }
    std::shared_ptr<const Program> old_p = program_from(old_sources);
    if (old_p->diags.error_count() > 0) {
      throw std::runtime_error(
          fmt::format("the version of the project that wrote {} no longer compiles, so its friends cannot be "
                      "moved to this one:\n{}",
                      where, error_text(*old_p)));
    }
    std::shared_ptr<const Program> new_p = m.prog;
    m.prog = old_p;
    m.load_engine();
    if (shared) m.rebalance();
    m.log(fmt::format("{} was written by another version of the project: moving its friends to this one", where));
    if (!m.switch_to(new_p, std::make_unique<rt::Engine>(*new_p, m.opt.engine), sources)) {
      throw std::runtime_error("could not move the friends to this version of the project");
    }
  } else {
    m.load_engine();
    if (shared) m.rebalance();
    if (m.store->project_sources(shape) != sources) {
      m.in_transaction([&] {
        m.store->set_project(shape, sources);
        return true;
      });
    }
  }
  m.running_sources = sources;
  m.warn_about_needs();
  if (shared) {
    // Replies left in flight were settled as their partitions were taken up (catch_up).
    m.log(fmt::format("{} friends of {} loaded ({} of {} partitions)", m.engine->store().size(), where,
                      m.writing.size(), kPartitions));
  } else {
    if (const auto n = m.store->settle_inflight(); n > 0) {
      m.log(fmt::format("{} repl{} in flight when the process stopped: marked uncertain, not sent again", n,
                        n == 1 ? "y was" : "ies were"));
    }
    m.log(fmt::format("{} friends loaded from {}", m.store->counts().friends, where));
  }
  if (m.opt.profiles) {
    m.profiles = std::make_unique<ProfileFetcher>(
        ProfileFetcher::Options{m.opt.line_api, m.opt.access_token, m.opt.profile_rate, m.opt.request_timeout, 3},
        [&m](ProfileAnswer a) { m.profile_arrived(std::move(a)); });
    // Deliveries still held when the process stopped: their profiles are asked for again.
    for (const auto& h : m.store->held_deliveries({}, std::numeric_limits<std::int64_t>::max()))
      m.profiles->want(h.friend_id);
  }
  m.writer = std::thread([&m] { m.writer_loop(); });
  m.sender =
      std::make_unique<Sender>(*m.store, m.sender_options(), m.metrics, [&m](const std::string& line) { m.log(line); });
  if (shared) m.share_rates();
  m.sender->start();
  if (shared) {
    m.ingest = std::make_unique<InboxIngest>(
        *m.store, m.metrics, Impl::kClickWindowSeconds, static_cast<std::size_t>(m.opt.max_batch),
        [&m] {
          {
            std::lock_guard<std::mutex> lock(m.qmu);
            m.inbox_nudged = true;
          }
          m.qcv.notify_one();
        },
        [&m](const std::string& line) { m.log(line); });
    m.keeper = std::make_unique<LeaseKeeper>(
        *m.store, m.opt.postgres.renew_ms, [&m] { m.leases_changed = true; },
        [&m](const std::string& line) { m.log(line); });
  }
  m.quota = std::make_unique<QuotaWatcher>(
      m.opt.line_api, m.opt.access_token, m.opt.request_timeout, m.opt.quota_interval,
      [&m](const Quota&) { m.quota_read(); }, [&m](const std::string& line) { m.log(line); });
  m.ready = true;
  if (m.opt.watch && !m.opt.project_path.empty()) m.watcher = std::thread([&m] { m.watch_loop(); });
  m.routes();
  int port = m.opt.port;
  if (port == 0) {
    port = m.http->bind(m.opt.host, 0);
  } else if (m.http->bind(m.opt.host, port) < 0) {
    port = -1;
  }
  if (port <= 0) {
    m.shut_down();
    throw std::runtime_error(fmt::format("cannot listen on {}:{}", m.opt.host, m.opt.port));
  }
  m.bound_port = port;
  m.log(fmt::format("listening on http://{}:{} (webhook: POST /webhook; events: POST /events; /healthz, /metrics)", m.opt.host, port));
  m.http->run();
  m.shut_down();
  m.log("stopped; everything accepted is committed");
}

void Service::stop() { impl_->http->stop(); }

int Service::port() const { return impl_->bound_port; }

}  // namespace okuri::svc
