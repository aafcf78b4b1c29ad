#include "runtime/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace okuri::rt {

using nlohmann::json;
using ordered = nlohmann::ordered_json;

std::int64_t plan_allowance(const std::string& plan) {
  if (plan == "light") return 5000;
  if (plan == "standard") return 30000;
  return 200;
}

std::vector<const Delivery*> sorted_deliveries(const Engine& e, std::int64_t to) {
  return sorted_deliveries(e.deliveries(), to);
}

std::vector<const Delivery*> sorted_deliveries(const std::vector<Delivery>& all, std::int64_t to) {
  std::vector<const Delivery*> out;
  for (const auto& d : all) {
    if (!d.skipped && d.time <= to) out.push_back(&d);
  }
  std::stable_sort(out.begin(), out.end(), [](const Delivery* a, const Delivery* b) { return a->time < b->time; });
  return out;
}

namespace {

std::string flow_name(const Engine& e, const Delivery& d) { return d.flow < 0 ? std::string() : e.flow(static_cast<std::size_t>(d.flow)).name; }

// The quota's figures over the period: what the tally counted, and the rate it gives.
struct Quota {
  const ReportTally& t;
  double per_day = 0;
  std::string projected;  // at the simulated rate, the allowance runs out on day N of a month
  std::int64_t over = 0;
};

Quota quota(const ReportOptions& o) {
  Quota q{*o.tally};
  for (const auto& m : q.t.months()) q.over += std::max<std::int64_t>(0, m.pushes - q.t.allowance());
  const double days = std::max(1.0, static_cast<double>(o.to - o.from) / 86400.0);
  q.per_day = static_cast<double>(q.t.pushes()) / days;
  if (q.per_day > 0) {
    const double last = static_cast<double>(q.t.allowance()) / q.per_day;
    if (last < 31) q.projected = fmt::format("day {} of each month", static_cast<int>(std::ceil(last)));
  }
  return q;
}

}  // namespace

// What a broadcast needs said: how `okuri serve` sends it (LINE's broadcast, a narrowcast, or
// multicasts of the friends it knows, grouped by their rendered messages), that LINE applies
// its own estimates, and that LINE refuses small narrowcasts.
std::vector<std::string> flow_notes(const Engine& e, std::size_t f) {
  std::vector<std::string> out;
  const auto& g = e.flow(f);
  if (!g.is_broadcast || g.decl == nullptr) return out;
  const plan::Flow* fl = &e.plan().flows[f];  // the engine's flows are the plan's, in its order
  // The first send whose text reads each friend's data, if any: LINE's one text cannot carry it.
  const plan::Node* reading = e.renderer().first_send_reading_friend(*fl);
  const std::string personal = reading != nullptr ? reading->label : std::string();
  using Reach = plan::Flow::Reach;
  if (fl->reach == Reach::Everyone && personal.empty()) {
    out.push_back(
        "okuri serve sends it through LINE's broadcast: every friend of the account, also those it has "
        "never heard from");
  } else if (fl->reach == Reach::Narrowcast && !personal.empty()) {
    out.push_back(
        fmt::format("okuri serve does not send it: `{}` reads each friend's data, and LINE sends one text "
                    "to the friends it chooses (its deliveries are recorded unsent)",
                    personal));
  } else if (fl->reach == Reach::Narrowcast) {
    out.push_back(fl->audience ? "okuri serve sends it as a narrowcast to an audience of the friends matching your "
                                 "data, filtered by LINE"
                               : "okuri serve sends it as a narrowcast: LINE picks the friends");
    out.push_back(
        "the target's `line.*` estimates are applied by LINE when the narrowcast is sent; every friend passes "
        "them here, so LINE may reach fewer");
    const auto reached = e.stats()[f].entered;
    if (reached < 100) {
      out.push_back(fmt::format("reaches {} friend{}: LINE refuses a narrowcast that reaches fewer than 100", reached,
                                reached == 1 ? "" : "s"));
    }
  } else if (personal.empty()) {
    out.push_back(
        "okuri serve sends it as multicasts: the friends it knows who get the same messages share requests "
        "of up to 500");
  } else {
    out.push_back(fmt::format(
        "okuri serve sends it as multicasts and pushes: `{}` reads each friend's data, so friends share a request "
        "(of up to 500) only where their texts come out the same, and the others get a push each",
        personal));
  }
  return out;
}

