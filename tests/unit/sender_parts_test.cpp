// The sender's pure parts: how broadcast pushes merge into multicasts, LINE's aggregation unit
// names, what an answer from LINE means, and the per-endpoint pacing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "service/click_links.hpp"
#include "service/line_api.hpp"
#include "service/multicast.hpp"
#include "service/rate_limiter.hpp"

using namespace okuri::svc;

namespace {

OutboxRow push_to(int n, const std::string& text, std::int64_t due = 100) {
  OutboxRow r;
  r.key = "key-" + std::to_string(n);
  r.friend_id = "U" + std::to_string(n);
  r.due = due;
  r.scenario = "sale";
  r.node = "n1";
  r.messages = R"([{"type":"text","text":")" + text + R"("}])";
  return r;
}

}  // namespace

TEST_CASE("broadcast pushes with the same messages merge into multicasts of at most 500") {
  std::vector<OutboxRow> rows;
  for (int i = 0; i < 1203; ++i) rows.push_back(push_to(i, i % 2 == 0 ? "A" : "B"));
  rows.push_back(push_to(5000, "only one"));
  const auto out = group_into_multicasts(rows);
  // A: 602 → 500 + 102; B: 601 → 500 + 101; the lone text stays a push.
  REQUIRE(out.size() == 5);
  std::set<std::string> seen, keys;
  std::size_t pushes = 0;
  for (const auto& r : out) {
    keys.insert(r.key);
    if (r.kind == "multicast") {
      const auto ids = nlohmann::json::parse(r.recipients);
      CHECK(ids.size() <= kMulticastMax);
      CHECK(r.friend_id == ids[0].get<std::string>());
      for (const auto& id : ids) CHECK(seen.insert(id.get<std::string>()).second);  // each friend in one request
      CHECK(r.key.size() == 36);
      CHECK(r.key[14] == '4');  // a version 4 UUID, as LINE wants for X-Line-Retry-Key
    } else {
      ++pushes;
      CHECK(r.friend_id == "U5000");
      seen.insert(r.friend_id);
    }
  }
  CHECK(pushes == 1);
  CHECK(seen.size() == 1204);
  CHECK(keys.size() == out.size());
  // The same members give the same retry key: nothing depends on when it was computed.
  const auto again = group_into_multicasts(rows);
  for (std::size_t i = 0; i < out.size(); ++i) CHECK(again[i].key == out[i].key);
}

TEST_CASE("pushes due at different times, or from different steps, are not merged") {
  std::vector<OutboxRow> rows = {push_to(1, "A", 100), push_to(2, "A", 160), push_to(3, "A", 100)};
  rows[2].node = "n2";
  const auto out = group_into_multicasts(rows);
  REQUIRE(out.size() == 3);
  for (const auto& r : out) CHECK(r.kind == "message");
}

TEST_CASE("aggregation units are LINE-safe names") {
  CHECK(aggregation_unit("spring_sale") == "spring_sale");
  const auto jp = aggregation_unit("春のセール");
  CHECK(jp.rfind("okuri_", 0) == 0);
  CHECK(jp.size() == 14);
  CHECK(aggregation_unit("春のセール") == jp);
  CHECK(aggregation_unit(std::string(31, 'a')).rfind("okuri_", 0) == 0);
}

TEST_CASE("LINE's monthly limit is told apart from rate limiting") {
  LineAnswer a;
  a.status = 429;
  a.body = R"({"message":"You have reached your monthly limit."})";
  CHECK(a.monthly_limit());
  CHECK(a.describe() == "answered 429: You have reached your monthly limit.");
  a.body = R"({"message":"The API rate limit has been exceeded. Try again later."})";
  CHECK_FALSE(a.monthly_limit());
  LineAnswer none;
  none.error = "Connection";
  CHECK(none.describe() == "no answer (Connection)");
}

TEST_CASE("a rate limiter paces callers and holds them back after a pause") {
  std::atomic<bool> stop{false};
  RateLimiter r(1000);  // 1 ms apart
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 50; ++i) REQUIRE(r.acquire(stop));
  CHECK(RateLimiter::Clock::now() - t0 >= std::chrono::milliseconds(45));
  r.pause_for(std::chrono::seconds(30));
  CHECK(r.backlog() > std::chrono::seconds(29));
  stop = true;
  CHECK_FALSE(r.acquire(stop));  // a stop does not wait out the pause
}

TEST_CASE("a tracked link's token opens only as sealed, under its key, in its one spelling") {
  const ClickLinks links("https://example.com", "test-link-key-0123456789abcdef");
  const std::string token = links.seal("U5a10000000000000000000000000000a", "lp");
  const auto t = links.open(token);
  REQUIRE(t);
  CHECK(t->friend_id == "U5a10000000000000000000000000000a");
  CHECK(t->link == "lp");
  CHECK(links.seal("U5a10000000000000000000000000000a", "lp") != token);  // a fresh nonce each time
  // The last character with its lowest bit flipped: unused bits at most, never the same token.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string alias = token;
  alias.back() = alphabet[alphabet.find(token.back()) ^ 1];
  CHECK_FALSE(links.open(alias));
  std::string flipped = token;
  flipped[token.size() / 2] = flipped[token.size() / 2] == 'A' ? 'B' : 'A';
  CHECK_FALSE(links.open(flipped));
  const ClickLinks other("https://example.com", "another-key-0123456789abcdef");
  CHECK_FALSE(other.open(token));
  CHECK_FALSE(links.open("AAAA"));
  CHECK_FALSE(links.open(""));
}

TEST_CASE("ids are escaped as one path segment: none can reach another of LINE's endpoints") {
  CHECK(url_path_segment("U0123456789abcdef0123456789abcdef") == "U0123456789abcdef0123456789abcdef");
  CHECK(url_path_segment("all") == "all");  // refused where ids enter (is_line_user_id), never widened here
  CHECK(url_path_segment("../x") == "..%2Fx");
  CHECK(url_path_segment("a?b#c d") == "a%3Fb%23c%20d");
  CHECK(url_path_segment("é") == "%C3%A9");
  CHECK(url_path_segment(std::string("a\0b", 3)) == "a%00b");
}

TEST_CASE("a rich menu link for a hostile id reaches the one user's endpoint, escaped") {
  // A one-request HTTP peer on a loopback port that records the request line.
  const int ls = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(ls >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(ls, 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  std::string request_line;
  std::thread peer([&] {
    const int c = accept(ls, nullptr, nullptr);
    if (c < 0) return;
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    request_line = got.substr(0, got.find("\r\n"));
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    (void)!write(c, answer.data(), answer.size());
    close(c);
  });
  {
    LineApi api("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), "token", 5);
    const auto a = api.link_rich_menu("all/../../message/broadcast?x#y", "richmenu-1");
    CHECK(a.status == 200);
  }
  peer.join();
  close(ls);
  CHECK(request_line == "POST /v2/bot/user/all%2F..%2F..%2Fmessage%2Fbroadcast%3Fx%23y/richmenu/richmenu-1 HTTP/1.1");
}
