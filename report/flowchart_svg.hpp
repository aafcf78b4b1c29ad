// A scenario's or broadcast's step graph as an SVG flowchart with each step's counts, laid out
// by Graphviz (libgvc) when the report is built. Node `i` of flow `f` is the SVG group with id
// `fc-f-i` and class `node`, so the page can make it clickable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/step_graph.hpp"

namespace okuri::report {

struct NodeCounts {
  std::uint64_t entered = 0, passed = 0, waiting = 0, left = 0, converted = 0;
};

// `details`: the start node's lines (start_details). `ja`: the count names in Japanese.
// Throws std::runtime_error when Graphviz cannot lay the graph out.
std::string flowchart_svg(const StepGraph& g, std::size_t flow_index, const std::vector<std::string>& details,
                          const std::vector<NodeCounts>& counts, bool ja);

}  // namespace okuri::report
