// The service: HTTP (cpp-httplib, the only translation unit that includes it),
// the writer thread (engine + group commit), the sender thread (outbox → LINE).
// Debian builds cpp-httplib as a library with OpenSSL (pkg-config cpp-httplib).
#include <httplib.h>

#include <fmt/format.h>
#include <openssl/crypto.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "compiler/literals.hpp"
#include "compiler/workspace.hpp"
#include "runtime/event_input.hpp"
#include "runtime/report.hpp"
#include "service/service.hpp"

namespace okuri::svc {

using nlohmann::json;

// ------------------------------------------------------------------ signatures

std::string line_signature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()), body.size(),
       mac, &len);
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool signature_ok(std::string_view secret, std::string_view body, std::string_view received) {
  if (secret.empty() || received.empty()) return false;
  const std::string want = line_signature(secret, body);
  if (received.size() != want.size()) return false;
  return CRYPTO_memcmp(want.data(), received.data(), want.size()) == 0;
}

// ------------------------------------------------------------------ messages

namespace {

std::string interpolate(const Program& p, rt::Engine& e, std::uint32_t row, const std::string& text) {
  const rt::FriendStore& s = e.store();
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find('{', i);
    const std::size_t close = open == std::string::npos ? std::string::npos : text.find('}', open);
    if (open == std::string::npos || close == std::string::npos) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, open - i);
    const std::string name = text.substr(open + 1, close - open - 1);
    std::string value;
    if (name == "display_name") {
      if (s.display_name[row] >= 0) value = std::string(s.texts.get(s.display_name[row]));
    } else if (name == "source") {
      if (s.source[row] >= 0) value = std::string(s.texts.get(s.source[row]));
    } else if (name == "language") {
      if (s.language[row] >= 0) value = std::string(s.texts.get(s.language[row]));
    } else if (name == "age") {
      if (s.age[row] != rt::kUnknownAge) value = std::to_string(s.age[row]);
    } else if (name == "score") {
      value = std::to_string(s.score[row]);
    } else if (const Symbol* link = p.find(SymbolKind::Link, name)) {
      value = std::get<ast::LinkDecl>(link->decl->v).url;
    } else if (const int f = e.schema().field_index(name); f >= 0) {
      const auto& col = s.fields[static_cast<std::size_t>(f)];
      const auto& info = e.schema().fields[static_cast<std::size_t>(f)];
      if (col.known.get(row)) {
        const std::int64_t v = col.values[row];
        switch (info.type.kind) {
          case TypeKind::Text:
            value = std::string(s.texts.get(static_cast<std::int32_t>(v)));
            break;
          case TypeKind::Date:
            value = format_date(civil_from_days(v));
            break;
          case TypeKind::DateTime: {
            const stdlib::Zone zone(p.account.timezone.c_str());
            const std::string t = rt::format_time(v, zone);
            value = t.substr(0, 10) + " " + t.substr(11, 5);
            break;
          }
          case TypeKind::Enum:
            value = v >= 0 && static_cast<std::size_t>(v) < info.values.size() ? info.values[static_cast<std::size_t>(v)] : "";
            break;
          default:
            value = std::to_string(v);
            break;
        }
      }
    }
    out += value;
    i = close + 1;
  }
  return out;
}

}  // namespace

std::string render_messages(const Program& p, rt::Engine& e, const rt::Delivery& d) {
  json out = json::array();
  for (auto m : d.messages) {
    const Symbol* sym = p.find(SymbolKind::Message, e.schema().messages[m]);
    if (sym == nullptr) continue;
    const auto& md = std::get<ast::MessageDecl>(sym->decl->v);
    switch (md.kind) {
      case ast::MessageKind::Text:
        out.push_back({{"type", "text"}, {"text", interpolate(p, e, d.row, md.value)}});
        break;
      case ast::MessageKind::Sticker:
        out.push_back({{"type", "sticker"}, {"packageId", std::to_string(md.package_id)}, {"stickerId", std::to_string(md.sticker_id)}});
        break;
      case ast::MessageKind::Json: {
        std::ifstream f(p.root + "/" + md.value, std::ios::binary);
        const json j = json::parse(f, nullptr, false);
        if (j.is_array()) {
          for (const auto& x : j) out.push_back(x);
        } else if (j.is_object()) {
          out.push_back(j);
        }
        break;
      }
    }
  }
  return out.dump();
}

