#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "compiler/flow_plan.hpp"
#include "compiler/workspace.hpp"

using namespace okuri;

namespace {
std::vector<std::string> codes(const std::string& src) {
  auto p = compile_sources(".", {{"t.okuri", src}});
  std::vector<std::string> out;
  for (const auto& d : p->diags.all()) out.push_back(std::string(info(d.code).name) + " " + d.message);
  return out;
}
bool has(const std::vector<std::string>& v, const std::string& prefix) {
  for (const auto& s : v) {
    if (s.rfind(prefix, 0) == 0) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("W102 finds empty integer ranges", "[checker][w102]") {
  CHECK(has(codes("segment s = age in 30..20\n"), "W102 condition is always false: `age in 30..20` is an empty range"));
  CHECK(has(codes("segment s = age > 30 and age < 20\n"), "W102 condition is always false"));
  CHECK(has(codes("segment s = age > 30 and score > 1 and age <= 30\n"), "W102"));
  CHECK(has(codes("segment s = age >= 20 and age in 10..19\n"), "W102"));
  CHECK_FALSE(has(codes("segment s = age > 20 and age < 30\n"), "W102"));
  CHECK_FALSE(has(codes("segment s = age > 30 or age < 20\n"), "W102"));
}

TEST_CASE("W102 finds empty enum sets", "[checker][w102]") {
  CHECK(has(codes("segment s = gender == male and gender == female\n"), "W102"));
  CHECK(has(codes("segment s = region in [tokyo, osaka] and region in [chiba]\n"), "W102"));
  CHECK(has(codes("segment s = region in [tokyo] and region not in [tokyo]\n"), "W102"));
  CHECK_FALSE(has(codes("segment s = region in [tokyo, osaka] and region in [osaka]\n"), "W102"));
  // hyougo is hyogo.
  CHECK_FALSE(has(codes("segment s = region in [hyougo] and region == hyogo\n"), "W102"));
}

TEST_CASE("W102 looks inside or and not", "[checker][w102]") {
  CHECK(has(codes("segment s = tagged(a) or (age > 5 and age < 3)\ntag a\n"), "W102"));
  CHECK(has(codes("segment s = not (gender == male and gender == other)\n"), "W102"));
}

TEST_CASE("W102 always true on always-known attributes", "[checker][w102]") {
  CHECK(has(codes("segment s = friend_days >= 0\n"), "W102 condition is always true"));
  CHECK_FALSE(has(codes("segment s = age >= 0\n"), "W102"));  // age may be unknown
}

TEST_CASE("unknown values and types", "[checker]") {
  CHECK(has(codes("segment s = age == \"20\"\n"), "E003 type mismatch: `age` is int but `\"20\"` is text"));
  CHECK(has(codes("segment s = region in [tokio]\n"), "E008 `tokio` is not a region; did you mean `tokyo`?"));
  CHECK(has(codes("segment s = gender == man\n"), "E008 `man` is not a gender; did you mean `male`?"));
  CHECK(has(codes("message welcome text \"hi\"\nsegment s = tagged(welcome)\n"),
            "E003 type mismatch: `welcome` is a message, not a tag"));
}

TEST_CASE("segments may not be defined in terms of themselves", "[checker]") {
  CHECK(has(codes("segment a = b\nsegment b = a\n"), "E006 segment"));
}

TEST_CASE("a project of several files is one namespace", "[checker]") {
  auto p = compile_sources(".", {{"a.okuri", "tag vip\n"}, {"b.okuri", "segment s = tagged(vip)\n"}});
  CHECK(p->diags.error_count() == 0);
  auto q = compile_sources(".", {{"a.okuri", "tag vip\n"}, {"b.okuri", "tag vip\nsegment s = tagged(vip)\n"}});
  REQUIRE(q->diags.error_count() == 1);
  CHECK(q->diags.all()[0].notes.size() == 1);
}

TEST_CASE("types and references are kept in side tables", "[checker]") {
  auto p = compile_sources(".", {{"a.okuri", "tag vip\nfield visits: int = 0\nsegment s = tagged(vip) and visits > 2\n"}});
  REQUIRE(p->diags.error_count() == 0);
  const auto* vip = p->find(SymbolKind::Tag, "vip");
  REQUIRE(vip != nullptr);
  CHECK(vip->uses == 1);
  std::size_t refs = 0;
  for (const auto& r : p->references) refs += p->symbols[r.symbol].name == "visits" ? 1 : 0;
  CHECK(refs == 1);
  const auto* seg = p->find(SymbolKind::Segment, "s");
  REQUIRE(seg != nullptr);
  const auto& expr = std::get<ast::SegmentDecl>(seg->decl->v).expr;
  CHECK(p->type_of(expr->id).kind == TypeKind::Bool);
}

TEST_CASE("the account settings apply wherever the account block stands", "[checker][w103]") {
  const std::string late = "message night text \"夜\"\nbroadcast late at 2026-12-01 22:30 {\n  send night\n}\n";
  const std::string account = "account {\n  quiet_hours 22:00 - 08:00\n}\n";
  CHECK(has(codes(account + late), "W103"));
  CHECK(has(codes(late + account), "W103"));
}

TEST_CASE("a json message counts its LINE messages wherever it is declared", "[checker][e009]") {
  const auto dir = std::filesystem::temp_directory_path() / "okuri_checker_json_count";
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "three.json");
    out << R"([{"type":"text","text":"a"},{"type":"text","text":"b"},{"type":"text","text":"c"}])";
  }
  const std::string msgs = "message three json \"three.json\"\n";
  const std::string scenario = "scenario s {\n  start on friend_added\n  send three, three\n}\n";
  auto count_e009 = [&](const std::string& src) {
    auto p = compile_sources(dir.string(), {{"t.okuri", src}});
    int n = 0;
    for (const auto& d : p->diags.all()) n += d.code == Code::E009 && d.message.find("has 6") != std::string::npos;
    return n;
  };
  CHECK(count_e009(msgs + scenario) == 1);
  CHECK(count_e009(scenario + msgs) == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("one_of and set_of lists with the same values are one type", "[checker][types]") {
  // The same values in another order, on an event and on a field: assignable both ways.
  const auto same = codes(
      "event visited { menu: one_of(cut, color, perm) }\nfield last_menu: one_of(perm, cut, color)\n"
      "field tried: set_of(cut, color, perm)\n"
      "on visited { set last_menu = event.menu }\n"
      "on visited when event.menu == last_menu and has(tried, event.menu) { pass }\n");
  CHECK_FALSE(has(same, "E003"));
  // Different values stay different types.
  const auto other = codes(
      "event visited { menu: one_of(cut, color) }\nfield last_menu: one_of(cut, color, perm)\n"
      "on visited { set last_menu = event.menu }\n");
  CHECK(has(other, "E003 type mismatch: `last_menu` is last_menu but `event.menu` is visited.menu"));
}

TEST_CASE("a field's default is a fixed value", "[checker][defaults]") {
  CHECK_FALSE(has(codes("field a: int = -3 + 1\nfield b: date = 2026-01-01 + 2d\nfield c: one_of(x, y) = y\n"
                        "field d: set_of(x, y) = [x]\nfield e: duration = 3d\n"),
                  "E003"));
  CHECK(has(codes("field a: date = today\n"), "E003 a field's default must be a fixed value"));
  CHECK(has(codes("field a: int = 1\nfield b: int = a\n"), "E003 a field's default must be a fixed value"));
}

TEST_CASE("W102 finds a tag, a bool field or a segment both true and false", "[checker][w102]") {
  CHECK(has(codes("tag x\nsegment s = tagged(x) and not tagged(x)\n"),
            "W102 condition is always false: `tagged(x)` cannot be both true and false"));
  CHECK(has(codes("tag x\nsegment s = tagged(x) and score > 3 and not tagged( x )\n"), "W102"));
  CHECK(has(codes("field vip: bool\nsegment s = vip and not vip\n"), "W102"));
  CHECK(has(codes("tag x\nsegment t = tagged(x)\nsegment s = t and not t\n"), "W102"));
  CHECK_FALSE(has(codes("tag x, y\nsegment s = tagged(x) and not tagged(y)\n"), "W102"));
  CHECK_FALSE(has(codes("tag x\nsegment s = tagged(x) or not tagged(x)\n"), "W102"));
  CHECK_FALSE(has(codes("tag x\nsegment s = not not tagged(x) and tagged(x)\n"), "W102"));
}

TEST_CASE("line targets: line.* becomes LINE's demographic filter, own data an audience", "[checker][narrowcast]") {
  auto plan_of = [](const std::string& target) {
    auto p = okuri::compile_sources(".", {{"t.okuri", "tag vip\nmessage m text \"x\"\nbroadcast b at 2030-01-01 10:00 to " +
                                                  target + " {\n  send m\n}\n"}});
    REQUIRE(p->diags.error_count() == 0);
    return okuri::plan::build_plan(*p);
  };
  auto demographic = [&](const std::string& target) { return plan_of(target)->flows[0].demographic; };
  CHECK(demographic("line.gender == female") == R"({"oneOf":["female"],"type":"gender"})");
  CHECK(demographic("line.gender != male") ==
        R"({"not":{"oneOf":["male"],"type":"gender"},"type":"operator"})");
  CHECK(demographic("line.age in 20..39") == R"({"gte":"age_20","lt":"age_40","type":"age"})");
  CHECK(demographic("line.age >= 70") == R"({"gte":"age_70","type":"age"})");
  CHECK(demographic("line.age < 30") == R"({"lt":"age_30","type":"age"})");
  CHECK(demographic("line.region in [hokkaido, hyougo, okinawa]") ==
        R"({"oneOf":["jp_01","jp_28","jp_47"],"type":"area"})");
  CHECK(demographic("line.os == ios or line.friend_period >= 30d") ==
        R"({"or":[{"oneOf":["ios"],"type":"appType"},{"gte":"day_30","type":"subscriptionPeriod"}],"type":"operator"})");
  CHECK(demographic("line.friend_period in 90d..179d") == R"({"gte":"day_90","lt":"day_180","type":"subscriptionPeriod"})");
  // Three conjuncts are one `and`.
  CHECK(demographic("line.gender == female and (line.age >= 20 and line.os == android)") ==
        R"({"and":[{"oneOf":["female"],"type":"gender"},{"gte":"age_20","type":"age"},{"oneOf":["android"],"type":"appType"}],"type":"operator"})");
  auto own = plan_of("tagged(vip) and line.gender == female");
  CHECK(own->flows[0].reach == okuri::plan::Flow::Reach::Narrowcast);
  CHECK(own->flows[0].audience);
  CHECK_FALSE(plan_of("line.gender == female")->flows[0].audience);
  CHECK(plan_of("tagged(vip)")->flows[0].reach == okuri::plan::Flow::Reach::Friends);
  auto none = okuri::compile_sources(".", {{"t.okuri", "message m text \"x\"\nbroadcast b at 2030-01-01 10:00 {\n  send m\n}\n"}});
  CHECK(okuri::plan::build_plan(*none)->flows[0].reach == okuri::plan::Flow::Reach::Everyone);
  auto busy = okuri::compile_sources(
      ".", {{"t.okuri", "tag t\nmessage m text \"x\"\nbroadcast b at 2030-01-01 10:00 {\n  send m\n  tag t\n}\n"}});
  CHECK(okuri::plan::build_plan(*busy)->flows[0].reach == okuri::plan::Flow::Reach::Friends);
  // LINE joins an audience and its filter with AND: nothing else can be sent (E015).
  auto mixed = okuri::compile_sources(
      ".", {{"t.okuri",
      "tag vip\nmessage m text \"x\"\nbroadcast b at 2030-01-01 10:00 to tagged(vip) or line.gender == female {\n  "
      "send m\n}\n"}});
  REQUIRE(mixed->diags.error_count() == 1);
  CHECK(mixed->diags.all()[0].code == okuri::Code::E015);
}
