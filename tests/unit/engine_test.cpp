// The runtime engine: delivery keys, split buckets, determinism, time
// arithmetic properties (quiet windows across midnight, month ends, leap day,
// friends added at 23:59), cascades, goals and webhook input.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <random>
#include <regex>
#include <set>

#include "compiler/literals.hpp"
#include "compiler/workspace.hpp"
#include "runtime/engine.hpp"
#include "runtime/event_input.hpp"
#include "runtime/report.hpp"
#include "stdlib/functions.hpp"

using namespace okuri;

namespace {

std::unique_ptr<Program> compile(const std::string& text) {
  auto p = compile_sources(".", {{"main.okuri", text}});
  for (const auto& d : p->diags.all()) {
    if (d.severity == Severity::Error) FAIL("unexpected error: " << d.message);
  }
  return p;
}

rt::InputEvent event(std::int64_t seconds, std::string friend_id, std::string type, std::string arg = {}) {
  rt::InputEvent e;
  e.time_ms = seconds * 1000;
  e.friend_id = std::move(friend_id);
  e.type = std::move(type);
  e.arg = std::move(arg);
  return e;
}

std::int64_t at(int y, int mo, int d, int h, int mi, const char* tz = "Asia/Tokyo") {
  return local_to_utc_seconds(CivilDateTime{CivilDate{y, mo, d}, h * 60 + mi}, tz);
}

std::vector<std::string> lines(const rt::Engine& e, std::int64_t to) {
  const stdlib::Zone zone(e.program().account.timezone.c_str());
  std::vector<std::string> out;
  for (const auto* d : rt::sorted_deliveries(e, to)) out.push_back(rt::delivery_line(e, *d, zone));
  return out;
}

}  // namespace

