// Completion. The context (which block the cursor is in, which statement,
// which call or set literal) comes from a small lexer over the text before
// the cursor, so it works on a half-typed file that does not parse. The
// names come from a recent Program of the project, which may be older than
// the text: completion never waits for a check.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "compiler/lexer.hpp"
#include "compiler/query.hpp"
#include "compiler/text_template.hpp"
#include "lsp/features.hpp"
#include "lsp/hover_text.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/prefectures.hpp"

namespace okuri::lsp {
namespace {

using Tk = lex::Kind;

struct Token {
  Tk kind;
  std::string_view text;
  std::uint32_t begin;
};

struct Lexed {
  std::vector<Token> tokens;  // no comments
  bool in_string = false;  // the cursor is inside an unterminated text literal
  std::uint32_t string_begin = 0;
  bool in_comment = false;
};

// The text before the cursor, lexed: the cursor may be inside a text or a comment.
Lexed lex_before(std::string_view s) {
  Lexed out;
  for (const auto& t : lex::tokenize(s)) {
    if (t.kind == Tk::Comment) {
      // A comment the cursor is in runs to the end of the text (blanks after it trimmed).
      std::size_t e = t.end;
      while (e < s.size() && s[e] != '\n') ++e;
      if (e == s.size()) out.in_comment = true;
      continue;
    }
    if (t.kind == Tk::String && !t.closed && t.end == s.size()) {
      out.in_string = true;
      out.string_begin = t.begin;
      return out;
    }
    out.tokens.push_back({t.kind, t.text(s), t.begin});
  }
  return out;
}

enum class BlockKind { Top, Account, Scenario, Statements, WaitCases, Test, EventFields, Split };

struct Block {
  BlockKind kind = BlockKind::Top;
  std::vector<std::string_view> opener;  // the words of the statement that opened it
  std::size_t first_token = 0;           // index of the first token inside
};

// A newline after one of these does not end the statement.
bool continues(const Token& t) {
  if (t.kind == Tk::Punct) {
    static const std::set<std::string_view> kOps = {
        ",", "=", "=>", "(", "[", "+", "-", "==", "!=", "<", "<=", ">", ">=", "+=", "-=", ".."};
    return kOps.count(t.text) != 0;
  }
  return t.kind == Tk::Word && (t.text == "and" || t.text == "or" || t.text == "in" || t.text == "not");
}

struct Context {
  std::vector<Block> blocks;  // outermost first; blocks[0] is the file
  std::vector<Token> stmt;    // the current statement's tokens before the partial word
  const Lexed* lexed = nullptr;
  std::size_t stmt_first = 0;  // index of stmt[0] in lexed->tokens
  bool after_close_brace = false;

