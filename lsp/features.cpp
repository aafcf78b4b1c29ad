// Diagnostics, hover, navigation, rename, outline, formatting and code
// actions. Completion is in completion.cpp, semantic tokens in
// semantic_tokens.cpp.
#include "lsp/features.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "compiler/formatter.hpp"
#include "compiler/lexer.hpp"
#include "compiler/query.hpp"
#include "compiler/workspace.hpp"
#include "lsp/hover_text.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::lsp {
namespace {

const std::string& path_of(const Program& p, std::uint32_t file) { return p.sources.file(file).path; }

Location location_of(const Program& p, Span s) {
  return Location{path_of(p, s.file), s.begin, std::max(s.begin, s.end)};
}

// The symbols of `p` named `name`, for a word that no resolved occurrence covers.
std::vector<std::uint32_t> symbols_named(const Program& p, std::string_view name) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < p.symbols.size(); ++i) {
    if (p.symbols[i].name == name && p.symbols[i].kind != SymbolKind::Test) out.push_back(i);
  }
  return out;
}

bool any_syntax_error(const Program& p) {
  return std::any_of(p.diags.all().begin(), p.diags.all().end(),
                     [](const Diagnostic& d) { return d.code == Code::E001; });
}

}  // namespace

// ------------------------------------------------------------------ helpers

Word word_at(std::string_view text, std::uint32_t offset) {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  std::uint32_t b = offset;
  std::uint32_t e = offset;
  while (b > 0 && lex::is_name_byte(static_cast<unsigned char>(text[b - 1]))) --b;
  while (e < text.size() && lex::is_name_byte(static_cast<unsigned char>(text[e]))) ++e;
  return Word{b, e};
}

bool is_valid_name(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return lex::is_name_byte(static_cast<unsigned char>(c)); }))
    return false;
  // The grammar decides what a name is (Unicode XID rules, reserved words):
  // a one-name declaration must parse back to exactly that name.
  const auto p = compile_sources(".", {{"name.okuri", "tag " + std::string(s) + "\n"}});
  if (any_syntax_error(*p) || p->ast.files.empty() || p->ast.files[0].decls.size() != 1) return false;
  const auto* l = std::get_if<ast::ListDecl>(&p->ast.files[0].decls[0].v);
  return l != nullptr && l->names.size() == 1 && l->names[0].text == s;
}

// ------------------------------------------------------------------ diagnostics

std::vector<FileDiagnostics> diagnostics(const Program& p) {
  std::vector<FileDiagnostics> out(p.sources.size());
  for (std::uint32_t i = 0; i < p.sources.size(); ++i) out[i].path = path_of(p, i);
  for (const auto& d : p.diags.all()) {
    if (d.span.file >= out.size()) continue;
    FileDiagnostic fd;
    fd.begin = d.span.begin;
    fd.end = std::max(d.span.begin, d.span.end);
    fd.severity = d.severity;
    fd.code = std::string(info(d.code).name);
    fd.message = d.message;
    for (const auto& n : d.notes) {
      DiagnosticNote dn;
      if (n.span) dn.where = location_of(p, *n.span);
      dn.message = n.message;
      fd.notes.push_back(std::move(dn));
    }
    out[d.span.file].items.push_back(std::move(fd));
  }
  return out;
}

// ------------------------------------------------------------------ hover

std::optional<HoverInfo> hover(const DocumentView& v, std::uint32_t offset) {
  const Program& p = *v.program;
  const std::string_view text = p.sources.file(v.file).text;
  const Word w = word_at(text, offset);
  if (auto o = query::occurrence_at(p, v.file, offset)) {
    return HoverInfo{describe_symbol(p, o->symbol), o->span.begin, o->span.end};
  }
  if (const auto* ev = query::event_pattern_at(p, v.file, offset)) {
    const Span n = ev->name.span;
    if (n.begin <= offset && offset <= n.end) {
      if (auto spec = query::find_event(p, ev->name.text)) return HoverInfo{describe_event(p, *spec), n.begin, n.end};
    }
  }
  if (const ast::Expr* e = query::expr_at(p, v.file, offset)) {
    if (auto h = describe_expr(p, *e, offset)) return h;
  }
  if (auto h = describe_interpolation(text, offset)) return h;
  if (w.begin == w.end) return std::nullopt;
  const std::string word(text.substr(w.begin, w.end - w.begin));
  // No resolved name here (the text around it does not parse): describe the
  // word from the last Program without syntax errors, whose uses are complete,
  // or else from the current one.
  const bool broken = query::has_syntax_errors(p, v.file);
  for (const Program* src : {broken ? v.last_good : v.program, broken ? v.program : v.last_good}) {
    if (src == nullptr) continue;
    const auto named = symbols_named(*src, word);
    if (!named.empty()) return HoverInfo{describe_symbol(*src, named.front()), w.begin, w.end};
  }
  if (auto d = describe_word(p, word)) return HoverInfo{*d, w.begin, w.end};
  return std::nullopt;
}

