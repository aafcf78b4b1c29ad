// The checker: resolves names, infers and checks types, validates literals and
// sets, and runs the E/W checks of the language. Internal to the compiler; the
// public entry point is check_program().
#pragma once

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/program.hpp"
#include "stdlib/builtins.hpp"

namespace okuri {

// Checks `p.ast` and fills the symbols, side tables and diagnostics of `p`.
void check_program(Program& p);

// Incremental checking, for the language server's re-check.
//
// The checker runs in two passes: the first declares every name (with its
// type, a message's LINE message count, custom events, the account
// settings); the second checks each top-level declaration's body against
// what the first declared. A body's check reads nothing of other bodies,
// except the segments it uses (checked once, at first use, to find cycles):
// so when the first pass declares exactly what it declared last time, the
// check of an unchanged declaration gives what it gave last time, and can be
// replayed from its record instead of run. A segment's own check is recorded
// as the segment's, whichever declaration used it first.
struct DeclCheck {
  std::vector<Diagnostic> diags;
  std::vector<Reference> refs;            // in span order
  std::vector<std::uint32_t> plain_uses;  // symbols used without a reference (`{link}` in a message text)
  std::vector<std::string> started;       // scenarios a `start` names
  // Everything it reported and referred to lies inside its declaration (a
  // note can point at another one: such a record is not replayed).
  bool self_contained = true;
};

// What the first pass declared, as far as the second pass can read it.
struct CheckInterface {
  struct Sym {
    SymbolKind kind;
    std::string name;
    std::string scope;
    Type type;
    std::int64_t message_count;
    bool operator==(const Sym&) const = default;
  };
  std::vector<Sym> symbols;
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, Type>>>> events;
  std::vector<std::pair<std::string, std::vector<std::string>>> enums;  // user enumerations
  AccountSettings account;
  bool operator==(const CheckInterface& o) const = default;
};

struct IncrementalCheck {
  // In, by top-level declaration in file order: the record to replay, or
  // nullptr to check the declaration. The caller has put the replayed
  // declarations' expression types and symbols into p.expr_types and
  // p.expr_symbols, and moved their records' spans to where they are now.
  std::vector<DeclCheck*> records;
  std::vector<bool> replay;
  // In: the previous check's; out: this one's.
  CheckInterface interface;
  bool have_interface = false;
  bool segment_cycle = false;  // E006 for a segment defined in terms of itself
  // Out: a segment's name is declared twice (or taken): which declaration
  // owns it decides which one is checked, so nothing is replayed and the
  // records made now are not replayed later.
  bool segment_duplicates = false;
  // Out: the records of the declarations checked are rewritten; whether the
  // interface was the same (records made under the previous one still hold),
  // how many were replayed.
  bool same_interface = false;
  std::uint32_t replayed = 0;
  std::uint32_t checked = 0;
};
void check_program_incremental(Program& p, IncrementalCheck& ic);

// The built-in events, one table for the checker and the tools (hover, completion).
struct BuiltinEvent {
  std::string_view name;
  std::vector<std::string_view> fields;  // text fields, readable as `event.<field>`
  std::optional<SymbolKind> argument;    // the kind of name it takes in parentheses
  bool text_argument = false;            // web_visited("pattern")
  bool reply_token = false;              // the event carries a reply token
  std::string_view doc;                  // one sentence for people
};
const std::vector<BuiltinEvent>& builtin_events();

namespace detail {

// References in span order: the order Program::references keeps.
bool reference_order(const Reference& a, const Reference& b);

// What an `event.x` may read and whether a reply token exists.
struct EventInfo {
  std::string name;
  std::vector<std::pair<std::string, Type>> fields;
  bool builtin = true;
  bool has_reply_token = false;
};

struct ExprCtx {
  const EventInfo* event = nullptr;  // inside an `on` rule or a `wait … for` on case
  bool in_broadcast_target = false;  // `line.*` allowed
  bool in_test = false;
};

struct StmtCtx {
  const ast::ScenarioDecl* scenario = nullptr;
  const ast::BroadcastDecl* broadcast = nullptr;
  const EventInfo* event = nullptr;
  bool reply_ok = false;
  bool in_rule = false;
};

class Checker {
 public:
  explicit Checker(Program& p) : p_(p) {}
  void run();
  void run_incremental(IncrementalCheck& ic);

 private:
  Program& p_;
  // Symbols by kind, then name (steps keyed "scenario/step"); looked up without copying the name.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using NameTable = std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>>;
  std::array<NameTable, static_cast<std::size_t>(SymbolKind::Test) + 1> by_name_;
  NameTable& names_for(SymbolKind k) { return by_name_[static_cast<std::size_t>(k)]; }
  const NameTable& names_for(SymbolKind k) const { return by_name_[static_cast<std::size_t>(k)]; }
  std::vector<EventInfo> custom_events_;
  std::set<std::string> started_scenarios_;
  std::vector<std::uint8_t> segment_state_;  // by segment symbol: 0 unseen, 1 in progress, 2 done
  const ast::Decl* first_account_ = nullptr;
  bool segment_cycle_ = false;

