#include "runtime/event_input.hpp"

#include <fmt/format.h>

#include <simdjson.h>
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "compiler/checker.hpp"
#include "compiler/literals.hpp"
#include "runtime/json_error.hpp"
#include "runtime/text_lines.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/functions.hpp"
#include "stdlib/json_depth.hpp"

namespace okuri::rt {

using nlohmann::json;

// ------------------------------------------------------------------ catalog

EventCatalog::EventCatalog(const Program& p) : timezone_(p.account.timezone) {
  const Type text = Type::of(TypeKind::Text);
  // stdlib/events.def: the argument travels in its own key (`"link": "trial_lp"`); the other
  // fields are texts.
  for (const auto& b : builtin_events()) {
    Spec s;
    s.arg = b.argument;
    s.arg_field = std::string(stdlib::find_event(b.name)->argument_field);
    for (const auto f : b.fields) {
      if (f != s.arg_field) s.fields[std::string(f)] = FieldSpec{text, {}};
    }
    specs_[std::string(b.name)] = std::move(s);
  }
  for (const auto& sym : p.symbols) symbols_.insert({sym.kind, sym.name});
  for (const auto& f : p.ast.files) {
    for (const auto& d : f.decls) {
      const auto* e = std::get_if<ast::EventDecl>(&d.v);
      if (e == nullptr || specs_.count(e->name.text) != 0) continue;
      Spec s;
      s.builtin = false;
      for (const auto& field : e->fields) {
        FieldSpec fs;
        fs.type = Type::error();
        const auto& t = field.type;
        if (t.kind == ast::TypeSpec::Named) {
          static const std::pair<const char*, TypeKind> kNamed[] = {
              {"int", TypeKind::Int},   {"bool", TypeKind::Bool},         {"text", TypeKind::Text},
              {"date", TypeKind::Date}, {"datetime", TypeKind::DateTime}, {"duration", TypeKind::Duration},
              {"time", TypeKind::Time}};
          for (const auto& [n, k] : kNamed) {
            if (t.name.text == n) fs.type = Type::of(k);
          }
        } else {
          fs.type = Type{t.kind == ast::TypeSpec::OneOf ? TypeKind::Enum : TypeKind::Set, 0};
          for (const auto& v : t.values) fs.values.push_back(v.text);
        }
        s.fields[field.name.text] = std::move(fs);
      }
      specs_[e->name.text] = std::move(s);
    }
  }
}

const EventCatalog::Spec* EventCatalog::find(std::string_view type) const {
  auto it = specs_.find(type);
  return it == specs_.end() ? nullptr : &it->second;
}

bool EventCatalog::has_symbol(SymbolKind k, std::string_view name) const { return symbols_.count({k, std::string(name)}) != 0; }

// ------------------------------------------------------------------ values

namespace {

// `len` decimal digits at `at`, and nothing else (no sign, no space): RFC 3339's fields have
// fixed widths. By hand, not std::from_chars: a stream reads one time per event.
bool fixed_digits(std::string_view s, std::size_t at, std::size_t len, int& out) {
  if (at + len > s.size()) return false;
  int v = 0;
  for (std::size_t k = at; k < at + len; ++k) {
    const unsigned d = static_cast<unsigned char>(s[k]) - unsigned{'0'};
    if (d > 9) return false;
    v = v * 10 + static_cast<int>(d);
  }
  out = v;
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T') return std::nullopt;
  CivilDate d;
  if (!fixed_digits(s, 0, 4, d.year) || !fixed_digits(s, 5, 2, d.month) || !fixed_digits(s, 8, 2, d.day)) {
    return std::nullopt;
  }
  if (d.year < 1900 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > days_in_month(d.year, d.month)) {
    return std::nullopt;
  }
  int hh = 0, mm = 0, ss = 0;
  if (!fixed_digits(s, 11, 2, hh) || s[13] != ':' || !fixed_digits(s, 14, 2, mm) || s[16] != ':' ||
      !fixed_digits(s, 17, 2, ss)) {
    return std::nullopt;
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
      if (digits < 3) ms = ms * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
    offset = 0;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (!fixed_digits(s, i + 1, 2, oh) || !fixed_digits(s, i + 4, 2, om) || oh > 23 || om > 59) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const std::int64_t secs = days_from_civil(d) * 86400 + hh * 3600 + mm * 60 + ss - offset;
  return secs * 1000 + ms;
}

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) { throw EventError(where + ": " + what); }

// "events.jsonl:12", made only when it is shown: most lines are read without an error.
struct Where {
  std::string_view file;
  std::size_t line;
  std::string str() const { return fmt::format("{}:{}", file, line); }
};
[[noreturn]] void fail(const Where& where, const std::string& what) { fail(where.str(), what); }

std::string show_json(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "…";
  return s;
}

std::string show(const simdjson::dom::element& v) {
  std::string s = simdjson::minify(v);
  if (s.size() > 60) s = s.substr(0, 57) + "…";
  return s;
}

std::string_view string_of(const simdjson::dom::element& v) {
  std::string_view s;
  return v.get_string().get(s) == simdjson::SUCCESS ? s : std::string_view();
}

FieldValue field_value(const Where& where, std::string_view name, const simdjson::dom::element& v,
                       const EventCatalog::FieldSpec& spec) {
  FieldValue out;
  auto bad = [&](const char* want) { fail(where, fmt::format("field `{}`: {} is not {}", name, show(v), want)); };
  const bool is_string = v.is_string();
  const std::string_view text = string_of(v);
  switch (spec.type.kind) {
    case TypeKind::Int:
      if (!v.is_int64()) bad("a whole number");
      out.i = v.get_int64().value_unsafe();
      break;
    case TypeKind::Bool:
      if (!v.is_bool()) bad("true or false");
      out.i = v.get_bool().value_unsafe() ? 1 : 0;
      break;
    case TypeKind::Text:
      if (!is_string) bad("a text");
      out.is_text = true;
      out.text = std::string(text);
      break;
    case TypeKind::Date: {
      auto d = is_string ? parse_date(text) : std::nullopt;
      if (!d || text.size() != 10) bad("a date (YYYY-MM-DD)");
      out.i = days_from_civil(*d);
      break;
    }
    case TypeKind::DateTime: {
      if (!is_string) bad("an RFC 3339 time");
      auto ms = parse_rfc3339_ms(text);
      if (!ms) bad("an RFC 3339 time such as 2026-01-20T18:00:00+09:00");
      out.i = *ms >= 0 ? *ms / 1000 : -((-*ms + 999) / 1000);
      break;
    }
    case TypeKind::Duration: {
      auto d = is_string ? parse_duration(text) : std::nullopt;
      if (!d) bad("a duration such as 3d");
      out.i = *d;
      break;
    }
    case TypeKind::Time: {
      auto t = is_string ? parse_time_of_day(text) : std::nullopt;
      if (!t) bad("a time of day such as 10:00");
      out.i = *t;
      break;
    }
    case TypeKind::Enum: {
      if (!is_string) bad("a text");
      auto it = std::find(spec.values.begin(), spec.values.end(), text);
      if (it == spec.values.end()) {
        std::string vals;
        for (const auto& x : spec.values) vals += (vals.empty() ? "" : ", ") + x;
        bad(fmt::format("one of {}", vals).c_str());
      }
      out.i = it - spec.values.begin();
      break;
    }
    case TypeKind::Set: {
      simdjson::dom::array items;
      if (v.get(items) != simdjson::SUCCESS) bad("a list");
      for (auto item : items) {
        const std::string_view name_of_item = string_of(item);
        auto it =
            item.is_string() ? std::find(spec.values.begin(), spec.values.end(), name_of_item) : spec.values.end();
        if (it == spec.values.end()) fail(where, fmt::format("field `{}`: {} is not one of its values", name, show(item)));
        out.i |= std::int64_t{1} << (it - spec.values.begin());
      }
      break;
    }
    case TypeKind::Error:
      break;
  }
  return out;
}

}  // namespace

EventReader::EventReader(const EventCatalog& catalog)
    : catalog_(catalog), json_(std::make_unique<simdjson::dom::parser>()) {}
EventReader::~EventReader() = default;

std::optional<InputEvent> EventReader::read_line(std::string_view file, std::size_t line_no, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return std::nullopt;
  const Where where{file, line_no};
  if (stdlib::json_too_deep(line))
    fail(where, fmt::format("not accepted: JSON nested deeper than {} levels", stdlib::kJsonDepthLimit));
  simdjson::dom::element doc;
  if (auto err = json_->parse(line.data(), line.size()).get(doc); err != simdjson::SUCCESS) {
    fail(where, fmt::format("not valid JSON: {}", json_error_text(err)));
  }
  simdjson::dom::object j;
  if (doc.get(j) != simdjson::SUCCESS) fail(where, "an event must be a JSON object");
  auto need_string = [&](const char* key) -> std::string_view {
    simdjson::dom::element v;
    if (j[key].get(v) != simdjson::SUCCESS) fail(where, fmt::format("field `{}` is missing", key));
    const std::string_view s = string_of(v);
    if (!v.is_string() || s.empty()) fail(where, fmt::format("field `{}`: {} is not a text", key, show(v)));
    return s;
  };
  InputEvent ev;
  const std::string_view time = need_string("time");
  auto ms = parse_rfc3339_ms(time);
  if (!ms)
    fail(where, fmt::format("field `time`: `{}` is not an RFC 3339 time such as 2026-01-05T12:00:00+09:00", time));
  ev.time_ms = *ms;
  ev.friend_id = std::string(need_string("friend"));
  ev.type = std::string(need_string("type"));
  const auto* spec = catalog_.find(ev.type);
  if (spec == nullptr) {
    if (++ignored_[ev.type] == 1) ignored_at_[ev.type] = where.str();
    return std::nullopt;
  }
  for (auto field : j) {
    const std::string_view key = field.key;
    const simdjson::dom::element val = field.value;
    if (key == "time" || key == "friend" || key == "type") continue;
    if (key == "reply_token" || key == "webhook_event_id") {
      if (!val.is_string()) fail(where, fmt::format("field `{}`: {} is not a text", key, show(val)));
      (key == "reply_token" ? ev.reply_token.emplace() : ev.webhook_event_id) = std::string(string_of(val));
      continue;
    }
    if (spec->arg && key == spec->arg_field) {
      if (!val.is_string()) fail(where, fmt::format("field `{}`: {} is not a name", key, show(val)));
      const std::string_view name = string_of(val);
      if (!catalog_.has_symbol(*spec->arg, name)) {
        fail(where, fmt::format("field `{}`: `{}` is not a {} of the project", key, name, kind_word(*spec->arg)));
      }
      ev.arg = std::string(name);
      continue;
    }
    auto f = spec->fields.find(std::string(key));
    if (f == spec->fields.end()) fail(where, fmt::format("event `{}` has no field `{}`", ev.type, key));
    if (val.is_null()) continue;  // unknown
    ev.fields[std::string(key)] = field_value(where, key, val, f->second);
  }
  if (!ev.webhook_event_id.empty() && !seen_ids_.insert(ev.webhook_event_id).second) {
    ++duplicates_;
    return std::nullopt;
  }
  if (origins_) ev.origin = where.str();
  return ev;
}

std::vector<InputEvent> EventReader::read_jsonl(const std::string& path, std::string_view text) {
  std::vector<InputEvent> out;
  for_each_line(text, [&](std::size_t line_no, std::string_view line, std::size_t /*offset*/) {
    if (auto ev = read_line(path, line_no, line)) out.push_back(std::move(*ev));
  });
  return out;
}

std::vector<InputEvent> EventReader::read_webhook(std::string_view body) {
  json j;
  if (stdlib::json_too_deep(body)) {
    fail("webhook body", fmt::format("not accepted: JSON nested deeper than {} levels", stdlib::kJsonDepthLimit));
  }
  try {
    j = json::parse(body);
  } catch (const json::exception& ex) {  // a syntax error, or a number out of range (1e4444)
    std::string what = ex.what();
    const auto at = std::min(what.find("parse error"), what.find("number overflow"));
    fail("webhook body", "not valid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
  if (!j.is_object()) fail("webhook body", "not a JSON object");
  auto events = j.find("events");
  if (events == j.end() || !events->is_array()) fail("webhook body", "field `events` is missing or not a list");
  std::vector<InputEvent> parsed;
  std::vector<std::string> ids;
  for (std::size_t k = 0; k < events->size(); ++k) {
    const json& e = (*events)[k];
    const std::string where = fmt::format("webhook event {}", k);
    if (!e.is_object()) fail(where, "not a JSON object");
    auto str = [&](const json& obj, const char* key, const std::string& at) -> std::string {
      auto it = obj.find(key);
      if (it == obj.end()) fail(at, fmt::format("field `{}` is missing", key));
      if (!it->is_string()) fail(at, fmt::format("field `{}`: {} is not a text", key, show_json(*it)));
      return it->get<std::string>();
    };
    const std::string type = str(e, "type", where);
    const std::string id = str(e, "webhookEventId", where);
    // Without an id a redelivered event could not be told from a new one, and would be applied twice.
    if (id.empty()) fail(where, "field `webhookEventId` is empty");
    auto ts = e.find("timestamp");
    if (ts == e.end() || !ts->is_number_integer()) fail(where, "field `timestamp` is missing or not a whole number");
    // Milliseconds from 2000 to 2200: a value outside is no time LINE sends, and would move clocks absurdly.
    constexpr std::int64_t kEarliest = 946684800000, kLatest = 7258118400000;
    if (!ts->is_number_unsigned() || ts->get<std::int64_t>() < kEarliest || ts->get<std::int64_t>() > kLatest) {
      fail(where,
           fmt::format("field `timestamp`: {} is not a time between 2000 and 2200 in milliseconds", show_json(*ts)));
    }
    auto ctx = e.find("deliveryContext");
    if (ctx == e.end() || !ctx->is_object() || !ctx->contains("isRedelivery") || !(*ctx)["isRedelivery"].is_boolean()) {
      fail(where, "field `deliveryContext.isRedelivery` is missing or not true/false");
    }
    InputEvent ev;
    ev.origin = where;
    ev.time_ms = ts->get<std::int64_t>();
    ev.webhook_event_id = id;
    ev.redelivery = (*ctx)["isRedelivery"].get<bool>();
    if (auto rt = e.find("replyToken"); rt != e.end() && rt->is_string()) ev.reply_token = rt->get<std::string>();
    if (type == "follow") {
      bool unblocked = false;
      if (auto f = e.find("follow"); f != e.end() && f->is_object() && f->contains("isUnblocked")) {
        if (!(*f)["isUnblocked"].is_boolean()) fail(where, "field `follow.isUnblocked` is not true or false");
        unblocked = (*f)["isUnblocked"].get<bool>();
      }
      ev.type = unblocked ? "friend_unblocked" : "friend_added";
    } else if (type == "unfollow") {
      ev.type = "friend_blocked";
    } else if (type == "message") {
      ev.type = "message_received";
      auto m = e.find("message");
      if (m == e.end() || !m->is_object()) fail(where, "field `message` is missing");
      if (m->contains("type") && (*m)["type"] == "text") {
        FieldValue v;
        v.is_text = true;
        v.text = str(*m, "text", where + " message");
        ev.fields["text"] = std::move(v);
      }
    } else if (type == "postback") {
      ev.type = "postback";
      auto pb = e.find("postback");
      if (pb == e.end() || !pb->is_object()) fail(where, "field `postback` is missing");
      FieldValue v;
      v.is_text = true;
      v.text = str(*pb, "data", where + " postback");
      ev.fields["data"] = std::move(v);
    } else {
      ++ignored_[type];
      continue;
    }
    // Friend events come from a one-to-one chat with a user. A group or room event names the
    // member who spoke, but that member may never have added the account, and an answer to it
    // would go to the whole group: the language's events are one-to-one, so it is not a friend event.
    auto src = e.find("source");
    if (src == e.end() || !src->is_object() || !src->contains("userId") || !(*src)["userId"].is_string()) {
      ++ignored_[type + " (no userId)"];
      continue;
    }
    if (auto st = src->find("type"); st != src->end() && st->is_string() && *st != "user") {
      ++ignored_[type + " (from a " + st->get<std::string>() + ")"];
      continue;
    }
    if (auto mode = e.find("mode"); mode != e.end() && mode->is_string()) ev.standby = *mode == "standby";
    ev.friend_id = (*src)["userId"].get<std::string>();
    parsed.push_back(std::move(ev));
  }
  // Only once the whole body is valid: deduplicate and keep.
  std::vector<InputEvent> out;
  for (auto& ev : parsed) {
    if (!seen_ids_.insert(ev.webhook_event_id).second) {
      ++duplicates_;
      continue;
    }
    out.push_back(std::move(ev));
  }
  return out;
}

void sort_by_time(std::vector<InputEvent>& events) {
  std::stable_sort(events.begin(), events.end(), [](const InputEvent& a, const InputEvent& b) { return a.time_ms < b.time_ms; });
}

}  // namespace okuri::rt
