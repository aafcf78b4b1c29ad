#include "report/page_data.hpp"

#include <date/date.h>

#include <cmath>

#include "report/ab_test.hpp"
#include "runtime/testing.hpp"

namespace okuri::report {

using nlohmann::ordered_json;

namespace {

// Rates keep six decimals: enough for the page and for a test to compare with its own reference.
double round6(double x) { return std::round(x * 1e6) / 1e6; }

ordered_json places(const rt::Engine& e, std::size_t sample) {
  ordered_json out = ordered_json::array();
  const std::uint32_t rows = static_cast<std::uint32_t>(e.store().size());
  for (std::size_t f = 0; f < e.flow_count(); ++f) {
    const auto n = e.flow(f).node_count();
    std::vector<std::uint64_t> count(n, 0);
    std::vector<std::vector<std::string>> ids(n);
    // Rows in order: the friends seen first, whose timelines the page holds, are listed first.
    for (std::uint32_t row = 0; row < rows; ++row) {
      const auto at = e.position(row, f);
      if (!at) continue;
      ++count[*at];
      if (ids[*at].size() < sample) ids[*at].push_back(e.store().id_of(row));
    }
    ordered_json nodes = ordered_json::array();
    for (std::uint32_t i = 0; i < n; ++i) nodes.push_back({{"count", count[i]}, {"sample", ids[i]}});
    out.push_back(nodes);
  }
  return out;
}

ordered_json timelines(const rt::Engine& e, std::size_t limit) {
  const stdlib::Zone zone(e.program().account.timezone.c_str());
  std::vector<std::vector<std::string>> lines(std::min<std::size_t>(limit, e.store().size()));
  for (const auto& t : e.trace()) {
    if (t.row < lines.size()) lines[t.row].push_back(rt::timeline_line(e, t, zone));
  }
  ordered_json out = ordered_json::object();
  for (std::uint32_t row = 0; row < lines.size(); ++row) out[e.store().id_of(row)] = lines[row];
  return out;
}

ordered_json ab(const rt::Engine& e) {
  ordered_json out = ordered_json::array();
  for (std::size_t f = 0; f < e.flow_count(); ++f) {
    const auto& arms = e.stats()[f].arms;
    for (std::size_t a = 0; a < arms.size();) {
      // One split: its arms are consecutive; the first is the control.
      std::size_t b = a;
      while (b < arms.size() && arms[b].split == arms[a].split) ++b;
      ordered_json split{{"flow", f}, {"name", e.flow(f).name}, {"split", arms[a].split}, {"first_arm", a}};
      ordered_json list = ordered_json::array();
      for (std::size_t k = a; k < b; ++k) {
        const auto& x = arms[k];
        const Interval ci = wilson(x.converted, x.friends);
        ordered_json arm{
            {"arm", x.arm},
            {"rate", x.friends == 0 ? 0.0 : round6(static_cast<double>(x.converted) / static_cast<double>(x.friends))},
            {"ci", {round6(ci.lo), round6(ci.hi)}}};
        if (k != a) {
          const Comparison c = compare(arms[a].converted, arms[a].friends, x.converted, x.friends);
          arm["vs_control"] = {{"difference", round6(c.difference)},
                               {"ci", {round6(c.difference_ci.lo), round6(c.difference_ci.hi)}},
                               {"z", round6(c.z)},
                               {"p_value", round6(c.p_value)},
                               {"enough", c.enough},
                               {"significant", c.significant},
                               {"needed_per_arm", c.needed_per_arm}};
        }
        list.push_back(arm);
      }
      split["arms"] = list;
      out.push_back(split);
      a = b;
    }
  }
  return out;
}

// A month's forecast: the simulated pushes a day times the month's days.
ordered_json forecast(const ordered_json& report) {
  ordered_json out = ordered_json::array();
  const double per_day = report["quota"].value("pushes_per_day", 0.0);
  for (const auto& m : report["quota"]["months"]) {
    const std::string ym = m.value("month", "");
    int y = 0, mo = 0;
    if (std::sscanf(ym.c_str(), "%d-%d", &y, &mo) != 2) continue;
    const auto last =
        date::year_month_day_last(date::year(y), date::month_day_last(date::month(static_cast<unsigned>(mo))));
    const auto days = static_cast<unsigned>(last.day());
    out.push_back(std::llround(per_day * days));
  }
  return out;
}

}  // namespace

ordered_json page_data(const rt::Engine& e, const ordered_json& report, const PageLimits& limits) {
  ordered_json out;
  out["places"] = places(e, limits.sample);
  out["timelines"] = timelines(e, limits.timelines);
  out["ab"] = ab(e);
  out["quota_forecast"] = forecast(report);
  return out;
}

}  // namespace okuri::report