namespace {
// A JSON string literal: the names of the project are plain, but a friend id may hold anything.
// Whether any of the 8 bytes of `w` needs an escape in a JSON string: a quote, a backslash or a
// control character (bit tricks: a byte below 0x20, or one equal to 0x22 or 0x5C).
bool needs_escape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto zero_byte = [&](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\'))) != 0;
}

void json_string(std::string& out, std::string_view s) {
  // Runs of characters that need no escape (nearly all of them) are appended whole, found
  // eight bytes at a time; the last few bytes are checked as a word padded with spaces.
  std::size_t run = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (needs_escape(w)) break;
  }
  if (i + 8 > s.size()) {
    std::uint64_t w = 0x2020202020202020ull;
    std::memcpy(&w, s.data() + i, s.size() - i);
    if (!needs_escape(w)) {  // the whole text is plain: one append
      const std::size_t at = out.size();
      out.resize(at + s.size() + 2);
      char* p = out.data() + at;
      p[0] = '"';
      std::memcpy(p + 1, s.data(), s.size());
      p[s.size() + 1] = '"';
      return;
    }
  }
  out += '"';
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (c != '"' && c != '\\' && u >= 0x20) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += '\\';
      out += c;
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}
}  // namespace

// Written directly (not through a JSON library): a simulation prints one per delivery.
void append_delivery_line(std::string& out, const Engine& e, const Delivery& d, const stdlib::Zone& zone) {
  using namespace std::string_view_literals;
  out += "{\"time\":\""sv;
  append_time(out, d.time, zone);  // digits and signs: nothing to escape
  out += "\",\"friend\":"sv;
  FriendStore::IdText id;
  json_string(out, e.store().id_view(d.row, id));
  out += ",\"messages\":["sv;
  for (std::size_t i = 0; i < d.messages.size(); ++i) {
    if (i > 0) out += ',';
    json_string(out, e.schema().messages[d.messages[i]]);
  }
  out += "],\"kind\":"sv;
  out += d.reply ? "\"reply\""sv : "\"push\""sv;
  out += ",\"scenario\":"sv;
  if (d.flow < 0) {
    out += "null"sv;
  } else {
    json_string(out, e.flow(static_cast<std::size_t>(d.flow)).name);
  }
  out += ",\"node\":"sv;
  json_string(out, d.node);
  out += ",\"key\":"sv;
  json_string(out, d.key);
  if (d.time != d.logical) {
    out += ",\"logical_time\":\""sv;
    append_time(out, d.logical, zone);
    out += "\",\"deferred_by\":"sv;
    json_string(out, d.deferred_by);
  }
  // EngineOptions::render (`simulate --render`): the LINE message objects exactly as `serve` sends them.
  if (!d.rendered.empty()) {
    out += ",\"rendered\":"sv;
    out += json::parse(d.rendered).dump();
  }
  out += '}';
}

std::string delivery_line(const Engine& e, const Delivery& d, const stdlib::Zone& zone) {
  std::string out;
  out.reserve(256 + d.rendered.size());
  append_delivery_line(out, e, d, zone);
  return out;
}

std::string delivery_text(const Engine& e, const Delivery& d, const stdlib::Zone& zone) {
  std::string msgs;
  for (auto m : d.messages) msgs += (msgs.empty() ? "" : ",") + e.schema().messages[m];
  std::string s = fmt::format("{} {} {} {} {} {}", format_time(d.time, zone), e.store().id_of(d.row), d.reply ? "reply" : "push", msgs,
                              d.flow < 0 ? std::string("-") : flow_name(e, d), d.node);
  if (d.time != d.logical) s += fmt::format(" (deferred by {} from {})", d.deferred_by, format_time(d.logical, zone));
  if (!d.rendered.empty()) s += "\n" + indented_text(e, d);
  return s;
}

std::string indented_text(const Engine&, const Delivery& d) {
  // The readable form of what was rendered when the delivery was made.
  std::string out;
  const json msgs = json::parse(d.rendered);
  for (const auto& m : msgs) {
    const std::string type = m.value("type", "");
    std::string line = type == "text" ? m.value("text", "")
                       : type == "sticker"
                           ? fmt::format("[sticker {}/{}]", m.value("packageId", ""), m.value("stickerId", ""))
                       : m.contains("altText") ? fmt::format("[{}: {}]", type, m.value("altText", ""))
                                               : fmt::format("[{}]", type);
    std::string indented = "    │ ";
    for (char c : line) {
      indented += c;
      if (c == '\n') indented += "    │ ";
    }
    out += (out.empty() ? "" : "\n") + indented;
  }
  return out;
}

