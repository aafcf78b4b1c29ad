#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "runtime/event_input.hpp"
#include "service/inbox_event.hpp"

using namespace okuri;

namespace {
// Every member, so a test fails on any one the encoding drops.
void require_same(const rt::InputEvent& a, const rt::InputEvent& b) {
  CHECK(a.time_ms == b.time_ms);
  CHECK(a.friend_id == b.friend_id);
  CHECK(a.type == b.type);
  CHECK(a.arg == b.arg);
  CHECK(a.reply_token == b.reply_token);
  CHECK(a.webhook_event_id == b.webhook_event_id);
  CHECK(a.redelivery == b.redelivery);
  CHECK(a.standby == b.standby);
  CHECK(a.origin == b.origin);
  REQUIRE(a.fields.size() == b.fields.size());
  for (auto x = a.fields.begin(), y = b.fields.begin(); x != a.fields.end(); ++x, ++y) {
    CHECK(x->first == y->first);
    CHECK(x->second.is_text == y->second.is_text);
    CHECK(x->second.i == y->second.i);
    CHECK(x->second.text == y->second.text);
  }
}

rt::InputEvent round_trip(const rt::InputEvent& ev) { return svc::decode_inbox_event(svc::encode_inbox_event(ev)); }

rt::InputEvent full_event() {
  rt::InputEvent ev;
  ev.time_ms = 1767582000250;
  ev.friend_id = "U4af4980629a1b2c3d4e5f60718293a4b";
  ev.type = "reserved";
  ev.arg = "trial_lp";
  ev.fields["at"] = rt::FieldValue{false, 1768899600, ""};
  ev.fields["course"] = rt::FieldValue{true, 0, "piano"};
  ev.fields["seats"] = rt::FieldValue{false, -2, ""};
  ev.reply_token = "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA";
  ev.webhook_event_id = "01H0000000000000000000000A";
  ev.redelivery = true;
  ev.standby = true;
  ev.origin = "webhook event 3";
  return ev;
}

std::string error_of(std::string_view bytes) {
  try {
    svc::decode_inbox_event(bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("an inbox event with every member set comes back the same", "[inbox]") {
  const auto ev = full_event();
  require_same(round_trip(ev), ev);
}

TEST_CASE("an empty inbox event, and one whose reply token is absent or empty", "[inbox]") {
  const rt::InputEvent empty;
  const auto bytes = svc::encode_inbox_event(empty);
  CHECK(bytes.size() == 9);  // version, time, flags, five empty texts (no reply token), no fields
  const auto back = svc::decode_inbox_event(bytes);
  require_same(back, empty);
  CHECK_FALSE(back.reply_token.has_value());

  auto ev = full_event();
  ev.reply_token.reset();
  ev.redelivery = false;
  require_same(round_trip(ev), ev);
  // An empty reply token is still a reply token.
  ev.reply_token = "";
  const auto with_empty = round_trip(ev);
  REQUIRE(with_empty.reply_token.has_value());
  CHECK(with_empty.reply_token->empty());
}

TEST_CASE("inbox event texts are kept byte for byte", "[inbox]") {
  rt::InputEvent ev;
  ev.type = "message_received";
  ev.fields["text"] = rt::FieldValue{true, 0, "予約したい 🎹\n\"quoted\"\\"};
  ev.fields["zero"] = rt::FieldValue{true, 0, std::string("a\0b\xff\x80", 5)};
  ev.fields["名前"] = rt::FieldValue{true, 0, "山田"};
  ev.arg = std::string(300, '\0');  // a length past one varint byte
  ev.origin = "events.jsonl:12";
  require_same(round_trip(ev), ev);
}

TEST_CASE("inbox event numbers at their limits, and fields keeping both a number and a text", "[inbox]") {
  for (const std::int64_t t : {INT64_MIN, INT64_MIN + 1, std::int64_t{-1}, std::int64_t{0}, std::int64_t{63},
                               std::int64_t{64}, INT64_MAX - 1, INT64_MAX}) {
    rt::InputEvent ev;
    ev.time_ms = t;
    ev.fields["n"] = rt::FieldValue{false, t, ""};
    ev.fields["both"] = rt::FieldValue{true, t, "x"};
    require_same(round_trip(ev), ev);
  }
}

TEST_CASE("an inbox event with many fields", "[inbox]") {
  auto ev = full_event();
  for (int n = 0; n < 1000; ++n) {
    const auto name = "f" + std::to_string(n);
    ev.fields[name] = n % 2 ? rt::FieldValue{true, 0, std::string(static_cast<std::size_t>(n), 'x')}
                            : rt::FieldValue{false, static_cast<std::int64_t>(n) * -1000003, ""};
  }
  require_same(round_trip(ev), ev);
}

TEST_CASE("inbox event bytes cut short anywhere are refused", "[inbox]") {
  const auto bytes = svc::encode_inbox_event(full_event());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("cut at " << n);
    // A copy of exactly n bytes, so a read past the end shows under a sanitizer.
    const std::string cut = bytes.substr(0, n);
    const auto e = error_of(cut);
    CHECK(e.rfind("inbox event: truncated: ", 0) == 0);
  }
  CHECK(error_of("") == "inbox event: truncated: the version byte is missing (byte 0 of 0)");
}

TEST_CASE("malformed inbox event bytes are refused with what is wrong", "[inbox]") {
  const auto good = svc::encode_inbox_event(full_event());
  auto bytes = good;
  bytes[0] = 2;
  CHECK(error_of(bytes) == "inbox event: version 2 is not one this Okuri reads (1)");
  bytes[0] = 0;
  CHECK(error_of(bytes) == "inbox event: version 0 is not one this Okuri reads (1)");

  CHECK(error_of(good + "x").rfind("inbox event: bytes left over after the event", 0) == 0);

  rt::InputEvent ev;
  auto flags = svc::encode_inbox_event(ev);
  flags[2] = 8;  // after the version and a one-byte time
  CHECK(error_of(flags) == "inbox event: unknown flags 8 (byte 3 of 9)");

  // A text length far past the end (and past what a size_t addition would wrap).
  std::string huge = std::string("\x01\x00\x00", 3) + std::string(9, '\xff') + '\x01';
  CHECK(error_of(huge).rfind("inbox event: truncated: the friend id has 18446744073709551615 bytes", 0) == 0);
  // A varint longer than 64 bits.
  CHECK(error_of(std::string("\x01", 1) + std::string(10, '\xff') + '\x01') ==
        "inbox event: the time does not fit 64 bits (byte 11 of 12)");

  ev.fields["a"] = rt::FieldValue{false, 1, ""};
  auto kind = svc::encode_inbox_event(ev);
  kind[kind.size() - 3] = 7;  // the kind byte: then the number 1 and the empty text
  CHECK(error_of(kind).rfind("inbox event: field `a` has unknown kind 7", 0) == 0);

  // The same field twice: a map never encodes that.
  ev.fields.clear();
  auto twice = svc::encode_inbox_event(ev);
  twice.back() = 2;  // the field count
  for (int n = 0; n < 2; ++n) twice += std::string{'\x01', 'a', '\x00', '\x02', '\x00'};
  CHECK(error_of(twice).rfind("inbox event: field `a` is out of order", 0) == 0);
}

TEST_CASE("random damage to inbox event bytes never escapes as anything but an error", "[inbox]") {
  const auto good = svc::encode_inbox_event(full_event());
  std::uint64_t seed = 20240611;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(seed >> 33);
  };
  for (int round = 0; round < 5000; ++round) {
    auto bytes = good;
    for (int k = 1 + static_cast<int>(next() % 4); k > 0; --k)
      bytes[next() % bytes.size()] = static_cast<char>(next() & 0xFF);
    bytes.resize(next() % (bytes.size() + 1));
    try {
      svc::decode_inbox_event(bytes);
    } catch (const std::runtime_error&) {
    }
  }
  SUCCEED();
}