// ------------------------------------------------------------------ metrics

namespace {

struct Histogram {
  static constexpr std::array<double, 10> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
  std::array<std::atomic<std::uint64_t>, 11> buckets{};
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum_us{0};
  void observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    ++buckets[i];
    ++count;
    sum_us += static_cast<std::uint64_t>(seconds * 1e6);
  }
  std::string text(const std::string& name, const std::string& help) const {
    std::string s = fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
      acc += buckets[i];
      s += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], acc);
    }
    acc += buckets[kBounds.size()];
    s += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, acc, name,
                     static_cast<double>(sum_us.load()) / 1e6, name, count.load());
    return s;
  }
};

struct Metrics {
  std::atomic<std::uint64_t> accepted{0}, duplicates{0};
  std::mutex mu;
  std::map<std::string, std::uint64_t> rejected;  // by reason
  std::map<std::string, std::uint64_t> sends;     // by outcome of a request to LINE
  Histogram request_latency, commit_latency, send_latency;
  void reject(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu);
    ++rejected[why];
  }
  void sent(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    ++sends[what];
  }
};

// What the saved friend states depend on: the schema's names and every scenario's steps.
std::int64_t project_shape(rt::Engine& e) {
  std::string s;
  const auto& sc = e.schema();
  for (const auto* list : {&sc.tags, &sc.links, &sc.messages, &sc.audiences, &sc.scores, &sc.visit_patterns}) {
    for (const auto& n : *list) s += n + '\0';
    s += '\1';
  }
  for (const auto& f : sc.fields) s += f.name + '\0' + std::to_string(static_cast<int>(f.type.kind)) + '\0';
  for (std::size_t f = 0; f < e.flow_count(); ++f) {
    const auto& g = e.flow(f);
    s += g.name + '\2';
    for (std::uint32_t n = 0; n < g.node_count(); ++n) s += g.node(n).id + '\0';
  }
  return static_cast<std::int64_t>(XXH64(s.data(), s.size(), 0) & 0x7FFFFFFFFFFFFFFF) | 1;
}

// The project's `.okuri` sources, as the store keeps them with the states they wrote.
std::string sources_of(const Program& p) {
  json files = json::array();
  for (std::uint32_t i = 0; i < p.sources.size(); ++i) {
    const auto& f = p.sources.file(i);
    if (f.path.size() >= 6 && f.path.compare(f.path.size() - 6, 6, ".okuri") == 0) files.push_back({{"path", f.path}, {"text", f.text}});
  }
  return json{{"root", p.root}, {"files", files}}.dump();
}

std::unique_ptr<Program> program_from(const std::string& sources) {
  const json j = json::parse(sources);
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& f : j.at("files")) files.emplace_back(f.at("path").get<std::string>(), f.at("text").get<std::string>());
  return compile_sources(j.at("root").get<std::string>(), std::move(files));
}

std::string error_text(const Program& p) {
  std::vector<Diagnostic> errors;
  for (const auto& d : p.diags.all()) {
    if (d.severity == Severity::Error) errors.push_back(d);
  }
  return render_human(p.sources, errors, RenderOptions{false});
}

// What the watcher compares: every `.okuri` file of the project with its size and time of change.
std::string fingerprint(const std::string& project) {
  std::string out;
  try {
    for (const auto& f : project_files(project)) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(f, ec);
      const auto time = std::filesystem::last_write_time(f, ec).time_since_epoch().count();
      out += fmt::format("{}|{}|{}\n", f, ec ? 0 : size, ec ? 0 : time);
    }
  } catch (const std::exception& e) {
    out = std::string("unreadable: ") + e.what();
  }
  return out;
}

struct Job {
  std::vector<rt::InputEvent> events;
  std::promise<int> done;  // the HTTP status to answer
};

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

