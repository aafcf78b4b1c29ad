// `okuri serve`: the service for a real LINE channel.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "compiler/literals.hpp"
#include "runtime/jit_module.hpp"
#include "service/service.hpp"

namespace okuri::cli {

void add_serve_command(CLI::App& app, int& status) {
  struct Options {
    std::string path;
    std::string db = "okuri.db";
    std::string listen = "127.0.0.1:8080";
    std::string line_api = "https://api.line.me";
    double rate = 2000;
    double multicast_rate = 200;
    double narrowcast_rate = 60;
    double audience_rate = 1;
    double progress_rate = 10;
    int progress_every = 5;
    int quota_every = 60;
    std::string when_quota_short = "hold";
    int connections = 128;
    bool aggregation_units = false;
    int timeout = 15;
    std::size_t max_body = 1 << 20;
    bool quiet = false;
    bool no_watch = false;
    std::string public_url;
    std::string notify_url;
    bool no_profiles = false;
    int profile_wait = 3;
    double profile_rate = 2000;
    std::string profile_max_age = "7d";
    std::string store;
    std::string lease = "10s";
    std::string renew = "2s";
    std::size_t max_connections = 4096;
    std::string request_deadline = "10s";
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("serve", "Run an account: LINE webhooks, custom events, timers, and a sender to the Messaging API.");
  cmd->footer(
      "Every friend's state, the outbox of deliveries and the processed webhook event ids live in one SQLite\n"
      "database (WAL, synchronous=FULL). A request is answered 200 only after its events are committed.\n"
      "Endpoints: POST /webhook (LINE; X-Line-Signature checked before parsing), POST /events (JSON lines as in\n"
      "runtime.md; Authorization: Bearer $OKURI_EVENTS_TOKEN), GET /healthz, GET /metrics (Prometheus).\n"
      "Secrets come from the environment and are never logged: LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN,\n"
      "OKURI_EVENTS_TOKEN, OKURI_LINK_KEY. SIGTERM or SIGINT stops it after committing what was accepted.\n"
      "Texts are rendered as `okuri simulate --render` shows them; {display_name} waits (--profile-wait) for the\n"
      "friend's LINE profile, fetched on follow. With --public-url every declared link goes out as a redirect\n"
      "https://HOST/l/TOKEN that records the click (GET /l/TOKEN answers 302). `notify` reaches --notify-url and\n"
      "the project's `account { staff \"U…\" }`.\n"
      "Hot reload: when a .okuri file of the project changes (or on SIGHUP) the project is recompiled; friends\n"
      "mid-way follow each scenario's `on_update` (see `okuri diff`). A version with errors is not loaded: the\n"
      "running one goes on and the diagnostics are logged. See docs/serve.md.\n"
      "Several workers: with --store postgresql://… any number of `okuri serve` processes share one PostgreSQL\n"
      "database. Any of them accepts webhooks (into a durable inbox, before the 200); friends are hashed into 64\n"
      "partitions, each leased to one worker, which applies its friends' events in order. A worker that stops is\n"
      "replaced within --lease. See docs/scale-out.md.");
  cmd->add_option("path", o->path, "Project folder or .okuri file")->required();
  cmd->add_option("--db", o->db, "The database file (created when missing; default okuri.db)");
  cmd->add_option("--store", o->store,
                  "A shared store instead of --db: postgresql://user@host:port/db (several workers on one account; "
                  "the schema is created or migrated at start)");
  cmd->add_option("--lease", o->lease,
                  "With --store: how long a worker's partitions stay its own without renewal; a stopped worker's "
                  "friends move to the others after this (default 10s)");
  cmd->add_option("--renew-interval", o->renew, "With --store: how often a worker renews its leases (default 2s)");
  cmd->add_option("--listen", o->listen, "host:port to listen on (default 127.0.0.1:8080; port 0 picks a free one)");
  cmd->add_option("--line-api", o->line_api, "The Messaging API base URL (default https://api.line.me)");
  cmd->add_option("--rate", o->rate, "Push and reply requests per second at most (default 2000, LINE's limit)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--multicast-rate", o->multicast_rate,
                  "Multicast requests per second at most (default 200, LINE's limit)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--narrowcast-rate", o->narrowcast_rate,
                  "Narrowcast requests an hour at most, and as many broadcast requests (default 60, LINE's limit)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--audience-rate", o->audience_rate,
                  "Audience uploads per second at most (a narrowcast's friends, 10,000 ids a request; default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--progress-rate", o->progress_rate,
                  "Reads of narrowcast progress and audience status per second at most (default 10)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--quota-every", o->quota_every,
                  "Seconds between reads of the month's quota from LINE (default 60); it is read again before each "
                  "broadcast goes out")
      ->check(CLI::Range(5, 86400));
  cmd->add_option("--progress-every", o->progress_every,
                  "Seconds between reads of a narrowcast's progress until LINE has sent it (default 5)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option(
         "--when-quota-short", o->when_quota_short,
         "A broadcast that needs more messages than this month's quota has left: `hold` it whole until the quota "
         "allows (default), or send `up-to-remaining` (to as many friends as the quota covers; LINE picks them for a "
         "narrowcast)")
      ->check(CLI::IsMember({"hold", "up-to-remaining"}));
  cmd->add_flag(
      "--aggregation-units", o->aggregation_units,
      "Name each push's scenario or broadcast in LINE's customAggregationUnits, for LINE's per-unit statistics "
      "(only for accounts LINE approved for it)");
  cmd->add_option(
         "--connections", o->connections,
         "Requests to the Messaging API in flight at once (default 128: at 50 ms an answer, enough for 2,000 a second)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--line-timeout", o->timeout, "Seconds to wait for the Messaging API's answer before retrying (default 15)");
  cmd->add_option("--max-body", o->max_body, "Largest request body accepted, in bytes (default 1 MiB)");
  cmd->add_option("--max-connections", o->max_connections,
                  "Open HTTP connections at most; more are closed as they arrive (default 4096)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  cmd->add_option("--request-deadline", o->request_deadline,
                  "A request's header and body must arrive within this, or the connection is closed (default 10s)");
  cmd->add_flag("--quiet", o->quiet, "No log lines on stderr");
  cmd->add_flag("--no-watch", o->no_watch, "Do not reload when a file of the project changes (SIGHUP still reloads)");
  cmd->add_option(
      "--public-url", o->public_url,
      "Where this service is reachable from the internet (https://example.com): declared links go out as tracked "
      "redirects under it (needs OKURI_LINK_KEY)");
  cmd->add_option("--notify-url", o->notify_url, "POST staff notifications (`notify`) as JSON to this URL");
  cmd->add_flag("--no-profiles", o->no_profiles, "Do not fetch LINE profiles ({display_name} shows its fallback)");
  cmd->add_option(
      "--profile-wait", o->profile_wait,
      "Seconds a delivery that reads the LINE profile waits for it before it goes out with the fallback (default 3)");
  cmd->add_option("--profile-rate", o->profile_rate,
                  "LINE profile requests per second at most (default 2000, LINE's limit)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--profile-max-age", o->profile_max_age,
                  "Fetch a friend's profile again when it is older than this (default 7d)");
  cmd->callback([o, &status] {
    auto p = compile_for_command(o->path, "serve", status);
    if (!p) return;
    svc::ServeOptions so;
    so.db_path = o->db;
    if (!o->store.empty()) {
      if (!svc::is_postgres_url(o->store)) {
        std::cerr << "okuri serve: --store wants a PostgreSQL URL (postgresql://user@host:port/db), not `" << o->store
                  << "`; the SQLite file is --db\n";
        status = 2;
        return;
      }
      const auto lease = parse_duration(o->lease);
      const auto renew = parse_duration(o->renew);
      if (!lease || *lease < 1 || !renew || *renew < 1 || *renew * 2 > *lease) {
        std::cerr << "okuri serve: --lease (" << o->lease << ") and --renew-interval (" << o->renew
                  << ") want durations of at least 1s, with the lease at least twice the interval (10s and 2s)\n";
        status = 2;
        return;
      }
      so.store_url = o->store;
      so.postgres.lease_seconds = static_cast<int>(*lease);
      so.postgres.renew_ms = static_cast<int>(*renew * 1000);
    }
    so.project_path = o->path;
    so.watch = !o->no_watch;
    const auto colon = o->listen.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "okuri serve: --listen wants host:port, not `" << o->listen << "`\n";
      status = 2;
      return;
    }
    so.host = o->listen.substr(0, colon);
    so.port = std::atoi(o->listen.c_str() + colon + 1);
    so.line_api = o->line_api;
    so.push_rate = o->rate;
    so.multicast_rate = o->multicast_rate;
    so.narrowcast_per_hour = o->narrowcast_rate;
    so.progress_every = o->progress_every;
    so.quota_interval = o->quota_every;
    so.audience_rate = o->audience_rate;
    so.progress_rate = o->progress_rate;
    so.quota_up_to_remaining = o->when_quota_short == "up-to-remaining";
    so.connections = o->connections;
    so.aggregation_units = o->aggregation_units;
    so.request_timeout = o->timeout;
    so.max_body = o->max_body;
    so.max_connections = o->max_connections;
    if (auto d = parse_duration(o->request_deadline); d && *d >= 1 && *d <= 3600) {
      so.http_request_seconds = static_cast<int>(*d);
    } else {
      std::cerr << "okuri serve: --request-deadline `" << o->request_deadline << "` is not a duration from 1s to 1h\n";
      status = 2;
      return;
    }
    so.quiet = o->quiet;
    so.notify_url = o->notify_url;
    so.profiles = !o->no_profiles;
    so.profile_wait = o->profile_wait;
    so.profile_rate = o->profile_rate;
    if (auto age = parse_duration(o->profile_max_age)) {
      so.profile_max_age = *age;
    } else {
      std::cerr << "okuri serve: --profile-max-age `" << o->profile_max_age << "` is not a duration (7d, 12h, 30m)\n";
      status = 2;
      return;
    }
    auto env = [](const char* name) {
      const char* v = std::getenv(name);
      return v == nullptr ? std::string() : std::string(v);
    };
    so.channel_secret = env("LINE_CHANNEL_SECRET");
    so.access_token = env("LINE_CHANNEL_ACCESS_TOKEN");
    so.events_token = env("OKURI_EVENTS_TOKEN");
    so.public_url = o->public_url;
    so.link_key = env("OKURI_LINK_KEY");
    if (!so.public_url.empty() && so.link_key.size() < 16) {
      std::cerr
          << "okuri serve: --public-url needs OKURI_LINK_KEY in the environment, a secret of at least 16 characters "
             "(for example `openssl rand -base64 32`): it seals the tracked links\n";
      status = 2;
      return;
    }
    if (!so.public_url.empty() && so.public_url.rfind("http://", 0) != 0 && so.public_url.rfind("https://", 0) != 0) {
      std::cerr << "okuri serve: --public-url wants an http:// or https:// URL, not `" << so.public_url << "`\n";
      status = 2;
      return;
    }
    if (so.channel_secret.empty()) {
      std::cerr << "okuri serve: LINE_CHANNEL_SECRET is not set: every webhook would be refused\n";
      status = 2;
      return;
    }
    if (so.access_token.empty()) std::cerr << "okuri serve: warning: LINE_CHANNEL_ACCESS_TOKEN is not set: LINE will refuse the sends\n";
    if (jit::module_loaded()) {
      so.engine.compile_rows = jit::module_row_compiler({});
    } else if (jit::module_built()) {
      std::cerr << "okuri serve: " << jit::module_error() << "; conditions run on the interpreter\n";
    }
    // A file size limit (a full quota) must fail the write, not kill the process.
    std::signal(SIGXFSZ, SIG_IGN);
    // Signals go to one thread that stops the service cleanly.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    svc::Service service(std::move(p), so);
    std::thread watcher([&service, set] {
      for (;;) {
        int sig = 0;
        sigwait(&set, &sig);
        if (sig != SIGHUP) break;
        service.reload("SIGHUP");
      }
      service.stop();
    });
    try {
      service.run();
    } catch (const std::exception& e) {
      std::cerr << "okuri serve: " << e.what() << "\n";
      status = 2;
    }
    pthread_kill(watcher.native_handle(), SIGTERM);  // wake the watcher if the service stopped on its own
    watcher.join();
  });
}

}  // namespace okuri::cli
