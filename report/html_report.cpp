#include "report/html_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "compiler/step_graph.hpp"
#include "report/bubble.hpp"
#include "report/flowchart_svg.hpp"
#include "report/overview_svg.hpp"
#include "report/page_assets.hpp"
#include "report/words.hpp"
#include "stdlib/number_text.hpp"

namespace okuri::report {

using nlohmann::ordered_json;

namespace {

using stdlib::with_commas;

std::string percent(double x, int decimals = 1) { return fmt::format("{:.{}f}%", x * 100, decimals); }

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// The page's counts: each shows a number of the embedded report and says which (a JSON pointer),
// so a reader, or a test, can hold the page to it.
class Counts {
 public:
  explicit Counts(const ordered_json& report) : report_(report) {}
  std::int64_t value(const std::string& pointer) const {
    const auto& v = report_.at(ordered_json::json_pointer(pointer));
    return v.is_number() ? v.get<std::int64_t>() : 0;
  }
  std::string show(const std::string& pointer) const {
    if (report_.at(ordered_json::json_pointer(pointer)).is_null()) {
      return fmt::format("<span class=\"n\" data-count=\"{}\">—</span>", escape_html(pointer));  // not known here
    }
    return fmt::format("<span class=\"n\" data-count=\"{}\">{}</span>", escape_html(pointer),
                       with_commas(value(pointer)));
  }