// ------------------------------------------------------------------ the service

struct Service::Impl {
  std::shared_ptr<const Program> prog;  // the version running (the writer's; swapped by switch_to)
  ServeOptions opt;
  std::unique_ptr<Store> store;
  std::unique_ptr<rt::Engine> engine;
  std::shared_ptr<const rt::EventCatalog> catalog;  // what requests are parsed against (HTTP threads: under cmu)
  std::mutex cmu;
  std::mutex reload_mu;      // one reload at a time
  std::string running_sources;  // under reload_mu
  std::atomic<bool> ready{false};
  std::atomic<std::uint64_t> reloads_ok{0}, reloads_failed{0};
  std::thread watcher;
  std::mutex wmu;
  std::condition_variable wcv;
  bool watch_stop = false;
  httplib::Server http;
  Metrics metrics;
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<std::shared_ptr<Job>> queue;
  std::vector<std::function<void()>> reads;  // run by the writer between batches
  bool stopping = false;
  std::atomic<bool> sender_stop{false};
  std::mutex smu;
  std::condition_variable scv;
  std::thread writer, sender;
  std::atomic<int> bound_port{0};
  std::atomic<std::uint64_t> timer_backlog{0};

  Impl(std::shared_ptr<const Program> p, ServeOptions o) : prog(std::move(p)), opt(std::move(o)) {}

  std::shared_ptr<const rt::EventCatalog> current_catalog() {
    std::lock_guard<std::mutex> lock(cmu);
    return catalog;
  }

  void log(const std::string& line) const {
    if (!opt.quiet) std::cerr << "okuri serve: " << line << "\n";
  }

  // A fresh engine with every friend's saved state; overdue timers are armed (they fire at the next batch).
  void load_engine() {
    engine = std::make_unique<rt::Engine>(*prog, opt.engine);
    const std::int64_t clock = store->clock();
    const std::int64_t now = wall_ms() / 1000;
    engine->start_at(clock > 0 ? std::min(clock, now) : now);
    for (const auto& f : store->load_friends()) engine->import_friend(engine->friend_row(f.id), f.state);
    engine->take_dirty();
    engine->take_deliveries();
  }

  // Runs `body` in one transaction, committed at the engine's clock when it returns true and
  // rolled back when it returns false. Any failure rolls back and comes out as StoreError.
  template <typename Body>
  void in_transaction(Body body) {
    store->begin();
    bool closed = false;  // commit() rolls back by itself when it fails
    try {
      const bool keep = body();
      closed = true;
      if (keep) {
        store->commit(engine->now());
      } else {
        store->rollback();
      }
    } catch (const StoreError&) {
      if (!closed) store->rollback();
      throw;
    } catch (const std::exception& e) {
      if (!closed) store->rollback();
      throw StoreError(e.what());
    }
  }

