// The runtime engine: delivery keys, split buckets, determinism, time
// arithmetic properties (quiet windows across midnight, month ends, leap day,
// friends added at 23:59), cascades, goals and webhook input.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
  // The keys of deliveries already in an outbox must not change from one version to the next:
  // pinned, for a short input and one too long for the key's buffer on the stack.
  CHECK(k == "8f5fdd16-67d1-89b2-a24a-e788523899d4");
  CHECK(rt::delivery_key("U0123456789abcdef0123456789abcdef", "broadcast_spring", 4294967295u, std::string(300, 'n'),
                         4000000000u) == "5e553dd9-10ed-814c-8fb2-2080d3aac75f");
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

TEST_CASE("scores saturate at the ends of 64 bits instead of wrapping", "[engine]") {
  auto p = compile(
      "score big\nevent up {}\nevent down {}\n"
      "on up { score += 9223372036854775807; score(big) -= 9223372036854775807 }\n"
      "on down { score(big) -= 9223372036854775807 }\n");
  rt::Engine e(*p);
  const std::int64_t t0 = at(2026, 6, 1, 12, 0);
  e.handle(event(t0, "U1", "up"));
  e.handle(event(t0 + 1, "U1", "up"));
  e.handle(event(t0 + 2, "U1", "down"));
  const auto row = *e.store().find("U1");
  CHECK(e.store().score[row] == INT64_MAX);
  CHECK(e.store().named_scores[0][row] == INT64_MIN);
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

namespace {
// A friend added at `t0` to v1, then v2 takes over at `t1`; the deliveries of both until `to`.
struct Reload {
  std::unique_ptr<Program> p1, p2;
  std::unique_ptr<rt::Engine> e1, e2;
  rt::Engine::TakeOver sum;
  std::vector<std::string> before, after;
  Reload(const std::string& v1, const std::string& v2, std::int64_t t0, std::int64_t t1, std::int64_t to,
         const std::vector<rt::InputEvent>& more = {}) {
    p1 = compile(v1);
    p2 = compile(v2);
    e1 = std::make_unique<rt::Engine>(*p1);
    e1->handle(event(t0, "U1", "friend_added"));
    for (const auto& ev : more) e1->handle(ev);
    e1->run_until(t1);
    before = lines(*e1, t1);
    e2 = std::make_unique<rt::Engine>(*p2);
    e2->start_at(e1->now());
    sum = e2->take_over(*e1);
    e2->run_until(to);
    after = lines(*e2, to);
  }
};

std::string message_texts(const std::vector<std::string>& ls) {
  std::string out;
  for (const auto& l : ls) {
    const auto at = l.find("\"messages\":[\"");
    out += (out.empty() ? "" : ",") + (at == std::string::npos ? l : l.substr(at + 13, l.find('"', at + 13) - at - 13));
  }
  return out;
}

const char* kV1 = R"(
message a text "a"
message b text "b"
message c text "c"
tag vip
scenario s {
  start on friend_added
  on_update POLICY
  send a
  step first {
    wait 1d
    send b
  }
  wait 2d
  send c
}
)";

std::string with(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}
}  // namespace