  const Block& block() const { return blocks.back(); }
  bool inside(BlockKind k) const {
    return std::any_of(blocks.begin(), blocks.end(), [&](const Block& b) { return b.kind == k; });
  }
  std::string_view scenario_name() const {
    for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
      if (it->kind == BlockKind::Scenario && it->opener.size() >= 2) return it->opener[1];
    }
    return {};
  }
};

BlockKind kind_of(const std::vector<std::string_view>& opener, BlockKind outer) {
  if (opener.empty()) return BlockKind::Statements;
  const auto w = opener.front();
  if (outer == BlockKind::Top) {
    if (w == "account") return BlockKind::Account;
    if (w == "scenario") return BlockKind::Scenario;
    if (w == "test") return BlockKind::Test;
    if (w == "event") return BlockKind::EventFields;
    return BlockKind::Statements;  // rules, broadcasts
  }
  if (w == "wait") return BlockKind::WaitCases;
  if (w == "split") return BlockKind::Split;
  if (outer == BlockKind::Test) return BlockKind::Test;  // `friend U1 { … }` attributes
  return BlockKind::Statements;
}

Context context(const Lexed& lx) {
  Context c;
  c.lexed = &lx;
  c.blocks.push_back(Block{});
  std::size_t start = 0;
  int parens = 0;
  const auto& t = lx.tokens;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const Token& k = t[i];
    if (k.kind == Tk::Punct && (k.text == "(" || k.text == "[")) ++parens;
    if (k.kind == Tk::Punct && (k.text == ")" || k.text == "]") && parens > 0) --parens;
    const bool newline_ends = k.kind == Tk::Newline && parens == 0 && !(i > start && continues(t[i - 1]));
    if (k.kind == Tk::Punct && k.text == "{") {
      std::vector<std::string_view> opener;
      for (std::size_t j = start; j < i; ++j) {
        if (t[j].kind != Tk::Newline) opener.push_back(t[j].text);
      }
      // `} else {`: the opener starts after the closing brace.
      Block b;
      b.kind = kind_of(opener, c.block().kind);
      b.opener = std::move(opener);
      b.first_token = i + 1;
      c.blocks.push_back(std::move(b));
      start = i + 1;
      parens = 0;
    } else if (k.kind == Tk::Punct && k.text == "}") {
      if (c.blocks.size() > 1) c.blocks.pop_back();
      start = i + 1;
      parens = 0;
    } else if ((k.kind == Tk::Punct && k.text == ";") || newline_ends) {
      start = i + 1;
    }
  }
  for (std::size_t j = start; j < t.size(); ++j) {
    if (t[j].kind != Tk::Newline) c.stmt.push_back(t[j]);
  }
  c.stmt_first = start;
  c.after_close_brace = start > 0 && start - 1 < t.size() && t[start - 1].kind == Tk::Punct && t[start - 1].text == "}";
  return c;
}

// ------------------------------------------------------------------ the items

class Items {
 public:
  Items(const Program* names, const Program* fallback) {
    for (const Program* p : {names, fallback}) {
      if (p != nullptr) programs_.push_back(p);
    }
  }

  std::vector<CompletionItem> take() { return std::move(items_); }

  void add(std::string label, CompletionKind k, std::string detail = {}, std::string doc = {}) {
    if (label.empty() || !seen_.insert(label + "\x1f" + std::to_string(static_cast<int>(k))).second) return;
    items_.push_back(CompletionItem{std::move(label), k, std::move(detail), std::move(doc)});
  }

  void keywords(std::initializer_list<const char*> words) {
    for (const char* w : words) add(w, CompletionKind::Keyword, "keyword");
  }

  void symbols(SymbolKind k, CompletionKind ck, std::string_view scope = {}) {
    for (const Program* p : programs_) {
      for (const auto& s : p->symbols) {
        if (s.kind != k || s.scope != scope) continue;
        std::string detail = kind_word(k);
        if (k == SymbolKind::Field) detail += ": " + p->types.describe(s.type);
        add(s.name, ck, detail);
      }
    }
  }

  void attributes(bool settable_only = false) {
    for (const auto& a : stdlib::attributes()) {
      const bool settable =
          a.id == stdlib::AttrKind::Gender || a.id == stdlib::AttrKind::Age || a.id == stdlib::AttrKind::Region;
      if (settable_only && !settable) continue;
      add(std::string(a.name), CompletionKind::Attribute, "built-in attribute", std::string(a.doc));
    }
  }

  void functions() {
    for (const auto& b : stdlib::builtins())
      add(std::string(b.name), CompletionKind::Function, builtin_signature(b.name), std::string(b.doc));
  }

  void events() {
    for (const Program* p : programs_) {
      for (const auto& e : query::events(*p))
        add(e.name, CompletionKind::Event, e.builtin ? "built-in event" : "event", e.doc);
    }
    if (programs_.empty()) {
      Program empty;
      for (const auto& e : query::events(empty)) add(e.name, CompletionKind::Event, "built-in event", e.doc);
    }
  }

