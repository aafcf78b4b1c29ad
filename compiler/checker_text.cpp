// `{name}` interpolations in message and notify texts (compiler/text_template.hpp): every name
// is one the renderer can fill, every `:format` fits its value, and a value that can be unknown
// when the text is sent has a fallback (W107).
#include <fmt/format.h>

#include "compiler/checker.hpp"
#include "compiler/suggest.hpp"
#include "compiler/text_template.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::detail {
namespace {

// What kind of value a name holds, for its format.
enum class ValueKind { Other, Date, DateTime, Time };

ValueKind kind_of(const Type& t) {
  switch (t.kind) {
    case TypeKind::Date:
      return ValueKind::Date;
    case TypeKind::DateTime:
      return ValueKind::DateTime;
    case TypeKind::Time:
      return ValueKind::Time;
    default:
      return ValueKind::Other;
  }
}

ValueKind kind_of(stdlib::AttrType t) {
  if (t == stdlib::AttrType::Date) return ValueKind::Date;
  if (t == stdlib::AttrType::DateTime) return ValueKind::DateTime;
  return ValueKind::Other;
}

}  // namespace

void Checker::check_text(Span value_span, const char* what, const EventInfo* event) {
  // The raw source text (quotes and escapes included) so that spans point into the source; escapes
  // never produce braces, `|` or `:`, so the parts are the same as the unescaped text's.
  const std::string_view raw = p_.sources.text(value_span);
  auto at = [&](std::size_t b, std::size_t e) {
    return Span{value_span.file, static_cast<std::uint32_t>(value_span.begin + b),
                static_cast<std::uint32_t>(value_span.begin + e)};
  };
  for (const TextPart& part : parse_text_template(raw)) {
    if (!part.is_ref) continue;
    const Span name_span = at(part.name_begin, part.name_end);
    ValueKind kind = ValueKind::Other;
    bool may_be_unknown = false;
    std::string unknown_why;
    if (part.text.rfind("event.", 0) == 0) {
      // The triggering event's field, in a notification inside a rule or a `wait … for` case.
      const std::string field = part.text.substr(6);
      const Type* ft = nullptr;
      if (event != nullptr) {
        for (const auto& [n, t] : event->fields) {
          if (n == field) ft = &t;
        }
      }
      if (ft == nullptr) {
        p_.diags.report(
            Code::E011, name_span,
            event == nullptr
                ? fmt::format("`{{{}}}`: only a notification inside an `on` rule or a `wait … for` case can read the "
                              "event that triggered it",
                              part.text)
                : fmt::format("`{}` has no field `{}`", event->name, field));
        continue;
      }
      kind = kind_of(*ft);
      may_be_unknown = !event->builtin;  // a custom event's field may be missing from the event
      unknown_why = "a custom event may come without it";
    } else if (const auto* a = stdlib::find_attribute(part.text)) {
      kind = kind_of(a->type);
      may_be_unknown = a->may_be_unknown;
      unknown_why = a->id == stdlib::AttrKind::DisplayName
                        ? "it is unknown until the friend's LINE profile is fetched, and in simulations without a "
                          "`display_name` column"
                        : "it is unknown until your data sets it";
    } else if (auto l = lookup(SymbolKind::Link, part.text)) {
      plain_use(*l);
    } else if (auto f = lookup(SymbolKind::Field, part.text)) {
      plain_use(*f);
      kind = kind_of(p_.symbols[*f].type);
      const auto* fd = std::get_if<ast::FieldDecl>(&p_.symbols[*f].decl->v);
      may_be_unknown = fd == nullptr || !fd->default_value;
      unknown_why = "the field has no default and may not be set yet";
    } else {
      std::vector<std::string> cands = names_of(SymbolKind::Link);
      for (auto& n : names_of(SymbolKind::Field)) cands.push_back(n);
      for (const auto& attr : stdlib::attributes()) cands.emplace_back(attr.name);
      auto best = suggest(part.text, cands);
      auto& d = p_.diags.report(Code::E002, part.text.empty() ? at(part.begin, part.end) : name_span,
                                fmt::format("unknown name `{{{}}}` in {} text{}", part.text, what,
                                            best ? fmt::format("; did you mean `{{{}}}`?", *best) : std::string()));
      if (best && !part.text.empty()) d.fix = FixIt{name_span, *best};
      continue;
    }
    if (!part.format.empty()) {
      const Span format_span = at(part.format_begin, part.format_end);
      const TextFormat* f = find_text_format(part.format);
      const bool fits =
          f != nullptr && ((kind == ValueKind::Date && f->date) || (kind == ValueKind::DateTime && f->datetime) ||
                           (kind == ValueKind::Time && f->time));
      if (kind == ValueKind::Other) {
        p_.diags.report(Code::E008, format_span,
                        fmt::format("`{}` is not a date, datetime or time: it has no format (write `{{{}}}`)",
                                    part.text, part.text));
      } else if (!fits) {
        std::vector<std::string> names;
        for (const auto& tf : text_formats()) {
          if ((kind == ValueKind::Date && tf.date) || (kind == ValueKind::DateTime && tf.datetime) ||
              (kind == ValueKind::Time && tf.time)) {
            names.emplace_back(tf.name);
          }
        }
        auto best = suggest(part.format, names);
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        auto& d = p_.diags.report(Code::E008, format_span,
                                  fmt::format("`{}` is not a format for `{}` (formats: {}){}", part.format, part.text,
                                              list, best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
        if (best) d.fix = FixIt{format_span, *best};
      }
    }
    if (may_be_unknown && !part.fallback) {
      auto& d = p_.diags.report(
          Code::W107, at(part.begin, part.end),
          fmt::format("`{}` may be unknown when this {} is sent ({}), and then nothing is shown in its place; "
                      "give a fallback: `{{{}|…}}`",
                      part.text, what, unknown_why,
                      std::string(raw.substr(part.name_begin, part.end - 1 - part.name_begin))));
      (void)d;
    }
  }
}

}  // namespace okuri::detail
