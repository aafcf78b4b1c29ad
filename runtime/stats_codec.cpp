// The report's figures (entered, passed, left, converted per step; friends, deliveries, clicks
// and conversions per split arm) as JSON and back: what a running account keeps beside its
// friends, so that `okuri report` shows the whole life of the version being served, across
// restarts. Flows, steps and arms are named (flow name, step id, split id and arm), so a
// figure whose step no longer exists is dropped rather than misplaced.
#include <nlohmann/json.hpp>

#include "runtime/engine_impl.hpp"

namespace okuri::rt {

using nlohmann::json;

std::string Engine::export_stats() const {
  const Impl& m = *impl_;
  json flows = json::object();
  for (std::size_t f = 0; f < m.stats.size(); ++f) {
    const auto& st = m.stats[f];
    const auto& g = m.flows[f];
    json steps = json::object();
    for (std::size_t n = 0; n < st.steps.size(); ++n) {
      const auto& s = st.steps[n];
      steps[g.nodes[n].id] = {s.entered, s.passed, s.left, s.converted};
    }
    json arms = json::object();
    for (const auto& a : st.arms) arms[a.split + " " + a.arm] = {a.friends, a.delivered, a.clicked, a.converted};
    flows[g.name] = {{"entered", st.entered}, {"completed", st.completed},
                     {"stopped", st.stopped}, {"converted", st.converted},
                     {"steps", steps},        {"arms", arms}};
  }
  return json{{"flows", flows}}.dump();
}

void Engine::import_stats(std::string_view text) {
  Impl& m = *impl_;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("flows") || !j["flows"].is_object()) return;
  auto number = [](const json& v, const char* key) -> std::uint64_t {
    return v.contains(key) && v[key].is_number_unsigned() ? v[key].get<std::uint64_t>() : 0;
  };
  auto four = [](const json& v, std::size_t k) -> std::uint64_t {
    return v.is_array() && v.size() == 4 && v[k].is_number_unsigned() ? v[k].get<std::uint64_t>() : 0;
  };
  for (std::size_t f = 0; f < m.stats.size(); ++f) {
    const auto& g = m.flows[f];
    auto it = j["flows"].find(g.name);
    if (it == j["flows"].end() || !it->is_object()) continue;
    auto& st = m.stats[f];
    st.entered = number(*it, "entered");
    st.completed = number(*it, "completed");
    st.stopped = number(*it, "stopped");
    st.converted = number(*it, "converted");
    const json& steps = it->contains("steps") ? (*it)["steps"] : json::object();
    for (std::size_t n = 0; n < st.steps.size(); ++n) {
      auto s = steps.find(g.nodes[n].id);
      if (s == steps.end()) continue;
      st.steps[n] = StepStats{four(*s, 0), four(*s, 1), four(*s, 2), four(*s, 3)};
    }
    const json& arms = it->contains("arms") ? (*it)["arms"] : json::object();
    for (auto& a : st.arms) {
      auto s = arms.find(a.split + " " + a.arm);
      if (s == arms.end()) continue;
      a.friends = four(*s, 0);
      a.delivered = four(*s, 1);
      a.clicked = four(*s, 2);
      a.converted = four(*s, 3);
    }
  }
}

}  // namespace okuri::rt
