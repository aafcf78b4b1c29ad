#include <catch2/catch.hpp>

#include "compiler/workspace.hpp"
#include "runtime/event_input.hpp"
#include "stdlib/json_depth.hpp"

using namespace okuri;

namespace {
std::unique_ptr<Program> project() {
  return compile_sources(".", {{"a.okuri",
                                "link trial_lp \"https://example.com\"\n"
                                "event reserved { at: datetime, course: text, kind: one_of(trial, regular), seats: int }\n"}});
}
std::string error_of(rt::EventReader& r, const std::string& text) {
  try {
    r.read_jsonl("events.jsonl", text);
  } catch (const rt::EventError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("JSONL events of runtime.md", "[events]") {
  auto p = project();
  REQUIRE(p->diags.error_count() == 0);
  rt::EventCatalog cat(*p);
  rt::EventReader r(cat);
  const auto evs = r.read_jsonl("events.jsonl",
                                "{\"time\":\"2026-01-05T12:00:00+09:00\",\"friend\":\"U1\",\"type\":\"friend_added\",\"source\":\"instagram\"}\n"
                                "\n"
                                "{\"time\":\"2026-01-06T21:00:00+09:00\",\"friend\":\"U1\",\"type\":\"link_clicked\",\"link\":\"trial_lp\"}\n"
                                "{\"time\":\"2026-01-07T09:00:00.250+09:00\",\"friend\":\"U1\",\"type\":\"reserved\","
                                "\"at\":\"2026-01-20T18:00:00+09:00\",\"course\":\"piano\",\"kind\":\"trial\",\"seats\":2}\n"
                                "{\"time\":\"2026-01-07T10:00:00Z\",\"friend\":\"U1\",\"type\":\"beacon_entered\"}\n");
  REQUIRE(evs.size() == 3);
  CHECK(evs[0].time_ms == 1767582000000);
  CHECK(evs[0].fields.at("source").text == "instagram");
  CHECK(evs[1].arg == "trial_lp");
  CHECK(evs[2].time_ms % 1000 == 250);
  CHECK(evs[2].fields.at("at").i == 1768899600);
  CHECK(evs[2].fields.at("kind").i == 0);
  CHECK(evs[2].fields.at("seats").i == 2);
  CHECK(evs[2].origin == "events.jsonl:4");
  CHECK(r.ignored().at("beacon_entered") == 1);
}

TEST_CASE("a malformed event names file, line and field", "[events]") {
  auto p = project();
  rt::EventCatalog cat(*p);
  rt::EventReader r(cat);
  CHECK(error_of(r, "{\"time\":\"2026-01-05 12:00\",\"friend\":\"U1\",\"type\":\"friend_added\"}\n") ==
        "events.jsonl:1: field `time`: `2026-01-05 12:00` is not an RFC 3339 time such as 2026-01-05T12:00:00+09:00");
  CHECK(error_of(r, "\n{\"time\":\"2026-01-05T12:00:00Z\",\"type\":\"friend_added\"}\n") == "events.jsonl:2: field `friend` is missing");
  CHECK(error_of(r, "{\"time\":\"2026-01-05T12:00:00Z\",\"friend\":\"U1\",\"type\":\"link_clicked\",\"link\":\"lp\"}\n") ==
        "events.jsonl:1: field `link`: `lp` is not a link of the project");
  CHECK(error_of(r, "{\"time\":\"2026-01-05T12:00:00Z\",\"friend\":\"U1\",\"type\":\"reserved\",\"seats\":\"two\"}\n") ==
        "events.jsonl:1: field `seats`: \"two\" is not a whole number");
  CHECK(error_of(r, "{\"time\":\"2026-01-05T12:00:00Z\",\"friend\":\"U1\",\"type\":\"reserved\",\"kind\":\"vip\"}\n") ==
        "events.jsonl:1: field `kind`: \"vip\" is not one of trial, regular");
  CHECK(error_of(r, "{\"time\":\"2026-01-05T12:00:00Z\",\"friend\":\"U1\",\"type\":\"reserved\",\"cours\":\"piano\"}\n") ==
        "events.jsonl:1: event `reserved` has no field `cours`");
  CHECK(error_of(r, "{\"time\":\"2026-01-05T12:00:00Z\",\"friend\":\"U1\"\n").rfind("events.jsonl:1: not valid JSON", 0) == 0);
}

TEST_CASE("LINE webhook bodies: mapping, deduplication, redelivery by timestamp", "[events][webhook]") {
  auto p = project();
  rt::EventCatalog cat(*p);
  rt::EventReader r(cat);
  const std::string body = R"({"destination":"Uxxxxxxxx","events":[
    {"type":"follow","mode":"active","timestamp":1767582000000,"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},
     "webhookEventId":"01H0000000000000000000000A","deliveryContext":{"isRedelivery":false},"replyToken":"r1","follow":{"isUnblocked":false}},
    {"type":"message","mode":"active","timestamp":1767582060000,"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},
     "webhookEventId":"01H0000000000000000000000B","deliveryContext":{"isRedelivery":false},"replyToken":"r2",
     "message":{"type":"text","id":"1","quoteToken":"q","text":"予約したい"}},
    {"type":"unsend","mode":"active","timestamp":1767582070000,"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},
     "webhookEventId":"01H0000000000000000000000C","deliveryContext":{"isRedelivery":false},"unsend":{"messageId":"1"}}]})";
  auto evs = r.read_webhook(body);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].type == "friend_added");
  CHECK(evs[0].reply_token == std::optional<std::string>("r1"));
  CHECK(evs[1].type == "message_received");
  CHECK(evs[1].fields.at("text").text == "予約したい");
  CHECK(r.ignored().at("unsend") == 1);
  // LINE redelivers the message event, and sends a postback that happened before it.
  const std::string again = R"({"destination":"U","events":[
    {"type":"message","mode":"active","timestamp":1767582060000,"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},
     "webhookEventId":"01H0000000000000000000000B","deliveryContext":{"isRedelivery":true},"replyToken":"r3",
     "message":{"type":"text","id":"1","quoteToken":"q","text":"予約したい"}},
    {"type":"postback","mode":"active","timestamp":1767582030000,"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},
     "webhookEventId":"01H0000000000000000000000D","deliveryContext":{"isRedelivery":true},"replyToken":"r4",
     "postback":{"data":"goal=diet"}}]})";
  auto more = r.read_webhook(again);
  REQUIRE(more.size() == 1);
  CHECK(r.duplicates() == 1);
  evs.insert(evs.end(), more.begin(), more.end());
  rt::sort_by_time(evs);
  CHECK(evs[1].type == "postback");  // placed by its timestamp, between the follow and the message
  CHECK(evs[1].fields.at("data").text == "goal=diet");
  CHECK(evs[1].redelivery);
}

