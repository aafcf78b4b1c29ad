#include "runtime/render.hpp"
#include "compiler/message_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "compiler/literals.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::rt {

using nlohmann::json;

namespace {

const char* const kWeekdaysJa[] = {"日", "月", "火", "水", "木", "金", "土"};  // from Sunday

int weekday_from_sunday(std::int64_t days) {  // 1970-01-01 was a Thursday
  const std::int64_t w = (days + 4) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

std::string hhmm(std::int64_t minute) { return fmt::format("{:02}:{:02}", minute / 60, minute % 60); }

std::string join(const std::vector<std::string>& values, std::int64_t mask) {
  std::string s;
  for (std::size_t i = 0; i < values.size() && i < 64; ++i) {
    if (((static_cast<std::uint64_t>(mask) >> i) & 1) != 0) s += (s.empty() ? "" : "、") + values[i];
  }
  return s;
}

}  // namespace

std::string format_date_value(std::int64_t days, std::string_view format) {
  const CivilDate d = civil_from_days(days);
  if (format == "ja") return fmt::format("{}月{}日({})", d.month, d.day, kWeekdaysJa[weekday_from_sunday(days)]);
  if (format == "ja_year")
    return fmt::format("{}年{}月{}日({})", d.year, d.month, d.day, kWeekdaysJa[weekday_from_sunday(days)]);
  return format_date(d);
}

std::string format_datetime_value(std::int64_t seconds, std::string_view format, const stdlib::Zone& zone) {
  const std::int64_t days = zone.local_days(seconds);
  const std::string time = hhmm(zone.local_minute(seconds));
  if (format == "time") return time;
  if (format == "date") return format_date_value(days, "");
  return format_date_value(days, format) + " " + time;
}

struct Renderer::Impl {
  const plan::Plan& plan;
  std::vector<json> json_messages;  // by message id (null unless a json message)
  explicit Impl(const plan::Plan& p) : plan(p) {
    json_messages.resize(p.messages.size());
    for (std::size_t i = 0; i < p.messages.size(); ++i) {
      if (p.messages[i].kind != plan::MessageKind::Json) continue;
      // Checked when the project compiled; a file that no longer parses would be a compiler bug.
      json_messages[i] = json::parse(p.messages[i].json, nullptr, false);
      if (json_messages[i].is_discarded()) json_messages[i] = json::array();
    }
  }

  // The value of a `{…}` now, or nullopt when it is unknown.
  std::optional<std::string> value(const plan::TextRef& r, const RenderContext& c) const {
    const FriendStore& s = c.store;
    const std::uint32_t row = c.row;
    auto text_of = [&](std::int32_t id) -> std::optional<std::string> {
      if (id < 0) return std::nullopt;
      return std::string(s.texts.get(id));
    };
    if (c.anyone && reads_friend(r)) return std::nullopt;
    switch (r.kind) {
      case plan::TextRef::Kind::Link: {
        const auto& l = plan.links[static_cast<std::size_t>(r.index)];
        if (c.links != nullptr && !c.anyone) return c.links->url(l.name, s.id_of(row), l.url);
        return l.url;
      }
      case plan::TextRef::Kind::Attribute:
        switch (static_cast<stdlib::AttrKind>(r.index)) {
          case stdlib::AttrKind::Gender: {
            const auto& g = stdlib::gender_values();
            if (s.gender[row] == 0 || s.gender[row] > g.size()) return std::nullopt;
            return std::string(g[s.gender[row] - 1u]);
          }
          case stdlib::AttrKind::Age:
            if (s.age[row] == kUnknownAge) return std::nullopt;
            return std::to_string(s.age[row]);
          case stdlib::AttrKind::Region: {
            const auto& pf = stdlib::prefectures();
            if (s.region[row] == 0 || s.region[row] > pf.size()) return std::nullopt;
            return std::string(pf[s.region[row] - 1u].kanji);
          }
          case stdlib::AttrKind::FriendDays:
            if (s.friend_since[row] == kUnknownDays) return std::nullopt;
            return std::to_string(c.zone.local_days(c.now) - s.friend_since[row]);
          case stdlib::AttrKind::Source:
            return text_of(s.source[row]);
          case stdlib::AttrKind::DisplayName:
            return text_of(s.display_name[row]);
          case stdlib::AttrKind::Language:
            return text_of(s.language[row]);
          case stdlib::AttrKind::Blocked:
            return std::string(s.blocked.get(row) ? "true" : "false");
          case stdlib::AttrKind::Score:
            return std::to_string(s.score[row]);
          case stdlib::AttrKind::Today:
            return format_date_value(c.zone.local_days(c.now), r.format);
          case stdlib::AttrKind::Now:
            return format_datetime_value(c.now, r.format, c.zone);
        }
        return std::nullopt;
      case plan::TextRef::Kind::Field: {
        const auto& col = s.fields[static_cast<std::size_t>(r.index)];
        if (!col.known.get(row)) return std::nullopt;
        return typed(col.values[row], r, s, c.zone);
      }
      case plan::TextRef::Kind::EventField: {
        if (c.event == nullptr) return std::nullopt;
        auto it = c.event->fields.find(r.name);
        if (it == c.event->fields.end()) return std::nullopt;
        if (it->second.is_text) return it->second.text;
        return typed(it->second.i, r, s, c.zone);
      }
    }
    return std::nullopt;
  }

  static bool reads_friend(const plan::TextRef& r) {
    if (r.kind == plan::TextRef::Kind::Field) return true;
    if (r.kind != plan::TextRef::Kind::Attribute) return false;
    const auto a = static_cast<stdlib::AttrKind>(r.index);
    return a != stdlib::AttrKind::Today && a != stdlib::AttrKind::Now;
  }

