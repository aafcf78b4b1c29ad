// The HTML report's parts that do not need a browser: the A/B statistics against published
// values, and message drawing that never lets a message's text become markup.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/ab_test.hpp"
#include "report/bubble.hpp"

using namespace okuri::report;

TEST_CASE("Wilson's interval matches published values", "[report]") {
  // Newcombe (1998), Statistics in Medicine 17, table I: 81/263 → 0.2553 … 0.3662; 0/10 → 0 … 0.2775.
  const Interval a = wilson(81, 263);
  CHECK(a.lo == Approx(0.2553).margin(1e-4));
  CHECK(a.hi == Approx(0.3662).margin(1e-4));
  const Interval b = wilson(0, 10);
  CHECK(b.lo == 0.0);
  CHECK(b.hi == Approx(0.2775).margin(1e-4));
  CHECK(wilson(0, 0).hi == 0.0);
}

TEST_CASE("Two arms compared: Newcombe's difference interval, the z-test, enough friends", "[report]") {
  // Newcombe (1998), table II, example (a): 56/70 against 48/80 → difference 0.2, 95 % interval 0.0524 … 0.3339.
  const Comparison c = compare(48, 80, 56, 70);
  CHECK(c.difference == Approx(0.2));
  CHECK(c.difference_ci.lo == Approx(0.0524).margin(1e-4));
  CHECK(c.difference_ci.hi == Approx(0.3339).margin(1e-4));
  CHECK(c.p_value < 0.01);
  CHECK(c.enough);
  CHECK(c.significant);
  // Three friends an arm cannot tell anything, whatever the rates.
  const Comparison small = compare(0, 3, 3, 3);
  CHECK_FALSE(small.enough);
  CHECK_FALSE(small.significant);
  CHECK(small.needed_per_arm > 0);
  // No difference: nothing to tell apart.
  CHECK(compare(10, 100, 10, 100).needed_per_arm == 0);
}

TEST_CASE("A message's text and flex content are drawn as text, never as markup", "[report]") {
  const auto html = bubbles_html(nlohmann::json::parse(R"J([
    {"type": "text", "text": "<script>alert(1)</script> & \"quotes\""},
    {"type": "flex", "altText": "x", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical",
      "contents": [{"type": "text", "text": "<img src=x onerror=alert(1)>", "color": "red;background:url(x)", "size": "1px;background:url(x)px"},
                   {"type": "separator"},
                   {"type": "image", "url": "x", "aspectRatio": "1:1;background:url(x)"},
                   {"type": "button", "style": "primary", "action": {"type": "uri", "label": "<b>", "uri": "javascript:alert(1)"}}]}}}
  ])J"));
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;") != std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("url(x)") == std::string::npos);  // only #RRGGBB colours reach a style
  CHECK(html.find("href") == std::string::npos);    // nothing in the page links out
  CHECK(html.find("fx-sep") != std::string::npos);
  CHECK(html.find("fx-button primary") != std::string::npos);
}
