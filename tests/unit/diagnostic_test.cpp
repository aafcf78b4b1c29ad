#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "compiler/diagnostic.hpp"
#include "compiler/workspace.hpp"

using namespace okuri;

TEST_CASE("every code has a name, a severity and a title", "[diagnostics]") {
  for (const auto& c : all_codes()) {
    CHECK(c.name.size() == 4);
    CHECK(((c.name[0] == 'E' && c.severity == Severity::Error) || (c.name[0] == 'W' && c.severity == Severity::Warning)));
    CHECK_FALSE(c.title.empty());
  }
}

TEST_CASE("json has the fields the tools read, with 1-based code point columns", "[diagnostics]") {
  auto p = compile_sources(".", {{"a.okuri", "tag 体験\nsegment s = tagged(体験x)\nscenario x { start when s }\n"}});
  auto all = nlohmann::json::parse(render_json(p->sources, p->diags.all()));
  REQUIRE(all.is_array());
  nlohmann::json j = nlohmann::json::array();
  for (const auto& d : all) {
    if (d["code"] == "E002") j.push_back(d);
  }
  REQUIRE(j.size() == 1);
  CHECK(j[0]["code"] == "E002");
  CHECK(j[0]["severity"] == "error");
  CHECK(j[0]["file"] == "a.okuri");
  CHECK(j[0]["line"] == 2);
  CHECK(j[0]["column"] == 20);
  CHECK(j[0]["end_line"] == 2);
  CHECK(j[0]["end_column"] == 23);
  CHECK(j[0]["message"] == "unknown tag `体験x`; did you mean `体験`?");
  CHECK(j[0]["notes"].is_array());
}

TEST_CASE("sarif is SARIF 2.1.0 with rules and regions", "[diagnostics]") {
  auto p = compile_sources(".", {{"a.okuri", "segment s = age == \"20\"\nscenario x { start when s }\n"}});
  auto j = nlohmann::json::parse(render_sarif(p->sources, p->diags.all()));
  CHECK(j["version"] == "2.1.0");
  const auto& run = j["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "okuri");
  CHECK(run["results"][0]["ruleId"] == "E003");
  CHECK(run["results"][0]["level"] == "error");
  CHECK(run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 1);
  CHECK(run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a.okuri");
}

TEST_CASE("diagnostics come out in a deterministic order", "[diagnostics]") {
  auto a = compile_sources(".", {{"b.okuri", "segment y = tagged(q)\n"}, {"a.okuri", "segment x = tagged(p)\n"}});
  REQUIRE(a->diags.all().size() >= 2);
  CHECK(a->sources.file(a->diags.all()[0].span.file).path == "a.okuri");
}
