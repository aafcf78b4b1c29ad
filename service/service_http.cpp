// The HTTP endpoints: webhooks, custom events, tracked links, a friend's state, health and metrics.
#include "service/service_impl.hpp"

namespace okuri::svc {

void Service::Impl::answer(Intake in, HttpResponse& res, std::chrono::steady_clock::time_point t0) {
  if (in.status != 0) {
    metrics.reject(in.rejected);
    res.status = in.status;
    res.set_content(in.body, "application/json");
    return;
  }
  metrics.duplicates += in.duplicates;
  for (const auto& [label, n] : in.ignored) metrics.ignore(label, n);
  res.status = submit(std::move(in.events));
  if (res.status == 503) res.set_header("Retry-After", "5");
  res.set_content("{}", "application/json");
  metrics.request_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

void Service::Impl::click(const HttpRequest& req, HttpResponse& res) {
  const auto t0 = std::chrono::steady_clock::now();
  res.set_header("Cache-Control", "no-store");
  res.set_header("Referrer-Policy", "no-referrer");
  auto not_found = [&](const char* why) {
    metrics.click(why);
    res.status = 404;
    res.set_content("not found\n", "text/plain");
  };
  if (!clicks) return not_found("invalid");
  const std::string token = req.matches[1];
  const auto t = clicks->open(token);
  if (!t) return not_found("invalid");  // forged, altered, or sealed with another key
  std::string url;
  {
    std::lock_guard<std::mutex> lock(cmu);
    auto it = links_now->find(t->link);
    if (it != links_now->end()) url = it->second;
  }
  if (url.empty()) return not_found("unknown_link");  // the link was removed from the project
  const auto q = req.target.find('?');
  const std::string target =
      with_query(url, q == std::string::npos ? std::string_view() : std::string_view(req.target).substr(q + 1));
  if (req.method == "HEAD" || is_link_preview_agent(req.header("User-Agent"))) {
    metrics.click("preview");
  } else {
    rt::InputEvent ev;
    ev.time_ms = wall_ms();
    ev.friend_id = t->friend_id;
    ev.type = "link_clicked";
    ev.arg = t->link;
    ev.fields["url"] = rt::FieldValue{true, 0, target};
    ev.webhook_event_id = fmt::format("click:{:016x}", XXH64(token.data(), token.size(), 0));
    ev.origin = "tracked link";
    const int status = submit({std::move(ev)});
    // The friend is sent on even when the click could not be stored: the page matters more.
    // (A stored click is counted by the writer, which alone knows whether it was a repeat.)
    if (status != 200) metrics.click("lost");
    if (status != 200) log(fmt::format("a click on `{}` could not be stored (status {})", t->link, status));
  }
  res.status = 302;
  res.set_header("Location", target);
  metrics.request_latency.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

std::string Service::Impl::friend_json(const std::string& id) {
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

void Service::Impl::routes() {
  // Bodies arrive limited whatever their transfer encoding (http_server.cpp): `Content-Length`
  // past --max-body is refused before the body is read, a chunked body is cut off as it arrives,
  // and a compressed one is counted while it inflates — all before any signature check.
  http->route("POST", "/webhook", [this](const HttpRequest& req, HttpResponse& res) {
    const auto t0 = std::chrono::steady_clock::now();
    // The signature is checked on the body, before anything is parsed (request_intake.cpp).
    answer(take_webhook(*current_catalog(), opt.channel_secret, req.header("X-Line-Signature"), req.body), res, t0);
  });
  http->route("POST", "/events", [this](const HttpRequest& req, HttpResponse& res) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!bearer_ok(req)) {
      metrics.reject("unauthorized");
      res.status = 401;
      res.set_content("{\"message\":\"a valid bearer token (OKURI_EVENTS_TOKEN) is required\"}", "application/json");
      return;
    }
    answer(take_events(*current_catalog(), req.body), res, t0);
  });
  // One friend's state, for operators (the same bearer token as /events).
  http->route("GET", R"(/friends/([^/]+))", [this](const HttpRequest& req, HttpResponse& res) {
    if (!bearer_ok(req)) {
      metrics.reject("unauthorized");
      res.status = 401;
      return;
    }
    res.set_content(friend_json(req.matches[1]), "application/json");
    if (res.body == "null") res.status = 404;
  });
  // A tracked link (`--public-url`): 302 to the link's URL; a real click is applied as
  // link_clicked through the same durable path as a webhook.
  http->route("GET", R"(/l/([A-Za-z0-9_-]{1,600}))",
              [this](const HttpRequest& req, HttpResponse& res) { click(req, res); });
  http->route("GET", "/healthz", [this](const HttpRequest&, HttpResponse& res) {
    std::string body = "ok\n";
    if (store->shared()) {
      // Which worker this is, and the partitions it holds (what a load balancer's operator asks).
      std::lock_guard<std::mutex> lock(held_mu);
      body += fmt::format("worker {}\npartitions {} of {}: {}\n", store->worker(), held_shown.size(), kPartitions,
                          partition_ranges(held_shown));
    }
    res.set_content(body, "text/plain");
  });
  http->route("GET", "/metrics", [this](const HttpRequest&, HttpResponse& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
}

}  // namespace okuri::svc