std::string report_json(const Engine& e, const ReportOptions& o, const stdlib::Zone& zone) {
  const Quota q = quota(o);
  ordered r;
  r["from"] = format_time(o.from, zone);
  r["to"] = format_time(o.to, zone);
  r["events"] = e.events_handled();
  r["friends"] = e.store().size();
  ordered dl;
  dl["pushes"] = q.t.pushes();
  dl["replies"] = q.t.replies();
  dl["deferred"] = q.t.deferred();
  dl["skipped_blocked"] = q.t.skipped();
  dl["after_end"] = q.t.pending();
  r["deliveries"] = dl;
  const auto& figures = o.tally->messages();
  ordered pm = ordered::array();
  for (std::size_t m = 0; m < figures.size(); ++m) {
    const auto& fg = figures[m];
    ordered x;
    x["message"] = e.schema().messages[m];
    x["pushes"] = fg.pushes;
    x["replies"] = fg.replies;
    x["skipped_blocked"] = fg.skipped_blocked;
    x["clicks"] = fg.clicks;
    x["blocked_within_3d"] = o.blocks_known ? ordered(fg.blocked_within_3d) : ordered(nullptr);
    pm.push_back(x);
  }
  r["messages"] = pm;
  ordered flows = ordered::array();
  for (std::size_t f = 0; f < e.flow_count(); ++f) {
    const auto& g = e.flow(f);
    const auto& st = e.stats()[f];
    ordered x;
    x["name"] = g.name;
    x["kind"] = g.is_broadcast ? "broadcast" : "scenario";
    x["entered"] = st.entered;
    x["completed"] = st.completed;
    x["stopped"] = st.stopped;
    x["converted"] = st.converted;
    ordered steps = ordered::array();
    const auto waiting = e.waiting(f);
    for (std::uint32_t n = 0; n < g.node_count(); ++n) {
      const auto& sn = g.node(n);
      const auto& s = st.steps[n];
      ordered y;
      y["id"] = sn.id;
      y["kind"] = to_string(sn.kind);
      y["label"] = sn.label;
      y["entered"] = s.entered;
      y["passed"] = s.passed;
      y["left"] = s.left;
      y["waiting"] = waiting[n];
      y["converted"] = s.converted;
      steps.push_back(y);
    }
    x["steps"] = steps;
    ordered arms = ordered::array();
    for (const auto& a : st.arms) {
      arms.push_back(ordered{{"split", a.split}, {"arm", a.arm}, {"percent", a.percent}, {"friends", a.friends},
                             {"delivered", a.delivered}, {"clicked", a.clicked}, {"converted", a.converted}});
    }
    if (!arms.empty()) x["arms"] = arms;
    const auto notes = flow_notes(e, f);
    if (!notes.empty()) x["notes"] = notes;
    flows.push_back(x);
  }
  r["funnel"] = flows;
  ordered quota_j;
  quota_j["plan"] = e.program().account.plan;
  quota_j["monthly_allowance"] = q.t.allowance();
  ordered months = ordered::array();
  for (const auto& m : q.t.months()) {
    ordered x;
    x["month"] = m.month;
    x["pushes"] = m.pushes;
    x["replies"] = m.replies;
    x["over"] = std::max<std::int64_t>(0, m.pushes - q.t.allowance());
    x["ran_out_on"] = m.ran_out.empty() ? ordered(nullptr) : ordered(m.ran_out);
    months.push_back(x);
  }
  quota_j["months"] = months;
  quota_j["pushes_per_day"] = std::round(q.per_day * 100) / 100;
  quota_j["runs_out_at_this_rate"] = q.projected.empty() ? ordered(nullptr) : ordered(q.projected);
  if (e.program().account.plan == "standard") {
    quota_j["overage_messages"] = q.over;
    quota_j["overage_price_yen"] = o.overage_price;
    quota_j["overage_cost_yen"] = std::round(static_cast<double>(q.over) * o.overage_price * 100) / 100;
  } else {
    quota_j["refused_by_line"] = q.over;
  }
  r["quota"] = quota_j;
  r["notifications"] = e.notifications();
  r["engine_stops"] = e.cascade_stops();
  ordered ign = ordered::object();
  for (const auto& [k, v] : o.ignored_events) ign[k] = v;
  r["ignored_event_types"] = ign;
  r["duplicate_events"] = o.duplicate_events;
  return r.dump(2) + "\n";
}

