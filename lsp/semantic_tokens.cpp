// Semantic tokens: a lexer gives every token of the file its place; the
// Program says what each name is (a tag, a field, an enumeration value, a
// built-in function, …). Words the Program does not know (a half-typed
// region) fall back to keywords or nothing.
#include <map>
#include <set>
#include <string_view>

#include "compiler/lexer.hpp"
#include "compiler/query.hpp"
#include "lsp/features.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::lsp {
namespace {

struct Class {
  TokenType type;
  std::uint32_t modifiers = 0;
};

TokenType type_of_symbol(SymbolKind k) {
  switch (k) {
    case SymbolKind::Tag:
    case SymbolKind::Audience:
      return TokenType::Enum;
    case SymbolKind::Message:
    case SymbolKind::Form:
      return TokenType::Struct;
    case SymbolKind::Link:
      return TokenType::Interface;
    case SymbolKind::Segment:
      return TokenType::Function;
    case SymbolKind::Field:
    case SymbolKind::Score:
      return TokenType::Variable;
    case SymbolKind::Scenario:
    case SymbolKind::Broadcast:
      return TokenType::Class;
    case SymbolKind::Step:
      return TokenType::Method;
    case SymbolKind::Event:
      return TokenType::Event;
    case SymbolKind::Test:
      return TokenType::String;
  }
  return TokenType::Variable;
}

bool is_keyword(std::string_view w) {
  static const std::set<std::string_view> kWords = {
      "account",   "field",       "tag",         "score",     "link",   "message", "audience", "form",     "event",
      "segment",   "on",          "scenario",    "broadcast", "test",   "and",     "or",       "not",      "in",
      "true",      "false",       "when",        "start",     "stop",   "restart", "never",    "always",   "after",
      "on_update", "continue",    "exit",        "send",      "reply",  "untag",   "set",      "clear",    "menu",
      "notify",    "pass",        "goto",        "step",      "repeat", "goal",    "within",   "if",       "else",
      "split",     "wait",        "until",       "up",        "to",     "for",     "timeout",  "throttle", "at",
      "by",        "friend",      "expect",      "no",        "of",     "from",    "text",     "json",     "sticker",
      "timezone",  "quiet_hours", "daily_limit", "plan",      "staff",  "add",     "remove"};
  return kWords.count(w) != 0;
}

}  // namespace

std::vector<SemanticToken> semantic_tokens(const DocumentView& v) {
  const Program& p = *v.program;
  const std::string_view s = p.sources.file(v.file).text;

  // What the Program knows, by the byte offset where a name starts.
  std::map<std::uint32_t, Class> known;
  for (const auto& o : query::occurrences(p)) {
    if (o.span.file != v.file) continue;
    const Symbol& sym = p.symbols[o.symbol];
    if (sym.kind == SymbolKind::Test) continue;  // its name is a text literal
    known[o.span.begin] = Class{type_of_symbol(sym.kind), o.definition ? kDeclaration : 0u};
  }
  for (const auto& f : p.ast.files) {
    if (f.source != v.file) continue;
    query::Visitor vis;
    vis.event = [&](const ast::EventPattern& e) {
      if (!e.name.text.empty() && known.count(e.name.span.begin) == 0) {
        known[e.name.span.begin] = Class{TokenType::Event, kDefaultLibrary};
      }
    };
    vis.type = [&](const ast::TypeSpec& t) {
      known[t.name.span.begin] = Class{TokenType::Type, kDefaultLibrary};
      for (const auto& val : t.values) known[val.span.begin] = Class{TokenType::EnumMember, kDeclaration};
    };
    vis.expr = [&](const ast::Expr& e) {
      if (const auto* n = std::get_if<ast::NameRef>(&e.v)) {
        if (known.count(e.span.begin) != 0) return;
        if (stdlib::find_attribute(n->name) != nullptr) {
          known[e.span.begin] = Class{TokenType::Variable, kDefaultLibrary | kReadonly};
        } else if (p.type_of(e.id).kind == TypeKind::Enum) {
          known[e.span.begin] = Class{TokenType::EnumMember, 0};
        }
      } else if (const auto* m = std::get_if<ast::Member>(&e.v)) {
        known[m->object.span.begin] = Class{TokenType::Namespace, kDefaultLibrary};
        known[m->field.span.begin] = Class{TokenType::Property, 0};
      } else if (const auto* c = std::get_if<ast::Call>(&e.v)) {
        if (stdlib::find_builtin(c->callee.text) != nullptr || c->callee.text == "score") {
          known[c->callee.span.begin] = Class{TokenType::Function, kDefaultLibrary};
        }
      }
    };
    query::walk(f, vis);
  }

  std::vector<SemanticToken> out;
  auto emit = [&](std::size_t b, std::size_t e, TokenType t, std::uint32_t mods = 0) {
    out.push_back(SemanticToken{static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e), t, mods});
  };
  for (const auto& t : lex::tokenize(s)) {
    switch (t.kind) {
      case lex::Kind::Comment:
        emit(t.begin, t.end, TokenType::Comment);
        break;
      case lex::Kind::String:
        emit(t.begin, t.end, TokenType::String);
        break;
      case lex::Kind::Number:  // numbers, durations, percentages, dates and times of day
        emit(t.begin, t.end, TokenType::Number);
        break;
      case lex::Kind::Word:
        if (const auto it = known.find(t.begin); it != known.end()) {
          emit(t.begin, t.end, it->second.type, it->second.modifiers);
        } else if (is_keyword(t.text(s))) {
          emit(t.begin, t.end, TokenType::Keyword);
        }
        break;
      case lex::Kind::Punct: {
        static const std::string_view kOps = "=<>+-!";
        if (t.end - t.begin == 2 || kOps.find(s[t.begin]) != std::string_view::npos) emit(t.begin, t.end, TokenType::Operator);
        break;
      }
      case lex::Kind::Newline:
        break;
    }
  }
  return out;
}

}  // namespace okuri::lsp
