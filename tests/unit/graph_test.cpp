#include <catch2/catch.hpp>

#include "compiler/step_graph.hpp"
#include "compiler/workspace.hpp"

using namespace okuri;

namespace {
const StepGraph& graph(const Program& p, const std::string& name) {
  for (const auto& g : p.graphs) {
    if (g.name == name) return g;
  }
  FAIL("no graph " << name);
  return p.graphs.front();
}
}  // namespace

TEST_CASE("nodes have stable ids: step names or structural paths", "[graph]") {
  auto p = compile_sources(".", {{"a.okuri",
                                  "message m text \"a\"\n"
                                  "scenario trial_funnel {\n  start on friend_added\n  send m\n  wait 1d\n"
                                  "  if score > 1 {\n    send m\n  } else {\n    send m\n    split {\n"
                                  "      50% a => send m\n      50% b => pass\n    }\n  }\n"
                                  "  step remind {\n    send m\n  }\n}\n"}});
  REQUIRE(p->diags.error_count() == 0);
  const auto& g = graph(*p, "trial_funnel");
  CHECK(g.find("trial_funnel/1"));
  CHECK(g.find("trial_funnel/3/then/1"));
  CHECK(g.find("trial_funnel/3/else/1"));
  CHECK(g.find("trial_funnel/3/else/2"));
  CHECK(g.find("trial_funnel/3/else/2/a/1"));
  CHECK(g.find("remind"));
  CHECK(g.find("remind/1"));
  CHECK(g.node(*g.find("remind")).named);
  CHECK(g.node(*g.find("trial_funnel/2")).kind == StepKind::Wait);
  // Adding a statement elsewhere does not move a named step's id.
  auto q = compile_sources(".", {{"a.okuri",
                                  "message m text \"a\"\n"
                                  "scenario trial_funnel {\n  start on friend_added\n  send m\n  send m\n"
                                  "  step remind {\n    send m\n  }\n}\n"}});
  CHECK(graph(*q, "trial_funnel").find("remind/1"));
}

TEST_CASE("edges carry conditions, cases and split percentages", "[graph]") {
  auto p = compile_sources(".", {{"a.okuri",
                                  "message m text \"a\"\nlink lp \"https://example.com\"\n"
                                  "scenario s {\n  start on friend_added\n  wait up to 3d for {\n"
                                  "    on link_clicked(lp) => send m\n  }\n  split {\n    30% a => send m\n"
                                  "    70% b => pass\n  }\n}\n"}});
  REQUIRE(p->diags.error_count() == 0);
  const auto& g = graph(*p, "s");
  std::vector<std::string> labels;
  int percent = 0;
  for (const auto& e : g.edges()) {
    labels.push_back(e.label);
    percent += static_cast<int>(e.percent);
  }
  CHECK(std::count(labels.begin(), labels.end(), "on link_clicked(lp)") == 1);
  CHECK(std::count(labels.begin(), labels.end(), "timeout") == 1);  // implicit timeout goes on
  CHECK(std::count(labels.begin(), labels.end(), "30% a") == 1);
  CHECK(percent == 100);
}

TEST_CASE("zero-time cycles through goto are found; waits break them", "[graph]") {
  auto bad = compile_sources(".", {{"a.okuri",
                                    "message m text \"a\"\nscenario s {\n  start on friend_added\n"
                                    "  step again {\n    send m\n    goto again\n  }\n}\n"}});
  REQUIRE(bad->diags.error_count() == 1);
  CHECK(bad->diags.all()[0].message == "zero-time cycle: again → send m → goto again → again never passes a wait");
  auto good = compile_sources(".", {{"a.okuri",
                                     "message m text \"a\"\nscenario s {\n  start on friend_added\n"
                                     "  step again {\n    wait 1d\n    send m\n    goto again\n  }\n}\n"}});
  CHECK(good->diags.error_count() == 0);
}

TEST_CASE("the longest time through a scenario", "[graph]") {
  auto p = compile_sources(".", {{"a.okuri",
                                  "message m text \"a\"\nscenario s {\n  start on friend_added\n  wait 2d\n"
                                  "  if score > 1 {\n    wait 5d\n  } else {\n    wait 1d\n  }\n  send m\n}\n"
                                  "scenario r {\n  start on friend_added\n  repeat {\n    wait 1d\n    send m\n  }\n}\n"}});
  REQUIRE(p->diags.error_count() == 0);
  CHECK(graph(*p, "s").longest_time() == std::optional<std::int64_t>(7 * 86400));
  CHECK_FALSE(graph(*p, "r").longest_time().has_value());
}