  void event_fields(std::string_view event) {
    Program empty;
    const Program* p = programs_.empty() ? &empty : programs_.front();
    for (const Program* q : programs_) {
      if (query::find_event(*q, event)) {
        p = q;
        break;
      }
    }
    if (auto e = query::find_event(*p, event)) {
      for (const auto& [n, t] : e->fields) add(n, CompletionKind::EventField, p->types.describe(t));
    }
  }

  void prefectures() {
    for (const auto& pf : stdlib::prefectures())
      add(std::string(pf.name), CompletionKind::EnumValue, std::string(pf.kanji));
  }

  // The set_of fields, and the values any of them takes (`add |`, before the field is written).
  void set_fields(bool values) {
    for (const Program* p : programs_) {
      for (const auto& s : p->symbols) {
        if (s.kind != SymbolKind::Field || s.type.kind != TypeKind::Set) continue;
        if (values) {
          enum_values(s.type);
        } else {
          add(s.name, CompletionKind::Field, "field: " + p->types.describe(s.type));
        }
      }
    }
  }

  void enum_values(Type t) {
    if (t.kind != TypeKind::Enum && t.kind != TypeKind::Set) return;
    if (t.enum_id == TypeTable::kRegion) {
      prefectures();
      return;
    }
    for (const Program* p : programs_) {
      if (t.enum_id >= p->types.enum_count()) continue;
      const auto& def = p->types.enum_def(t.enum_id);
      for (const auto& v : def.values) add(v, CompletionKind::EnumValue, def.name);
      return;
    }
  }

  // The type of a field, attribute or estimate written as these words.
  std::optional<Type> type_of_words(const std::vector<std::string_view>& w) const {
    if (w.size() == 1) {
      if (const auto* a = stdlib::find_attribute(w[0])) {
        if (a->id == stdlib::AttrKind::Gender) return Type::enumeration(TypeTable::kGender);
        if (a->id == stdlib::AttrKind::Region) return Type::enumeration(TypeTable::kRegion);
        return std::nullopt;
      }
      for (const Program* p : programs_) {
        if (const Symbol* s = p->find(SymbolKind::Field, w[0])) return s->type;
      }
    }
    if (w.size() == 3 && w[0] == "line" && w[1] == ".") {
      if (w[2] == "gender") return Type::enumeration(TypeTable::kLineGender);
      if (w[2] == "region") return Type::enumeration(TypeTable::kRegion);
      if (w[2] == "os") return Type::enumeration(TypeTable::kLineOs);
    }
    if (!w.empty() && w[0] == "weekday") return Type::enumeration(TypeTable::kWeekday);
    return std::nullopt;
  }

  void expression(bool with_event, bool in_broadcast_target) {
    symbols(SymbolKind::Field, CompletionKind::Field);
    symbols(SymbolKind::Segment, CompletionKind::Segment);
    attributes();
    functions();
    add("score", CompletionKind::Function, "score(name) → int");
    keywords({"not", "true", "false"});
    if (with_event) add("event", CompletionKind::Keyword, "the event's fields: event.<field>");
    if (in_broadcast_target) add("line", CompletionKind::Keyword, "LINE's estimates: line.<estimate>");
  }

 private:
  std::vector<const Program*> programs_;
  std::vector<CompletionItem> items_;
  std::set<std::string> seen_;
};

void statement_keywords(const Context& c, Items& items) {
  items.keywords({"send", "reply", "tag", "untag", "score", "set", "clear", "add", "remove", "start", "stop", "menu",
                  "notify", "pass", "if"});
  if (c.inside(BlockKind::Scenario) ||
      (c.blocks.size() > 1 && !c.blocks[1].opener.empty() && c.blocks[1].opener[0] == "broadcast")) {
    items.keywords({"wait", "goto", "step", "repeat", "goal", "split", "throttle"});
  }
}

