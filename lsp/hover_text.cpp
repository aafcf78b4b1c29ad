#include "lsp/hover_text.hpp"

#include <fmt/format.h>

#include "compiler/text_template.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::lsp {
namespace {

std::string code_block(std::string_view code) { return fmt::format("```okuri\n{}\n```", code); }

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return std::string(s);
}

// The declaration's text up to its block (a scenario's header line, not its body).
std::string header_text(const Program& p, Span s) {
  std::string_view t = p.sources.text(s);
  const auto brace = t.find('{');
  if (brace != std::string_view::npos) t = t.substr(0, brace);
  const auto nl = t.find('\n');
  if (nl != std::string_view::npos) t = t.substr(0, nl);
  return trimmed(t);
}

const char* arg_word(stdlib::ArgKind k) {
  switch (k) {
    case stdlib::ArgKind::Tag:
      return "tag";
    case stdlib::ArgKind::Audience:
      return "audience";
    case stdlib::ArgKind::Link:
      return "link";
    case stdlib::ArgKind::Message:
      return "message";
    case stdlib::ArgKind::Text:
      return "text";
    case stdlib::ArgKind::Attr:
      return "attribute_or_field";
    case stdlib::ArgKind::Moment:
      return "date";
    case stdlib::ArgKind::TimeLike:
      return "time";
    case stdlib::ArgKind::SetField:
      return "set_field";
    case stdlib::ArgKind::SetItem:
      return "item";
    case stdlib::ArgKind::Within:
      return "within D";
    case stdlib::ArgKind::None:
      return "";
  }
  return "";
}

const char* result_word(stdlib::ResultKind k) {
  switch (k) {
    case stdlib::ResultKind::Bool:
      return "bool";
    case stdlib::ResultKind::Int:
      return "int";
    case stdlib::ResultKind::Date:
      return "date";
    case stdlib::ResultKind::DateTime:
      return "datetime";
    case stdlib::ResultKind::Weekday:
      return "weekday";
  }
  return "";
}

std::string uses_line(const Symbol& s) {
  if (s.uses == 0) return "never used";
  return fmt::format("used {} time{}", s.uses, s.uses == 1 ? "" : "s");
}

std::string attribute_type(const Program& p, stdlib::AttrKind k) {
  switch (k) {
    case stdlib::AttrKind::Gender:
      return p.types.describe(Type::enumeration(TypeTable::kGender));
    case stdlib::AttrKind::Region:
      return p.types.describe(Type::enumeration(TypeTable::kRegion));
    case stdlib::AttrKind::Age:
    case stdlib::AttrKind::FriendDays:
    case stdlib::AttrKind::Score:
      return "int";
    case stdlib::AttrKind::Blocked:
      return "bool";
    case stdlib::AttrKind::Today:
      return "date";
    case stdlib::AttrKind::Now:
      return "datetime";
    default:
      return "text";
  }
}

std::string describe_attribute(const Program& p, const stdlib::Attribute& a) {
  return fmt::format("{}\n\n{}\n\nbuilt-in attribute",
                     code_block(fmt::format("{}: {}", a.name, attribute_type(p, a.id))), a.doc);
}

std::string describe_builtin(const stdlib::Builtin& b) {
  return fmt::format("{}\n\n{}\n\nbuilt-in function", code_block(builtin_signature(b.name)), b.doc);
}

