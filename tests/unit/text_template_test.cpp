// `{name}`, `{name|fallback}`, `{name:format}` in texts: the one parser behind the checker, the
// language server and the renderer.
#include <catch2/catch.hpp>

#include "compiler/text_template.hpp"

using namespace okuri;

TEST_CASE("text templates: literals, names, formats and fallbacks with their offsets", "[text_template]") {
  const std::string t = "こんにちは{display_name|お客}さま、{ lesson_at : ja |未定}に {} {x";
  const auto parts = parse_text_template(t);
  REQUIRE(parts.size() == 5);
  CHECK_FALSE(parts[0].is_ref);
  CHECK(parts[0].text == "こんにちは");
  CHECK(parts[1].is_ref);
  CHECK(parts[1].text == "display_name");
  CHECK(parts[1].fallback == std::optional<std::string>("お客"));
  CHECK(t.substr(parts[1].name_begin, parts[1].name_end - parts[1].name_begin) == "display_name");
  CHECK(t.substr(parts[1].begin, parts[1].end - parts[1].begin) == "{display_name|お客}");
  CHECK(parts[2].text == "さま、");
  CHECK(parts[3].text == "lesson_at");
  CHECK(parts[3].format == "ja");
  CHECK(t.substr(parts[3].format_begin, parts[3].format_end - parts[3].format_begin) == "ja");
  CHECK(parts[3].fallback == std::optional<std::string>("未定"));
  // Empty braces and an unclosed brace stay literal text, joined with what surrounds them.
  CHECK_FALSE(parts[4].is_ref);
  CHECK(parts[4].text == "に {} {x");
}

TEST_CASE("text templates: an empty fallback and a fallback holding a colon", "[text_template]") {
  const auto a = parse_text_template("{nick|}");
  REQUIRE(a.size() == 1);
  CHECK(a[0].fallback == std::optional<std::string>(""));
  const auto b = parse_text_template("{at:time|10:00 ごろ}");
  REQUIRE(b.size() == 1);
  CHECK(b[0].format == "time");
  CHECK(b[0].fallback == std::optional<std::string>("10:00 ごろ"));
  CHECK(parse_text_template("no braces").size() == 1);
  CHECK(parse_text_template("").empty());
}

TEST_CASE("text templates: spaces around a name, a format and a fallback are not theirs", "[text_template]") {
  const auto a = parse_text_template("{ display_name | お客様 }さん");
  REQUIRE(a.size() == 2);
  CHECK(a[0].text == "display_name");
  CHECK(a[0].fallback == std::optional<std::string>("お客様"));
  const auto b = parse_text_template("{ at : ja | 未定 です }");
  REQUIRE(b.size() == 1);
  CHECK(b[0].format == "ja");
  CHECK(b[0].fallback == std::optional<std::string>("未定 です"));  // spaces inside stay
  CHECK(parse_text_template("{nick| }")[0].fallback == std::optional<std::string>(""));
}
