#include "compiler/query.hpp"

#include <algorithm>
#include <tuple>

#include "compiler/checker.hpp"
#include "compiler/lexer.hpp"
#include "compiler/text_template.hpp"

namespace okuri::query {
namespace {

bool contains(Span s, std::uint32_t file, std::uint32_t offset) {
  return s.file == file && s.begin <= offset && offset <= s.end;
}

// `{name}` interpolations in the raw text of a message literal. The raw text is
// scanned (not the unescaped value) so that the spans point into the source;
// escapes never produce braces or name characters, so both agree.
void interpolations(const Program& p, const ast::MessageDecl& m, std::vector<Occurrence>& out) {
  if (m.kind != ast::MessageKind::Text || m.value_span.end <= m.value_span.begin) return;
  const std::string_view raw = p.sources.text(m.value_span);
  for (const TextPart& part : parse_text_template(raw)) {
    if (!part.is_ref || part.text.empty()) continue;
    // The checker's order: built-in attributes, then links, then fields.
    std::optional<std::uint32_t> sym = p.find_index(SymbolKind::Link, part.text);
    if (!sym) sym = p.find_index(SymbolKind::Field, part.text);
    if (!sym) continue;
    const auto begin = static_cast<std::uint32_t>(m.value_span.begin + part.name_begin);
    out.push_back(
        Occurrence{*sym, Span{m.value_span.file, begin, static_cast<std::uint32_t>(begin + part.text.size())}, false});
  }
}

void walk_expr(const ast::Expr& e, const Visitor& v);

void walk_exprs(const std::vector<ast::ExprPtr>& es, const Visitor& v) {
  for (const auto& e : es) {
    if (e) walk_expr(*e, v);
  }
}

void walk_expr(const ast::Expr& e, const Visitor& v) {
  if (v.expr) v.expr(e);
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ast::Call>) {
          walk_exprs(x.args, v);
        } else if constexpr (std::is_same_v<T, ast::Not> || std::is_same_v<T, ast::Neg>) {
          if (x.operand) walk_expr(*x.operand, v);
        } else if constexpr (std::is_same_v<T, ast::Binary>) {
          if (x.lhs) walk_expr(*x.lhs, v);
          if (x.rhs) walk_expr(*x.rhs, v);
        } else if constexpr (std::is_same_v<T, ast::SetLit>) {
          walk_exprs(x.items, v);
        } else if constexpr (std::is_same_v<T, ast::RangeLit>) {
          if (x.lo) walk_expr(*x.lo, v);
          if (x.hi) walk_expr(*x.hi, v);
        } else if constexpr (std::is_same_v<T, ast::Paren>) {
          if (x.inner) walk_expr(*x.inner, v);
        }
      },
      e.v);
}

void walk_opt(const ast::ExprPtr& e, const Visitor& v) {
  if (e) walk_expr(*e, v);
}

void walk_event(const ast::EventPattern& e, const Visitor& v) {
  if (v.event) v.event(e);
}

void walk_type(const ast::TypeSpec& t, const Visitor& v) {
  if (v.type) v.type(t);
}

void walk_block(const ast::Block& b, const Visitor& v);

void walk_stmt(const ast::Stmt& s, const Visitor& v) {
  if (v.stmt) v.stmt(s);
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ast::ScoreStmt>) {
          walk_opt(x.value, v);
        } else if constexpr (std::is_same_v<T, ast::SetStmt>) {
          walk_opt(x.value, v);
        } else if constexpr (std::is_same_v<T, ast::RepeatStmt> || std::is_same_v<T, ast::StepStmt>) {
          walk_block(x.body, v);
        } else if constexpr (std::is_same_v<T, ast::GoalStmt>) {
          walk_opt(x.cond, v);
        } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
          for (const auto& a : x.arms) {
            walk_opt(a.cond, v);
            walk_block(a.body, v);
          }
          if (x.else_body) walk_block(*x.else_body, v);
        } else if constexpr (std::is_same_v<T, ast::SplitStmt>) {
          for (const auto& a : x.arms) walk_block(a.body, v);
        } else if constexpr (std::is_same_v<T, ast::WaitStmt>) {
          walk_opt(x.until, v);
          for (const auto& c : x.cases) {
            if (c.event) walk_event(*c.event, v);
            walk_opt(c.cond, v);
            walk_block(c.body, v);
          }
        }
      },
      s.v);
}

void walk_block(const ast::Block& b, const Visitor& v) {
  for (const auto& s : b.stmts) {
    if (s) walk_stmt(*s, v);
  }
}