std::optional<std::string> describe_prefecture(std::string_view word) {
  const auto canon = stdlib::canonical_prefecture(word);
  if (!canon) return std::nullopt;
  for (const auto& pf : stdlib::prefectures()) {
    if (pf.name == *canon) {
      return fmt::format("{}\n\nprefecture {} (JIS code {}), a value of `region`", code_block(*canon), pf.kanji,
                         pf.code);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string builtin_signature(std::string_view name) {
  const auto* b = stdlib::find_builtin(name);
  if (b == nullptr) return std::string(name);
  std::string args;
  for (int i = 0; i < b->max_args && i < 2; ++i) {
    if (b->args[i] == stdlib::ArgKind::None) continue;
    if (!args.empty()) args += ", ";
    if (i >= b->min_args) args += "[";
    args += arg_word(b->args[i]);
    if (i >= b->min_args) args += "]";
  }
  return fmt::format("{}({}) → {}", b->name, args, result_word(b->result));
}

std::string describe_symbol(const Program& p, std::uint32_t index) {
  const Symbol& s = p.symbols[index];
  const ast::Decl* d = s.decl;
  std::string head;
  std::vector<std::string> extra;
  switch (s.kind) {
    case SymbolKind::Tag:
    case SymbolKind::Score:
    case SymbolKind::Audience:
    case SymbolKind::Form:
      head = fmt::format("{} {}", kind_word(s.kind), s.name);
      break;
    case SymbolKind::Message:
    case SymbolKind::Link:
    case SymbolKind::Event:
      head = d != nullptr ? trimmed(p.sources.text(d->span)) : fmt::format("{} {}", kind_word(s.kind), s.name);
      if (s.kind == SymbolKind::Message && s.message_count > 1)
        extra.push_back(fmt::format("sends {} LINE messages", s.message_count));
      break;
    case SymbolKind::Field:
      head = d != nullptr ? trimmed(p.sources.text(d->span)) : fmt::format("field {}", s.name);
      extra.push_back(fmt::format("type: {}", p.types.describe(s.type)));
      break;
    case SymbolKind::Segment:
      head = d != nullptr ? trimmed(p.sources.text(d->span)) : fmt::format("segment {}", s.name);
      break;
    case SymbolKind::Scenario: {
      head = fmt::format("scenario {}", s.name);
      if (d != nullptr) {
        if (const auto* sc = std::get_if<ast::ScenarioDecl>(&d->v)) {
          for (const auto& so : sc->start_on)
            extra.push_back(fmt::format("starts on `{}`", trimmed(p.sources.text(so.event.span))));
          for (const auto& sw : sc->start_when) {
            if (sw) extra.push_back(fmt::format("starts when `{}`", trimmed(p.sources.text(sw->span))));
          }
        }
      }
      break;
    }
    case SymbolKind::Step:
      head = fmt::format("step {}", s.name);
      extra.push_back(fmt::format("in scenario `{}`", s.scope));
      break;
    case SymbolKind::Broadcast:
      head = d != nullptr ? header_text(p, d->span) : fmt::format("broadcast {}", s.name);
      break;
    case SymbolKind::Test:
      head = fmt::format("test \"{}\"", s.name);
      break;
  }
  std::string out = code_block(head);
  if (d != nullptr && s.kind != SymbolKind::Step) {
    const std::string doc = query::doc_comment(p.sources.file(d->span.file), d->span);
    if (!doc.empty()) out += "\n\n" + doc;
  }
  if (s.kind != SymbolKind::Test && s.kind != SymbolKind::Broadcast) extra.push_back(uses_line(s));
  for (const auto& e : extra) out += "\n\n" + e;
  return out;
}

std::string describe_event(const Program& p, const query::EventSpec& e) {
  std::string sig = "event " + e.name;
  if (!e.fields.empty()) {
    sig += " { ";
    for (std::size_t i = 0; i < e.fields.size(); ++i) {
      if (i > 0) sig += ", ";
      sig += e.fields[i].first + ": " + p.types.describe(e.fields[i].second);
    }
    sig += " }";
  }
  std::string out = code_block(sig);
  if (!e.doc.empty()) out += "\n\n" + e.doc;
  if (e.argument) out += fmt::format("\n\nargument: a {} name, as in `{}(…)`", kind_word(*e.argument), e.name);
  if (e.text_argument) out += fmt::format("\n\nargument: a URL pattern, as in `{}(\"/price\")`", e.name);
  out += e.reply_token ? "\n\nhas a reply token (`reply` works)" : "\n\nno reply token (use `send`)";
  out += e.builtin ? "\n\nbuilt-in event" : "\n\ncustom event";
  return out;
}

std::optional<HoverInfo> describe_expr(const Program& p, const ast::Expr& e, std::uint32_t offset) {
  const Type t = p.type_of(e.id);
  if (const auto* n = std::get_if<ast::NameRef>(&e.v)) {
    if (const auto* a = stdlib::find_attribute(n->name))
      return HoverInfo{describe_attribute(p, *a), e.span.begin, e.span.end};
    if (t.kind == TypeKind::Enum) {
      std::string md;
      if (t.enum_id == TypeTable::kRegion) {
        if (auto pf = describe_prefecture(n->name)) md = *pf;
      }
      if (md.empty()) md = fmt::format("{}\n\na value of `{}`", code_block(n->name), p.types.describe(t));
      return HoverInfo{md, e.span.begin, e.span.end};
    }
    if (!t.is_error())
      return HoverInfo{code_block(fmt::format("{}: {}", n->name, p.types.describe(t))), e.span.begin, e.span.end};
    return std::nullopt;
  }
  if (const auto* m = std::get_if<ast::Member>(&e.v)) {
    const Span f = m->field.span;
    const bool on_field = f.begin <= offset && offset <= f.end;
    const Span where = on_field ? f : m->object.span;
    if (m->object.text == "line") {
      const auto* est = stdlib::find_line_estimate(m->field.text);
      if (est == nullptr) return std::nullopt;
      return HoverInfo{fmt::format("{}\n\n{}\n\nLINE's estimate; only in a broadcast target",
                                   code_block(fmt::format("line.{}: {}", est->name, p.types.describe(t))), est->doc),
                       where.begin, where.end};
    }
    if (m->object.text == "event") {
      const auto* ev = query::event_in_scope(p, e.span.file, e.span.begin);
      std::string md = code_block(fmt::format("event.{}: {}", m->field.text, p.types.describe(t)));
      if (ev != nullptr) md += fmt::format("\n\na field of event `{}`", ev->name.text);
      return HoverInfo{md, where.begin, where.end};
    }
    return std::nullopt;
  }
  if (const auto* c = std::get_if<ast::Call>(&e.v)) {
    const Span n = c->callee.span;
    if (offset < n.begin || offset > n.end) return std::nullopt;
    if (const auto* b = stdlib::find_builtin(c->callee.text)) return HoverInfo{describe_builtin(*b), n.begin, n.end};
    if (c->callee.text == "score") {
      return HoverInfo{code_block("score(name) → int") + "\n\nthe value of a named score", n.begin, n.end};
    }
  }
  return std::nullopt;
}

namespace {

// The text of the string literal holding `offset` when it is a message's or a notification's
// text (`text "…"`, `notify "…"`), with the literal's first byte; nullopt elsewhere.
std::optional<std::pair<std::string_view, std::uint32_t>> text_literal_at(std::string_view text, std::uint32_t offset) {
  if (offset > text.size()) return std::nullopt;
  const std::size_t line_begin = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  const std::size_t from = line_begin == std::string_view::npos ? 0 : line_begin + 1;
  std::size_t open = std::string_view::npos;
  for (std::size_t i = from; i < text.size() && text[i] != '\n'; ++i) {
    if (text[i] == '\\' && open != std::string_view::npos) {
      ++i;
      continue;
    }
    if (text[i] != '"') continue;
    if (open == std::string_view::npos) {
      open = i;
    } else {
      if (open < offset && offset <= i) {
        std::string_view before = text.substr(from, open - from);
        while (!before.empty() && before.back() == ' ') before.remove_suffix(1);
        const bool is_text = (before.size() >= 4 && before.substr(before.size() - 4) == "text") ||
                             (before.size() >= 6 && before.substr(before.size() - 6) == "notify");
        if (!is_text) return std::nullopt;
        return std::make_pair(text.substr(open + 1, i - open - 1), static_cast<std::uint32_t>(open + 1));
      }
      open = std::string_view::npos;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<HoverInfo> describe_interpolation(std::string_view text, std::uint32_t offset) {
  const auto literal = text_literal_at(text, offset);
  if (!literal) return std::nullopt;
  const auto [body, at] = *literal;
  for (const TextPart& part : parse_text_template(body)) {
    if (!part.is_ref || offset < at + part.begin || offset >= at + part.end) continue;
    if (!part.format.empty() && offset >= at + part.format_begin && offset <= at + part.format_end) {
      const TextFormat* f = find_text_format(part.format);
      if (f == nullptr) return std::nullopt;  // E008 says what the formats are
      return HoverInfo{fmt::format("format `{}` of `{}`: shown as `{}`", part.format, part.text, f->example),
                       at + static_cast<std::uint32_t>(part.format_begin),
                       at + static_cast<std::uint32_t>(part.format_end)};
    }
    const std::size_t bar = body.substr(part.begin, part.end - part.begin).find('|');
    if (part.fallback && bar != std::string_view::npos && offset > at + part.begin + bar) {
      return HoverInfo{
          fmt::format(
              "fallback of `{}`: shown instead when `{}` is unknown as the text is sent{}", part.text, part.text,
              part.fallback->empty() ? " (here: nothing, on purpose)" : fmt::format(" (here: 「{}」)", *part.fallback)),
          at + static_cast<std::uint32_t>(part.begin + bar + 1), at + static_cast<std::uint32_t>(part.end - 1)};
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> describe_word(const Program& p, std::string_view word) {
  if (const auto* b = stdlib::find_builtin(word)) return describe_builtin(*b);
  if (const auto* a = stdlib::find_attribute(word)) return describe_attribute(p, *a);
  if (auto e = query::find_event(p, word)) return describe_event(p, *e);
  return describe_prefecture(word);
}

}  // namespace okuri::lsp
