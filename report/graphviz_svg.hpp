// A graph in Graphviz's DOT language laid out by Graphviz's library (libgvc, the `dot` layout)
// and drawn as SVG, when the report is built: the page shows pictures, it does not lay them out.
#pragma once

#include <string>

namespace okuri::report {

// The <svg> element alone (no XML prologue or comments), ready to sit inside HTML. `what` names
// the graph in errors. Throws std::runtime_error when Graphviz cannot read or lay the graph out.
std::string svg_from_dot(const std::string& dot, const std::string& what);

// A DOT string literal: quotes and backslashes escaped, new lines as `\n`.
std::string dot_quote(const std::string& s);

}  // namespace okuri::report