// ------------------------------------------------------------------ navigation

namespace {

std::optional<std::uint32_t> symbol_at(const DocumentView& v, std::uint32_t offset, Span* where) {
  const Program& p = *v.program;
  if (auto o = query::occurrence_at(p, v.file, offset)) {
    if (where != nullptr) *where = o->span;
    return o->symbol;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Location> definition(const DocumentView& v, std::uint32_t offset) {
  const Program& p = *v.program;
  if (auto s = symbol_at(v, offset, nullptr)) return location_of(p, p.symbols[*s].span);
  // An unresolved word (the text around it does not parse): the one declaration of that name.
  const Word w = word_at(p.sources.file(v.file).text, offset);
  if (w.begin == w.end) return std::nullopt;
  const auto named = symbols_named(p, p.sources.file(v.file).text.substr(w.begin, w.end - w.begin));
  if (named.size() == 1) return location_of(p, p.symbols[named.front()].span);
  return std::nullopt;
}

std::vector<Location> references(const DocumentView& v, std::uint32_t offset, bool include_declaration) {
  std::vector<Location> out;
  const Program& p = *v.program;
  auto s = symbol_at(v, offset, nullptr);
  if (!s) return out;
  for (const auto& o : query::occurrences_of(p, *s, include_declaration)) out.push_back(location_of(p, o.span));
  return out;
}

RenameTarget prepare_rename(const DocumentView& v, std::uint32_t offset) {
  RenameTarget t;
  Span where;
  auto s = symbol_at(v, offset, &where);
  if (!s) {
    t.error = "there is no declared name here to rename";
    return t;
  }
  const Symbol& sym = v.program->symbols[*s];
  if (sym.kind == SymbolKind::Test) {
    t.error = "a test's name is a text; edit it directly";
    return t;
  }
  t.begin = where.begin;
  t.end = where.end;
  t.name = sym.name;
  return t;
}

RenameResult rename(const DocumentView& v, std::uint32_t offset, std::string_view new_name) {
  RenameResult r;
  const Program& p = *v.program;
  const RenameTarget t = prepare_rename(v, offset);
  if (!t.error.empty()) {
    r.error = t.error;
    return r;
  }
  if (any_syntax_error(p)) {
    r.error = "the project has syntax errors; fix them first so that every use of the name is found";
    return r;
  }
  if (!is_valid_name(new_name)) {
    r.error = fmt::format("`{}` is not a valid name", new_name);
    return r;
  }
  const auto sym_index = *query::occurrence_at(p, v.file, offset);
  const Symbol& sym = p.symbols[sym_index.symbol];
  if (new_name == sym.name) return r;
  auto taken = [&](SymbolKind k) { return p.find(k, new_name, sym.scope) != nullptr; };
  bool clash = taken(sym.kind);
  if (sym.kind == SymbolKind::Field || sym.kind == SymbolKind::Segment) {
    clash = clash || taken(sym.kind == SymbolKind::Field ? SymbolKind::Segment : SymbolKind::Field) ||
            stdlib::find_attribute(new_name) != nullptr;
  }
  if (sym.kind == SymbolKind::Event) {
    for (const auto& e : query::events(p)) clash = clash || (e.builtin && e.name == new_name);
  }
  if (clash) {
    r.error = fmt::format("`{}` is already a name of that kind", new_name);
    return r;
  }
  std::map<std::string, std::vector<TextEdit>> by_path;
  for (const auto& o : query::occurrences_of(p, sym_index.symbol, true)) {
    by_path[path_of(p, o.span.file)].push_back(TextEdit{o.span.begin, o.span.end, std::string(new_name)});
  }
  for (auto& [path, edits] : by_path) {
    std::sort(edits.begin(), edits.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
    r.files.push_back(FileEdits{path, std::move(edits)});
  }
  return r;
}

// ------------------------------------------------------------------ outline

namespace {

std::string source_text(const Program& p, Span s, std::size_t max = 60) {
  std::string t(p.sources.text(s));
  for (char& c : t) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (t.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;
    t = t.substr(0, cut) + "…";
  }
  return t;
}

void outline_steps(const Program& p, const ast::Block& b, std::vector<OutlineItem>& out) {
  for (const auto& s : b.stmts) {
    if (!s) continue;
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, ast::StepStmt>) {
            if (x.name.text.empty()) return;
            OutlineItem it{x.name.text,     "step", OutlineKind::Step, s->span.begin, s->span.end, x.name.span.begin,
                           x.name.span.end, {}};
            outline_steps(p, x.body, it.children);
            out.push_back(std::move(it));
          } else if constexpr (std::is_same_v<T, ast::RepeatStmt>) {
            outline_steps(p, x.body, out);
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            for (const auto& a : x.arms) outline_steps(p, a.body, out);
            if (x.else_body) outline_steps(p, *x.else_body, out);
          } else if constexpr (std::is_same_v<T, ast::SplitStmt>) {
            for (const auto& a : x.arms) outline_steps(p, a.body, out);
          } else if constexpr (std::is_same_v<T, ast::WaitStmt>) {
            for (const auto& c : x.cases) outline_steps(p, c.body, out);
          }
        },
        s->v);
  }
}

}  // namespace

std::vector<OutlineItem> document_symbols(const DocumentView& v) {
  const Program& p = *v.program;
  std::vector<OutlineItem> out;
  const ast::File* file = nullptr;
  for (const auto& f : p.ast.files) {
    if (f.source == v.file) file = &f;
  }
  if (file == nullptr) return out;
  for (const auto& d : file->decls) {
    const Span ds = d.span;
    auto item = [&](const ast::Name& n, std::string detail, OutlineKind k) {
      return OutlineItem{n.text,       std::move(detail), k, ds.begin, std::max(ds.end, n.span.end),
                         n.span.begin, n.span.end,        {}};
    };
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, ast::AccountDecl>) {
            out.push_back(OutlineItem{
                "account", "", OutlineKind::Account, ds.begin, ds.end, ds.begin, std::min(ds.end, ds.begin + 7), {}});
          } else if constexpr (std::is_same_v<T, ast::FieldDecl>) {
            if (!x.name.text.empty()) out.push_back(item(x.name, source_text(p, x.type.span), OutlineKind::Field));
          } else if constexpr (std::is_same_v<T, ast::ListDecl>) {
            const OutlineKind k = x.kind == ast::ListKind::Tag        ? OutlineKind::Tag
                                  : x.kind == ast::ListKind::Score    ? OutlineKind::Score
                                  : x.kind == ast::ListKind::Audience ? OutlineKind::Audience
                                                                      : OutlineKind::Form;
            const char* word = x.kind == ast::ListKind::Tag        ? "tag"
                               : x.kind == ast::ListKind::Score    ? "score"
                               : x.kind == ast::ListKind::Audience ? "audience"
                                                                   : "form";
            for (const auto& n : x.names) {
              if (n.text.empty()) continue;
              OutlineItem it = item(n, word, k);
              if (x.names.size() > 1) {  // each name of a list is its own symbol
                it.begin = n.span.begin;
                it.end = n.span.end;
              }
              out.push_back(std::move(it));
            }
          } else if constexpr (std::is_same_v<T, ast::LinkDecl>) {
            if (!x.name.text.empty()) out.push_back(item(x.name, x.url, OutlineKind::Link));
          } else if constexpr (std::is_same_v<T, ast::MessageDecl>) {
            const char* kind = x.kind == ast::MessageKind::Text   ? "text"
                               : x.kind == ast::MessageKind::Json ? "json"
                                                                  : "sticker";
            if (!x.name.text.empty()) out.push_back(item(x.name, kind, OutlineKind::Message));
          } else if constexpr (std::is_same_v<T, ast::EventDecl>) {
            if (x.name.text.empty()) return;
            OutlineItem it = item(x.name, "event", OutlineKind::Event);
            for (const auto& f : x.fields) {
              if (f.name.text.empty()) continue;
              it.children.push_back(OutlineItem{f.name.text,
                                                source_text(p, f.type.span),
                                                OutlineKind::EventField,
                                                f.name.span.begin,
                                                std::max(f.name.span.end, f.type.span.end),
                                                f.name.span.begin,
                                                f.name.span.end,
                                                {}});
            }
            out.push_back(std::move(it));
          } else if constexpr (std::is_same_v<T, ast::SegmentDecl>) {
            if (!x.name.text.empty()) {
              out.push_back(item(x.name, x.expr ? source_text(p, x.expr->span) : std::string(), OutlineKind::Segment));
            }
          } else if constexpr (std::is_same_v<T, ast::RuleDecl>) {
            if (x.event.name.text.empty()) return;
            OutlineItem it = item(x.event.name, "rule", OutlineKind::Rule);
            it.name = "on " + source_text(p, x.event.span);
            out.push_back(std::move(it));
          } else if constexpr (std::is_same_v<T, ast::ScenarioDecl>) {
            if (x.name.text.empty()) return;
            OutlineItem it = item(x.name, "scenario", OutlineKind::Scenario);
            outline_steps(p, x.body, it.children);
            out.push_back(std::move(it));
          } else if constexpr (std::is_same_v<T, ast::BroadcastDecl>) {
            if (!x.name.text.empty()) out.push_back(item(x.name, source_text(p, x.at_span), OutlineKind::Broadcast));
          } else if constexpr (std::is_same_v<T, ast::TestDecl>) {
            out.push_back(OutlineItem{
                x.name, "test", OutlineKind::Test, ds.begin, ds.end, x.name_span.begin, x.name_span.end, {}});
          }
        },
        d.v);
  }
  return out;
}