 private:
  const ordered_json& report_;
};

struct Page {
  const rt::Engine& e;
  const rt::ReportTally* tally;
  const ordered_json& report;
  const ordered_json& data;
  const Words& w;
  bool ja;
  Counts counts;
  std::string html;
};

void summary(Page& p) {
  const auto& months = p.report["quota"]["months"];
  p.html += "<section id=\"summary\" class=\"cards\">";
  auto card = [&](const char* label, const std::string& value) {
    p.html += fmt::format("<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div></div>", label,
                          value);
  };
  card(p.w.friends, p.counts.show("/friends"));
  card(p.w.events, p.counts.show("/events"));
  card(p.w.pushes, p.counts.show("/deliveries/pushes"));
  card(p.w.replies, p.counts.show("/deliveries/replies"));
  if (!months.empty()) {
    const std::size_t last = months.size() - 1;
    card(p.w.quota_used, p.counts.show(fmt::format("/quota/months/{}/pushes", last)) + " / " +
                             p.counts.show("/quota/monthly_allowance"));
  }
  p.html += "</section>";
}

void overview(Page& p) {
  p.html +=
      fmt::format("<section id=\"overview\"><h2>{}</h2><p class=\"note\">{}</p><div class=\"pic\">{}</div></section>",
                  p.w.overview, p.w.overview_note, overview_svg(p.e.plan(), p.ja));
}

void flows(Page& p) {
  p.html += fmt::format("<section id=\"flows\"><h2>{}</h2><p class=\"note\">{}</p>", p.w.flows, p.w.click_node);
  const auto& funnel = p.report["funnel"];
  for (std::size_t f = 0; f < p.e.flow_count(); ++f) {
    const StepGraph& g = p.e.flow(f);
    const auto& st = p.e.stats()[f];
    const auto waiting = p.e.waiting(f);
    std::vector<NodeCounts> counts;
    for (std::uint32_t n = 0; n < g.node_count(); ++n) {
      const auto& s = st.steps[n];
      counts.push_back(NodeCounts{s.entered, s.passed, waiting[n], s.left, s.converted});
    }
    const std::string base = fmt::format("/funnel/{}", f);
    p.html += fmt::format(
        "<article class=\"flow\" id=\"flow-{}\" data-flow=\"{}\"><h3><span class=\"kind\">{}</span> {}</h3>", f, f,
        g.is_broadcast ? p.w.broadcast : p.w.scenario, escape_html(g.name));
    p.html +=
        fmt::format("<p class=\"totals\">{} {} · {} {} · {} {} · {} {}</p>", p.w.entered,
                    p.counts.show(base + "/entered"), p.w.completed, p.counts.show(base + "/completed"), p.w.stopped,
                    p.counts.show(base + "/stopped"), p.w.converted, p.counts.show(base + "/converted"));
    p.html += "<div class=\"pic\">" + flowchart_svg(g, f, start_details(p.e.program(), g), counts, p.ja) + "</div>";
    p.html += "<div class=\"places\" hidden></div>";
    p.html += fmt::format(
        "<div class=\"scroll\"><table "
        "class=\"funnel\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></"
        "thead><tbody>",
        p.w.step, p.w.entered, p.w.passed, p.w.waiting, p.w.left, p.w.converted);
    const auto first = std::max<std::uint64_t>(1, st.steps.empty() ? 1 : st.steps[0].entered);
    for (std::uint32_t n = 0; n < g.node_count(); ++n) {
      const auto& sn = g.node(n);
      if (sn.kind == StepKind::Start) continue;
      const std::string at = fmt::format("{}/steps/{}", base, n);
      const double share = std::min(1.0, static_cast<double>(st.steps[n].entered) / static_cast<double>(first));
      p.html += fmt::format(
          "<tr data-node=\"{}\"><td style=\"background:linear-gradient(90deg,#e8f8ee {:.0f}%,transparent "
          "0)\"><code>{}</code> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
          n, share * 100, escape_html(sn.id), escape_html(sn.label), p.counts.show(at + "/entered"),
          p.counts.show(at + "/passed"), p.counts.show(at + "/waiting"), p.counts.show(at + "/left"),
          p.counts.show(at + "/converted"));
    }
    p.html += "</tbody></table></div>";
    if (funnel[f].contains("notes")) {
      p.html += fmt::format("<ul class=\"notes\" aria-label=\"{}\">", p.w.notes);
      for (const auto& n : funnel[f]["notes"]) p.html += "<li>" + escape_html(n.get<std::string>()) + "</li>";
      p.html += "</ul>";
    }
    p.html += "</article>";
  }
  p.html += "</section>";
}

void messages(Page& p) {
  p.html += fmt::format("<section id=\"messages\"><h2>{}</h2><p class=\"note\">{}</p><div class=\"grid\">",
                        p.w.messages, p.w.messages_note);
  const auto allowance =
      static_cast<double>(std::max<std::int64_t>(1, p.report["quota"].value("monthly_allowance", 1)));
  // The sample friend of a message: the first who received it (else the first friend), as they are now.
  std::vector<std::optional<std::uint32_t>> first(p.e.schema().messages.size());
  for (std::size_t m = 0; p.tally != nullptr && m < first.size(); ++m) first[m] = p.tally->messages()[m].first_receiver;
  const bool standard = p.report["quota"].value("plan", "") == "standard";
  for (std::uint32_t m = 0; m < p.e.schema().messages.size(); ++m) {
    const std::string at = fmt::format("/messages/{}", m);
    std::optional<std::uint32_t> row = first[m];
    if (!row && p.e.store().size() > 0) row = 0;
    std::string bubbles, who;
    if (row) {
      bubbles = bubbles_html(nlohmann::json::parse(p.e.render({m}, *row)), p.ja);
      who = fmt::format("<p class=\"who\">{}: <code>{}</code></p>", p.w.sample_friend,
                        escape_html(p.e.store().id_of(*row)));
    }
    const auto pushes = p.counts.value(at + "/pushes");
    std::string cost = percent(static_cast<double>(pushes) / allowance);
    if (standard) {
      cost += fmt::format(" · ≈{} yen", with_commas(std::llround(static_cast<double>(pushes) *
                                                                 p.report["quota"].value("overage_price_yen", 3.0))));
    }
    p.html += fmt::format(
        "<article class=\"message\" id=\"message-{}\"><h3>{}</h3><div class=\"phone\">{}</div>{}<dl>"
        "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</"
        "dd><dt>{}</dt><dd>{}</dd></dl></article>",
        m, escape_html(p.e.schema().messages[m]), bubbles, who, p.w.pushes, p.counts.show(at + "/pushes"), p.w.replies,
        p.counts.show(at + "/replies"), p.w.clicks, p.counts.show(at + "/clicks"), p.w.blocked_3d,
        p.counts.show(at + "/blocked_within_3d"), p.w.skipped_blocked, p.counts.show(at + "/skipped_blocked"),
        p.w.share_of_allowance, cost);
  }
  p.html += "</div></section>";
}

std::string verdict(const Page& p, const ordered_json& vs) {
  const std::string pv = fmt::format("{:.3f}", vs.value("p_value", 1.0));
  const std::string n = with_commas(vs.value("needed_per_arm", std::int64_t{0}));
  const char* text = !vs.value("enough", false) ? p.w.verdict_small
                     : vs.value("significant", false)
                         ? (vs.value("difference", 0.0) > 0 ? p.w.verdict_better : p.w.verdict_worse)
                         : p.w.verdict_same;
  std::string s = replace_all(replace_all(text, "{p}", pv), "{n}", n);
  if (vs.value("needed_per_arm", 0) == 0) {
    // No difference to tell apart: drop the sentence about the friends it would need.
    const auto dot = s.find(p.ja ? "。" : ". ");
    if (dot != std::string::npos) s = s.substr(0, dot + (p.ja ? std::string("。").size() : 1));
  }
  return s;
}

void ab_tests(Page& p) {
  const auto& ab = p.data["ab"];
  if (ab.empty()) return;
  p.html += fmt::format("<section id=\"ab\"><h2>{}</h2><p class=\"note\">{}</p>", p.w.ab, p.w.ab_note);
  for (const auto& split : ab) {
    const auto f = split["flow"].get<std::size_t>();
    const auto first = split["first_arm"].get<std::size_t>();
    p.html += fmt::format(
        "<article class=\"split\"><h3>{} <code>{}</code></h3><div class=\"scroll\"><table class=\"ab\"><thead><tr>"
        "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        escape_html(split["name"].get<std::string>()), escape_html(split["split"].get<std::string>()), p.w.arm,
        p.w.percent, p.w.friends, p.w.delivered, p.w.clicked, p.w.converted, p.w.rate, p.w.vs_control);
    std::size_t k = first;
    for (const auto& arm : split["arms"]) {
      const std::string at = fmt::format("/funnel/{}/arms/{}", f, k);
      const auto ci = arm["ci"];
      std::string vs_cell = fmt::format("<td>{}</td>", p.w.control);
      if (arm.contains("vs_control")) {
        const auto& vs = arm["vs_control"];
        vs_cell = fmt::format(
            "<td><span class=\"diff\" data-difference=\"{}\" data-lo=\"{}\" data-hi=\"{}\" data-p=\"{}\">{:+.1f} pt "
            "({:+.1f} … {:+.1f})</span>"
            "<div class=\"verdict{}\">{}</div></td>",
            vs["difference"].get<double>(), vs["ci"][0].get<double>(), vs["ci"][1].get<double>(),
            vs["p_value"].get<double>(), vs["difference"].get<double>() * 100, vs["ci"][0].get<double>() * 100,
            vs["ci"][1].get<double>() * 100, vs.value("significant", false) ? " sig" : "", escape_html(verdict(p, vs)));
      }
      p.html += fmt::format(
          "<tr data-arm=\"{}\"><td><b>{}</b></td><td>{}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td><span class=\"rate\" data-rate=\"{}\" data-lo=\"{}\" data-hi=\"{}\">{}</span> <small>({} … "
          "{})</small></td>{}</tr>",
          escape_html(arm["arm"].get<std::string>()), escape_html(arm["arm"].get<std::string>()),
          p.counts.value(at + "/percent"), p.counts.show(at + "/friends"), p.counts.show(at + "/delivered"),
          p.counts.show(at + "/clicked"), p.counts.show(at + "/converted"), arm["rate"].get<double>(),
          ci[0].get<double>(), ci[1].get<double>(), percent(arm["rate"].get<double>()), percent(ci[0].get<double>()),
          percent(ci[1].get<double>()), vs_cell);
      ++k;
    }
    p.html += "</tbody></table></div></article>";
  }
  p.html += "</section>";
}

// Bars drawn as SVG here: a month is a bar, the allowance a line, the forecast a dashed mark.
void quota(Page& p) {
  const auto& q = p.report["quota"];
  const auto& months = q["months"];
  const auto& forecast = p.data["quota_forecast"];
  p.html += fmt::format("<section id=\"quota\"><h2>{}</h2><p class=\"note\">{}</p>", p.w.quota, p.w.quota_note);
  const double allowance = q.value("monthly_allowance", 0.0);
  double top = allowance;
  for (std::size_t i = 0; i < months.size(); ++i) {
    top = std::max({top, months[i].value("pushes", 0.0), months[i].value("replies", 0.0),
                    i < forecast.size() ? forecast[i].get<double>() : 0.0});
  }
  top = std::max(top * 1.1, 1.0);
  const int width = std::max<int>(320, static_cast<int>(months.size()) * 90 + 60), height = 220, base = 190;
  auto y = [&](double v) { return base - v / top * 170; };
  std::string svg = fmt::format(
      "<svg class=\"chart\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"{2}\">",
      width, height, p.w.quota);
  for (std::size_t i = 0; i < months.size(); ++i) {
    const double x = 50 + static_cast<double>(i) * 90;
    const double pushes = months[i].value("pushes", 0.0), replies = months[i].value("replies", 0.0);
    svg += fmt::format(
        "<rect class=\"push\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"34\" height=\"{:.1f}\"><title>{} {}: {}</title></rect>",
        x, y(pushes), base - y(pushes), months[i].value("month", ""), p.w.pushes, with_commas(std::llround(pushes)));
    svg += fmt::format(
        "<rect class=\"reply\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"20\" height=\"{:.1f}\"><title>{} {}: "
        "{}</title></rect>",
        x + 38, y(replies), base - y(replies), months[i].value("month", ""), p.w.free_replies,
        with_commas(std::llround(replies)));
    if (i < forecast.size()) {
      svg += fmt::format(
          "<line class=\"forecast\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"><title>{}: "
          "{}</title></line>",
          x - 6, x + 40, y(forecast[i].get<double>()), y(forecast[i].get<double>()), p.w.forecast,
          with_commas(forecast[i].get<std::int64_t>()));
    }
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{}</text>", x, base + 18, months[i].value("month", ""));
  }
  svg += fmt::format(
      "<line class=\"allowance\" x1=\"40\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/><text class=\"allowance\" x=\"42\" "
      "y=\"{:.1f}\">{} {}</text>",
      width - 10, y(allowance), y(allowance), y(allowance) - 4, p.w.allowance, with_commas(std::llround(allowance)));
  svg += "</svg>";
  p.html += "<div class=\"pic\">" + svg + "</div>";
  p.html += fmt::format(
      "<div class=\"legend\"><span class=\"push\">{}</span><span class=\"reply\">{}</span><span "
      "class=\"forecast\">{}</span></div>",
      p.w.pushes, p.w.free_replies, p.w.forecast);
  p.html += fmt::format(
      "<div "
      "class=\"scroll\"><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
      p.w.month, p.w.pushes, p.w.free_replies, p.w.forecast, p.w.over);
  for (std::size_t i = 0; i < months.size(); ++i) {
    const std::string at = fmt::format("/quota/months/{}", i);
    p.html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                          months[i].value("month", ""), p.counts.show(at + "/pushes"), p.counts.show(at + "/replies"),
                          i < forecast.size() ? with_commas(forecast[i].get<std::int64_t>()) : "",
                          p.counts.show(at + "/over"));
  }
  p.html += "</tbody></table></div></section>";
}

void timeline(Page& p) {
  p.html += fmt::format(
      "<section id=\"timeline\"><h2>{}</h2><p class=\"note\">{}</p>"
      "<input id=\"friend-search\" type=\"search\" list=\"friend-ids\" placeholder=\"{}\" autocomplete=\"off\">"
      "<datalist id=\"friend-ids\">",
      p.w.timeline, p.w.timeline_note, p.w.timeline_placeholder);
  for (const auto& [id, lines] : p.data["timelines"].items()) p.html += "<option value=\"" + escape_html(id) + "\">";
  p.html += "</datalist><pre id=\"timeline-out\" hidden></pre></section>";
}

// JSON inside <script>: "</" would end the element.
std::string script_safe(std::string json) { return replace_all(std::move(json), "</", "<\\/"); }

}  // namespace