// The event whose fields `event.` reads here: the statement's own `on X`, or
// the nearest enclosing `on X … {` (a rule or a `wait … for` case).
std::string_view event_here(const Context& c) {
  for (std::size_t i = 0; i + 1 < c.stmt.size(); ++i) {
    if (c.stmt[i].text == "on" && c.stmt[i + 1].kind == Tk::Word) return c.stmt[i + 1].text;
  }
  for (auto it = c.blocks.rbegin(); it != c.blocks.rend(); ++it) {
    const auto& o = it->opener;
    for (std::size_t i = 0; i + 1 < o.size(); ++i) {
      if (o[i] == "on") return o[i + 1];
    }
  }
  return {};
}

bool in_broadcast_target(const Context& c) {
  if (c.stmt.empty() || c.stmt[0].text != "broadcast") return false;
  return std::any_of(c.stmt.begin(), c.stmt.end(), [](const Token& t) { return t.text == "to"; });
}

// Everything before the cursor in an expression, when the last token ends an
// operand: only an operator can follow.
bool after_operand(const std::vector<Token>& st) {
  if (st.empty()) return false;
  const Token& t = st.back();
  if (t.kind == Tk::Number || t.kind == Tk::String) return true;
  if (t.kind == Tk::Punct) return t.text == ")" || t.text == "]";
  static const std::set<std::string_view> kNotOperand = {"and",   "or",   "not",   "in",   "when",    "if",  "to",
                                                         "until", "goal", "start", "stop", "segment", "set", "return"};
  return t.kind == Tk::Word && kNotOperand.count(t.text) == 0;
}

void expression_at(const Context& c, const std::vector<Token>& st, Items& items) {
  // `x == ` / `x != `: the values of x's enumeration first.
  if (st.size() >= 2 && st.back().kind == Tk::Punct && (st.back().text == "==" || st.back().text == "!=")) {
    std::vector<std::string_view> lhs;
    for (std::size_t i = st.size() - 1; i-- > 0;) {
      if (st[i].kind == Tk::Word &&
          (st[i].text == "and" || st[i].text == "or" || st[i].text == "not" || st[i].text == "when" ||
           st[i].text == "if" || st[i].text == "to" || st[i].text == "goal")) {
        break;
      }
      if (st[i].kind == Tk::Punct && st[i].text != ".") break;
      lhs.insert(lhs.begin(), st[i].text);
    }
    if (auto t = items.type_of_words(lhs)) items.enum_values(*t);
  }
  if (after_operand(st)) {
    items.keywords({"and", "or", "in", "not"});
    return;
  }
  items.expression(!event_here(c).empty(), in_broadcast_target(c));
}

// The innermost `(` or `[` still open in the statement, or npos.
std::size_t open_bracket(const std::vector<Token>& st) {
  std::vector<std::size_t> stack;
  for (std::size_t i = 0; i < st.size(); ++i) {
    if (st[i].kind != Tk::Punct) continue;
    if (st[i].text == "(" || st[i].text == "[") stack.push_back(i);
    if ((st[i].text == ")" || st[i].text == "]") && !stack.empty()) stack.pop_back();
  }
  return stack.empty() ? std::string_view::npos : stack.back();
}

