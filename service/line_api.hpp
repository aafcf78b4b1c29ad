// The Messaging API requests Okuri makes, in one place: their paths, headers and bodies (as
// LINE's OpenAPI files define them), and what an answer means. One LineApi is one kept-alive
// connection; it is not shared between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace okuri::svc {

struct LineAnswer {
  int status = 0;                        // the HTTP status; 0: no answer
  bool never_sent = false;               // no answer because the connection failed before the request went out
  std::string body;                      // LINE's answer (its `message` says why when it refused)
  std::string error;                     // why there was no answer
  std::optional<long long> retry_after;  // seconds, from a 429's Retry-After
  std::string request_id;                // X-Line-Request-Id (narrowcast and broadcast progress is asked for by it)
  std::string accepted_request_id;       // a 409's X-Line-Accepted-Request-Id: the request that retry key was accepted as

  bool ok() const { return status == 200 || status == 202; }
  // 429 "You have reached your monthly limit.": no push or multicast goes through until the
  // month ends or the plan changes, so it is not a rate limit to wait out.
  bool monthly_limit() const;
  // For logs: "answered 400: The property, 'to', in the request body is invalid" or the transport error.
  std::string describe() const;
};

// The aggregation unit LINE counts a scenario's or broadcast's statistics under
// (customAggregationUnits): its name when LINE accepts it (1–30 of a-z, A-Z, 0-9 and _),
// otherwise a stable name made from it (`okuri_` and 8 hex digits).
std::string aggregation_unit(std::string_view scenario_name);

// A URL path segment: unreserved characters as they are, every other byte %-escaped, so that no
// value (`all`, `../`, `?`, `#`, `/`) can change which endpoint a request reaches. Ids are checked
// to be LINE user ids where they enter; every path is escaped anyway.
std::string url_path_segment(std::string_view s);

// User ids in one audience upload by JSON (LINE's limit).
inline constexpr std::size_t kAudienceUploadMax = 10000;

class LineApi {
 public:
  // `base`: https://api.line.me (or a mock); `timeout`: seconds for an answer.
  LineApi(const std::string& base, std::string access_token, int timeout);
  ~LineApi();
  LineApi(const LineApi&) = delete;
  LineApi& operator=(const LineApi&) = delete;

  // `messages`: a JSON array of message objects. `unit`: empty for none.
  LineAnswer push(std::string_view to, std::string_view messages, std::string_view retry_key, std::string_view unit);
  LineAnswer multicast(const std::vector<std::string>& to, std::string_view messages, std::string_view retry_key,
                       std::string_view unit);
  LineAnswer reply(std::string_view reply_token, std::string_view messages);
  // LINE sends to friends it chooses: every friend (broadcast), or those matching `request`'s
  // `recipient`, `filter` and `limit` (narrowcast; `request`: a JSON object of those).
  LineAnswer broadcast(std::string_view messages, std::string_view retry_key);
  LineAnswer narrowcast(std::string_view messages, std::string_view request, std::string_view retry_key);
  // An audience of user ids for narrowcasts (manage-audience.yml): created with the first ids
  // (at most kAudienceUploadMax a request), then more added to it.
  LineAnswer create_audience(std::string_view description, const std::vector<std::string>& ids);
  LineAnswer add_to_audience(std::int64_t audience_id, const std::vector<std::string>& ids);
  LineAnswer delete_audience(std::int64_t audience_id);
  LineAnswer link_rich_menu(std::string_view user_id, std::string_view rich_menu_id);
  // GET of a path under the base (the quota, a profile).
  LineAnswer get(const std::string& path);

 private:
  struct Conn;
  std::unique_ptr<Conn> conn_;
};

// A list LINE hands out in pages joined by `next` tokens (the account's friends, the month's
// aggregation units): GETs `path` (with its own query), then `&start=` each token, and gives
// `page` the strings of each page's `field` array. Stops at the last page, at a token that
// repeats, after `max_pages`, or when `page` returns false. The answer that ended it: 200 when
// the list was read to its end (or `page` stopped it); otherwise LINE's refusal, or a page not
// shaped as the list (status 0, `error` says so).
LineAnswer read_list(LineApi& api, const std::string& path, std::string_view field, int max_pages,
                     const std::function<bool(std::vector<std::string>&&)>& page);

}  // namespace okuri::svc