  // Into the open batch: the friends the engine changed, its deliveries and menu links since
  // the last call. False when there was nothing.
  bool write_outputs(std::int64_t created) {
    const auto dirty = engine->take_dirty();
    auto deliveries = engine->take_deliveries();
    const auto menus = engine->take_menu_links();
    for (const auto row : dirty) store->save_friend(engine->store().id_of(row), engine->export_friend(row));
    for (const auto& d : deliveries) {
      if (d.skipped) continue;
      OutboxRow r;
      r.key = d.key;
      r.friend_id = engine->store().id_of(d.row);
      r.due = d.time;
      r.reply = d.reply && !d.reply_token.empty();
      r.reply_token = d.reply_token;
      r.messages = render_messages(*prog, *engine, d);
      r.scenario = d.flow < 0 ? "" : engine->flow(static_cast<std::size_t>(d.flow)).name;
      r.node = d.node;
      r.created = created;
      store->add_delivery(r);
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
    return !dirty.empty() || !deliveries.empty() || !menus.empty();
  }

  // Moves every friend to a new version (its engine `ne`, not yet started) and commits the states,
  // the deliveries that made and the version's sources together. On the writer thread, or before
  // it starts. On failure nothing changed: the running version goes on.
  bool switch_to(std::shared_ptr<const Program> np, std::unique_ptr<rt::Engine> ne, const std::string& sources) {
    const auto t0 = std::chrono::steady_clock::now();
    ne->start_at(engine->now());
    const auto sum = ne->take_over(*engine);
    std::swap(engine, ne);
    std::swap(prog, np);
    try {
      in_transaction([&] {
        write_outputs(wall_ms() / 1000);
        store->set_project(project_shape(*engine), sources);
        return true;
      });
    } catch (const StoreError& e) {
      std::swap(engine, ne);
      std::swap(prog, np);
      log(fmt::format("could not switch to the new version: {}; the running version goes on", e.what()));
      return false;
    }
    ne.reset();  // the old engine first: it refers to its program
    np.reset();
    {
      std::lock_guard<std::mutex> lock(cmu);
      catalog = std::make_shared<const rt::EventCatalog>(*prog);
    }
    timer_backlog = engine->timers_pending();
    log(fmt::format("now running the new version ({:.0f} ms): {} friend{}; {} waiting at the same step, {} moved on, {} restarted, {} left a scenario",
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(), sum.friends,
                    sum.friends == 1 ? "" : "s", sum.waiting, sum.moved, sum.restarted, sum.exited));
    return true;
  }

  bool reload(const std::string& why) {
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
      reads.push_back([&] { done.set_value(switch_to(np, std::move(ne), sources)); });
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

  void stop_watching() {
    {
      std::lock_guard<std::mutex> lock(wmu);
      watch_stop = true;
    }
    wcv.notify_all();
    if (watcher.joinable()) watcher.join();
  }

  void watch_loop() {
    std::string loaded = fingerprint(opt.project_path), seen = loaded;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(wmu);
        if (wcv.wait_for(lock, std::chrono::milliseconds(opt.watch_interval_ms), [&] { return watch_stop; })) return;
      }
      const std::string now = fingerprint(opt.project_path);
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

  // One transaction for every queued request (and the timers due by now).
  void batch(std::vector<std::shared_ptr<Job>>& jobs) {
    const auto t0 = std::chrono::steady_clock::now();
    int status = 200;
    bool wrote = true;
    try {
      in_transaction([&] {
        const std::int64_t now_ms = wall_ms();
        for (auto& job : jobs) {
          for (auto& ev : job->events) {
            if (!ev.webhook_event_id.empty() && !store->claim_event(ev.webhook_event_id)) {
              ++metrics.duplicates;
              continue;
            }
            ev.time_ms = std::min(ev.time_ms, now_ms);  // a clock ahead of ours does not move time forward
            engine->handle(ev);
            ++metrics.accepted;
          }
        }
        engine->run_until(now_ms / 1000);
        wrote = write_outputs(now_ms / 1000) || !jobs.empty();
        return wrote;
      });
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
    scv.notify_all();
  }

  void writer_loop() {
    while (true) {
      std::vector<std::shared_ptr<Job>> jobs;
      std::vector<std::function<void()>> todo;
      bool stop_now = false;
      {
        std::unique_lock<std::mutex> lock(qmu);
        qcv.wait_for(lock, std::chrono::milliseconds(500), [&] { return !queue.empty() || !reads.empty() || stopping; });
        todo.swap(reads);
        while (!queue.empty() && jobs.size() < static_cast<std::size_t>(opt.max_batch)) {
          jobs.push_back(std::move(queue.front()));
          queue.pop_front();
        }
        stop_now = stopping && queue.empty();
      }
      for (auto& r : todo) r();  // reads and reloads, outside the queue's lock
      batch(jobs);  // also the timers due by now, when there are no requests
      if (stop_now) return;
    }
  }

  int submit(std::vector<rt::InputEvent> events) {
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

  // ---------------------------------------------------------------- sender

  std::mt19937_64 rng{std::random_device{}()};

  std::int64_t backoff(std::int64_t attempts) {
    const double base = std::min(300.0, std::pow(2.0, static_cast<double>(std::min<std::int64_t>(attempts, 10))));
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    return static_cast<std::int64_t>(std::ceil(base * jitter(rng)));
  }

  void send_one(httplib::Client& cli, OutboxRow r) {
    const std::int64_t now = wall_ms() / 1000;
    const httplib::Headers headers = {{"Authorization", "Bearer " + opt.access_token}};
    const auto t0 = std::chrono::steady_clock::now();
    ++r.attempts;
    if (r.kind == "menu") {
      // Linking a rich menu is idempotent: retried like a push, without a retry key.
      auto res = cli.Post(fmt::format("/v2/bot/user/{}/richmenu/{}", r.friend_id, r.messages), headers, "", "application/json");
      metrics.send_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      const int code = res ? res->status : 0;
      if (code == 200) {
        r.status = "sent";
        metrics.sent("menu_linked");
      } else if (code == 429 || code == 0 || code >= 500) {
        r.next_attempt = now + backoff(r.attempts);
        r.error = code == 0 ? "no answer" : fmt::format("answered {}", code);
        metrics.sent("menu_retry");
      } else {
        r.status = "failed";
        r.error = fmt::format("answered {}: {}", code, res->body.substr(0, 500));
        metrics.sent("menu_failed");
        log(fmt::format("linking rich menu {} to {} failed: {}", r.messages, r.friend_id, r.error));
      }
      store->update_delivery(r);
      return;
    }
    if (r.reply) {
      // Recorded before the request: if the process dies now, nobody can know whether the
      // reply arrived, and it must not go out again (see settle_inflight).
      r.status = "replying";
      store->update_delivery(r);
      r.status = "pending";
      const json body = {{"replyToken", r.reply_token}, {"messages", json::parse(r.messages)}};
      auto res = cli.Post("/v2/bot/message/reply", headers, body.dump(), "application/json");
      metrics.send_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      if (res && res->status == 200) {
        r.status = "sent";
        metrics.sent("reply_sent");
        store->update_delivery(r);
        return;
      }
      // A reply cannot be retried safely: it becomes a push, keyed for retries.
      metrics.sent("reply_failed_to_push");
      r.reply = false;
      r.error = res ? fmt::format("reply answered {}; sent as a push", res->status) : "reply failed; sent as a push";
    }
    httplib::Headers push_headers = headers;
    push_headers.emplace("X-Line-Retry-Key", r.key);
    const json body = {{"to", r.friend_id}, {"messages", json::parse(r.messages)}};
    auto res = cli.Post("/v2/bot/message/push", push_headers, body.dump(), "application/json");
    metrics.send_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const int code = res ? res->status : 0;
    if (code == 200 || code == 409) {
      r.status = "sent";  // 409: LINE accepted this retry key before
      metrics.sent(code == 200 ? "push_sent" : "push_already_accepted");
    } else if (code == 429 || code == 0 || code >= 500) {
      std::int64_t wait = backoff(r.attempts);
      if (code == 429 && res && res->has_header("Retry-After")) wait = std::max<std::int64_t>(1, std::atoll(res->get_header_value("Retry-After").c_str()));
      r.next_attempt = now + wait;
      r.error = code == 0 ? fmt::format("no answer ({})", httplib::to_string(res.error())) : fmt::format("answered {}", code);
      metrics.sent(code == 429 ? "push_throttled" : code == 0 ? "push_no_answer" : "push_server_error");
      // LINE keeps a retry key for 24 hours: near that horizon a retry could deliver twice.
      if (r.next_attempt - r.created > 23 * 3600) {
        r.status = "uncertain";
        log(fmt::format("delivery {} to {} is uncertain after {} attempts ({}): not sent again", r.key, r.friend_id, r.attempts, r.error));
      }
    } else {
      r.status = "failed";
      r.error = fmt::format("answered {}: {}", code, res->body.substr(0, 500));
      metrics.sent("push_failed");
      log(fmt::format("delivery {} to {} failed: {}", r.key, r.friend_id, r.error));
    }
    store->update_delivery(r);
  }

  void sender_loop() {
    httplib::Client cli(opt.line_api);
    cli.set_connection_timeout(5);
    cli.set_read_timeout(opt.request_timeout);
    cli.set_write_timeout(opt.request_timeout);
    cli.set_keep_alive(true);
    cli.set_tcp_nodelay(true);
    const double per = opt.push_rate > 0 ? 1.0 / opt.push_rate : 0;
    auto next_slot = std::chrono::steady_clock::now();
    while (!sender_stop) {
      std::vector<OutboxRow> rows;
      try {
        rows = store->due_deliveries(wall_ms() / 1000, 200);
      } catch (const std::exception& e) {
        log(fmt::format("reading the outbox: {}", e.what()));
      }
      if (rows.empty()) {
        std::unique_lock<std::mutex> lock(smu);
        scv.wait_for(lock, std::chrono::milliseconds(250));
        continue;
      }
      for (auto& r : rows) {
        if (sender_stop) break;
        std::this_thread::sleep_until(next_slot);
        next_slot = std::max(next_slot, std::chrono::steady_clock::now()) +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(per));
        try {
          send_one(cli, std::move(r));
        } catch (const std::exception& e) {
          log(fmt::format("sending: {}", e.what()));
        }
      }
    }
  }

  // ---------------------------------------------------------------- HTTP

  std::string metrics_text() {
    std::string s;
    s += "# HELP okuri_events_accepted_total Events applied (after deduplication).\n# TYPE okuri_events_accepted_total counter\n";
    s += fmt::format("okuri_events_accepted_total {}\n", metrics.accepted.load());
    s += "# HELP okuri_events_duplicate_total Webhook events seen before (redeliveries), not applied again.\n"
         "# TYPE okuri_events_duplicate_total counter\n";
    s += fmt::format("okuri_events_duplicate_total {}\n", metrics.duplicates.load());
    s += "# HELP okuri_requests_rejected_total Requests refused, by reason.\n# TYPE okuri_requests_rejected_total counter\n";
    {
      std::lock_guard<std::mutex> lock(metrics.mu);
      for (const char* why : {"signature", "malformed", "too_large", "unauthorized", "storage", "shutting_down"}) {
        auto it = metrics.rejected.find(why);
        s += fmt::format("okuri_requests_rejected_total{{reason=\"{}\"}} {}\n", why, it == metrics.rejected.end() ? 0 : it->second);
      }
      s += "# HELP okuri_line_requests_total Requests to the Messaging API, by outcome.\n# TYPE okuri_line_requests_total counter\n";
      for (const auto& [what, n] : metrics.sends) s += fmt::format("okuri_line_requests_total{{outcome=\"{}\"}} {}\n", what, n);
    }
    try {
      const StoreCounts c = store->counts();
      s += "# HELP okuri_deliveries Deliveries in the outbox, by status.\n# TYPE okuri_deliveries gauge\n";
      s += fmt::format("okuri_deliveries{{status=\"pending\"}} {}\nokuri_deliveries{{status=\"sent\"}} {}\n", c.pending, c.sent);
      s += fmt::format("okuri_deliveries{{status=\"failed\"}} {}\nokuri_deliveries{{status=\"uncertain\"}} {}\n", c.failed, c.uncertain);
      s += "# HELP okuri_outbox_depth Deliveries waiting to be sent.\n# TYPE okuri_outbox_depth gauge\n";
      s += fmt::format("okuri_outbox_depth {}\n", c.pending);
      s += "# HELP okuri_friends Friends with saved state.\n# TYPE okuri_friends gauge\n";
      s += fmt::format("okuri_friends {}\n", c.friends);
    } catch (const std::exception&) {
    }
    s += "# HELP okuri_reloads_total Hot reloads of the project, by result (failed: errors in the project, or a store failure).\n"
         "# TYPE okuri_reloads_total counter\n";
    s += fmt::format("okuri_reloads_total{{result=\"ok\"}} {}\nokuri_reloads_total{{result=\"failed\"}} {}\n", reloads_ok.load(),
                     reloads_failed.load());
    s += "# HELP okuri_timer_backlog Pending waits.\n# TYPE okuri_timer_backlog gauge\n";
    s += fmt::format("okuri_timer_backlog {}\n", timer_backlog.load());
    s += metrics.request_latency.text("okuri_request_seconds", "Time from a request's arrival to its answer (after commit).");
    s += metrics.commit_latency.text("okuri_commit_seconds", "Time to run and commit one batch.");
    s += metrics.send_latency.text("okuri_line_request_seconds", "Time of one request to the Messaging API.");
    return s;
  }

  // `Authorization: Bearer $OKURI_EVENTS_TOKEN`, compared in constant time.
  bool bearer_ok(const httplib::Request& req) const {
    const std::string auth = req.get_header_value("Authorization");
    const std::string want = "Bearer " + opt.events_token;
    return !opt.events_token.empty() && auth.size() == want.size() && CRYPTO_memcmp(auth.data(), want.data(), want.size()) == 0;
  }

  // Parses a request's events (400 with the reason when it cannot), then waits for their commit.
  template <typename Parse>
  void accept(const httplib::Request& req, httplib::Response& res, std::chrono::steady_clock::time_point t0, Parse parse) {
    std::vector<rt::InputEvent> events;
    try {
      const auto cat = current_catalog();
      rt::EventReader reader(*cat);
      events = parse(reader, req.body);
    } catch (const std::exception& e) {
      metrics.reject("malformed");
      res.status = 400;
      res.set_content(json{{"message", e.what()}}.dump(), "application/json");
      return;
    }
    res.status = submit(std::move(events));
    if (res.status == 503) res.set_header("Retry-After", "5");
    res.set_content("{}", "application/json");
    metrics.request_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  // Read under the writer's lock: the writer thread owns the engine.
  std::string friend_json(const std::string& id) {
    std::promise<std::string> out;
    auto f = out.get_future();
    {
      std::lock_guard<std::mutex> lock(qmu);
      if (stopping) return "null";
      reads.push_back([&] {
        const auto row = engine->store().find(id);
        if (!row) {
          out.set_value("null");
          return;
        }
        const rt::FriendStore& st = engine->store();
        json j;
        j["id"] = id;
        j["score"] = st.score[*row];
        json tags = json::array();
        for (std::size_t t = 0; t < st.tags.size(); ++t) {
          if (st.tags[t].get(*row)) tags.push_back(engine->schema().tags[t]);
        }
        j["tags"] = tags;
        j["blocked"] = st.blocked.get(*row);
        json scenarios = json::object();
        for (std::size_t k = 0; k < engine->flow_count(); ++k) {
          if (auto pos = engine->position(*row, k)) scenarios[engine->flow(k).name] = engine->flow(k).node(*pos).id;
        }
        j["inside"] = scenarios;
        out.set_value(j.dump());
      });
    }
    qcv.notify_one();
    return f.get();
  }

  void routes() {
    http.set_payload_max_length(opt.max_body);
    http.set_tcp_nodelay(true);  // an answer's header and body must not wait for the client's delayed ACK
    http.set_keep_alive_max_count(1000);
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.has_header("Content-Length") &&
          std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > opt.max_body) {
        metrics.reject("too_large");
        res.status = 413;
        res.set_content("{\"message\":\"the body is larger than the limit\"}", "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.Post("/webhook", [this](const httplib::Request& req, httplib::Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      // The signature is checked on the raw body, before anything is parsed.
      if (!signature_ok(opt.channel_secret, req.body, req.get_header_value("X-Line-Signature"))) {
        metrics.reject("signature");
        res.status = 401;
        res.set_content("{\"message\":\"bad or missing X-Line-Signature\"}", "application/json");
        return;
      }
      accept(req, res, t0, [](rt::EventReader& r, const std::string& body) { return r.read_webhook(body); });
    });
    http.Post("/events", [this](const httplib::Request& req, httplib::Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      if (!bearer_ok(req)) {
        metrics.reject("unauthorized");
        res.status = 401;
        res.set_content("{\"message\":\"a valid bearer token (OKURI_EVENTS_TOKEN) is required\"}", "application/json");
        return;
      }
      accept(req, res, t0, [](rt::EventReader& r, const std::string& body) { return r.read_jsonl("request body", body); });
    });
    // One friend's state, for operators (the same bearer token as /events).
    http.Get(R"(/friends/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      if (!bearer_ok(req)) {
        metrics.reject("unauthorized");
        res.status = 401;
        return;
      }
      res.set_content(friend_json(req.matches[1]), "application/json");
      if (res.body == "null") res.status = 404;
    });
    http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_text(), "text/plain; version=0.0.4");
    });
  }
};