TEST_CASE("a bad webhook body yields nothing", "[events][webhook]") {
  auto p = project();
  rt::EventCatalog cat(*p);
  rt::EventReader r(cat);
  const std::string body = R"({"destination":"U","events":[
    {"type":"follow","mode":"active","timestamp":1700000000001,"source":{"type":"user","userId":"U1"},"webhookEventId":"A","deliveryContext":{"isRedelivery":false}},
    {"type":"postback","mode":"active","timestamp":1700000000002,"source":{"type":"user","userId":"U1"},"webhookEventId":"B","deliveryContext":{"isRedelivery":false}}]})";
  try {
    r.read_webhook(body);
    FAIL("no error");
  } catch (const rt::EventError& e) {
    CHECK(std::string(e.what()) == "webhook event 1: field `postback` is missing");
  }
  // The good first event was not taken either: reading it again is not a duplicate.
  const auto evs = r.read_webhook(
      R"({"destination":"U","events":[{"type":"follow","mode":"active","timestamp":1700000000001,"source":{"type":"user","userId":"U1"},"webhookEventId":"A","deliveryContext":{"isRedelivery":false}}]})");
  CHECK(evs.size() == 1);
  CHECK(r.duplicates() == 0);
}

TEST_CASE("a webhook event without an id or with an impossible time is refused", "[events][webhook]") {
  auto p = project();
  rt::EventCatalog cat(*p);
  rt::EventReader r(cat);
  auto error_of = [&](const std::string& body) {
    try {
      r.read_webhook(body);
    } catch (const rt::EventError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(
      error_of(
          R"({"destination":"U","events":[{"type":"follow","mode":"active","timestamp":1700000000001,"source":{"type":"user","userId":"U1"},"webhookEventId":"","deliveryContext":{"isRedelivery":false}}]})") ==
      "webhook event 0: field `webhookEventId` is empty");
  CHECK(
      error_of(
          R"({"destination":"U","events":[{"type":"follow","mode":"active","timestamp":-9223372036854775808,"source":{"type":"user","userId":"U1"},"webhookEventId":"X","deliveryContext":{"isRedelivery":false}}]})") ==
      "webhook event 0: field `timestamp`: -9223372036854775808 is not a time between 2000 and 2200 in milliseconds");
  CHECK(
      error_of(
          R"({"destination":"U","events":[{"type":"follow","mode":"active","timestamp":99999999999999,"source":{"type":"user","userId":"U1"},"webhookEventId":"X","deliveryContext":{"isRedelivery":false}}]})") ==
      "webhook event 0: field `timestamp`: 99999999999999 is not a time between 2000 and 2200 in milliseconds");
}

TEST_CASE("standby events are marked; group and room events are not a friend's", "[events][webhook]") {
  auto p = project();
  rt::EventCatalog cat(*p);
  rt::EventReader r(cat);
  const std::string body = R"({"destination":"U","events":[
    {"type":"follow","mode":"standby","timestamp":1700000000001,"source":{"type":"user","userId":"U1"},"webhookEventId":"S1","deliveryContext":{"isRedelivery":false}},
    {"type":"message","mode":"active","timestamp":1700000000002,"source":{"type":"group","groupId":"Cg","userId":"U2"},"webhookEventId":"G1",
     "deliveryContext":{"isRedelivery":false},"replyToken":"rg","message":{"type":"text","id":"1","quoteToken":"q","text":"hi"}},
    {"type":"message","mode":"active","timestamp":1700000000003,"source":{"type":"room","roomId":"Ra","userId":"U3"},"webhookEventId":"R1",
     "deliveryContext":{"isRedelivery":false},"replyToken":"rr","message":{"type":"text","id":"2","quoteToken":"q","text":"hi"}},
    {"type":"follow","mode":"active","timestamp":1700000000004,"source":{"type":"user","userId":"U4"},"webhookEventId":"A4","deliveryContext":{"isRedelivery":false}},
    {"type":"follow","mode":"active","timestamp":1700000000004,"source":{"type":"user","userId":"U4"},"webhookEventId":"A4","deliveryContext":{"isRedelivery":false}}]})";
  const auto evs = r.read_webhook(body);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].friend_id == "U1");
  CHECK(evs[0].standby);
  CHECK(evs[1].friend_id == "U4");
  CHECK_FALSE(evs[1].standby);
  CHECK(r.ignored().at("message (from a group)") == 1);
  CHECK(r.ignored().at("message (from a room)") == 1);
  CHECK(r.duplicates() == 1);  // the same id twice in one body
}