TEST_CASE("a new version takes over friends mid-way by each scenario's on_update", "[engine][reload]") {
  const std::int64_t t0 = at(2026, 3, 2, 10, 0);
  const std::int64_t hour = 3600;
  SECTION("continue: the same step keeps its wake-up time even when the wait changed") {
    const std::string v1 = with(kV1, "POLICY", "continue");
    Reload r(v1, with(v1, "wait 1d", "wait 3d"), t0, t0 + hour, t0 + 10 * 86400);
    CHECK(message_texts(r.before) == "a");
    CHECK(r.sum.friends == 1);
    CHECK(r.sum.waiting == 1);
    REQUIRE(r.after.size() == 2);
    CHECK(message_texts(r.after) == "b,c");
    CHECK(r.after[0].find("2026-03-03T10:00:00+09:00") != std::string::npos);  // the old deadline: 1d after joining
  }
  SECTION("continue: a removed wait goes on at the next step that survives, now") {
    const std::string v1 = with(kV1, "POLICY", "continue");
    const std::string v2 = with(v1, "  step first {\n    wait 1d\n    send b\n  }\n", "  step first {\n    send b\n  }\n");
    Reload r(v1, v2, t0, t0 + hour, t0 + 10 * 86400);
    CHECK(r.sum.moved == 1);
    REQUIRE(message_texts(r.after) == "b,c");
    CHECK(r.after[0].find("2026-03-02T11:00:00+09:00") != std::string::npos);  // at the update
  }
  SECTION("restart: from the top of the new version, with new delivery keys") {
    const std::string v1 = with(kV1, "POLICY", "restart");
    Reload r(v1, with(v1, "wait 2d", "wait 3d"), t0, t0 + hour, t0 + 10 * 86400);
    CHECK(r.sum.restarted == 1);
    CHECK(message_texts(r.after) == "a,b,c");
    const auto key = [](const std::string& l) { return l.substr(l.find("\"key\"")); };
    CHECK(key(r.after[0]) != key(r.before[0]));
  }
  SECTION("exit: the friend leaves and gets nothing more") {
    const std::string v1 = with(kV1, "POLICY", "exit");
    Reload r(v1, with(v1, "wait 2d", "wait 3d"), t0, t0 + hour, t0 + 10 * 86400);
    CHECK(r.sum.exited == 1);
    CHECK(r.after.empty());
    CHECK(!r.e2->position(0, 0));
  }
  SECTION("restart and exit leave a scenario that did not change alone, whatever else changed") {
    for (const char* policy : {"restart", "exit"}) {
      INFO(policy);
      const std::string v1 = with(kV1, "POLICY", policy);
      Reload r(v1, with(with(v1, "text \"a\"", "text \"a2\""), "tag vip", "tag vip, newcomer"), t0, t0 + hour,
               t0 + 10 * 86400);
      CHECK(r.sum.restarted == 0);
      CHECK(r.sum.exited == 0);
      CHECK(r.sum.waiting == 1);
      CHECK(message_texts(r.after) == "b,c");  // nothing sent again, nothing dropped
    }
  }
  SECTION("a removed scenario lets its friends go; a renamed one starts as new") {
    const std::string v1 = with(kV1, "POLICY", "continue");
    Reload r(v1, with(v1, "scenario s {", "scenario s2 {"), t0, t0 + hour, t0 + 10 * 86400);
    CHECK(r.sum.exited == 1);
    CHECK(r.after.empty());
    CHECK(!r.e2->ever_entered(0, 0));
  }
}

TEST_CASE("a new version keeps tags, fields and scores by name", "[engine][reload]") {
  const std::string v1 = R"(
tag vip
tag trial
field plan: one_of(basic, pro)
field likes: set_of(knit, coat)
field note: text
field age2: int
score engagement
message a text "a"
on friend_added { tag vip; set plan = pro; set likes = [coat]; set note = "メモ"; set age2 = 30; score(engagement) += 4; score += 2 }
)";
  const std::string v2 = R"(
