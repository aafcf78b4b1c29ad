#include "compiler/checker.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/flow_plan.hpp"
#include "compiler/line_target.hpp"
#include "compiler/message_files.hpp"
#include "compiler/pred_ir.hpp"
#include "compiler/suggest.hpp"
#include "compiler/text_width.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/japanese_names.hpp"

namespace okuri {

const char* kind_word(SymbolKind k) {
  switch (k) {
    case SymbolKind::Tag:
      return "tag";
    case SymbolKind::Message:
      return "message";
    case SymbolKind::Link:
      return "link";
    case SymbolKind::Segment:
      return "segment";
    case SymbolKind::Field:
      return "field";
    case SymbolKind::Scenario:
      return "scenario";
    case SymbolKind::Step:
      return "step";
    case SymbolKind::Audience:
      return "audience";
    case SymbolKind::Form:
      return "form";
    case SymbolKind::Event:
      return "event";
    case SymbolKind::Score:
      return "score";
    case SymbolKind::Broadcast:
      return "broadcast";
    case SymbolKind::Test:
      return "test";
  }
  return "name";
}

bool AccountSettings::in_quiet_hours(MinuteOfDay m) const {
  if (!quiet_from || !quiet_to || *quiet_from == *quiet_to) return false;
  if (*quiet_from < *quiet_to) return m >= *quiet_from && m < *quiet_to;
  return m >= *quiet_from || m < *quiet_to;
}

std::optional<std::uint32_t> Program::find_index(SymbolKind k, std::string_view name, std::string_view scope) const {
  for (std::uint32_t i = 0; i < symbols.size(); ++i) {
    if (symbols[i].kind == k && symbols[i].name == name && symbols[i].scope == scope) return i;
  }
  return std::nullopt;
}

const Symbol* Program::find(SymbolKind k, std::string_view name, std::string_view scope) const {
  auto i = find_index(k, name, scope);
  return i ? &symbols[*i] : nullptr;
}

void check_program(Program& p) { detail::Checker(p).run(); }
void check_program_incremental(Program& p, IncrementalCheck& ic) { detail::Checker(p).run_incremental(ic); }

const std::vector<BuiltinEvent>& builtin_events() {
  // stdlib/events.def, with the kinds of names the arguments refer to.
  static const std::vector<BuiltinEvent> list = [] {
    std::vector<BuiltinEvent> out;
    for (const auto& e : stdlib::events()) {
      std::optional<SymbolKind> arg;
      switch (e.argument) {
        case stdlib::EventArg::Link:
          arg = SymbolKind::Link;
          break;
        case stdlib::EventArg::Message:
          arg = SymbolKind::Message;
          break;
        case stdlib::EventArg::Form:
          arg = SymbolKind::Form;
          break;
        case stdlib::EventArg::Tag:
          arg = SymbolKind::Tag;
          break;
        case stdlib::EventArg::Field:
          arg = SymbolKind::Field;
          break;
        case stdlib::EventArg::None:
        case stdlib::EventArg::UrlPattern:
          break;
      }
      out.push_back(
          BuiltinEvent{e.name, e.fields, arg, e.argument == stdlib::EventArg::UrlPattern, e.reply_token, e.doc});
    }
    return out;
  }();
  return list;
}

namespace detail {

namespace {

// 5002 → "5,002", as the LINE console writes counts.
std::string thousands(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

const std::vector<EventInfo>& builtins_list() {
  static const std::vector<EventInfo> list = [] {
    std::vector<EventInfo> out;
    for (const auto& b : builtin_events()) {
      EventInfo e{std::string(b.name), {}, true, b.reply_token};
      for (const auto f : b.fields) e.fields.emplace_back(std::string(f), Type::of(TypeKind::Text));
      out.push_back(std::move(e));
    }
    return out;
  }();
  return list;
}

// The kind of argument a built-in event takes in parentheses (nullptr: none).
const SymbolKind* event_arg_kind(std::string_view ev) {
  for (const auto& b : builtin_events()) {
    if (b.name == ev) return b.argument ? &*b.argument : nullptr;
  }
  return nullptr;
}

}  // namespace

bool reference_order(const Reference& a, const Reference& b) {
  return std::tie(a.span.file, a.span.begin, a.span.end, a.symbol) <
         std::tie(b.span.file, b.span.begin, b.span.end, b.symbol);
}

void Checker::collect_all() {
  // Pass 1: every declaration, so that order does not matter.
  for (const auto& f : p_.ast.files) {
    for (const auto& d : f.decls) collect(d);
  }
  segment_state_.assign(p_.symbols.size(), 0);
}

void Checker::run() {
  p_.expr_symbols.assign(p_.ast.node_count + 1, Program::kNoSymbol);
  collect_all();
  // Pass 2: bodies.
  for (const auto& f : p_.ast.files) {
    for (const auto& d : f.decls) check_decl(d);
  }
  check_never_started();
  report_unused();
  std::sort(p_.references.begin(), p_.references.end(), reference_order);
}

// ------------------------------------------------------------------ names

std::optional<std::uint32_t> Checker::declare(SymbolKind k, const ast::Name& n, const ast::Decl* d, std::string scope) {
  if (n.text.empty()) return std::nullopt;
  const std::string key = scope.empty() ? n.text : scope + "/" + n.text;
  auto it = names_for(k).find(key);
  if (it != names_for(k).end()) {
    if (k == SymbolKind::Segment) segment_duplicates_ = true;
    auto& diag =
        p_.diags.report(Code::E004, n.span, fmt::format("duplicate definition of {} `{}`", kind_word(k), n.text));
    diag.notes.push_back(Note{p_.symbols[it->second].span, "first defined here"});
    return std::nullopt;
  }
  // Fields and segments share the names that expressions read.
  if (k == SymbolKind::Field || k == SymbolKind::Segment) {
    const SymbolKind other = k == SymbolKind::Field ? SymbolKind::Segment : SymbolKind::Field;
    auto o = names_for(other).find(n.text);
    if (o != names_for(other).end()) {
      segment_duplicates_ = true;
      auto& diag =
          p_.diags.report(Code::E004, n.span,
                          fmt::format("duplicate definition of `{}`: it is already a {}", n.text, kind_word(other)));
      diag.notes.push_back(Note{p_.symbols[o->second].span, "first defined here"});
      return std::nullopt;
    }
    if (stdlib::find_attribute(n.text) != nullptr) {
      if (k == SymbolKind::Segment) segment_duplicates_ = true;
      p_.diags.report(Code::E004, n.span,
                      fmt::format("duplicate definition of `{}`: it is a built-in attribute", n.text));
      return std::nullopt;
    }
  }
  if (k == SymbolKind::Event) {
    for (const auto& b : builtins_list()) {
      if (b.name == n.text) {
        p_.diags.report(Code::E004, n.span,
                        fmt::format("duplicate definition of event `{}`: it is a built-in event", n.text));
        return std::nullopt;
      }
    }
  }
  Symbol s;
  s.kind = k;
  s.name = n.text;
  s.span = n.span;
  s.decl = d;
  s.scope = std::move(scope);
  p_.symbols.push_back(std::move(s));
  const auto idx = static_cast<std::uint32_t>(p_.symbols.size() - 1);
  names_for(k).emplace(key, idx);
  return idx;
}

std::optional<std::uint32_t> Checker::lookup(SymbolKind k, std::string_view name, std::string_view scope) const {
  const NameTable& table = names_for(k);
  auto it = scope.empty() ? table.find(name) : table.find(std::string(scope) + "/" + std::string(name));
  if (it == table.end()) return std::nullopt;
  return it->second;
}

void Checker::use(std::uint32_t sym, Span at) {
  p_.symbols[sym].uses++;
  p_.references.push_back(Reference{at, sym});
}

std::vector<std::string> Checker::names_of(SymbolKind k, std::string_view scope) const {
  std::vector<std::string> out;
  for (const auto& s : p_.symbols) {
    if (s.kind == k && s.scope == scope) out.push_back(s.name);
  }
  return out;
}

const Symbol* Checker::other_kind(std::string_view name, SymbolKind wanted) const {
  for (const auto& s : p_.symbols) {
    if (s.kind != wanted && s.name == name && s.scope.empty()) return &s;
  }
  return nullptr;
}

void Checker::unknown(Code code, SymbolKind k, const ast::Name& n, const std::vector<std::string>& candidates) {
  auto best = suggest(n.text, candidates);
  std::string msg = fmt::format("unknown {} `{}`", kind_word(k), n.text);
  if (best) msg += fmt::format("; did you mean `{}`?", *best);
  auto& d = p_.diags.report(code, n.span, msg);
  if (best) d.fix = FixIt{n.span, *best};
}

std::optional<std::uint32_t> Checker::resolve(SymbolKind k, const ast::Name& n, std::string_view scope) {
  if (n.text.empty()) return std::nullopt;
  if (auto i = lookup(k, n.text, scope)) {
    use(*i, n.span);
    return i;
  }
  if (const Symbol* o = other_kind(n.text, k)) {
    auto& d =
        p_.diags.report(Code::E003, n.span,
                        fmt::format("type mismatch: `{}` is a {}, not a {}", n.text, kind_word(o->kind), kind_word(k)));
    d.notes.push_back(Note{o->span, fmt::format("the {} is defined here", kind_word(o->kind))});
    return std::nullopt;
  }
  unknown(Code::E002, k, n, names_of(k, scope));
  return std::nullopt;
}

const EventInfo* Checker::event_info(const ast::EventPattern& e) {
  for (const auto& b : builtins_list()) {
    if (b.name == e.name.text) return &b;
  }
  for (const auto& c : custom_events_) {
    if (c.name == e.name.text) return &c;
  }
  return nullptr;
}

void Checker::check_event_pattern(const ast::EventPattern& e) {
  const EventInfo* info = event_info(e);
  if (info == nullptr) {
    std::vector<std::string> all;
    for (const auto& b : builtins_list()) all.push_back(b.name);
    for (const auto& c : custom_events_) all.push_back(c.name);
    // A built-in event by its Japanese name (`友だち追加` → `friend_added`).
    if (const auto en = stdlib::english_name(stdlib::JapaneseKind::Event, e.name.text)) {
      auto& d =
          p_.diags.report(Code::E002, e.name.span,
                          fmt::format("unknown event `{}`; write `{}` (events have English names)", e.name.text, *en));
      d.fix = FixIt{e.name.span, std::string(*en)};
      return;
    }
    unknown(Code::E002, SymbolKind::Event, e.name, all);
    return;
  }
  if (!info->builtin) {
    if (auto i = lookup(SymbolKind::Event, e.name.text)) use(*i, e.name.span);
  }
  const SymbolKind* arg_kind = info->builtin ? event_arg_kind(info->name) : nullptr;
  if (e.arg) {
    if (arg_kind != nullptr) {
      resolve(*arg_kind, *e.arg);
    } else if (info->name == "web_visited") {
      p_.diags.report(
          Code::E003, e.arg_span,
          "type mismatch: web_visited takes a URL pattern in double quotes, such as web_visited(\"/price\")");
    } else {
      p_.diags.report(Code::E003, e.arg_span, fmt::format("event `{}` takes no argument", info->name));
    }
  } else if (e.arg_text && info->name != "web_visited") {
    if (arg_kind != nullptr) {
      p_.diags.report(Code::E003, e.arg_span,
                      fmt::format("type mismatch: `{}` takes a {} name, not a text", info->name, kind_word(*arg_kind)));
    } else {
      p_.diags.report(Code::E003, e.arg_span, fmt::format("event `{}` takes no argument", info->name));
    }
  }
  if (e.from && info->name != "friend_added") {
    p_.diags.report(Code::E003, e.from_span,
                    fmt::format("`from` only applies to friend_added, not to `{}`", info->name));
  }
}

// ------------------------------------------------------------------ declarations

Type Checker::type_from_spec(const ast::TypeSpec& t, const std::string& owner) {
  switch (t.kind) {
    case ast::TypeSpec::OneOf:
    case ast::TypeSpec::SetOf: {
      EnumDef e;
      e.name = owner;
      for (const auto& v : t.values) {
        if (std::find(e.values.begin(), e.values.end(), v.text) != e.values.end()) {
          p_.diags.report(Code::E004, v.span, fmt::format("duplicate definition of value `{}` in `{}`", v.text, owner));
          continue;
        }
        e.values.push_back(v.text);
      }
      // Lists of the same values (in any order) are one enumeration, wherever they are
      // written: `set last_menu = event.menu` works when both list the same menus.
      // The first list keeps its order and names the type.
      const auto same = p_.types.find_enum_with(e.values);
      const auto id = same ? *same : p_.types.add_enum(std::move(e));
      return t.kind == ast::TypeSpec::OneOf ? Type::enumeration(id) : Type::set(id);
    }
    case ast::TypeSpec::Named:
      break;
  }
  if (const auto k = plain_type(t.name.text)) return Type::of(*k);
  std::vector<std::string> cands;
  for (const auto n : plain_type_names()) cands.emplace_back(n);
  cands.emplace_back("one_of");
  cands.emplace_back("set_of");
  auto best = suggest(t.name.text, cands);
  auto& d = p_.diags.report(Code::E002, t.name.span,
                            fmt::format("unknown type `{}`{}", t.name.text,
                                        best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
  if (best) d.fix = FixIt{t.name.span, *best};
  return Type::error();
}

void Checker::collect_steps(const ast::ScenarioDecl& sc, const ast::Block& b, const ast::Decl* d) {
  for (const auto& s : b.stmts) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::StepStmt>) {
            declare(SymbolKind::Step, v.name, d, sc.name.text);
            collect_steps(sc, v.body, d);
          } else if constexpr (std::is_same_v<T, ast::RepeatStmt>) {
            collect_steps(sc, v.body, d);
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            for (const auto& a : v.arms) collect_steps(sc, a.body, d);
            if (v.else_body) collect_steps(sc, *v.else_body, d);
          } else if constexpr (std::is_same_v<T, ast::SplitStmt>) {
            for (const auto& a : v.arms) collect_steps(sc, a.body, d);
          } else if constexpr (std::is_same_v<T, ast::WaitStmt>) {
            for (const auto& c : v.cases) collect_steps(sc, c.body, d);
          }
        },
        s->v);
  }
}

void Checker::collect(const ast::Decl& d) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ast::FieldDecl>) {
          if (auto i = declare(SymbolKind::Field, v.name, &d))
            p_.symbols[*i].type = type_from_spec(v.type, v.name.text);
        } else if constexpr (std::is_same_v<T, ast::ListDecl>) {
          const SymbolKind k = v.kind == ast::ListKind::Tag        ? SymbolKind::Tag
                               : v.kind == ast::ListKind::Score    ? SymbolKind::Score
                               : v.kind == ast::ListKind::Audience ? SymbolKind::Audience
                                                                   : SymbolKind::Form;
          for (const auto& n : v.names) declare(k, n, &d);
        } else if constexpr (std::is_same_v<T, ast::LinkDecl>) {
          declare(SymbolKind::Link, v.name, &d);
        } else if constexpr (std::is_same_v<T, ast::MessageDecl>) {
          const auto i = declare(SymbolKind::Message, v.name, &d);
          // A json message's count of LINE messages is part of what it declares: sends check it.
          if (v.kind == ast::MessageKind::Json) {
            auto r = check_message_file(p_.root, v.value);
            if (!r.error.empty()) {
              p_.diags.report(Code::E013, v.value_span, r.error);
            } else if (i) {
              p_.symbols[*i].message_count = r.message_count;
              p_.message_json[v.name.text] = std::move(r.json);
            }
            if (!r.resolved.empty()) p_.message_files.push_back(r.resolved);
          }
        } else if constexpr (std::is_same_v<T, ast::AccountDecl>) {
          // The settings apply to every declaration, wherever the account block stands.
          if (first_account_ != nullptr) {
            const Span first = first_account_->span;
            auto& diag = p_.diags.report(Code::E004, Span{d.span.file, d.span.begin, d.span.begin + 7},
                                         "duplicate definition of the account settings");
            diag.notes.push_back(Note{Span{first.file, first.begin, first.begin + 7}, "first defined here"});
          } else {
            first_account_ = &d;
            check_account(v, d.span);
          }
        } else if constexpr (std::is_same_v<T, ast::EventDecl>) {
          if (declare(SymbolKind::Event, v.name, &d)) {
            EventInfo info;
            info.name = v.name.text;
            info.builtin = false;
            for (const auto& f : v.fields) {
              bool dup = false;
              for (const auto& [n, t] : info.fields) dup = dup || n == f.name.text;
              if (dup) {
                p_.diags.report(
                    Code::E004, f.name.span,
                    fmt::format("duplicate definition of field `{}` in event `{}`", f.name.text, v.name.text));
                continue;
              }
              info.fields.emplace_back(f.name.text, type_from_spec(f.type, v.name.text + "." + f.name.text));
            }
            custom_events_.push_back(std::move(info));
          }
        } else if constexpr (std::is_same_v<T, ast::SegmentDecl>) {
          if (auto i = declare(SymbolKind::Segment, v.name, &d)) p_.symbols[*i].type = Type::of(TypeKind::Bool);
        } else if constexpr (std::is_same_v<T, ast::ScenarioDecl>) {
          declare(SymbolKind::Scenario, v.name, &d);
          collect_steps(v, v.body, &d);
        } else if constexpr (std::is_same_v<T, ast::BroadcastDecl>) {
          declare(SymbolKind::Broadcast, v.name, &d);
        } else if constexpr (std::is_same_v<T, ast::TestDecl>) {
          bool dup = false;
          for (const auto& s : p_.symbols) {
            if (s.kind == SymbolKind::Test && s.name == v.name) {
              auto& diag =
                  p_.diags.report(Code::E004, v.name_span, fmt::format("duplicate definition of test \"{}\"", v.name));
              diag.notes.push_back(Note{s.span, "first defined here"});
              dup = true;
              break;
            }
          }
          if (!dup) {
            Symbol s;
            s.kind = SymbolKind::Test;
            s.name = v.name;
            s.span = v.name_span;
            s.decl = &d;
            p_.symbols.push_back(std::move(s));
          }
        }
      },
      d.v);
}