void in_call(const Context& c, const std::vector<Token>& st, std::size_t open, Items& items) {
  const std::string_view callee = open > 0 && st[open - 1].kind == Tk::Word ? st[open - 1].text : std::string_view{};
  std::size_t arg = 0;
  int depth = 0;
  for (std::size_t i = open + 1; i < st.size(); ++i) {
    if (st[i].text == "(" || st[i].text == "[") ++depth;
    if (st[i].text == ")" || st[i].text == "]") --depth;
    if (depth == 0 && st[i].text == ",") ++arg;
  }
  if (callee == "tagged" || callee == "tag_added" || callee == "tag_removed") {
    items.symbols(SymbolKind::Tag, CompletionKind::Tag);
  } else if (callee == "clicked" || callee == "clicks" || callee == "link_clicked") {
    if (arg == 0) items.symbols(SymbolKind::Link, CompletionKind::Link);
    if (arg == 1 && callee == "clicked") items.keywords({"within"});
  } else if (callee == "opened" || callee == "sent" || callee == "message_opened") {
    if (arg == 0) items.symbols(SymbolKind::Message, CompletionKind::Message);
    if (arg == 1 && callee == "opened") items.keywords({"within"});
  } else if (callee == "in_audience") {
    items.symbols(SymbolKind::Audience, CompletionKind::Audience);
  } else if (callee == "form_submitted") {
    items.symbols(SymbolKind::Form, CompletionKind::Form);
  } else if (callee == "field_changed") {
    items.symbols(SymbolKind::Field, CompletionKind::Field);
  } else if (callee == "known") {
    items.symbols(SymbolKind::Field, CompletionKind::Field);
    items.attributes();
  } else if (callee == "has") {
    if (arg == 0) {
      items.symbols(SymbolKind::Field, CompletionKind::Field);
    } else if (open + 1 < st.size() && st[open + 1].kind == Tk::Word) {
      if (auto t = items.type_of_words({st[open + 1].text})) items.enum_values(*t);
    }
  } else if (callee == "score") {
    items.symbols(SymbolKind::Score, CompletionKind::Score);
  } else if (callee == "one_of" || callee == "set_of" || callee == "web_visited" || callee == "visited") {
    // new value names, or a text
  } else {
    std::vector<Token> inner(st.begin() + static_cast<std::ptrdiff_t>(open) + 1, st.end());
    expression_at(c, inner, items);
  }
}

void in_set(const std::vector<Token>& st, std::size_t open, Items& items) {
  // `x in [` / `x not in [` / `set x = [`
  std::vector<std::string_view> lhs;
  if (open >= 1 && st[open - 1].text == "in") {
    std::size_t i = open - 1;
    if (i >= 1 && st[i - 1].text == "not") --i;
    while (i-- > 0) {
      if (st[i].kind == Tk::Word &&
          (st[i].text == "and" || st[i].text == "or" || st[i].text == "not" || st[i].text == "when" ||
           st[i].text == "if" || st[i].text == "to" || st[i].text == "goal" || st[i].text == "where")) {
        break;
      }
      if (st[i].kind == Tk::Punct && st[i].text != "." && st[i].text != "(" && st[i].text != ")") break;
      lhs.insert(lhs.begin(), st[i].text);
      if (st[i].text == "(") break;
    }
    if (!lhs.empty() && lhs.front() == "(") lhs.erase(lhs.begin());
  } else if (open >= 1 && st[open - 1].text == "=" && st.size() >= 3 && st[0].text == "set") {
    lhs.push_back(st[1].text);
  }
  if (auto t = items.type_of_words(lhs)) items.enum_values(*t);
}

void friends_in_test(const Context& c, Items& items) {
  const auto& t = c.lexed->tokens;
  std::size_t from = 0;
  for (auto it = c.blocks.rbegin(); it != c.blocks.rend(); ++it) {
    if (it->kind == BlockKind::Test && !it->opener.empty() && it->opener[0] == "test") {
      from = it->first_token;
      break;
    }
  }
  for (std::size_t i = from; i + 1 < t.size(); ++i) {
    const bool at_start = i == 0 || t[i - 1].kind == Tk::Newline || t[i - 1].text == ";" || t[i - 1].text == "{";
    if (at_start && t[i].text == "friend" && t[i + 1].kind == Tk::Word)
      items.add(std::string(t[i + 1].text), CompletionKind::Friend, "test friend");
  }
}