TEST_CASE("delivery keys are UUIDs derived from friend, flow, instance, node and occurrence", "[engine]") {
  const std::string k = rt::delivery_key("U1", "trial", 1, "trial/1", 0);
  CHECK(std::regex_match(k, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(k == rt::delivery_key("U1", "trial", 1, "trial/1", 0));
  std::set<std::string> keys{k, rt::delivery_key("U1", "trial", 1, "trial/1", 1), rt::delivery_key("U1", "trial", 2, "trial/1", 0),
                             rt::delivery_key("U2", "trial", 1, "trial/1", 0), rt::delivery_key("U1", "trial", 1, "trial/2", 0),
                             rt::delivery_key("U1", "other", 1, "trial/1", 0)};
  CHECK(keys.size() == 6);
}

TEST_CASE("split buckets are stable and uniform", "[engine]") {
  int below = 0;
  std::array<int, 100> hist{};
  for (int i = 0; i < 100000; ++i) {
    const int b = rt::split_bucket(fmt::format("U{:032x}", i * 7919), "trial", "trial/5");
    REQUIRE(b >= 0);
    REQUIRE(b < 100);
    ++hist[static_cast<std::size_t>(b)];
    below += b < 45 ? 1 : 0;
  }
  CHECK(below > 44000);
  CHECK(below < 46000);
  for (int h : hist) CHECK(h > 850);
  // Another split of the same scenario assigns independently.
  int same = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = fmt::format("U{}", i);
    same += (rt::split_bucket(id, "s", "s/1") < 50) == (rt::split_bucket(id, "s", "s/2") < 50) ? 1 : 0;
  }
  CHECK(same > 4700);
  CHECK(same < 5300);
}

TEST_CASE("quiet hours and waits: properties over random times", "[engine][time]") {
  std::mt19937_64 rng(20261202);
  const std::vector<std::pair<int, int>> windows = {{22 * 60, 8 * 60}, {21 * 60 + 30, 9 * 60}, {0, 6 * 60}, {12 * 60, 13 * 60},
                                                    {23 * 60 + 59, 0 * 60 + 1}};
  const std::vector<CivilDateTime> edges = {
      {{2026, 1, 31}, 23 * 60 + 59}, {{2026, 2, 28}, 23 * 60 + 59}, {{2028, 2, 28}, 23 * 60 + 59}, {{2028, 2, 29}, 21 * 60 + 59},
      {{2026, 12, 31}, 23 * 60 + 59}, {{2026, 4, 30}, 7 * 60 + 59}, {{2027, 2, 28}, 22 * 60}};
  for (const auto& [from, to] : windows) {
    for (int hhmm : {0, 9 * 60, 20 * 60, 23 * 60 + 30}) {
      const std::string text = fmt::format(
          "account {{\n  quiet_hours {} - {}\n}}\nevent signup {{}}\nmessage a text \"a\"\nmessage b text \"b\"\nmessage c text \"c\"\n"
          "scenario s {{\n  start on signup\n  send a\n  wait 1d at {}\n  send b\n  wait 3h\n  send c\n}}\n",
          format_time(from), format_time(to), format_time(hhmm));
      auto p = compile(text);
      rt::Engine e(*p);
      std::vector<std::int64_t> times;
      for (const auto& c : edges) times.push_back(local_to_utc_seconds(c, "Asia/Tokyo"));
      for (int i = 0; i < 40; ++i) times.push_back(at(2026, 1, 1, 0, 0) + static_cast<std::int64_t>(rng() % (800LL * 86400)));
      std::sort(times.begin(), times.end());
      for (std::size_t i = 0; i < times.size(); ++i) e.handle(event(times[i], fmt::format("U{}", i), "signup"));
      e.run_until(times.back() + 10 * 86400);
      const stdlib::Zone zone("Asia/Tokyo");
      std::map<std::uint32_t, std::int64_t> last;
      std::map<std::uint32_t, std::vector<const rt::Delivery*>> per_friend;
      for (const auto& d : e.deliveries()) per_friend[d.row].push_back(&d);
      REQUIRE(per_friend.size() == times.size());
      for (const auto& [row, ds] : per_friend) {
        REQUIRE(ds.size() == 3);
        const std::int64_t added = times[row];
        // Logical times: a at the signup; b at the next calendar day's HH:MM; c three hours later.
        const std::int64_t day = zone.local_days(added);
        CHECK(ds[0]->logical == added);
        CHECK(ds[1]->logical == zone.to_utc(day + 1, hhmm));
        CHECK(ds[2]->logical == ds[1]->logical + 3 * 3600);
        for (const auto* d : ds) {
          INFO("window " << from << "-" << to << ", friend " << row << ", logical " << d->logical << ", time " << d->time);
          CHECK(d->time >= d->logical);
          CHECK_FALSE(p->account.in_quiet_hours(static_cast<MinuteOfDay>(zone.local_minute(d->time))));
          if (!p->account.in_quiet_hours(static_cast<MinuteOfDay>(zone.local_minute(d->logical))) &&
              d->logical >= last[row]) {
            CHECK(d->time == d->logical);  // nothing to move
          } else {
            CHECK(d->time - d->logical < 86400 + 3 * 3600);  // moved to the end of one window at most
          }
          CHECK(d->time >= last[row]);  // a friend's pushes keep their order
          last[row] = d->time;
        }
      }
    }
  }
}

TEST_CASE("the same input gives byte-identical output", "[engine]") {
  auto p = compile(
      "event signup {}\nlink lp \"https://x.example\"\nmessage a text \"a\"\nmessage b text \"b\"\nmessage c text \"c\"\n"
      "on link_clicked(lp) { score += 1 }\n"
      "scenario s {\n  start on signup\n  restart always\n  split {\n    30% x => send a\n    70% y => send b\n  }\n"
      "  wait up to 2d for {\n    on link_clicked(lp) => { send c }\n    timeout => { pass }\n  }\n  send a\n}\n");
  auto run = [&] {
    rt::Engine e(*p);
    std::mt19937 rng(7);
    const std::int64_t t0 = at(2026, 3, 1, 9, 0);
    std::vector<rt::InputEvent> evs;
    for (int i = 0; i < 2000; ++i) {
      const std::int64_t t = t0 + static_cast<std::int64_t>(rng() % (30 * 86400));
      const std::string f = fmt::format("U{}", rng() % 300);
      evs.push_back(rng() % 3 == 0 ? event(t, f, "signup") : event(t, f, "link_clicked", "lp"));
    }
    rt::sort_by_time(evs);
    for (const auto& ev : evs) e.handle(ev);
    e.run_until(t0 + 60 * 86400);
    return lines(e, t0 + 60 * 86400);
  };
  const auto a = run();
  const auto b = run();
  CHECK(a.size() > 500);
  CHECK(a == b);
}

TEST_CASE("rules that keep raising each other are stopped, and the run goes on", "[engine]") {
  auto p = compile(
      "tag t\nevent poke {}\nmessage done text \"d\"\n"
      "on tag_added(t) { untag t }\non tag_removed(t) { tag t }\non poke { tag t; send done }\n");
  rt::Engine e(*p);
  e.handle(event(at(2026, 5, 1, 12, 0), "U1", "poke"));
  e.handle(event(at(2026, 5, 1, 13, 0), "U2", "poke"));
  CHECK(e.cascade_stops() == 2);
  CHECK(e.deliveries().size() == 2);
}

TEST_CASE("goals count conversions in the funnel", "[engine]") {
  auto p = compile(
      "tag bought\nevent purchase {}\nevent signup {}\nmessage hi text \"hi\"\n"
      "on purchase { tag bought }\n"
      "scenario s {\n  start on signup\n  send hi\n  goal tagged(bought) within 3d\n  wait 10d\n  send hi\n}\n");
  rt::Engine e(*p);
  const std::int64_t t0 = at(2026, 6, 1, 12, 0);
  e.handle(event(t0, "U1", "signup"));
  e.handle(event(t0, "U2", "signup"));
  e.handle(event(t0, "U3", "signup"));
  e.handle(event(t0 + 86400, "U1", "purchase"));      // within 3 days: converted
  e.handle(event(t0 + 5 * 86400, "U2", "purchase"));  // too late
  e.run_until(t0 + 30 * 86400);
  const auto& st = e.stats()[0];
  CHECK(st.entered == 3);
  CHECK(st.converted == 1);
  CHECK(st.completed == 3);
  const auto wait = e.flow(0).find("s/3");
  REQUIRE(wait);
  CHECK(st.steps[*wait].converted == 1);  // U1 was waiting there when it bought
  CHECK(st.steps[*wait].entered == 3);
  CHECK(st.steps[*wait].passed == 3);
}

TEST_CASE("webhook bodies drive the engine: follow is answered with a free reply", "[engine]") {
  auto p = compile("message welcome text \"hi\"\nscenario s {\n  start on friend_added\n  send welcome\n}\n");
  rt::EventCatalog cat(*p);
  rt::EventReader r(cat);
  const auto evs = r.read_webhook(
      R"({"destination":"Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","events":[{"type":"follow","mode":"active","timestamp":1767582000000,)"
      R"("source":{"type":"user","userId":"U4af4980629000000000000000000000a"},"webhookEventId":"01H00000000000000000000001",)"
      R"("deliveryContext":{"isRedelivery":false},"replyToken":"nHuyWiB7yP5Zw52FIkcQobQuGDXCTA","follow":{"isUnblocked":false}}]})");
  REQUIRE(evs.size() == 1);
  rt::Engine e(*p);
  e.handle(evs[0]);
  REQUIRE(e.deliveries().size() == 1);
  CHECK(e.deliveries()[0].reply);
  CHECK(e.store().id_of(e.deliveries()[0].row) == "U4af4980629000000000000000000000a");
}

TEST_CASE("start when with a date enters at local midnight", "[engine][time]") {
  auto p = compile(
      "field birthday: date\nevent reg { birthday: date }\nmessage card text \"c\"\n"
      "on reg { set birthday = event.birthday }\n"
      "scenario bd {\n  start when month(birthday) == month(today)\n  restart after 300d\n  wait until 10:00\n  send card\n}\n");
  rt::Engine e(*p);
  rt::InputEvent ev = event(at(2026, 5, 10, 15, 0), "U1", "reg");
  ev.fields["birthday"] = rt::FieldValue{false, days_from_civil(CivilDate{1990, 6, 3}), {}};
  e.handle(ev);
  e.run_until(at(2026, 7, 1, 0, 0));
  REQUIRE(e.deliveries().size() == 1);
  CHECK(e.deliveries()[0].time == at(2026, 6, 1, 10, 0));
}