void Checker::check_account(const ast::AccountDecl& a, Span decl_span) {
  static_cast<void>(decl_span);
  if (a.timezone) {
    if (is_valid_time_zone(*a.timezone)) {
      p_.account.timezone = *a.timezone;
    } else {
      static const std::vector<std::string> kCommon = {"Asia/Tokyo",    "Asia/Seoul",       "Asia/Taipei",
                                                       "Asia/Bangkok",  "Asia/Shanghai",    "Asia/Singapore",
                                                       "UTC",           "America/New_York", "America/Los_Angeles",
                                                       "Europe/London", "Europe/Paris",     "Australia/Sydney"};
      auto best = suggest(*a.timezone, kCommon);
      auto& d = p_.diags.report(Code::E007, a.timezone_span,
                                fmt::format("unknown time zone `{}`{}", *a.timezone,
                                            best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
      if (best) d.fix = FixIt{a.timezone_span, "\"" + *best + "\""};
    }
  }
  if (a.quiet_valid && a.quiet_from && a.quiet_to) {
    p_.account.quiet_from = a.quiet_from;
    p_.account.quiet_to = a.quiet_to;
    if (*a.quiet_from == *a.quiet_to) {
      p_.diags.report(Code::E007, a.quiet_span, "quiet hours start and end at the same time");
    }
  }
  for (const auto& [id, span] : a.staff) {
    // LINE user ids: `U` and 32 hexadecimal digits (what the Messaging API pushes to).
    const bool ok = id.size() == 33 && id[0] == 'U' && std::all_of(id.begin() + 1, id.end(), [](char c) {
                      return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                    });
    if (ok) {
      p_.account.staff.push_back(id);
    } else {
      p_.diags.report(
          Code::E007, span,
          fmt::format("`{}` is not a LINE user id (U followed by 32 hexadecimal digits): staff notifications are "
                      "pushed to the ids in `staff` (find yours in the LINE Developers console, under Basic settings)",
                      id));
    }
  }
  if (a.daily_limit) {
    if (*a.daily_limit < 1) {
      p_.diags.report(Code::E007, a.daily_limit_span, "daily_limit must be at least 1");
    } else {
      p_.account.daily_limit = a.daily_limit;
    }
  }
  if (a.plan) {
    if (stdlib::find_plan(a.plan->text) != nullptr) {
      p_.account.plan = a.plan->text;
    } else {
      std::vector<std::string> names;
      for (const auto& pl : stdlib::plans()) names.emplace_back(pl.name);
      std::optional<std::string> best;
      if (const auto en = stdlib::english_name(stdlib::JapaneseKind::Plan, a.plan->text)) {
        best = std::string(*en);  // ライト → light
      } else {
        best = suggest(a.plan->text, names);
      }
      auto& d = p_.diags.report(Code::E008, a.plan->span,
                                fmt::format("`{}` is not a plan (free, light or standard){}", a.plan->text,
                                            best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
      if (best) d.fix = FixIt{a.plan->span, *best};
    }
  }
}

void Checker::check_message(const ast::MessageDecl& m) {
  switch (m.kind) {
    case ast::MessageKind::Text: {
      if (m.value.empty()) {
        p_.diags.report(Code::E009, m.value_span, "text message is empty");
      } else if (const auto units = utf16_units(m.value); units > static_cast<std::size_t>(stdlib::kMaxTextLength)) {
        // LINE counts UTF-16 code units: say so when that differs from the characters people count.
        const auto chars = code_points(m.value);
        p_.diags.report(
            Code::E009, m.value_span,
            units == chars
                ? fmt::format("text message is {} characters; LINE allows at most {}", thousands(units),
                              thousands(stdlib::kMaxTextLength))
                : fmt::format("text message is {} UTF-16 units ({} characters; LINE counts an emoji and other "
                              "characters beyond U+FFFF as 2); LINE allows at most {}",
                              thousands(units), thousands(chars), thousands(stdlib::kMaxTextLength)));
      }
      check_text(m.value_span, "message");
      break;
    }
    case ast::MessageKind::Json: {  // read by the first pass
      // A link written into the file (`"uri": "{trial_lp}"`, or its URL) is a use of it, as in a
      // text; a `{name}` there that names no link would go out as written.
      const auto it = p_.message_json.find(m.name.text);
      if (it == p_.message_json.end()) break;
      for (const auto& uri : message_uris(it->second)) {
        if (uri.size() > 2 && uri.front() == '{' && uri.back() == '}') {
          const std::string name = uri.substr(1, uri.size() - 2);
          if (auto l = lookup(SymbolKind::Link, name)) {
            plain_use(*l);
            continue;
          }
          auto best = suggest(name, names_of(SymbolKind::Link));
          p_.diags.report(Code::E002, m.value_span,
                          fmt::format("`{}` in message file `{}` names no link{}", uri, m.value,
                                      best ? fmt::format("; did you mean `{{{}}}`?", *best) : std::string()));
          continue;
        }
        for (std::uint32_t k = 0; k < p_.symbols.size(); ++k) {
          const Symbol& sym = p_.symbols[k];
          if (sym.kind != SymbolKind::Link || sym.decl == nullptr) continue;
          const auto* ld = std::get_if<ast::LinkDecl>(&sym.decl->v);
          if (ld != nullptr && ld->url == uri) plain_use(k);
        }
      }
      break;
    }
    case ast::MessageKind::Sticker:
      if (m.package_id <= 0 || m.sticker_id <= 0) {
        p_.diags.report(Code::E007, m.value_span, "sticker package and sticker ids must be positive numbers");
      }
      break;
  }
}

void Checker::check_decl(const ast::Decl& d) {
  const ExprCtx plain;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ast::FieldDecl>) {
          if (v.default_value) {
            auto i = lookup(SymbolKind::Field, v.name.text);
            const Type ft = i ? p_.symbols[*i].type : Type{};
            const Type t = expr(*v.default_value, plain, ft);
            if (!ft.is_error() && !t.is_error() && !(t == ft)) {
              p_.diags.report(Code::E003, v.default_value->span,
                              fmt::format("type mismatch: field `{}` is {} but its default `{}` is {}", v.name.text,
                                          p_.types.describe(ft), show(*v.default_value), p_.types.describe(t)));
            } else if (!ft.is_error() && !t.is_error() && !ir::constant_value(p_, *v.default_value)) {
              // Every friend starts with the default, before anything is known about them.
              p_.diags.report(Code::E003, v.default_value->span,
                              fmt::format("a field's default must be a fixed value (such as 0, true, \"text\", 10:00, "
                                          "2026-01-01 or [a, b]), but `{}` depends on the friend or the clock",
                                          show(*v.default_value)));
            }
          }
        } else if constexpr (std::is_same_v<T, ast::MessageDecl>) {
          if (lookup(SymbolKind::Message, v.name.text)) check_message(v);
        } else if constexpr (std::is_same_v<T, ast::SegmentDecl>) {
          const auto i = lookup(SymbolKind::Segment, v.name.text);
          if (!i) {
            condition(v.expr.get(), plain);  // not declared (its name is taken): nothing can use it
          } else if (segment_state_[*i] == 0) {
            segment_state_[*i] = 1;
            condition(v.expr.get(), plain);
            segment_state_[*i] = 2;
          }
        } else if constexpr (std::is_same_v<T, ast::RuleDecl>) {
          check_event_pattern(v.event);
          const EventInfo* ev = event_info(v.event);
          ExprCtx ectx;
          ectx.event = ev;
          if (v.when) condition(v.when.get(), ectx);
          StmtCtx sctx;
          sctx.event = ev;
          sctx.reply_ok = ev != nullptr && ev->has_reply_token;
          sctx.in_rule = true;
          block(v.body, sctx);
        } else if constexpr (std::is_same_v<T, ast::ScenarioDecl>) {
          for (const auto& so : v.start_on) {
            check_event_pattern(so.event);
            ExprCtx ectx;
            ectx.event = event_info(so.event);
            if (so.when) condition(so.when.get(), ectx);
          }
          for (const auto& w : v.start_when) condition(w.get(), plain);
          for (const auto& w : v.stop_when) condition(w.get(), plain);
          if (v.on_update) {
            const auto& u = *v.on_update;
            if (u.text != "continue" && u.text != "restart" && u.text != "exit") {
              auto best = suggest(u.text, {"continue", "restart", "exit"});
              auto& diag =
                  p_.diags.report(Code::E008, u.span,
                                  fmt::format("`{}` is not an on_update policy (continue, restart or exit){}", u.text,
                                              best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
              if (best) diag.fix = FixIt{u.span, *best};
            }
          }
          if (v.restart == ast::RestartPolicy::After && v.restart_after <= 0) {
            p_.diags.report(Code::E007, v.restart_span, "`restart after` needs a duration longer than zero");
          }
          StmtCtx sctx;
          sctx.scenario = &v;
          block(v.body, sctx);
          check_fixed_time_sends(v.body, std::nullopt);
        } else if constexpr (std::is_same_v<T, ast::BroadcastDecl>) {
          if (v.target) {
            ExprCtx ectx;
            ectx.in_broadcast_target = true;
            condition(v.target.get(), ectx);
          }
          StmtCtx sctx;
          sctx.broadcast = &v;
          block(v.body, sctx);
          if (v.target && plan::reads_line_estimates(*v.target)) {
            only_sends_in_narrowcast(v.body);
            if (auto problem = plan::line_target(*v.target).problem) {
              auto& diag = p_.diags.report(Code::E015, problem->span, problem->message);
              diag.notes.push_back(
                  Note{std::nullopt, "write it as `<your data> and <line.* tests>`, or split it into two broadcasts"});
            }
          }
          const ast::Stmt* throttle = nullptr;
          for (const auto& st : v.body.stmts) {
            if (!std::holds_alternative<ast::ThrottleStmt>(st->v)) continue;
            if (throttle != nullptr) {
              auto& diag = p_.diags.report(Code::E004, st->span, "duplicate definition of the broadcast's `throttle`");
              diag.notes.push_back(Note{throttle->span, "first defined here"});
            }
            throttle = st.get();
          }
          check_fixed_time_sends(v.body, v.at_valid ? std::optional<MinuteOfDay>(v.at.minute) : std::nullopt);
        } else if constexpr (std::is_same_v<T, ast::TestDecl>) {
          check_test(v);
        }
      },
      d.v);
}

void Checker::check_test_attrs(const std::vector<ast::TestAttr>& attrs, const EventInfo* payload_of) {
  ExprCtx ctx;
  ctx.in_test = true;
  std::set<std::string> seen;
  for (const auto& a : attrs) {
    if (!seen.insert(a.name.text).second) {
      p_.diags.report(Code::E004, a.name.span, fmt::format("duplicate definition of `{}`", a.name.text));
      continue;
    }
    Type want;
    bool found = false;
    if (payload_of != nullptr) {
      for (const auto& [n, t] : payload_of->fields) {
        if (n == a.name.text) {
          want = t;
          found = true;
        }
      }
      if (!found) {
        std::vector<std::string> cands;
        for (const auto& [n, t] : payload_of->fields) cands.push_back(n);
        auto best = suggest(a.name.text, cands);
        p_.diags.report(Code::E011, a.name.span,
                        fmt::format("event `{}` has no field `{}`{}", payload_of->name, a.name.text,
                                    best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
        continue;
      }
    } else if (a.name.text == "tags" || a.name.text == "audiences") {
      const bool tags = a.name.text == "tags";
      if (const auto* set = std::get_if<ast::SetLit>(&a.value->v)) {
        for (const auto& item : set->items) {
          if (const auto* n = std::get_if<ast::NameRef>(&item->v)) {
            resolve(tags ? SymbolKind::Tag : SymbolKind::Audience, ast::Name{n->name, item->span});
          } else {
            p_.diags.report(Code::E003, item->span,
                            fmt::format("type mismatch: `{}` lists {} names", a.name.text, tags ? "tag" : "audience"));
          }
        }
      } else {
        p_.diags.report(Code::E003, a.value->span,
                        tags ? "type mismatch: `tags` needs a list such as [purchased, vip]"
                             : "type mismatch: `audiences` needs a list such as [vip_list]");
      }
      continue;
    } else if (a.name.text == "arm") {
      check_forced_arms(*a.value);
      continue;
    } else if (a.name.text == "friend_since") {
      want = Type::of(TypeKind::Date);
      found = true;
    } else if (const auto* attr = stdlib::find_attribute(a.name.text)) {
      found = true;
      switch (attr->id) {
        case stdlib::AttrKind::Gender:
          want = Type::enumeration(TypeTable::kGender);
          break;
        case stdlib::AttrKind::Region:
          want = Type::enumeration(TypeTable::kRegion);
          break;
        case stdlib::AttrKind::Age:
        case stdlib::AttrKind::FriendDays:
        case stdlib::AttrKind::Score:
          want = Type::of(TypeKind::Int);
          break;
        case stdlib::AttrKind::Blocked:
          want = Type::of(TypeKind::Bool);
          break;
        case stdlib::AttrKind::Today:
        case stdlib::AttrKind::Now:
          found = false;
          break;
        default:
          want = Type::of(TypeKind::Text);
          break;
      }
    } else if (auto f = lookup(SymbolKind::Field, a.name.text)) {
      use(*f, a.name.span);
      want = p_.symbols[*f].type;
      found = true;
    } else if (auto s = lookup(SymbolKind::Score, a.name.text)) {
      use(*s, a.name.span);
      want = Type::of(TypeKind::Int);
      found = true;
    }
    if (!found) {
      std::vector<std::string> cands = names_of(SymbolKind::Field);
      for (auto& s : names_of(SymbolKind::Score)) cands.push_back(s);
      // The built-in columns (but the id, which names the friend), and a test's split arm.
      for (const auto& c : stdlib::friend_columns()) {
        if (c.id != stdlib::FriendColumnId::Id) cands.emplace_back(c.name);
      }
      cands.emplace_back("arm");
      unknown(Code::E002, SymbolKind::Field, a.name, cands);
      continue;
    }
    Type got;
    if (want.kind == TypeKind::Set) {
      if (const auto* set = std::get_if<ast::SetLit>(&a.value->v)) {
        for (const auto& item : set->items) expr(*item, ctx, Type::enumeration(want.enum_id));
        got = want;
      } else {
        got = expr(*a.value, ctx, want);
      }
    } else {
      got = expr(*a.value, ctx, want);
    }
    if (!got.is_error() && !want.is_error() && !(got == want)) {
      p_.diags.report(Code::E003, a.value->span,
                      fmt::format("type mismatch: `{}` is {} but `{}` is {}", a.name.text, p_.types.describe(want),
                                  show(*a.value), p_.types.describe(got)));
    }
  }
}

namespace {

// The arm names of every split in a block, nested blocks included.
void split_arms(const ast::Block& b, std::vector<std::string>& out) {
  for (const auto& s : b.stmts) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::SplitStmt>) {
            for (const auto& a : v.arms) {
              if (std::find(out.begin(), out.end(), a.name.text) == out.end()) out.push_back(a.name.text);
              split_arms(a.body, out);
            }
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            for (const auto& a : v.arms) split_arms(a.body, out);
            if (v.else_body) split_arms(*v.else_body, out);
          } else if constexpr (std::is_same_v<T, ast::RepeatStmt> || std::is_same_v<T, ast::StepStmt>) {
            split_arms(v.body, out);
          } else if constexpr (std::is_same_v<T, ast::WaitStmt>) {
            for (const auto& c : v.cases) split_arms(c.body, out);
          }
        },
        s->v);
  }
}

}  // namespace

// `arm: offer_test.b` (or a list of them) in a test friend: the scenario or broadcast
// and the name of one of its split arms.
void Checker::check_forced_arms(const ast::Expr& value) {
  std::vector<const ast::Expr*> items;
  if (const auto* set = std::get_if<ast::SetLit>(&value.v)) {
    for (const auto& i : set->items) items.push_back(i.get());
  } else {
    items.push_back(&value);
  }
  for (const ast::Expr* item : items) {
    const auto* m = std::get_if<ast::Member>(&item->v);
    if (m == nullptr) {
      p_.diags.report(Code::E003, item->span,
                      "type mismatch: `arm` names a scenario (or broadcast) and one of its split arms, such as "
                      "`arm: offer_test.b`");
      continue;
    }
    std::optional<std::uint32_t> flow = lookup(SymbolKind::Scenario, m->object.text);
    if (!flow) flow = lookup(SymbolKind::Broadcast, m->object.text);
    if (!flow) {
      std::vector<std::string> cands = names_of(SymbolKind::Scenario);
      for (auto& b : names_of(SymbolKind::Broadcast)) cands.push_back(b);
      unknown(Code::E002, SymbolKind::Scenario, m->object, cands);
      continue;
    }
    use(*flow, m->object.span);
    const ast::Decl* d = p_.symbols[*flow].decl;
    std::vector<std::string> arms;
    if (const auto* sc = std::get_if<ast::ScenarioDecl>(&d->v)) split_arms(sc->body, arms);
    if (const auto* bc = std::get_if<ast::BroadcastDecl>(&d->v)) split_arms(bc->body, arms);
    if (std::find(arms.begin(), arms.end(), m->field.text) != arms.end()) continue;
    if (arms.empty()) {
      p_.diags.report(Code::E002, m->field.span,
                      fmt::format("unknown split arm `{}`: {} `{}` has no `split`", m->field.text,
                                  kind_word(p_.symbols[*flow].kind), m->object.text));
      continue;
    }
    auto best = suggest(m->field.text, arms);
    std::string list;
    for (const auto& a : arms) list += (list.empty() ? "" : ", ") + a;
    auto& diag = p_.diags.report(
        Code::E002, m->field.span,
        fmt::format("unknown split arm `{}` in {} `{}`{}", m->field.text, kind_word(p_.symbols[*flow].kind),
                    m->object.text, best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
    if (best) diag.fix = FixIt{m->field.span, *best};
    diag.notes.push_back(Note{std::nullopt, fmt::format("its split arms are: {}", list)});
  }
}

void Checker::check_test(const ast::TestDecl& t) {
  ExprCtx ctx;
  ctx.in_test = true;
  bool clock_set = false;  // an `at` line came before: `after` counts from it
  for (const auto& item : t.items) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::TestFriend>) {
            check_test_attrs(v.attrs, nullptr);
          } else if constexpr (std::is_same_v<T, ast::TestClock>) {
            if (!v.at && !clock_set) {
              p_.diags.report(Code::E003, item.span,
                              fmt::format("`{}` counts from the time of a line before it; put an `at …` line first",
                                          p_.sources.text(item.span)));
            }
            clock_set = true;
          } else if constexpr (std::is_same_v<T, ast::TestEvent>) {
            clock_set = true;
            check_event_pattern(v.event);
            if (const EventInfo* ev = event_info(v.event); ev != nullptr && !v.payload.empty()) {
              check_test_attrs(v.payload, ev);
            }
          } else if constexpr (std::is_same_v<T, ast::ExpectSend>) {
            for (const auto& m : v.messages) resolve(SymbolKind::Message, m);
          } else if constexpr (std::is_same_v<T, ast::ExpectValue>) {
            const Type lt = expr(*v.value, ctx);
            if (v.rhs) {
              const Type rt = expr(*v.rhs, ctx, lt);
              if (!lt.is_error() && !rt.is_error() && !(lt == rt)) mismatch(*v.value, lt, *v.rhs, rt);
            } else if (!lt.is_error() && lt.kind != TypeKind::Bool) {
              p_.diags.report(Code::E003, v.value->span,
                              fmt::format("type mismatch: `{}` is {}; compare it, as in `expect {} of {} == …`",
                                          show(*v.value), p_.types.describe(lt), show(*v.value), v.friend_id.text));
            }
          }
        },
        item.v);
  }
}