TEST_CASE("an event nested deeper than the JSON depth limit is refused at its line", "[events]") {
  auto p = project();
  rt::EventCatalog cat(*p);
  rt::EventReader r(cat);
  auto nested = [](std::size_t depth) {
    return "{\"time\":\"2026-01-05T12:00:00+09:00\",\"friend\":\"U1\",\"type\":\"friend_added\",\"x\":" +
           std::string(depth, '[') + std::string(depth, ']') + "}\n";
  };
  // The object itself is one level: 255 arrays inside it reach the limit exactly, and the line
  // is read on (to the next complaint: friend_added has no field `x`).
  const std::string at_limit = error_of(r, nested(stdlib::kJsonDepthLimit - 1));
  CHECK(at_limit.find("deeper") == std::string::npos);
  CHECK(at_limit.find("no field `x`") != std::string::npos);
  const std::string deep = error_of(r, nested(stdlib::kJsonDepthLimit));
  CHECK(deep.find("events.jsonl:1") != std::string::npos);
  CHECK(deep.find("deeper than 256 levels") != std::string::npos);
  CHECK(error_of(r, nested(100000)).find("deeper than 256 levels") != std::string::npos);
  // Depth counts brackets outside strings only.
  CHECK_FALSE(stdlib::json_too_deep("\"" + std::string(1000, '[') + "\""));
  CHECK(stdlib::json_too_deep(std::string(257, '[')));
  CHECK_FALSE(stdlib::json_too_deep(std::string(256, '[')));
}

TEST_CASE("event times are RFC 3339 with fixed-width fields", "[events]") {
  // 2026-03-01T00:00:00Z is 1,772,323,200 seconds after the epoch.
  constexpr std::int64_t kMarch1 = 1772323200LL * 1000;
  CHECK(rt::parse_rfc3339_ms("2026-03-01T00:00:00Z") == kMarch1);
  CHECK(rt::parse_rfc3339_ms("2026-03-01T00:00:00z") == kMarch1);
  CHECK(rt::parse_rfc3339_ms("2026-03-01T09:00:00+09:00") == kMarch1);
  CHECK(rt::parse_rfc3339_ms("2026-02-28T23:30:00-00:30") == kMarch1);
  CHECK(rt::parse_rfc3339_ms("2026-03-01T00:00:00.326Z") == kMarch1 + 326);
  CHECK(rt::parse_rfc3339_ms("2026-03-01T00:00:00.5Z") == kMarch1 + 500);
  CHECK(rt::parse_rfc3339_ms("2026-03-01T00:00:00.123456Z") == kMarch1 + 123);
  CHECK(rt::parse_rfc3339_ms("2024-02-29T00:00:00Z").has_value());
  for (const char* bad : {
           "2026-03-01T-1:00:00Z",        // a sign where a digit belongs
           "2026-03-01T0+:00:00Z",        //
           "2026-3-01T00:00:00Z",         // a field too short
           "2026-03-1T00:00:00Z",         //
           "+026-03-01T00:00:00Z",        //
           "2025-02-29T00:00:00Z",        // no such day
           "2026-13-01T00:00:00Z",        //
           "2026-03-01T24:00:00Z",        //
           "2026-03-01T00:00:00",         // no offset
           "2026-03-01T00:00:00+9:00",    //
           "2026-03-01T00:00:00+09:00 ",  // trailing text
           "2026-03-01 00:00:00Z",        //
           "2026-03-01T00:00:00.Z",       //
       }) {
    INFO(bad);
    CHECK_FALSE(rt::parse_rfc3339_ms(bad).has_value());
  }
}