tag newcomer
tag vip
field plan: one_of(pro, basic, enterprise)
field likes: set_of(coat, hat)
field note: text
field age2: text
score engagement
message a text "a"
)";
  const std::int64_t t0 = at(2026, 3, 2, 10, 0);
  Reload r(v1, v2, t0, t0 + 60, t0 + 120);
  CHECK(r.e1->store().score[0] == 2);
  CHECK(r.e2->store().score[0] == 2);
  // The scan columns follow score updates and the move to the new version.
  CHECK(r.e1->store().scan_columns_agree());
  CHECK(r.e2->store().scan_columns_agree());
  CHECK(r.e2->store().size() == 1);
  const auto& st = r.e2->store();
  const auto& sc = r.e2->schema();
  CHECK(st.tags[static_cast<std::size_t>(sc.tag_index("vip"))].get(0));
  CHECK(!st.tags[static_cast<std::size_t>(sc.tag_index("newcomer"))].get(0));
  auto field = [&](const char* name) -> const rt::FriendStore::Column& { return st.fields[static_cast<std::size_t>(sc.field_index(name))]; };
  CHECK(field("plan").known.get(0));
  CHECK(field("plan").values[0] == 0);  // pro is first in the new version
  CHECK(field("likes").values[0] == 1);  // coat is now the first value: bit 0
  CHECK(st.texts.get(static_cast<std::int32_t>(field("note").values[0])) == "メモ");
  CHECK(st.named_scores[0][0] == 4);
  // A field whose type changed is unknown in the new version.
  CHECK(!r.e2->store().fields[static_cast<std::size_t>(r.e2->schema().field_index("age2"))].known.get(0));
}

TEST_CASE("a new version does not send again a broadcast the old one sent", "[engine][reload]") {
  const std::string v1 = R"(
message news text "news"
broadcast weekly at 2026-03-02 12:00 {
  send news
}
)";
  const std::int64_t t0 = at(2026, 3, 2, 10, 0);
  const std::int64_t noon = at(2026, 3, 2, 12, 0);
  // The reload happens at the very second of the broadcast, after the old version sent it.
  Reload r(v1, with(v1, "text \"news\"", "text \"news!\""), t0, noon, noon + 86400);
  CHECK(r.before.size() == 1);
  CHECK(r.after.empty());
  // A broadcast the new version adds later than now is sent.
  Reload r2(v1, v1 + "broadcast later at 2026-03-03 12:00 {\n  send news\n}\n", t0, noon, noon + 2 * 86400);
  CHECK(r2.before.size() == 1);
  CHECK(r2.after.size() == 1);
}

TEST_CASE("a restart from a clock saved at a broadcast's second does not send it again", "[engine][restart]") {
  auto p = compile("message news text \"news\"\nbroadcast weekly at 2026-03-02 12:00 {\n  send news\n}\n");
  const std::int64_t t0 = at(2026, 3, 2, 10, 0);
  const std::int64_t noon = at(2026, 3, 2, 12, 0);
  rt::Engine e1(*p);
  e1.handle(event(t0, "U1", "friend_added"));
  e1.run_until(noon);  // the service saves the clock (noon) with the friend's state
  REQUIRE(lines(e1, noon).size() == 1);
  const std::string state = e1.export_friend(0);
  // The process restarts: the friends and the saved clock are loaded.
  rt::Engine e2(*p);
  e2.resume_at(noon);
  e2.import_friend(e2.friend_row("U1"), state);
  e2.take_deliveries();
  e2.run_until(noon + 60);
  CHECK(lines(e2, noon + 60).empty());
  // A fresh start at that very second still sends it.
  rt::Engine e3(*p);
  e3.start_at(noon);
  e3.friend_row("U1");
  e3.run_until(noon + 60);
  CHECK(lines(e3, noon + 60).size() == 1);
}

TEST_CASE("add and remove change some items of a set_of field and raise field_changed", "[engine]") {
  auto p = compile(
      "field likes: set_of(knit, coat, shoes)\nevent more {}\nevent less {}\nmessage changed text \"x\"\n"
      "on more { add knit, coat to likes }\non less { remove coat, shoes from likes }\n"
      "on field_changed(likes) { send changed }\n");
  rt::Engine e(*p);
  const std::int64_t t0 = at(2026, 6, 1, 12, 0);
  e.start_at(t0);
  const auto col = static_cast<std::size_t>(e.schema().field_index("likes"));
  // Removing from an unknown set leaves it unknown (and changes nothing).
  e.handle(event(t0, "U1", "less"));
  const auto row = *e.store().find("U1");
  CHECK_FALSE(e.store().fields[col].known.get(row));
  // Adding to an unknown set starts it with those items.
  e.handle(event(t0 + 60, "U1", "more"));
  CHECK(e.store().fields[col].known.get(row));
  CHECK(e.store().fields[col].values[row] == 0b011);
  // Adding what is there changes nothing; removing keeps the other items.
  e.handle(event(t0 + 120, "U1", "more"));
  e.handle(event(t0 + 180, "U1", "less"));
  CHECK(e.store().fields[col].values[row] == 0b001);
  e.run_until(t0 + 86400);
  std::size_t changes = 0;
  for (const auto& d : e.deliveries()) changes += d.row == row ? 1 : 0;
  CHECK(changes == 2);  // the first add and the last remove
}