  // Recording (incremental checks): whose check the effects belong to.
  IncrementalCheck* ic_ = nullptr;
  std::vector<std::uint32_t> owners_;  // flat declaration indices, innermost last
  struct FileDecls {
    const ast::Decl* first;
    std::size_t count;
    std::size_t flat;  // the flat index of its first declaration
  };
  std::vector<FileDecls> file_decls_;
  std::vector<const ast::Decl*> decls_;  // flat
  bool segment_duplicates_ = false;
  std::size_t diags_mark_ = 0;
  std::size_t refs_mark_ = 0;
  std::vector<std::uint32_t> plain_uses_;
  std::vector<std::string> started_log_;
  std::uint32_t flat_index(const ast::Decl* d) const;
  void flush_owner();
  void begin_owner(std::uint32_t k);
  void end_owner();
  void plain_use(std::uint32_t sym);
  void set_symbol(ast::NodeId id, std::uint32_t sym) {
    if (p_.expr_symbols.size() <= id) p_.expr_symbols.resize(id + 1, Program::kNoSymbol);
    p_.expr_symbols[id] = sym;
  }
  void collect_all();
  CheckInterface interface() const;
  bool same_interface(const CheckInterface& o) const;
  bool segment_reaches(const ast::Expr& e, std::string_view target, std::set<std::string_view>& seen) const;

  // declarations (checker.cpp)
  std::optional<std::uint32_t> declare(SymbolKind k, const ast::Name& n, const ast::Decl* d, std::string scope = {});
  void collect(const ast::Decl& d);
  void collect_steps(const ast::ScenarioDecl& sc, const ast::Block& b, const ast::Decl* d);
  void check_account(const ast::AccountDecl& a, Span decl_span);
  Type type_from_spec(const ast::TypeSpec& t, const std::string& owner);
  void check_decl(const ast::Decl& d);
  void check_message(const ast::MessageDecl& m);
  // `{name}` interpolations of a message or notify text (checker_text.cpp); `what`: "message",
  // "notification". `event`: the triggering event a notify may read as `{event.x}` (none in messages).
  void check_text(Span value_span, const char* what, const EventInfo* event = nullptr);
  void check_test(const ast::TestDecl& t);
  void check_test_attrs(const std::vector<ast::TestAttr>& attrs, const EventInfo* payload_of);
  void check_forced_arms(const ast::Expr& value);
  void report_unused();
  void check_never_started();
  bool has_syntax_errors() const;

  // names (checker.cpp)
  std::optional<std::uint32_t> resolve(SymbolKind k, const ast::Name& n, std::string_view scope = {});
  std::optional<std::uint32_t> lookup(SymbolKind k, std::string_view name, std::string_view scope = {}) const;
  void use(std::uint32_t sym, Span at);
  std::vector<std::string> names_of(SymbolKind k, std::string_view scope = {}) const;
  // The symbol of another kind that has this name, for "`welcome` is a message, not a tag".
  const Symbol* other_kind(std::string_view name, SymbolKind wanted) const;
  const EventInfo* event_info(const ast::EventPattern& e);
  void check_event_pattern(const ast::EventPattern& e);
  void unknown(Code code, SymbolKind k, const ast::Name& n, const std::vector<std::string>& candidates);

  // expressions (checker_expr.cpp)
  Type expr(const ast::Expr& e, const ExprCtx& ctx, Type hint = {});
  Type expr_impl(const ast::Expr& e, const ExprCtx& ctx, Type hint);
  Type name_ref(const ast::Expr& e, const ast::NameRef& n, const ExprCtx& ctx, Type hint);
  Type member(const ast::Expr& e, const ast::Member& m, const ExprCtx& ctx);
  Type call(const ast::Expr& e, const ast::Call& c, const ExprCtx& ctx);
  Type binary(const ast::Expr& e, const ast::Binary& b, const ExprCtx& ctx);
  void condition(const ast::Expr* e, const ExprCtx& ctx);  // must be bool; runs W102
  void check_line_estimate(const ast::Binary& b, const ast::Member& m);
  void mismatch(const ast::Expr& a, Type ta, const ast::Expr& b, Type tb);
  std::string show(const ast::Expr& e) const;
  // An enumeration value written in Japanese or in full-width letters, as the value to write.
  std::optional<std::string> value_in_english(std::uint32_t enum_id, std::string_view written) const;
  void constant_conditions(const ast::Expr& e);

  // statements and flow (checker_flow.cpp)
  void block(const ast::Block& b, const StmtCtx& ctx);
  void stmt(const ast::Stmt& s, const StmtCtx& ctx);
  void only_sends_in_narrowcast(const ast::Block& body);
  void check_send_count(const std::vector<ast::Name>& msgs, Span at, const char* verb);
  void check_fixed_time_sends(const ast::Block& b, std::optional<MinuteOfDay> fixed);
};

}  // namespace detail
}  // namespace okuri