bool speaks_japanese(const plan::Plan& p) {
  auto japanese = [](const plan::TextTemplate& t) {
    for (const auto& piece : t.pieces) {
      // Hiragana, katakana and the CJK ideographs are three UTF-8 bytes led by 0xE3 … 0xE9.
      for (const unsigned char c : piece.literal) {
        if (c >= 0xE3 && c <= 0xE9) return true;
      }
    }
    return false;
  };
  for (const auto& m : p.messages) {
    if (m.kind == plan::MessageKind::Text && japanese(m.text)) return true;
    if (m.kind == plan::MessageKind::Json) {
      for (const unsigned char c : m.json) {
        if (c >= 0xE3 && c <= 0xE9) return true;
      }
    }
  }
  for (const auto& t : p.notify_texts) {
    if (japanese(t)) return true;
  }
  return false;
}

std::string html_report(const rt::Engine& e, const std::string& report_json, const HtmlOptions& o) {
  const ordered_json report = ordered_json::parse(report_json);
  const ordered_json data = page_data(e, report, o.limits);
  const bool ja = o.ja.value_or(speaks_japanese(e.plan()));
  const Words& w = words(ja);
  Page p{e, o.tally, report, data, w, ja, Counts(report), {}};
  p.html.reserve(1 << 20);
  const std::string title = fmt::format("{} — {}", w.title, o.title);
  p.html += fmt::format(
      "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"generator\" content=\"okuri\"><title>{}</title><style>{}</style></head><body>",
      w.lang, escape_html(title), page_css());
  const std::string period =
      o.source.empty() ? fmt::format("{}: {} … {}", w.period, report.value("from", ""), report.value("to", ""))
                       : escape_html(o.source);
  p.html += fmt::format(
      "<header><h1>{}</h1><p>{}</p><nav><a href=\"#overview\">{}</a><a href=\"#flows\">{}</a>"
      "<a href=\"#messages\">{}</a>{}<a href=\"#quota\">{}</a><a href=\"#timeline\">{}</a></nav></header><main>",
      escape_html(title), period, w.overview, w.flows, w.messages,
      data["ab"].empty() ? "" : fmt::format("<a href=\"#ab\">{}</a>", w.ab), w.quota, w.timeline);
  summary(p);
  overview(p);
  flows(p);
  messages(p);
  ab_tests(p);
  quota(p);
  timeline(p);
  p.html += fmt::format("</main><footer>{}</footer>", w.made_by);
  ordered_json words_js{{"friends_here", w.friends_here},
                        {"nobody_here", w.nobody_here},
                        {"sample_of", w.sample_of},
                        {"open_timeline", w.open_timeline},
                        {"timeline_none", w.timeline_none},
                        {"timeline_not_sampled", w.timeline_not_sampled},
                        {"waiting", w.waiting}};
  ordered_json embedded{{"report", report}, {"page", data}, {"words", words_js}};
  p.html += "<script type=\"application/json\" id=\"okuri-report\">" + script_safe(embedded.dump()) + "</script>";
  p.html += std::string("<script>") + page_js() + "</script></body></html>\n";
  return p.html;
}

}  // namespace okuri::report