void walk_decl(const ast::Decl& d, const Visitor& v) {
  if (v.decl) v.decl(d);
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ast::FieldDecl>) {
          walk_type(x.type, v);
          walk_opt(x.default_value, v);
        } else if constexpr (std::is_same_v<T, ast::EventDecl>) {
          for (const auto& f : x.fields) walk_type(f.type, v);
        } else if constexpr (std::is_same_v<T, ast::SegmentDecl>) {
          walk_opt(x.expr, v);
        } else if constexpr (std::is_same_v<T, ast::RuleDecl>) {
          walk_event(x.event, v);
          walk_opt(x.when, v);
          walk_block(x.body, v);
        } else if constexpr (std::is_same_v<T, ast::ScenarioDecl>) {
          for (const auto& s : x.start_on) {
            walk_event(s.event, v);
            walk_opt(s.when, v);
          }
          for (const auto& e : x.start_when) walk_opt(e, v);
          for (const auto& e : x.stop_when) walk_opt(e, v);
          walk_block(x.body, v);
        } else if constexpr (std::is_same_v<T, ast::BroadcastDecl>) {
          walk_opt(x.target, v);
          walk_block(x.body, v);
        } else if constexpr (std::is_same_v<T, ast::TestDecl>) {
          for (const auto& item : x.items) {
            std::visit(
                [&](const auto& t) {
                  using U = std::decay_t<decltype(t)>;
                  if constexpr (std::is_same_v<U, ast::TestFriend>) {
                    for (const auto& a : t.attrs) walk_opt(a.value, v);
                  } else if constexpr (std::is_same_v<U, ast::TestEvent>) {
                    walk_event(t.event, v);
                    for (const auto& a : t.payload) walk_opt(a.value, v);
                  } else if constexpr (std::is_same_v<U, ast::ExpectValue>) {
                    walk_opt(t.value, v);
                    walk_opt(t.rhs, v);
                  }
                },
                item.v);
          }
        }
      },
      d.v);
}

const ast::File* file_of(const Program& p, std::uint32_t file) {
  for (const auto& f : p.ast.files) {
    if (f.source == file) return &f;
  }
  return nullptr;
}

Type named_type(const Program& p, const ast::TypeSpec& t, const std::string& owner) {
  if (t.kind != ast::TypeSpec::Named) {
    for (std::uint32_t i = 0; i < p.types.enum_count(); ++i) {
      if (p.types.enum_def(i).name == owner)
        return t.kind == ast::TypeSpec::OneOf ? Type::enumeration(i) : Type::set(i);
    }
    return Type::error();
  }
  if (const auto k = plain_type(t.name.text)) return Type::of(*k);
  return Type::error();
}

}  // namespace

void walk(const ast::File& f, const Visitor& v) {
  for (const auto& d : f.decls) walk_decl(d, v);
}

std::vector<Occurrence> occurrences(const Program& p) {
  std::vector<Occurrence> out;
  out.reserve(p.symbols.size() + p.references.size());
  for (std::uint32_t i = 0; i < p.symbols.size(); ++i) out.push_back(Occurrence{i, p.symbols[i].span, true});
  for (const auto& r : p.references) out.push_back(Occurrence{r.symbol, r.span, false});
  for (const auto& f : p.ast.files) {
    for (const auto& d : f.decls) {
      if (const auto* m = std::get_if<ast::MessageDecl>(&d.v)) interpolations(p, *m, out);
    }
  }
  auto key = [](const Occurrence& o) {
    return std::tuple(o.span.file, o.span.begin, o.span.end, o.symbol, !o.definition);
  };
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const auto& a, const auto& b) {
                          return a.symbol == b.symbol && a.span.file == b.span.file && a.span.begin == b.span.begin &&
                                 a.span.end == b.span.end;
                        }),
            out.end());
  return out;
}

std::optional<Occurrence> occurrence_at(const Program& p, std::uint32_t file, std::uint32_t offset) {
  std::optional<Occurrence> touching;
  for (const auto& o : occurrences(p)) {
    if (o.span.file != file || o.span.begin > offset || offset > o.span.end) continue;
    if (offset < o.span.end) return o;  // strictly inside wins over "just after"
    if (!touching) touching = o;
  }
  return touching;
}

std::vector<Occurrence> occurrences_of(const Program& p, std::uint32_t symbol, bool with_definition) {
  std::vector<Occurrence> out;
  for (const auto& o : occurrences(p)) {
    if (o.symbol != symbol) continue;
    if (o.definition && !with_definition) continue;
    out.push_back(o);
  }
  std::stable_partition(out.begin(), out.end(), [](const Occurrence& o) { return o.definition; });
  return out;
}

const ast::Decl* decl_at(const Program& p, std::uint32_t file, std::uint32_t offset) {
  const ast::File* f = file_of(p, file);
  if (f == nullptr) return nullptr;
  for (const auto& d : f->decls) {
    if (contains(d.span, file, offset)) return &d;
  }
  return nullptr;
}