// ------------------------------------------------------------------ formatting

std::optional<TextEdit> format_document(std::string_view text) {
  const FormatOutcome f = format_checked(text);
  if (!f.ok || f.text == text) return std::nullopt;
  const std::string_view out = f.text;
  // Keep the lines that do not change out of the edit: the longest common
  // prefix and suffix of whole lines.
  std::size_t prefix = 0;
  {
    std::size_t i = 0;
    while (i < text.size() && i < out.size() && text[i] == out[i]) {
      if (text[i] == '\n') prefix = i + 1;
      ++i;
    }
  }
  // The common suffix, shrunk until it starts at a line start in both texts.
  std::size_t suffix = 0;
  while (suffix < text.size() - prefix && suffix < out.size() - prefix &&
         text[text.size() - 1 - suffix] == out[out.size() - 1 - suffix]) {
    ++suffix;
  }
  auto line_start = [](std::string_view s, std::size_t pos) { return pos == 0 || s[pos - 1] == '\n'; };
  while (suffix > 0 && !(line_start(text, text.size() - suffix) && line_start(out, out.size() - suffix))) --suffix;
  return TextEdit{static_cast<std::uint32_t>(prefix), static_cast<std::uint32_t>(text.size() - suffix),
                  std::string(out.substr(prefix, out.size() - suffix - prefix))};
}

// ------------------------------------------------------------------ code actions

std::vector<CodeActionInfo> code_actions(const DocumentView& v, std::uint32_t begin, std::uint32_t end) {
  std::vector<CodeActionInfo> out;
  const Program& p = *v.program;
  std::size_t index = 0;
  for (const auto& d : p.diags.all()) {
    if (d.span.file != v.file) continue;
    const std::size_t this_index = index++;
    if (!d.fix) continue;
    const Span s = d.span;
    if (s.end < begin || s.begin > end) continue;
    const std::string old(p.sources.text(d.fix->span));
    CodeActionInfo a;
    a.title = fmt::format("Change `{}` to `{}`", old, d.fix->replacement);
    a.edit = TextEdit{d.fix->span.begin, d.fix->span.end, d.fix->replacement};
    a.diagnostic = this_index;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace okuri::lsp
