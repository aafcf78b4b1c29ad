#include "service/line_api.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <httplib.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace okuri::svc {

using json = nlohmann::json;

bool LineAnswer::monthly_limit() const {
  if (status != 429) return false;
  const auto j = json::parse(body, nullptr, false);
  return j.is_object() && j.contains("message") && j["message"].is_string() &&
         j["message"].get<std::string>().find("monthly limit") != std::string::npos;
}

std::string LineAnswer::describe() const {
  if (status == 0) return fmt::format("no answer ({})", error);
  const auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    return fmt::format("answered {}: {}", status, j["message"].get<std::string>());
  }
  return fmt::format("answered {}", status);
}

std::string aggregation_unit(std::string_view name) {
  bool fits = !name.empty() && name.size() <= 30;
  for (const char c : name) {
    fits = fits && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (fits) return std::string(name);
  return fmt::format("okuri_{:08x}", static_cast<std::uint32_t>(XXH64(name.data(), name.size(), 0)));
}

struct LineApi::Conn {
  httplib::Client cli;
  httplib::Headers auth;
  Conn(const std::string& base, const std::string& token) : cli(base), auth{{"Authorization", "Bearer " + token}} {}
};

LineApi::LineApi(const std::string& base, std::string access_token, int timeout)
    : conn_(std::make_unique<Conn>(base, access_token)) {
  conn_->cli.set_connection_timeout(std::max(1, std::min(5, timeout)));  // a short read waits no longer to connect
  conn_->cli.set_read_timeout(timeout);
  conn_->cli.set_write_timeout(timeout);
  conn_->cli.set_keep_alive(true);
  conn_->cli.set_tcp_nodelay(true);
}

LineApi::~LineApi() = default;

namespace {

LineAnswer answer_of(const httplib::Result& res) {
  LineAnswer a;
  if (!res) {
    a.error = httplib::to_string(res.error());
    // Only a failed connect is known not to have carried the request.
    a.never_sent = res.error() == httplib::Error::Connection || res.error() == httplib::Error::SSLConnection;
    return a;
  }
  a.status = res->status;
  a.body = res->body;
  a.request_id = res->get_header_value("X-Line-Request-Id");
  a.accepted_request_id = res->get_header_value("X-Line-Accepted-Request-Id");
  if (res->has_header("Retry-After")) a.retry_after = std::atoll(res->get_header_value("Retry-After").c_str());
  return a;
}

}  // namespace

LineAnswer LineApi::push(std::string_view to, std::string_view messages, std::string_view retry_key,
                         std::string_view unit) {
  json body = {{"to", to}, {"messages", json::parse(messages)}};
  if (!unit.empty()) body["customAggregationUnits"] = json::array({unit});
  httplib::Headers h = conn_->auth;
  h.emplace("X-Line-Retry-Key", std::string(retry_key));
  return answer_of(conn_->cli.Post("/v2/bot/message/push", h, body.dump(), "application/json"));
}

LineAnswer LineApi::multicast(const std::vector<std::string>& to, std::string_view messages, std::string_view retry_key,
                              std::string_view unit) {
  json body = {{"to", to}, {"messages", json::parse(messages)}};
  if (!unit.empty()) body["customAggregationUnits"] = json::array({unit});
  httplib::Headers h = conn_->auth;
  h.emplace("X-Line-Retry-Key", std::string(retry_key));
  return answer_of(conn_->cli.Post("/v2/bot/message/multicast", h, body.dump(), "application/json"));
}

LineAnswer LineApi::reply(std::string_view reply_token, std::string_view messages) {
  const json body = {{"replyToken", reply_token}, {"messages", json::parse(messages)}};
  return answer_of(conn_->cli.Post("/v2/bot/message/reply", conn_->auth, body.dump(), "application/json"));
}

LineAnswer LineApi::broadcast(std::string_view messages, std::string_view retry_key) {
  const json body = {{"messages", json::parse(messages)}};
  httplib::Headers h = conn_->auth;
  h.emplace("X-Line-Retry-Key", std::string(retry_key));
  return answer_of(conn_->cli.Post("/v2/bot/message/broadcast", h, body.dump(), "application/json"));
}

LineAnswer LineApi::narrowcast(std::string_view messages, std::string_view request, std::string_view retry_key) {
  json body = request.empty() ? json::object() : json::parse(request);
  body["messages"] = json::parse(messages);
  httplib::Headers h = conn_->auth;
  h.emplace("X-Line-Retry-Key", std::string(retry_key));
  return answer_of(conn_->cli.Post("/v2/bot/message/narrowcast", h, body.dump(), "application/json"));
}

namespace {
json audience_ids(const std::vector<std::string>& ids) {
  json out = json::array();
  for (const auto& id : ids) out.push_back({{"id", id}});
  return out;
}
}  // namespace

LineAnswer LineApi::create_audience(std::string_view description, const std::vector<std::string>& ids) {
  const json body = {{"description", description}, {"isIfaAudience", false}, {"audiences", audience_ids(ids)}};
  return answer_of(conn_->cli.Post("/v2/bot/audienceGroup/upload", conn_->auth, body.dump(), "application/json"));
}

LineAnswer LineApi::add_to_audience(std::int64_t audience_id, const std::vector<std::string>& ids) {
  const json body = {{"audienceGroupId", audience_id}, {"audiences", audience_ids(ids)}};
  return answer_of(conn_->cli.Put("/v2/bot/audienceGroup/upload", conn_->auth, body.dump(), "application/json"));
}

LineAnswer LineApi::delete_audience(std::int64_t audience_id) {
  return answer_of(conn_->cli.Delete(fmt::format("/v2/bot/audienceGroup/{}", audience_id), conn_->auth));
}

std::string url_path_segment(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

LineAnswer LineApi::link_rich_menu(std::string_view user_id, std::string_view rich_menu_id) {
  return answer_of(conn_->cli.Post(
      fmt::format("/v2/bot/user/{}/richmenu/{}", url_path_segment(user_id), url_path_segment(rich_menu_id)),
      conn_->auth, "", "application/json"));
}

LineAnswer LineApi::get(const std::string& path) { return answer_of(conn_->cli.Get(path.c_str(), conn_->auth)); }

LineAnswer read_list(LineApi& api, const std::string& path, std::string_view field, int max_pages,
                     const std::function<bool(std::vector<std::string>&&)>& page) {
  std::string start;
  LineAnswer a;
  for (int k = 0; k < max_pages; ++k) {
    a = api.get(start.empty() ? path : path + "&start=" + url_path_segment(start));
    if (a.status != 200) return a;
    const auto j = json::parse(a.body, nullptr, false);
    const auto items = j.is_object() ? j.find(field) : j.end();
    if (items == j.end() || !items->is_array()) {
      a.status = 0;
      a.error = fmt::format("a page without `{}`", field);
      return a;
    }
    std::vector<std::string> names;
    names.reserve(items->size());
    for (const auto& n : *items) {
      if (n.is_string()) names.push_back(n.get<std::string>());
    }
    if (!page(std::move(names))) return a;
    const auto next = j.find("next");
    if (next == j.end() || !next->is_string() || next->get<std::string>() == start) return a;
    start = next->get<std::string>();
  }
  return a;
}

}  // namespace okuri::svc