const ast::Expr* expr_at(const Program& p, std::uint32_t file, std::uint32_t offset) {
  const ast::File* f = file_of(p, file);
  if (f == nullptr) return nullptr;
  const ast::Expr* best = nullptr;
  Visitor v;
  v.expr = [&](const ast::Expr& e) {
    if (!contains(e.span, file, offset)) return;
    // Inner nodes come later; a narrower span always wins.
    if (best == nullptr || e.span.end - e.span.begin <= best->span.end - best->span.begin) best = &e;
  };
  walk(*f, v);
  return best;
}

const ast::EventPattern* event_pattern_at(const Program& p, std::uint32_t file, std::uint32_t offset) {
  const ast::File* f = file_of(p, file);
  if (f == nullptr) return nullptr;
  const ast::EventPattern* best = nullptr;
  Visitor v;
  v.event = [&](const ast::EventPattern& e) {
    if (contains(e.span, file, offset) || contains(e.name.span, file, offset)) best = &e;
  };
  walk(*f, v);
  return best;
}

const ast::EventPattern* event_in_scope(const Program& p, std::uint32_t file, std::uint32_t offset) {
  const ast::Decl* d = decl_at(p, file, offset);
  if (d == nullptr) return nullptr;
  const ast::EventPattern* best = nullptr;
  if (const auto* r = std::get_if<ast::RuleDecl>(&d->v)) best = &r->event;
  if (const auto* sc = std::get_if<ast::ScenarioDecl>(&d->v)) {
    for (const auto& s : sc->start_on) {
      if (contains(s.span, file, offset)) best = &s.event;
    }
  }
  Visitor v;
  v.stmt = [&](const ast::Stmt& s) {
    if (!contains(s.span, file, offset)) return;
    if (const auto* w = std::get_if<ast::WaitStmt>(&s.v)) {
      // Statements are visited outer first, so the innermost case wins.
      for (const auto& c : w->cases) {
        if (c.kind == ast::CaseKind::On && c.event && contains(c.span, file, offset)) best = &*c.event;
      }
    }
  };
  walk_decl(*d, v);
  return best;
}

std::vector<EventSpec> events(const Program& p) {
  std::vector<EventSpec> out;
  for (const auto& b : builtin_events()) {
    EventSpec s;
    s.name = std::string(b.name);
    for (const auto f : b.fields) s.fields.emplace_back(std::string(f), Type::of(TypeKind::Text));
    s.argument = b.argument;
    s.text_argument = b.text_argument;
    s.reply_token = b.reply_token;
    s.doc = std::string(b.doc);
    out.push_back(std::move(s));
  }
  for (const auto& f : p.ast.files) {
    for (const auto& d : f.decls) {
      const auto* e = std::get_if<ast::EventDecl>(&d.v);
      if (e == nullptr || e->name.text.empty()) continue;
      EventSpec s;
      s.name = e->name.text;
      s.builtin = false;
      for (const auto& fd : e->fields)
        s.fields.emplace_back(fd.name.text, named_type(p, fd.type, e->name.text + "." + fd.name.text));
      s.doc = doc_comment(p.sources.file(f.source), d.span);
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::optional<EventSpec> find_event(const Program& p, std::string_view name) {
  for (auto& e : events(p)) {
    if (e.name == name) return std::move(e);
  }
  return std::nullopt;
}

std::string doc_comment(const SourceFile& f, Span decl_span) {
  const LineCol lc = f.line_col(decl_span.begin);
  auto strip = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
  };
  std::vector<std::string> above;
  for (std::uint32_t line = lc.line; line > 1; --line) {
    const std::string_view t = strip(f.line_text(line - 1));
    if (t.empty() || t.front() != '#') break;
    above.emplace_back(strip(t.substr(1)));
  }
  std::reverse(above.begin(), above.end());
  // A trailing comment on the declaration's first line: the first `#` outside a text literal.
  const std::string_view line = f.line_text(lc.line);
  const std::uint32_t start = decl_span.begin - f.line_starts[lc.line - 1];
  bool in_text = false;
  for (std::size_t i = start; i < line.size(); ++i) {
    if (in_text && line[i] == '\\') {
      ++i;
    } else if (line[i] == '"') {
      in_text = !in_text;
    } else if (!in_text && line[i] == '#') {
      above.emplace_back(strip(line.substr(i + 1)));
      break;
    }
  }
  std::string out;
  for (const auto& a : above) {
    if (!out.empty()) out += '\n';
    out += a;
  }
  return out;
}

bool has_syntax_errors(const Program& p, std::uint32_t file) {
  return std::any_of(p.diags.all().begin(), p.diags.all().end(),
                     [&](const Diagnostic& d) { return d.code == Code::E001 && d.span.file == file; });
}

std::optional<std::uint32_t> file_index(const Program& p, std::string_view path) {
  for (std::uint32_t i = 0; i < p.sources.size(); ++i) {
    if (p.sources.file(i).path == path) return i;
  }
  return std::nullopt;
}

}  // namespace okuri::query