Service::Service(std::shared_ptr<const Program> p, ServeOptions options) : impl_(std::make_unique<Impl>(std::move(p), std::move(options))) {}

Service::~Service() {
  stop();
  if (impl_->writer.joinable()) impl_->writer.join();
  if (impl_->sender.joinable()) impl_->sender.join();
  if (impl_->watcher.joinable()) impl_->watcher.join();
}

bool Service::reload(const std::string& why) { return impl_->reload(why); }


void Service::run() {
  Impl& m = *impl_;
  m.store = open_sqlite_store(m.opt.db_path);
  m.catalog = std::make_shared<const rt::EventCatalog>(*m.prog);
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
          m.opt.db_path));
    }
    std::shared_ptr<const Program> old_p = program_from(old_sources);
    if (old_p->diags.error_count() > 0) {
      throw std::runtime_error(fmt::format("the version of the project that wrote {} no longer compiles, so its friends cannot be "
                                           "moved to this one:\n{}", m.opt.db_path, error_text(*old_p)));
    }
    std::shared_ptr<const Program> new_p = m.prog;
    m.prog = old_p;
    m.load_engine();
    m.log(fmt::format("{} was written by another version of the project: moving its friends to this one", m.opt.db_path));
    if (!m.switch_to(new_p, std::make_unique<rt::Engine>(*new_p, m.opt.engine), sources)) {
      throw std::runtime_error("could not move the friends to this version of the project");
    }
  } else {
    m.load_engine();
    if (m.store->project_sources(shape) != sources) {
      m.in_transaction([&] {
        m.store->set_project(shape, sources);
        return true;
      });
    }
  }
  m.running_sources = sources;
  if (const auto n = m.store->settle_inflight(); n > 0) {
    m.log(fmt::format("{} repl{} in flight when the process stopped: marked uncertain, not sent again", n, n == 1 ? "y was" : "ies were"));
  }
  m.log(fmt::format("{} friends loaded from {}", m.store->counts().friends, m.opt.db_path));
  m.writer = std::thread([&m] { m.writer_loop(); });
  m.sender = std::thread([&m] { m.sender_loop(); });
  m.ready = true;
  if (m.opt.watch && !m.opt.project_path.empty()) m.watcher = std::thread([&m] { m.watch_loop(); });
  m.routes();
  int port = m.opt.port;
  if (port == 0) {
    port = m.http.bind_to_any_port(m.opt.host);
  } else if (!m.http.bind_to_port(m.opt.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    {
      std::lock_guard<std::mutex> lock(m.qmu);
      m.stopping = true;
    }
    m.stop_watching();
    m.qcv.notify_all();
    m.writer.join();
    m.sender_stop = true;
    m.scv.notify_all();
    m.sender.join();
    throw std::runtime_error(fmt::format("cannot listen on {}:{}", m.opt.host, m.opt.port));
  }
  m.bound_port = port;
  m.log(fmt::format("listening on http://{}:{} (webhook: POST /webhook; events: POST /events; /healthz, /metrics)", m.opt.host, port));
  m.http.listen_after_bind();
  // The server has stopped: finish the queued requests, commit, stop the sender.
  m.stop_watching();
  {
    std::lock_guard<std::mutex> lock(m.qmu);
    m.stopping = true;
  }
  m.qcv.notify_all();
  if (m.writer.joinable()) m.writer.join();
  m.sender_stop = true;
  m.scv.notify_all();
  if (m.sender.joinable()) m.sender.join();
  m.log("stopped; everything accepted is committed");
}

void Service::stop() { impl_->http.stop(); }

int Service::port() const { return impl_->bound_port; }

}  // namespace okuri::svc
