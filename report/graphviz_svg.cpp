#include "report/graphviz_svg.hpp"

#include <fmt/format.h>
#include <graphviz/gvc.h>

#include <memory>
#include <mutex>
#include <stdexcept>

namespace okuri::report {

std::string dot_quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

std::string svg_from_dot(const std::string& dot, const std::string& what) {
  // Graphviz keeps global state: one layout at a time.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<GVC_t, int (*)(GVC_t*)> gvc(gvContext(), gvFreeContext);
  if (!gvc) throw std::runtime_error("Graphviz could not start");
  std::unique_ptr<Agraph_t, int (*)(Agraph_t*)> graph(agmemread(dot.c_str()), agclose);
  if (!graph) throw std::runtime_error(fmt::format("Graphviz could not read the graph of {}", what));
  if (gvLayout(gvc.get(), graph.get(), "dot") != 0) {
    throw std::runtime_error(
        fmt::format("Graphviz could not lay out the graph of {} (is the `dot` layout plugin installed?)", what));
  }
  char* data = nullptr;
  unsigned int size = 0;
  const int rendered = gvRenderData(gvc.get(), graph.get(), "svg", &data, &size);
  std::string svg = rendered == 0 && data != nullptr ? std::string(data, size) : std::string();
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(gvc.get(), graph.get());
  if (svg.empty()) throw std::runtime_error(fmt::format("Graphviz could not draw the graph of {}", what));
  const auto start = svg.find("<svg");
  return start == std::string::npos ? svg : svg.substr(start);
}

}  // namespace okuri::report
