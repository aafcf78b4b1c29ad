#include "runtime/trace.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/literals.hpp"
#include "runtime/engine.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::rt {

const char* to_string(TraceKind k) {
  switch (k) {
    case TraceKind::Event:
      return "event";
    case TraceKind::Raised:
      return "raised";
    case TraceKind::Rule:
      return "rule";
    case TraceKind::Enter:
      return "enter";
    case TraceKind::NoEnter:
      return "no_enter";
    case TraceKind::Leave:
      return "leave";
    case TraceKind::Branch:
      return "branch";
    case TraceKind::Split:
      return "split";
    case TraceKind::Wait:
      return "wait";
    case TraceKind::Case:
      return "case";
    case TraceKind::Send:
      return "send";
    case TraceKind::Action:
      return "action";
    case TraceKind::Goal:
      return "goal";
    case TraceKind::End:
      return "end";
    case TraceKind::Error:
      return "error";
  }
  return "?";
}

std::string value_text(const Value& v, const Type& t, const std::vector<std::string>& values,
                       const stdlib::Zone& zone) {
  if (!v.known) return "unknown";
  switch (t.kind) {
    case TypeKind::Bool:
      return v.i != 0 ? "true" : "false";
    case TypeKind::Text:
      return fmt::format("\"{}\"", v.text);
    case TypeKind::Date:
      return format_date(civil_from_days(v.i));
    case TypeKind::DateTime: {
      std::string s = format_time(v.i, zone);
      return s.substr(0, 10) + " " + s.substr(11, 5);
    }
    case TypeKind::Duration:
      return format_duration(v.i);
    case TypeKind::Time:
      return okuri::format_time(static_cast<MinuteOfDay>(v.i));
    case TypeKind::Enum:
      return v.i >= 0 && static_cast<std::size_t>(v.i) < values.size() ? values[static_cast<std::size_t>(v.i)] : "?";
    case TypeKind::Set: {
      std::string s = "[";
      for (std::size_t i = 0; i < values.size() && i < 64; ++i) {
        if (((static_cast<std::uint64_t>(v.i) >> i) & 1) != 0) s += (s.size() > 1 ? ", " : "") + values[i];
      }
      return s + "]";
    }
    default:
      return std::to_string(v.i);
  }
}

namespace {

std::string show(const ir::Node& n, const Value& v, const ir::Schema& schema, const stdlib::Zone& zone,
                 const EventCatalog::Spec* event_spec) {
  if (!v.known) return "unknown";
  if (n.type == ir::VType::Bool) return v.i != 0 ? "true" : "false";
  if (n.type == ir::VType::Text) return fmt::format("\"{}\"", v.text);
  if (n.op == ir::Op::Attr) {
    const auto a = static_cast<ir::Attr>(n.a);
    if (a == ir::Attr::Gender) {
      const auto& g = stdlib::gender_values();
      return v.i >= 0 && static_cast<std::size_t>(v.i) < g.size() ? std::string(g[static_cast<std::size_t>(v.i)]) : "?";
    }
    if (a == ir::Attr::Region) {
      const auto& pf = stdlib::prefectures();
      return v.i >= 0 && static_cast<std::size_t>(v.i) < pf.size() ? std::string(pf[static_cast<std::size_t>(v.i)].name)
                                                                   : "?";
    }
  }
  if (n.op == ir::Op::Field && n.a >= 0) {
    const auto& f = schema.fields[static_cast<std::size_t>(n.a)];
    return value_text(v, f.type, f.values, zone);
  }
  if (n.op == ir::Op::EventField && event_spec != nullptr) {
    // A custom event's one_of field by its value's name, a date as a date.
    if (auto it = event_spec->fields.find(n.text); it != event_spec->fields.end()) {
      return value_text(v, it->second.type, it->second.values, zone);
    }
  }
  if (n.op == ir::Op::Clicked || n.op == ir::Op::Opened) return v.i != 0 ? "true" : "false";
  return std::to_string(v.i);
}

}  // namespace

