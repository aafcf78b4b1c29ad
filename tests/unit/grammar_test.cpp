#include <tao/pegtl/contrib/analyze.hpp>

#include <catch2/catch.hpp>

#include "grammar/rules.hpp"
#include "grammar/syntax_tree.hpp"

using okuri::grammar::parse;
using okuri::grammar::Syn;

namespace {
std::size_t count(const okuri::grammar::SyntaxTree& t, Syn k) {
  std::size_t n = 0;
  for (const auto& node : t.nodes) n += node.kind == k ? 1 : 0;
  return n;
}
}  // namespace

TEST_CASE("the grammar has no infinite loops or left recursion (analyze<>)", "[grammar]") {
  CHECK(tao::pegtl::analyze<okuri::grammar::rules::file>(-1) == 0);
}

TEST_CASE("every declaration kind parses", "[grammar]") {
  const auto t = parse(
      "account { timezone \"Asia/Tokyo\"; quiet_hours 22:00 - 08:00; daily_limit 3; plan light }\n"
      "field birthday: date\nfield kind: one_of(a, b)\nfield likes: set_of(x, y)\nfield visits: int = 0\n"
      "tag purchased, 体験予約済み\nscore engagement\nlink lp \"https://example.com\"\n"
      "message m text \"hi {display_name}\"\nmessage j json \"m.json\"\nmessage s sticker 446 1988\n"
      "audience vip\nform 資料請求, アンケート\nevent reserved { at: datetime, course: text }\n"
      "segment young = gender == female and age in 20..29\n"
      "on message_received when contains(event.text, \"予約\") { reply m; tag purchased }\n"
      "scenario s1 { start on friend_added from \"ig\"\n restart after 30d\n send m }\n"
      "broadcast b at 2026-12-01 10:00 to young and line.age in 20..29 { send m; throttle 2000/min }\n"
      "test \"t\" { friend U1 { age: 24 }\n at 2026-01-05 12:00 friend_added by U1\n expect send m to U1 }\n");
  CHECK(t.errors.empty());
  CHECK(count(t, Syn::AccountDecl) == 1);
  CHECK(count(t, Syn::FieldDecl) == 4);
  CHECK(count(t, Syn::MessageDecl) == 3);
  CHECK(count(t, Syn::EventField) == 2);
  CHECK(count(t, Syn::ScenarioDecl) == 1);
  CHECK(count(t, Syn::BroadcastDecl) == 1);
  CHECK(count(t, Syn::TestDecl) == 1);
}

TEST_CASE("every statement and wait form parses", "[grammar]") {
  const auto t = parse(
      "scenario s {\n"
      "  send a, b\n  tag x; untag y\n  score += 3; score(eng) -= 1; score = 0\n"
      "  set f = 1; clear f\n  start other; stop other; stop\n  menu \"richmenu-1\"; notify \"hi\"; pass\n"
      "  wait 3d\n  wait 1d at 20:00\n  wait until 10:00\n  wait until lesson_at - 1d at 10:00\n"
      "  wait up to 3d for {\n    on link_clicked(lp) when score > 1 => { score += 3 }\n"
      "    when tagged(x) => stop\n    timeout => send c\n  }\n"
      "  if a { pass } else if b { pass } else { pass }\n"
      "  split {\n    45% a => send x\n    55% b => { send y }\n  }\n"
      "  goal clicked(lp) within 3d\n  step remind { goto remind }\n  repeat { wait 30d; send tips }\n}\n");
  CHECK(t.errors.empty());
  CHECK(count(t, Syn::WaitRelative) == 2);  // one more inside `repeat`
  CHECK(count(t, Syn::WaitDayAt) == 1);
  CHECK(count(t, Syn::WaitUntil) == 2);
  CHECK(count(t, Syn::WaitFor) == 1);
  CHECK(count(t, Syn::CaseOn) == 1);
  CHECK(count(t, Syn::SplitArm) == 2);
  CHECK(count(t, Syn::ElseClause) == 2);
}

TEST_CASE("Japanese identifiers and comments", "[grammar]") {
  const auto t = parse("tag 体験予約済み  # 予約した人\nsegment 東京の人 = region == tokyo\n");
  CHECK(t.errors.empty());
  CHECK(count(t, Syn::Ident) == 4);
}

TEST_CASE("a missing '}' names where the block opened", "[grammar]") {
  const auto t = parse("tag a\n\n\n\nscenario x {\n  send a\n");
  REQUIRE(t.errors.size() == 1);
  CHECK(t.errors[0].message == "expected '}' to close the block opened at 5:12");
}