  std::string typed(std::int64_t v, const plan::TextRef& r, const FriendStore& s, const stdlib::Zone& zone) const {
    switch (r.type.kind) {
      case TypeKind::Text:
        return std::string(s.texts.get(static_cast<std::int32_t>(v)));
      case TypeKind::Date:
        return format_date_value(v, r.format);
      case TypeKind::DateTime:
        return format_datetime_value(v, r.format, zone);
      case TypeKind::Time:
        return hhmm(v);
      case TypeKind::Duration:
        return format_duration(v);
      case TypeKind::Bool:
        return v != 0 ? "true" : "false";
      case TypeKind::Enum:
        return v >= 0 && static_cast<std::size_t>(v) < r.values.size() ? r.values[static_cast<std::size_t>(v)]
                                                                       : std::string();
      case TypeKind::Set:
        return join(r.values, v);
      default:
        return std::to_string(v);
    }
  }

  // The declared link a JSON message's `uri` (or `linkUri`, …: is_uri_key) names, if any.
  std::optional<std::size_t> link_named(const std::string& uri) const {
    for (std::size_t l = 0; l < plan.links.size(); ++l) {
      if (uri == "{" + plan.links[l].name + "}" || uri == plan.links[l].url) return l;
    }
    return std::nullopt;
  }

  void collect_links(const json& j, std::vector<std::uint32_t>& out) const {
    for_each_uri(j, [&](const json& v) {
      if (auto l = link_named(v.get<std::string>())) out.push_back(static_cast<std::uint32_t>(*l));
    });
  }

  // A declared link written into a JSON message (`"uri": "{trial_lp}"` or its URL) goes out tracked.
  void track_links(json& j, const RenderContext& c) const {
    for_each_uri(j, [&](json& v) {
      if (auto l = link_named(v.get<std::string>())) {
        const auto& link = plan.links[*l];
        v = c.links != nullptr && !c.anyone ? c.links->url(link.name, c.store.id_of(c.row), link.url) : link.url;
      }
    });
  }
};

Renderer::Renderer(const plan::Plan& plan) : impl_(std::make_unique<Impl>(plan)) {}
Renderer::~Renderer() = default;

std::string Renderer::text(const plan::TextTemplate& t, const RenderContext& c) const {
  std::string out;
  for (const auto& piece : t.pieces) {
    if (!piece.ref) {
      out += piece.literal;
      continue;
    }
    auto v = impl_->value(*piece.ref, c);
    if (v) {
      out += *v;
    } else if (piece.ref->fallback) {
      out += *piece.ref->fallback;
    }
  }
  return out;
}

std::string Renderer::messages(const std::vector<plan::MessageId>& ids, const RenderContext& c) const {
  json out = json::array();
  for (const auto id : ids) {
    const auto& m = impl_->plan.messages[id];
    switch (m.kind) {
      case plan::MessageKind::Text:
        out.push_back({{"type", "text"}, {"text", text(m.text, c)}});
        break;
      case plan::MessageKind::Sticker:
        out.push_back({{"type", "sticker"},
                       {"packageId", std::to_string(m.package_id)},
                       {"stickerId", std::to_string(m.sticker_id)}});
        break;
      case plan::MessageKind::Json: {
        json copy = impl_->json_messages[id];
        impl_->track_links(copy, c);
        for (auto& x : copy) out.push_back(std::move(x));
        break;
      }
    }
  }
  return out.dump();
}

std::vector<std::uint32_t> Renderer::links_of(plan::MessageId id) const {
  std::vector<std::uint32_t> out;
  const auto& m = impl_->plan.messages[id];
  if (m.kind == plan::MessageKind::Text) {
    for (const auto& piece : m.text.pieces) {
      if (piece.ref && piece.ref->kind == plan::TextRef::Kind::Link) out.push_back(static_cast<std::uint32_t>(piece.ref->index));
    }
  } else if (m.kind == plan::MessageKind::Json) {
    impl_->collect_links(impl_->json_messages[id], out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Renderer::readable(const std::vector<plan::MessageId>& ids, const RenderContext& c) const {
  std::string out;
  const json all = json::parse(messages(ids, c));
  for (const auto& m : all) {
    const std::string type = m.value("type", "");
    std::string line;
    if (type == "text") {
      line = m.value("text", "");
    } else if (type == "sticker") {
      line = fmt::format("[sticker {}/{}]", m.value("packageId", ""), m.value("stickerId", ""));
    } else if (m.contains("altText")) {
      line = fmt::format("[{}: {}]", type, m.value("altText", ""));
    } else {
      line = fmt::format("[{}]", type);
    }
    out += line + "\n";
  }
  return out;
}

const plan::Node* Renderer::first_send_reading_friend(const plan::Flow& flow) const {
  for (const auto& n : flow.nodes) {
    if (n.kind == StepKind::Send && reads_friend(n.messages)) return &n;
  }
  return nullptr;
}

bool Renderer::reads_friend(const std::vector<plan::MessageId>& ids) const {
  for (const auto id : ids) {
    for (const auto& piece : impl_->plan.messages[id].text.pieces) {
      if (piece.ref && Impl::reads_friend(*piece.ref)) return true;
    }
  }
  return false;
}

bool Renderer::reads_profile(const std::vector<plan::MessageId>& ids) const {
  for (const auto id : ids) {
    if (impl_->plan.messages[id].text.reads_profile) return true;
  }
  return false;
}

}  // namespace okuri::rt