std::string TraceValues::inputs(const ir::Predicate& pr, std::uint32_t row, const EvalEnv& env, const EventValues* ev,
                                const InputEvent* event) const {
  const ir::Schema& schema = plan.schema;
  const EventCatalog::Spec* spec = event != nullptr ? catalog.find(event->type) : nullptr;
  std::string out;
  std::vector<std::string> seen;
  for (const auto& n : pr.nodes) {
    std::string name;
    switch (n.op) {
      case ir::Op::Attr: {
        name = std::string(stdlib::attributes()[static_cast<std::size_t>(n.a)].name);
        const auto a = static_cast<ir::Attr>(n.a);
        if (a == ir::Attr::Today || a == ir::Attr::Now) {
          if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
          seen.push_back(name);
          const std::string t = format_time(env.now, zone);
          out += (out.empty() ? "" : ", ") + name + "=" +
                 (a == ir::Attr::Today ? t.substr(0, 10) : t.substr(0, 10) + " " + t.substr(11, 5));
          continue;
        }
        break;
      }
      case ir::Op::Field:
        name = n.a >= 0 ? schema.fields[static_cast<std::size_t>(n.a)].name : "?";
        break;
      case ir::Op::NamedScore:
        name = n.a >= 0 ? fmt::format("score({})", schema.scores[static_cast<std::size_t>(n.a)]) : "score(?)";
        break;
      case ir::Op::Tagged:
        name = n.a >= 0 ? fmt::format("tagged({})", schema.tags[static_cast<std::size_t>(n.a)]) : "tagged(?)";
        break;
      case ir::Op::InAudience:
        name = n.a >= 0 ? fmt::format("in_audience({})", schema.audiences[static_cast<std::size_t>(n.a)]) : "?";
        break;
      case ir::Op::Clicked:
        name = n.a >= 0 ? fmt::format("clicked({}{})", schema.links[static_cast<std::size_t>(n.a)],
                                      n.b ? ", within " + format_duration(n.b) : "")
                        : "?";
        break;
      case ir::Op::Clicks:
        name = n.a >= 0 ? fmt::format("clicks({})", schema.links[static_cast<std::size_t>(n.a)]) : "?";
        break;
      case ir::Op::Opened:
        name = n.a >= 0 ? fmt::format("opened({}{})", schema.messages[static_cast<std::size_t>(n.a)],
                                      n.b ? ", within " + format_duration(n.b) : "")
                        : "?";
        break;
      case ir::Op::Sent:
        name = n.a >= 0 ? fmt::format("sent({})", schema.messages[static_cast<std::size_t>(n.a)]) : "?";
        break;
      case ir::Op::Visited:
        name = fmt::format("visited(\"{}\")", schema.visit_patterns[static_cast<std::size_t>(n.a)]);
        break;
      case ir::Op::EventField:
        name = "event." + n.text;
        break;
      default:
        continue;
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    ir::Predicate one;
    one.nodes.push_back(n);
    one.nodes.back().nkids = 0;
    const Value v = eval_value(one, store, row, env, ev);
    out += (out.empty() ? "" : ", ") + name + "=" + show(n, v, schema, zone, spec);
  }
  return out;
}

std::string TraceValues::describe(const InputEvent& e) const {
  std::string s = e.type;
  if (!e.arg.empty()) s += "(" + e.arg + ")";
  const EventCatalog::Spec* spec = catalog.find(e.type);
  for (const auto& [k, v] : e.fields) {
    std::string shown = v.is_text ? "\"" + v.text + "\"" : std::to_string(v.i);
    if (spec != nullptr && !v.is_text) {
      if (auto it = spec->fields.find(k); it != spec->fields.end()) {
        const auto& fs = it->second;
        if (fs.type.kind == TypeKind::Enum) {
          shown = v.i >= 0 && static_cast<std::size_t>(v.i) < fs.values.size()
                      ? fs.values[static_cast<std::size_t>(v.i)]
                      : "?";
        } else {
          shown = value_text(Value{true, v.i, {}}, fs.type, fs.values, zone);  // a set: [cut, color]
        }
      }
    }
    s += fmt::format(" {}={}", k, shown);
  }
  if (!e.origin.empty()) s += " [" + e.origin + "]";
  return s;
}

}  // namespace okuri::rt