TEST_CASE("a block left open ends at the next declaration, with one error naming the `{` left open", "[grammar]") {
  // The `}` on line 6 is indented like the scenario: it was meant for it, so the `if` lacks its `}`.
  const std::string src =
      "scenario x {\n  start on friend_added\n  if score > 3 {\n    send a\n\n}\nsegment s = tagged(v)\ntag v\n";
  const auto t = parse(src);
  REQUIRE(t.errors.size() == 1);
  CHECK(t.errors[0].message == "expected '}' to close the block opened at 3:16 before `segment`");
  CHECK(t.errors[0].begin == src.find("segment"));
  CHECK(t.errors[0].opener == static_cast<std::int64_t>(src.find("{\n    send")));
  // The scenario keeps its statements and the declarations after it parse.
  CHECK(count(t, Syn::SendStmt) == 1);
  CHECK(count(t, Syn::SegmentDecl) == 1);
  CHECK(count(t, Syn::TagDecl) == 1);
  // A statement at the start of a line is not a declaration: `tag` and `score` start statements too.
  CHECK(parse("scenario x {\nstart on friend_added\ntag v\nscore += 1\n}\n").errors.empty());
  // A declaration written inside a block whose `}` comes later is a mistake inside the block.
  const auto inner = parse("scenario x {\n  start on friend_added\nmessage m text \"x\"\n  send m\n}\n");
  REQUIRE(inner.errors.size() == 1);
  CHECK(inner.errors[0].message == "expected a statement, found `message`");
  CHECK(count(inner, Syn::SendStmt) == 1);
}

TEST_CASE("recovery reports every error of a file", "[grammar]") {
  const auto t = parse("tag a b\nsegment s = \nfield f: int\nscenario x {\n  sned m\n  send ok\n  wait 3x\n}\n");
  REQUIRE(t.errors.size() == 4);
  CHECK(t.errors[0].message == "expected the end of the line (a newline or ';')");
  CHECK(t.errors[1].message == "expected an expression");
  CHECK(t.errors[2].message == "expected a statement, found `sned`");
  CHECK(t.errors[3].message.rfind("expected a wait", 0) == 0);
  // The good declarations around the errors are still there.
  CHECK(count(t, Syn::FieldDecl) == 1);
  CHECK(count(t, Syn::SendStmt) == 1);
  CHECK(count(t, Syn::Error) == 4);
}

TEST_CASE("hostile nesting is an error, not a stack overflow", "[grammar]") {
  std::string deep = "segment s = " + std::string(100000, '(') + "a" + std::string(100000, ')') + "\n";
  const auto t = parse(deep);
  REQUIRE_FALSE(t.errors.empty());
  CHECK(t.errors[0].message == "nesting is deeper than 64 levels");
  std::string blocks = "scenario x {";
  for (int i = 0; i < 5000; ++i) blocks += "if a {";
  const auto t2 = parse(blocks);
  REQUIRE_FALSE(t2.errors.empty());
}

TEST_CASE("unterminated text is reported on its line", "[grammar]") {
  const auto t = parse("message m text \"hello\ntag a\n");
  REQUIRE(t.errors.size() == 1);
  CHECK(t.errors[0].message == "unterminated text: expected a closing '\"' on the same line");
  CHECK(count(t, Syn::TagDecl) == 1);
}

TEST_CASE("literal shapes", "[grammar]") {
  const auto t = parse("segment s = birthday == 2026-02-30 and t == 25:00 and d == 2026-12-01 10:00 and x == 90s\n");
  CHECK(t.errors.empty());
  CHECK(count(t, Syn::DateLit) == 1);
  CHECK(count(t, Syn::TimeLit) == 1);
  CHECK(count(t, Syn::DateTimeLit) == 1);
  CHECK(count(t, Syn::DurationLit) == 1);
}

TEST_CASE("stray closing brackets inside a block are skipped, not looped on", "[grammar]") {
  const auto t = parse("scenario x {\n  ) ]\n  send a\n}\n");
  REQUIRE(t.errors.size() == 1);
  CHECK(t.errors[0].message == "expected a statement, found `)`");
  CHECK(count(t, Syn::SendStmt) == 1);
}

TEST_CASE("nested `in` parses in linear time", "[grammar]") {
  std::string s = "segment s = ";
  for (int i = 0; i < 60; ++i) s += "a in (";
  s += "b";
  s += std::string(60, ')');
  const auto t = parse(s + "\n");  // exponential backtracking would not finish
  CHECK(t.nodes.size() > 60);
}
