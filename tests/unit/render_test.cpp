// The one renderer: every {…} the checker accepts, fallbacks, formats, and declared links turned
// into tracked URLs in texts and in the uri actions of JSON messages.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "compiler/literals.hpp"
#include "compiler/workspace.hpp"
#include "runtime/engine.hpp"

using namespace okuri;

namespace {

struct Tracker : rt::LinkTracker {
  std::string url(std::string_view link, std::string_view friend_id, std::string_view target) const override {
    return "https://t.example/" + std::string(link) + "/" + std::string(friend_id) + "?to=" + std::string(target);
  }
};

}  // namespace

TEST_CASE("render: values, fallbacks, formats and tracked links in texts and JSON messages", "[render]") {
  const auto dir = std::filesystem::temp_directory_path() / ("okuri-render-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "m");
  std::ofstream(dir / "m" / "card.json")
      << R"([{"type":"template","altText":"予約","template":{"type":"buttons","text":"t","actions":[{"type":"uri","label":"a","uri":"{lp}","altUri":{"desktop":"{lp}"}},{"type":"uri","label":"b","uri":"https://example.com/lp"},{"type":"uri","label":"c","uri":"https://other.example"}]}},)"
         R"({"type":"imagemap","baseUrl":"https://example.com/i","altText":"i","baseSize":{"width":1040,"height":1040},"actions":[{"type":"uri","linkUri":"{lp}","area":{"x":0,"y":0,"width":1040,"height":1040}}]}])";
  std::ofstream(dir / "main.okuri") << R"(
field at: datetime
field kind: one_of(piano, violin)
link lp "https://example.com/lp"
message t text "{display_name|お客}さま {kind|-} {at:ja|未定} {at:time|} {score} {lp}"
message card json "m/card.json"
on friend_added { send t, card }
)";
  auto p = compile_path(dir.string());
  REQUIRE(p->diags.error_count() == 0);
  Tracker tracker;
  rt::EngineOptions o;
  o.render = true;
  o.links = &tracker;
  rt::Engine e(*p, o);
  const stdlib::Zone zone("Asia/Tokyo");
  const std::int64_t t0 = zone.to_utc(days_from_civil(CivilDate{2026, 5, 12}), 12 * 60);
  const std::uint32_t row = e.friend_row("U1");
  e.start_at(t0);
  e.store().display_name[row] = e.store().texts.intern("花子");
  const int at = e.schema().field_index("at");
  e.store().fields[static_cast<std::size_t>(at)].values[row] =
      zone.to_utc(days_from_civil(CivilDate{2026, 5, 16}), 10 * 60);
  e.store().fields[static_cast<std::size_t>(at)].known.set(row, true);
  rt::InputEvent ev;
  ev.time_ms = t0 * 1000;
  ev.friend_id = "U1";
  ev.type = "friend_added";
  e.handle(ev);
  REQUIRE(e.deliveries().size() == 1);
  const auto msgs = nlohmann::json::parse(e.deliveries()[0].rendered);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0]["text"] == "花子さま - 5月16日(土) 10:00 10:00 0 https://t.example/lp/U1?to=https://example.com/lp");
  const auto& actions = msgs[1]["template"]["actions"];
  CHECK(actions[0]["uri"] == "https://t.example/lp/U1?to=https://example.com/lp");  // `{lp}`
  CHECK(actions[1]["uri"] == "https://t.example/lp/U1?to=https://example.com/lp");  // the link's own URL
  CHECK(actions[2]["uri"] == "https://other.example");                             // not a declared link
  CHECK(actions[0]["altUri"]["desktop"] == "https://t.example/lp/U1?to=https://example.com/lp");
  CHECK(msgs[2]["actions"][0]["linkUri"] == "https://t.example/lp/U1?to=https://example.com/lp");  // an imagemap's
  CHECK_FALSE(e.deliveries()[0].needs_profile);
  // A friend nobody knows: fallbacks, and the delivery says it read a profile it did not have.
  rt::InputEvent ev2 = ev;
  ev2.friend_id = "U2";
  e.handle(ev2);
  REQUIRE(e.deliveries().size() == 2);
  const auto m2 = nlohmann::json::parse(e.deliveries()[1].rendered);
  CHECK(m2[0]["text"] == "お客さま - 未定  0 https://t.example/lp/U2?to=https://example.com/lp");
  CHECK(e.deliveries()[1].needs_profile);
  // For no friend in particular (LINE's broadcast and narrowcast): the friend's data is unknown,
  // links go as declared, and the renderer says the text reads friend data.
  const std::vector<plan::MessageId> msg_ids = {0, 1};  // t, card
  rt::RenderContext anyone{e.store(), row, t0, zone, nullptr, &tracker, true};
  const auto m3 = nlohmann::json::parse(e.renderer().messages(msg_ids, anyone));
  CHECK(m3[0]["text"] == "お客さま - 未定   https://example.com/lp");
  CHECK(m3[1]["template"]["actions"][0]["uri"] == "https://example.com/lp");
  CHECK(e.renderer().reads_friend({0}));
  CHECK_FALSE(e.renderer().reads_friend({1}));
  std::filesystem::remove_all(dir);
}

TEST_CASE("render: dates in every format", "[render]") {
  const std::int64_t d = days_from_civil(CivilDate{2026, 5, 16});
  CHECK(rt::format_date_value(d, "") == "2026-05-16");
  CHECK(rt::format_date_value(d, "ja") == "5月16日(土)");
  CHECK(rt::format_date_value(d, "ja_year") == "2026年5月16日(土)");
  const stdlib::Zone zone("Asia/Tokyo");
  const std::int64_t t = zone.to_utc(days_from_civil(CivilDate{2026, 1, 4}), 9 * 60 + 5);
  CHECK(rt::format_datetime_value(t, "", zone) == "2026-01-04 09:05");
  CHECK(rt::format_datetime_value(t, "ja", zone) == "1月4日(日) 09:05");
  CHECK(rt::format_datetime_value(t, "date", zone) == "2026-01-04");
  CHECK(rt::format_datetime_value(t, "time", zone) == "09:05");
}
