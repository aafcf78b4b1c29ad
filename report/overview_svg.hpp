// How rules and scenarios start one another, as one SVG picture for the report: the events
// from outside (a friend added, a click, a custom event) lead to the rules and scenarios that
// start on them, and a rule or step that tags, untags, sets a field or starts a scenario leads
// to what reacts to that. Broadcasts stand alone at their time.
#pragma once

#include <string>

#include "compiler/flow_plan.hpp"

namespace okuri::report {

// Flow `f` is the SVG group with id `ov-f` (class `node`), so the page can jump to its flowchart.
// Throws std::runtime_error when Graphviz cannot lay the graph out.
std::string overview_svg(const plan::Plan& plan, bool ja);

}  // namespace okuri::report