// Whether a file of the project did not parse: what the part that was not read
// uses, or starts, is unknown, so "never used" and "can never start" would be guesses.
bool Checker::has_syntax_errors() const {
  const auto& all = p_.diags.all();
  return std::any_of(all.begin(), all.end(), [](const Diagnostic& d) { return d.code == Code::E001; });
}

void Checker::report_unused() {
  if (has_syntax_errors()) return;
  for (const auto& s : p_.symbols) {
    if (s.uses > 0) continue;
    switch (s.kind) {
      case SymbolKind::Scenario:
      case SymbolKind::Step:
      case SymbolKind::Broadcast:
      case SymbolKind::Test:
        continue;
      default:
        break;
    }
    p_.diags.report(Code::W104, s.span, fmt::format("{} `{}` is declared but never used", kind_word(s.kind), s.name));
  }
}

void Checker::check_never_started() {
  if (has_syntax_errors()) return;
  for (const auto& s : p_.symbols) {
    if (s.kind != SymbolKind::Scenario || s.decl == nullptr) continue;
    const auto& sc = std::get<ast::ScenarioDecl>(s.decl->v);
    if (!sc.start_on.empty() || !sc.start_when.empty() || started_scenarios_.count(s.name) > 0) continue;
    p_.diags.report(Code::W105, s.span,
                    fmt::format("scenario `{}` can never start: no `start on`, `start when` or `start {}` anywhere",
                                s.name, s.name));
  }
}

}  // namespace detail
}  // namespace okuri
