// The abstract syntax tree. Expressions and statements are std::variant nodes
// with a numeric id each (NodeId); the checker keeps types and resolved
// references in side tables keyed by id (see types.hpp). Spans are byte
// offsets into the project's SourceSet. Error nodes stand where recovery
// skipped text.
//
// Nodes are values: copying a declaration copies its whole tree (children sit
// behind a Box, which copies what it owns), so a new field needs no copying
// code anywhere. What visits every span and node id is compiler/ast_walk.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "compiler/literals.hpp"
#include "compiler/source.hpp"

namespace okuri::ast {

using NodeId = std::uint32_t;

// An owning pointer to one child node that copies what it owns. The pointer
// (rather than the node in place) is what lets a variant node hold nodes of
// its own type; the copy is what makes the tree a value.
template <typename T>
class Box {
 public:
  Box() = default;
  Box(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): a null child reads as nullptr
  explicit Box(T* p) : p_(p) {}
  Box(std::unique_ptr<T> p) : p_(std::move(p)) {}  // NOLINT(google-explicit-constructor)
  Box(const Box& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;
  ~Box() = default;

  T* get() const { return p_.get(); }
  T& operator*() const { return *p_; }
  T* operator->() const { return p_.get(); }
  explicit operator bool() const { return p_ != nullptr; }
  friend bool operator==(const Box& b, std::nullptr_t) { return b.p_ == nullptr; }
  friend bool operator!=(const Box& b, std::nullptr_t) { return b.p_ != nullptr; }

 private:
  std::unique_ptr<T> p_;
};

struct Name {
  std::string text;
  Span span;
};

// ------------------------------------------------------------------ expressions

struct Expr;
using ExprPtr = Box<Expr>;

enum class BinOp { Or, And, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, In, NotIn };
const char* to_string(BinOp op);

struct IntLit {
  std::int64_t value = 0;
};
struct BoolLit {
  bool value = false;
};
struct TextLit {
  std::string value;  // unescaped
};
struct DurationLit {
  std::int64_t seconds = 0;
};
struct TimeLit {
  MinuteOfDay minute = 0;
  bool valid = true;
};
struct DateLit {
  CivilDate date;
  bool valid = true;
};
struct DateTimeLit {
  CivilDateTime value;
  bool valid = true;
};
struct PercentLit {
  std::int64_t value = 0;
};
struct NameRef {
  std::string name;
};
// `line.age`, `event.text`
struct Member {
  Name object;
  Name field;
};
struct Call {
  Name callee;
  std::vector<ExprPtr> args;
  std::optional<std::int64_t> within;  // `within 7d`, in seconds
  Span within_span;
};
struct Not {
  ExprPtr operand;
};
struct Neg {
  ExprPtr operand;
};
struct Binary {
  BinOp op;
  ExprPtr lhs;
  ExprPtr rhs;
  Span op_span;
};
struct SetLit {
  std::vector<ExprPtr> items;
};
struct RangeLit {
  ExprPtr lo;
  ExprPtr hi;
};
struct Paren {
  ExprPtr inner;
};
struct ErrorExpr {};

struct Expr {
  NodeId id = 0;
  Span span;
  std::variant<IntLit, BoolLit, TextLit, DurationLit, TimeLit, DateLit, DateTimeLit, PercentLit, NameRef, Member, Call,
               Not, Neg, Binary, SetLit, RangeLit, Paren, ErrorExpr>
      v;
};

// ------------------------------------------------------------------ events

// `friend_added from "instagram"`, `link_clicked(trial_lp)`, `web_visited("/price")`, `reserved`
struct EventPattern {
  Name name;
  std::optional<Name> arg;              // a named argument (link, message, form, tag, field)
  std::optional<std::string> arg_text;  // a text argument (`web_visited("…")`)
  Span arg_span;
  std::optional<std::string> from;  // `from "route"`
  Span from_span;
  Span span;
};

// ------------------------------------------------------------------ statements

struct Stmt;
using StmtPtr = Box<Stmt>;

struct Block {
  Span span;
  std::vector<StmtPtr> stmts;
};

struct SendStmt {
  std::vector<Name> messages;
};
struct ReplyStmt {
  std::vector<Name> messages;
};
struct TagStmt {
  std::vector<Name> tags;
  bool remove = false;  // `untag`
};
enum class ScoreOp { Add, Sub, Assign };
struct ScoreStmt {
  std::optional<Name> score;  // `score(engagement)`; none = the main score
  ScoreOp op = ScoreOp::Add;
  ExprPtr value;
};
// `set field = value`; `add a, b to field` and `remove a from field` (a set_of field:
// `value` is then the set literal of the items, as `set field = [a, b]` would write it).
enum class SetOp { Assign, Add, Remove };
struct SetStmt {
  Name field;
  ExprPtr value;
  SetOp op = SetOp::Assign;
};
struct ClearStmt {
  Name field;
};
struct StartStmt {
  Name scenario;
};
struct StopStmt {
  std::optional<Name> scenario;  // none = leave this scenario
};
struct MenuStmt {
  std::string richmenu;
  Span richmenu_span;
};
struct NotifyStmt {
  std::string text;
  Span text_span;
};
struct PassStmt {};
struct GotoStmt {
  Name step;
};
struct RepeatStmt {
  Block body;
};
struct StepStmt {
  Name name;
  Block body;
};
struct GoalStmt {
  ExprPtr cond;
  std::optional<std::int64_t> within;
  Span within_span;
};
struct IfArm {
  ExprPtr cond;
  Block body;
};
struct IfStmt {
  std::vector<IfArm> arms;  // `if` and each `else if`
  std::optional<Block> else_body;
};
struct SplitArm {
  std::int64_t percent = 0;
  Span percent_span;
  Name name;
  Block body;  // a single statement after `=>` becomes a one-statement block
  Span span;
};
struct SplitStmt {
  std::vector<SplitArm> arms;
};
enum class WaitKind { Relative, DayAt, Until, For };
enum class CaseKind { On, When, Timeout };
struct WaitCase {
  CaseKind kind = CaseKind::Timeout;
  std::optional<EventPattern> event;  // On
  ExprPtr cond;                       // On (optional `when`) and When
  Block body;
  Span span;
};
struct WaitStmt {
  WaitKind kind = WaitKind::Relative;
  std::int64_t seconds = 0;  // Relative, DayAt (whole days), For (the limit)
  Span duration_span;
  std::optional<MinuteOfDay> at;  // DayAt; Until `at HH:MM`
  Span at_span;
  bool at_valid = true;
  ExprPtr until;                // Until
  std::vector<WaitCase> cases;  // For
};
struct ThrottleStmt {
  std::int64_t count = 0;
  Name unit;  // s, min, h
};
struct ErrorStmt {};

struct Stmt {
  NodeId id = 0;
  Span span;
  std::variant<SendStmt, ReplyStmt, TagStmt, ScoreStmt, SetStmt, ClearStmt, StartStmt, StopStmt, MenuStmt, NotifyStmt,
               PassStmt, GotoStmt, RepeatStmt, StepStmt, GoalStmt, IfStmt, SplitStmt, WaitStmt, ThrottleStmt, ErrorStmt>
      v;
};

// ------------------------------------------------------------------ declarations

struct TypeSpec {
  enum Kind { Named, OneOf, SetOf } kind = Named;
  Name name;                 // Named: int, bool, text, date, datetime, duration, time
  std::vector<Name> values;  // OneOf / SetOf
  Span span;
};

struct AccountDecl {
  std::optional<std::string> timezone;
  Span timezone_span;
  std::optional<MinuteOfDay> quiet_from;
  std::optional<MinuteOfDay> quiet_to;
  Span quiet_span;
  Span quiet_from_span;
  Span quiet_to_span;
  bool quiet_valid = true;
  std::optional<std::int64_t> daily_limit;
  Span daily_limit_span;
  std::optional<Name> plan;
  std::vector<std::pair<std::string, Span>> staff;  // `staff "U…", …`: LINE user ids for notifications
};
struct FieldDecl {
  Name name;
  TypeSpec type;
  ExprPtr default_value;
};
enum class ListKind { Tag, Score, Audience, Form };
struct ListDecl {
  ListKind kind;
  std::vector<Name> names;
};
struct LinkDecl {
  Name name;
  std::string url;
  Span url_span;
};
enum class MessageKind { Text, Json, Sticker };
struct MessageDecl {
  Name name;
  MessageKind kind = MessageKind::Text;
  std::string value;  // the text, or the json path
  Span value_span;
  std::int64_t package_id = 0;
  std::int64_t sticker_id = 0;
};
struct EventFieldDecl {
  Name name;
  TypeSpec type;
};
struct EventDecl {
  Name name;
  std::vector<EventFieldDecl> fields;
};
struct SegmentDecl {
  Name name;
  ExprPtr expr;
};
struct RuleDecl {
  EventPattern event;
  ExprPtr when;
  Block body;
};
enum class RestartPolicy { Never, Always, After };
enum class UpdatePolicy { Continue, Restart, Exit };
struct StartOn {
  EventPattern event;
  ExprPtr when;
  Span span;
};
struct ScenarioDecl {
  Name name;
  std::vector<StartOn> start_on;
  std::vector<ExprPtr> start_when;
  RestartPolicy restart = RestartPolicy::Never;
  std::int64_t restart_after = 0;
  Span restart_span;
  std::vector<ExprPtr> stop_when;
  std::optional<Name> on_update;
  Block body;  // the statements, in order (headers are not in it)
};
struct BroadcastDecl {
  Name name;
  CivilDateTime at;
  Span at_span;
  bool at_valid = true;
  ExprPtr target;  // none = every friend
  Block body;
};
struct TestAttr {
  Name name;
  ExprPtr value;
};
struct TestFriend {
  Name id;
  std::vector<TestAttr> attrs;
};
struct TestEvent {
  CivilDateTime at;
  Span at_span;
  bool at_valid = true;
  EventPattern event;
  std::vector<TestAttr> payload;
  Name friend_id;
};
struct ExpectSend {
  bool reply = false;
  bool negated = false;  // `expect no send`
  bool any_of = false;   // `send a or b`: one delivery with any of them (else: with all of them)
  std::vector<Name> messages;
  Name friend_id;
  std::optional<CivilDateTime> at;
  Span at_span;
  bool at_valid = true;
};
// `at MOMENT` alone, or `after DURATION`: the test's clock moves on and timers fire.
struct TestClock {
  std::optional<CivilDateTime> at;
  Span at_span;
  bool at_valid = true;
  std::int64_t after = 0;  // seconds (when `at` is not given)
  Span after_span;
};
struct ExpectValue {
  ExprPtr value;
  Name friend_id;
  std::optional<BinOp> op;
  Span op_span;
  ExprPtr rhs;
};
struct TestItem {
  NodeId id = 0;
  Span span;
  std::variant<TestFriend, TestEvent, TestClock, ExpectSend, ExpectValue, ErrorStmt> v;
};
struct TestDecl {
  std::string name;
  Span name_span;
  std::vector<TestItem> items;
};
struct ErrorDecl {};

struct Decl {
  NodeId id = 0;
  Span span;
  std::variant<AccountDecl, FieldDecl, ListDecl, LinkDecl, MessageDecl, EventDecl, SegmentDecl, RuleDecl, ScenarioDecl,
               BroadcastDecl, TestDecl, ErrorDecl>
      v;
};

// The expression inside any number of parentheses.
const Expr& strip_parens(const Expr& e);

struct File {
  std::uint32_t source = 0;  // index into the SourceSet
  std::vector<Decl> decls;
};

struct Project {
  std::vector<File> files;
  NodeId node_count = 0;  // ids are 1 … node_count
};

// A vector of nodes grows by moving them, never by copying their trees.
static_assert(std::is_nothrow_move_constructible_v<Expr> && std::is_nothrow_move_constructible_v<Stmt> &&
                  std::is_nothrow_move_constructible_v<Decl> && std::is_nothrow_move_constructible_v<TestItem>,
              "an AST node whose move may throw would be copied, tree and all, when its vector grows");
static_assert(std::is_copy_constructible_v<Decl>, "declarations are values");

}  // namespace okuri::ast