// After `on` (a rule, `start on`, a `wait … for` case, a test event).
bool after_event_keyword(const std::vector<Token>& st, std::size_t i, Items& items) {
  // st[i] is `on`; the event name is being typed, or follows.
  if (st.size() == i + 1) {
    items.events();
    return true;
  }
  if (st.size() == i + 2 && st[i + 1].kind == Tk::Word) {
    items.keywords({"when"});
    if (st[i + 1].text == "friend_added") items.keywords({"from"});
    return true;
  }
  return false;
}

void complete_statement(const Context& c, Items& items) {
  const auto& st = c.stmt;
  const BlockKind bk = c.block().kind;
  if (st.empty()) {
    switch (bk) {
      case BlockKind::Top:
        items.keywords({"account", "field", "tag", "score", "link", "message", "audience", "form", "event", "segment",
                        "on", "scenario", "broadcast", "test"});
        break;
      case BlockKind::Account:
        items.keywords({"timezone", "quiet_hours", "daily_limit", "plan", "staff"});
        break;
      case BlockKind::Scenario:
        items.keywords({"start", "restart", "stop", "on_update"});
        statement_keywords(c, items);
        break;
      case BlockKind::Statements:
        statement_keywords(c, items);
        break;
      case BlockKind::WaitCases:
        items.keywords({"on", "when", "timeout"});
        break;
      case BlockKind::Test:
        items.keywords({"friend", "at", "after", "expect"});
        break;
      case BlockKind::EventFields:
      case BlockKind::Split:
        break;
    }
    if (c.after_close_brace && bk != BlockKind::Top) items.keywords({"else"});
    return;
  }
  const std::string_view first = st[0].text;
  const std::string_view last = st.back().text;

  // A `=`/`when`/`to`/`until`/`if`/`goal` in the statement makes the rest an expression.
  auto expression_from = [&](std::size_t i) {
    std::vector<Token> rest(st.begin() + static_cast<std::ptrdiff_t>(i), st.end());
    expression_at(c, rest, items);
  };

  if (bk == BlockKind::Top) {
    if (first == "on") {
      if (after_event_keyword(st, 0, items)) return;
    } else if (first == "field") {
      for (std::size_t i = 1; i < st.size(); ++i) {
        if (st[i].text == "=") return expression_from(i + 1);
      }
      if (last == ":") {
        for (const char* t : {"int", "bool", "text", "date", "datetime", "duration", "time", "one_of", "set_of"}) {
          items.add(t, CompletionKind::Type, "type");
        }
      }
      return;
    } else if (first == "message") {
      if (st.size() == 2) items.keywords({"text", "json", "sticker"});
      return;
    } else if (first == "broadcast") {
      if (st.size() == 2) return items.keywords({"at"});
      if (std::any_of(st.begin(), st.end(), [](const Token& t) { return t.text == "to"; })) {
        for (std::size_t i = 0; i < st.size(); ++i) {
          if (st[i].text == "to") return expression_from(i + 1);
        }
      }
      if (st.size() >= 3) items.keywords({"to"});
      return;
    } else if (first == "segment") {
      for (std::size_t i = 1; i < st.size(); ++i) {
        if (st[i].text == "=") return expression_from(i + 1);
      }
      return;
    }
    for (std::size_t i = 0; i < st.size(); ++i) {
      if (st[i].text == "when") return expression_from(i + 1);
    }
    return;
  }
  if (bk == BlockKind::Account) {
    if (first == "plan" && st.size() == 1) {
      for (const auto& p : stdlib::plans()) items.add(std::string(p.name), CompletionKind::EnumValue, "plan");
    }
    return;
  }
  if (bk == BlockKind::WaitCases) {
    if (first == "on") {
      if (after_event_keyword(st, 0, items)) return;
      for (std::size_t i = 0; i < st.size(); ++i) {
        if (st[i].text == "when") return expression_from(i + 1);
      }
      return;
    }
    if (first == "when") return expression_from(1);
    return;
  }
  if (bk == BlockKind::Test) {
    if (first == "at") {
      // at DATE [TIME] EVENT [(arg)] [{ payload }] by FRIEND
      std::size_t i = 1;
      while (i < st.size() && st[i].kind == Tk::Number) ++i;
      if (i == st.size() && i > 1) return items.events();
      if (last == "by") return friends_in_test(c, items);
      if (i + 1 == st.size()) return items.keywords({"by"});
      return;
    }
    if (first == "expect") {
      if (st.size() == 1) {
        items.keywords({"send", "reply", "no"});
        items.symbols(SymbolKind::Field, CompletionKind::Field);
        items.symbols(SymbolKind::Segment, CompletionKind::Segment);
        items.attributes();
        items.functions();
        items.add("score", CompletionKind::Function, "score(name) → int");
        return;
      }
      if (last == "to" || last == "of") return friends_in_test(c, items);
      const bool sends = st[1].text == "send" || st[1].text == "reply" || (st.size() > 2 && st[1].text == "no");
      const bool has_to = std::any_of(st.begin(), st.end(), [](const Token& t) { return t.text == "to"; });
      if (sends && !has_to) {
        if (st.size() == 2 && st[1].text == "no") return items.keywords({"send", "reply"});
        items.symbols(SymbolKind::Message, CompletionKind::Message);
        if (last != "send" && last != "reply" && last != ",") items.keywords({"to"});
        return;
      }
      if (sends && has_to && st.size() >= 2 && st[st.size() - 2].text == "to") return items.keywords({"at"});
      return;
    }
    return;
  }
  // Statements (and scenario headers).
  if (first == "send" || first == "reply") {
    if (last == first || last == ",") items.symbols(SymbolKind::Message, CompletionKind::Message);
    return;
  }
  if (first == "tag" || first == "untag") {
    if (last == first || last == ",") items.symbols(SymbolKind::Tag, CompletionKind::Tag);
    return;
  }
  if (first == "set") {
    if (st.size() == 1) {
      items.symbols(SymbolKind::Field, CompletionKind::Field);
      items.attributes(true);
      return;
    }
    for (std::size_t i = 1; i < st.size(); ++i) {
      if (st[i].text == "=") {
        if (i + 1 == st.size()) {
          if (auto t = items.type_of_words({st[1].text})) items.enum_values(*t);
        }
        return expression_from(i + 1);
      }
    }
    return;
  }
  if (first == "clear") {
    if (st.size() == 1) items.symbols(SymbolKind::Field, CompletionKind::Field);
    return;
  }
  if (first == "add" || first == "remove") {  // add ITEM, … to FIELD / remove ITEM, … from FIELD
    const char* joiner = first == "add" ? "to" : "from";
    if (last == joiner) return items.set_fields(false);
    if (last == first || last == ",") return items.set_fields(true);
    if (st.size() >= 2 && st[st.size() - 2].text != joiner) items.keywords({joiner});
    return;
  }
  if (first == "goto") {
    if (st.size() == 1) items.symbols(SymbolKind::Step, CompletionKind::Step, c.scenario_name());
    return;
  }
  if (first == "start" || first == "stop") {
    const bool header = bk == BlockKind::Scenario;
    if (st.size() == 1) {
      if (header && first == "start") items.keywords({"on", "when"});
      if (header && first == "stop") items.keywords({"when"});
      items.symbols(SymbolKind::Scenario, CompletionKind::Scenario);
      return;
    }
    if (st[1].text == "on" && after_event_keyword(st, 1, items)) return;
    for (std::size_t i = 1; i < st.size(); ++i) {
      if (st[i].text == "when") return expression_from(i + 1);
    }
    return;
  }
  if (first == "restart") {
    if (st.size() == 1) items.keywords({"never", "always", "after"});
    return;
  }
  if (first == "on_update") {
    if (st.size() == 1) items.keywords({"continue", "restart", "exit"});
    return;
  }
  if (first == "wait") {
    if (st.size() == 1) return items.keywords({"until", "up"});
    if (st[1].text == "up") {
      if (st.size() == 2) return items.keywords({"to"});
      if (st.size() == 4) return items.keywords({"for"});
      return;
    }
    if (st[1].text == "until") {
      if (st.size() >= 3 && after_operand(st)) items.keywords({"at"});
      return expression_from(2);
    }
    if (st.size() == 2 && st[1].kind == Tk::Number) items.keywords({"at"});
    return;
  }
  if (first == "score") {
    for (std::size_t i = 1; i < st.size(); ++i) {
      if (st[i].text == "+=" || st[i].text == "-=" || st[i].text == "=") return expression_from(i + 1);
    }
    return;
  }
  if (first == "if" || first == "goal") {
    if (first == "goal" && after_operand(st) && st.size() > 1) items.keywords({"within"});
    return expression_from(1);
  }
  if (first == "else") {
    if (st.size() == 1) items.keywords({"if"});
    if (st.size() >= 2 && st[1].text == "if") return expression_from(2);
    return;
  }
  if (first == "}") {
    items.keywords({"else"});
    return;
  }
  if (first == "when" || first == "on") {  // cases written in a statement block by mistake, still helpful
    if (first == "on" && after_event_keyword(st, 0, items)) return;
    for (std::size_t i = 0; i < st.size(); ++i) {
      if (st[i].text == "when") return expression_from(i + 1);
    }
  }
}

}  // namespace