TEST_CASE("a delivery line is JSON whatever the friend id holds", "[engine]") {
  auto p = compile("message hello text \"hi\"\non friend_added { send hello }\n");
  rt::Engine e(*p);
  const std::vector<std::string> ids = {
      "U0123456789abcdef0123456789abcdef",  // a LINE id: rebuilt from its packed bytes
      "plain-friend-id-longer-than-eight",
      "quote\"in the middle of a long id",
      "back\\slash",
      std::string("control\x01"
                  "and\ttab\nnewline",
                  24),
      "友だち「山田」さん\"",
      "12345678\"",   // the escape just after a whole word of plain bytes
      "a\"b",         // shorter than a word
      "1234567\"",    // the escape as a word's last byte
      "abcdefgh\\x",  // in the bytes after the last whole word
      "x",
  };
  const std::int64_t t = at(2026, 3, 1, 12, 0);
  for (std::size_t i = 0; i < ids.size(); ++i)
    e.handle(event(t + static_cast<std::int64_t>(i), ids[i], "friend_added"));
  const auto out = lines(e, t + 3600);
  REQUIRE(out.size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    INFO(out[i]);
    const auto j = nlohmann::json::parse(out[i]);
    CHECK(j.at("friend").get<std::string>() == ids[i]);
    CHECK(j.at("time").get<std::string>() == fmt::format("2026-03-01T12:00:{:02}+09:00", i));
    CHECK(j.at("messages") == nlohmann::json::array({"hello"}));
  }
}

TEST_CASE("a delivery sink gets every delivery as it is made, in the order they are kept without one", "[engine]") {
  auto p = compile(
      "account { quiet_hours 22:00 - 08:00 }\n"
      "message hello text \"hi\"\nmessage later text \"later\"\n"
      "scenario s {\n  start on friend_added\n  send hello\n  wait 1d at 23:00\n  send later\n}\n");
  rt::Engine kept(*p), sunk(*p);
  std::vector<rt::Delivery> seen;
  sunk.deliver_to([&](rt::Delivery&& d) { seen.push_back(std::move(d)); });
  const std::int64_t t = at(2026, 3, 1, 12, 0);
  for (auto* e : {&kept, &sunk}) {
    e->start_at(t);
    for (int i = 0; i < 5; ++i) e->handle(event(t + i, fmt::format("U{}", i), "friend_added"));
    e->run_until(t + 3 * 86400);
  }
  CHECK(sunk.take_deliveries().empty());
  const auto expected = kept.take_deliveries();
  REQUIRE(expected.size() == 10);  // a hello each, and the later one deferred out of the quiet hours
  REQUIRE(seen.size() == expected.size());
  const stdlib::Zone zone(p->account.timezone.c_str());
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(rt::delivery_line(sunk, seen[i], zone) == rt::delivery_line(kept, expected[i], zone));
  }
  CHECK(seen.back().deferred_by == "quiet hours");
  // Appending a line to a buffer writes the same line after what the buffer held.
  std::string buf = "before\n";
  rt::append_delivery_line(buf, kept, expected.back(), zone);
  CHECK(buf == "before\n" + rt::delivery_line(kept, expected.back(), zone));
  CHECK(nlohmann::json::parse(buf.substr(7)).at("logical_time").get<std::string>().size() == 25);
}