std::string report_text(const Engine& e, const ReportOptions& o, const stdlib::Zone& zone) {
  const Quota q = quota(o);
  std::string out;
  out += fmt::format("simulated {} … {}: {} events, {} friends\n", format_time(o.from, zone), format_time(o.to, zone),
                     e.events_handled(), e.store().size());
  out += fmt::format("deliveries: {} pushes ({} deferred by quiet hours or the daily limit), {} free replies",
                     q.t.pushes(), q.t.deferred(), q.t.replies());
  if (q.t.skipped() > 0) out += fmt::format(", {} skipped (blocked)", q.t.skipped());
  if (q.t.pending() > 0) out += fmt::format(", {} still deferred at the end", q.t.pending());
  out += "\n\nfunnel\n";
  for (std::size_t f = 0; f < e.flow_count(); ++f) {
    const auto& g = e.flow(f);
    const auto& st = e.stats()[f];
    out += fmt::format("  {} {}: entered {}, completed {}, stopped {}, converted {}\n", g.is_broadcast ? "broadcast" : "scenario",
                       g.name, st.entered, st.completed, st.stopped, st.converted);
    std::size_t width = 0;
    for (std::uint32_t n = 0; n < g.node_count(); ++n) width = std::max(width, g.node(n).id.size());
    const auto waiting = e.waiting(f);
    for (std::uint32_t n = 0; n < g.node_count(); ++n) {
      const auto& sn = g.node(n);
      if (sn.kind == StepKind::Start) continue;
      const auto& s = st.steps[n];
      out += fmt::format("    {:<{}}  entered {:>6}  passed {:>6}  left {:>5}  waiting {:>5}  converted {:>5}  {}\n", sn.id, width,
                         s.entered, s.passed, s.left, waiting[n], s.converted, sn.label);
    }
    for (const auto& note : flow_notes(e, f)) out += "    note: " + note + "\n";
  }
  out += "\nmessages (pushes + replies)\n";
  const auto& figures = o.tally->messages();
  for (std::size_t m = 0; m < figures.size(); ++m) {
    const auto& fg = figures[m];
    std::string line = fg.pushes + fg.replies == 0 ? std::string("never sent") : fmt::format("{} + {}", fg.pushes, fg.replies);
    if (fg.skipped_blocked > 0) line += fmt::format(" ({} skipped: blocked)", fg.skipped_blocked);
    if (fg.clicks > 0) line += fmt::format(", {} click{}", fg.clicks, fg.clicks == 1 ? "" : "s");
    if (o.blocks_known && fg.blocked_within_3d > 0)
      line += fmt::format(", {} blocked within 3 days", fg.blocked_within_3d);
    out += fmt::format("  {:<24} {}\n", e.schema().messages[m], line);
  }
  const std::string& plan = e.program().account.plan;
  out += fmt::format("\nLINE messages: plan {} allows {} pushes a month (replies are free)\n", plan, q.t.allowance());
  for (const auto& m : q.t.months()) {
    const double pct = 100.0 * static_cast<double>(m.pushes) / static_cast<double>(q.t.allowance());
    out += fmt::format("  {}: {} push{} ({} of the allowance)", m.month, m.pushes, m.pushes == 1 ? "" : "es",
                       pct > 0 && pct < 0.1 ? std::string("under 0.1%") : fmt::format("{:.1f}%", pct));
    if (!m.ran_out.empty()) {
      out += plan == "standard" ? fmt::format("; over from {}: {} messages at {:.2f} yen = {:.0f} yen", m.ran_out,
                                              m.pushes - q.t.allowance(), o.overage_price,
                                              static_cast<double>(m.pushes - q.t.allowance()) * o.overage_price)
                                : fmt::format("; ran out on {}: LINE refuses the {} pushes after it", m.ran_out,
                                              m.pushes - q.t.allowance());
    }
    out += "\n";
  }
  out += fmt::format("  at the simulated rate ({:.1f} pushes a day) the allowance ", q.per_day);
  out += q.projected.empty() ? std::string("lasts the whole month\n") : "runs out on " + q.projected + "\n";
  if (e.notifications() > 0) out += fmt::format("staff notifications: {}\n", e.notifications());
  if (e.cascade_stops() > 0) out += fmt::format("warning: the engine stopped {} runaway cascades (see --trace)\n", e.cascade_stops());
  for (const auto& [k, v] : o.ignored_events) out += fmt::format("ignored event type `{}`: {} events\n", k, v);
  if (o.duplicate_events > 0) out += fmt::format("duplicate webhook events dropped: {}\n", o.duplicate_events);
  return out;
}

std::string trace_line(const Engine& e, const TraceEntry& t, const stdlib::Zone& zone) {
  std::string where;
  if (t.flow >= 0) where = e.flow(static_cast<std::size_t>(t.flow)).name;
  if (!t.node.empty() && t.node != where) where += (where.empty() ? "" : " ") + t.node;
  return fmt::format("{} {} {}{}{}", format_time(t.time, zone), e.store().id_of(t.row), to_string(t.kind),
                     where.empty() ? "" : " " + where, t.text.empty() ? "" : ": " + t.text);
}

}  // namespace okuri::rt