CompletionResult complete(std::string_view text, std::uint32_t offset, const Program* names, const Program* fallback) {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  CompletionResult r;
  std::uint32_t b = offset;
  while (b > 0 && lex::is_name_byte(static_cast<unsigned char>(text[b - 1]))) --b;
  r.begin = b;
  r.end = offset;
  const Lexed lx = lex_before(text.substr(0, b));
  Items items(names, fallback);
  if (lx.in_comment) return r;
  if (lx.in_string) {
    // `{name}` inside a message text: links, fields and attributes.
    const std::string_view lit = text.substr(lx.string_begin, b - lx.string_begin);
    const auto open = lit.rfind('{');
    const Context c = context(lx);
    const bool interpolates = !c.stmt.empty() && (c.stmt[0].text == "message" || c.stmt[0].text == "notify");
    const bool inside = interpolates && open != std::string_view::npos && lit.find('}', open) == std::string_view::npos;
    if (inside && lx.string_begin + open + 1 == b) {
      items.symbols(SymbolKind::Link, CompletionKind::Link);
      items.symbols(SymbolKind::Field, CompletionKind::Field);
      items.attributes();
    } else if (inside && b > 0 && text[b - 1] == ':' && lit.find('|', open) == std::string_view::npos) {
      // `{lesson_at:` — the date and time formats (compiler/text_template.hpp).
      for (const auto& f : text_formats()) {
        items.add(std::string(f.name), CompletionKind::Keyword, "format", fmt::format("for example {}", f.example));
      }
    }
    r.items = items.take();
    return r;
  }
  const Context c = context(lx);
  const auto& st = c.stmt;
  // `event.` / `line.`
  if (st.size() >= 2 && st.back().text == "." && st[st.size() - 2].kind == Tk::Word) {
    const auto obj = st[st.size() - 2].text;
    if (obj == "event") {
      const auto ev = event_here(c);
      if (!ev.empty()) items.event_fields(ev);
    } else if (obj == "line") {
      for (const auto& e : stdlib::line_estimates())
        items.add(std::string(e.name), CompletionKind::Attribute, "LINE estimate", std::string(e.doc));
    }
    r.items = items.take();
    return r;
  }
  if (const auto open = open_bracket(st); open != std::string_view::npos) {
    if (st[open].text == "(") {
      in_call(c, st, open, items);
    } else {
      in_set(st, open, items);
    }
  } else {
    complete_statement(c, items);
  }
  r.items = items.take();
  return r;
}

}  // namespace okuri::lsp
