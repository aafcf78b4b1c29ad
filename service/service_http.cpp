// The HTTP endpoints: webhooks, custom events, tracked links, a friend's state, health and metrics.
#include "service/service_impl.hpp"

namespace okuri::svc {

template <typename Parse>
void Service::Impl::accept(const std::string& body, HttpResponse& res, std::chrono::steady_clock::time_point t0,
                           Parse parse) {
  std::vector<rt::InputEvent> events;
  try {
    const auto cat = current_catalog();
    rt::EventReader reader(*cat);
    events = parse(reader, body);
    // A friend is a LINE user: an id that is not one (`all`, `../x`) would reach LINE's URLs.
    for (const auto& ev : events) {
      if (!is_line_user_id(ev.friend_id)) {
        throw std::runtime_error(fmt::format(
            "{}: friend `{}` is not a LINE user id (U followed by 32 hexadecimal digits)", ev.origin, ev.friend_id));
      }
    }
    metrics.duplicates += reader.duplicates();  // the same webhookEventId twice in one body
    for (const auto& [why, n] : reader.ignored()) {
      // A label without spaces: "message (from a group)" → "message_from_a_group".
      std::string label;
      for (const char c : why) {
        if (c == ' ')
          label += '_';
        else if (c != '(' && c != ')')
          label += c;
      }
      metrics.ignore(label, n);
    }
  } catch (const std::exception& e) {
    metrics.reject("malformed");
    res.status = 400;
    // The reason may quote the body's own bytes, invalid UTF-8 included: replaced, so the 400 always has its reason.
    res.set_content(json{{"message", e.what()}}.dump(-1, ' ', false, json::error_handler_t::replace),
                    "application/json");
    return;
  }
  res.status = submit(std::move(events));
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
    // The signature is checked on the body, before anything is parsed.
    if (!signature_ok(opt.channel_secret, req.body, req.header("X-Line-Signature"))) {
      metrics.reject("signature");
      res.status = 401;
      res.set_content("{\"message\":\"bad or missing X-Line-Signature\"}", "application/json");
      return;
    }
    accept(req.body, res, t0, [](rt::EventReader& r, const std::string& b) { return r.read_webhook(b); });
  });
  http->route("POST", "/events", [this](const HttpRequest& req, HttpResponse& res) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!bearer_ok(req)) {
      metrics.reject("unauthorized");
      res.status = 401;
      res.set_content("{\"message\":\"a valid bearer token (OKURI_EVENTS_TOKEN) is required\"}", "application/json");
      return;
    }
    accept(req.body, res, t0, [](rt::EventReader& r, const std::string& b) { return r.read_jsonl("request body", b); });
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
