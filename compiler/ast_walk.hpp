// Visits every span, every node id and every node of a declaration: the one
// place that knows where the AST keeps them. The incremental compiler moves a
// reused declaration with it (spans by a byte delta, ids by an offset) and
// finds the nodes of a copied one by id.
//
// `Hooks` supplies what it wants of:
//   void span(Span&);              every span, names' and patterns' included
//   void id(NodeId&);              every node id (Decl, Stmt, Expr, TestItem)
//   void expr(Expr&); void stmt(Stmt&);   each node, before its children
// (all four; hooks passed as const need them as const member functions).
#pragma once

#include <type_traits>
#include <variant>

#include "compiler/ast.hpp"

namespace okuri::ast {

static_assert(std::variant_size_v<decltype(Expr::v)> == 18, "a new expression kind: visit its spans in ast_walk.hpp");
static_assert(std::variant_size_v<decltype(Stmt::v)> == 20, "a new statement kind: visit its spans in ast_walk.hpp");
static_assert(std::variant_size_v<decltype(Decl::v)> == 12, "a new declaration kind: visit its spans in ast_walk.hpp");
static_assert(std::variant_size_v<decltype(TestItem::v)> == 6, "a new test item kind: visit its spans in ast_walk.hpp");

template <typename Hooks>
class AstWalk {
 public:
  explicit AstWalk(Hooks& h) : h_(h) {}
  AstWalk(const AstWalk&) = delete;
  AstWalk& operator=(const AstWalk&) = delete;

  void decl(Decl& x) {
    h_.id(x.id);
    h_.span(x.span);
    std::visit([&](auto& v) { dv(v); }, x.v);
  }

 private:
  Hooks& h_;

  void s(Span& x) { h_.span(x); }
  void n(Name& x) { h_.span(x.span); }
  void n(std::optional<Name>& x) {
    if (x) h_.span(x->span);
  }
  void n(std::vector<Name>& v) {
    for (auto& x : v) h_.span(x.span);
  }

  // ---- expressions
  void e(ExprPtr& x) {
    if (!x) return;
    h_.expr(*x);
    h_.id(x->id);
    h_.span(x->span);
    std::visit([&](auto& v) { ev(v); }, x->v);
  }
  void e(std::vector<ExprPtr>& v) {
    for (auto& x : v) e(x);
  }
  template <typename T>
  void ev(T&) {}  // literals and plain names: no spans, no children
  void ev(Member& v) {
    n(v.object);
    n(v.field);
  }
  void ev(Call& v) {
    n(v.callee);
    e(v.args);
    s(v.within_span);
  }
  void ev(Not& v) { e(v.operand); }
  void ev(Neg& v) { e(v.operand); }
  void ev(Binary& v) {
    e(v.lhs);
    e(v.rhs);
    s(v.op_span);
  }
  void ev(SetLit& v) { e(v.items); }
  void ev(RangeLit& v) {
    e(v.lo);
    e(v.hi);
  }
  void ev(Paren& v) { e(v.inner); }

  void event(EventPattern& x) {
    n(x.name);
    n(x.arg);
    s(x.arg_span);
    s(x.from_span);
    s(x.span);
  }

  // ---- statements
  void block(Block& b) {
    s(b.span);
    for (auto& st : b.stmts) {
      if (!st) continue;
      h_.stmt(*st);
      h_.id(st->id);
      h_.span(st->span);
      std::visit([&](auto& v) { sv(v); }, st->v);
    }
  }
  void sv(SendStmt& v) { n(v.messages); }
  void sv(ReplyStmt& v) { n(v.messages); }
  void sv(TagStmt& v) { n(v.tags); }
  void sv(ScoreStmt& v) {
    n(v.score);
    e(v.value);
  }
  void sv(SetStmt& v) {
    n(v.field);
    e(v.value);
  }
  void sv(ClearStmt& v) { n(v.field); }
  void sv(StartStmt& v) { n(v.scenario); }
  void sv(StopStmt& v) { n(v.scenario); }
  void sv(MenuStmt& v) { s(v.richmenu_span); }
  void sv(NotifyStmt& v) { s(v.text_span); }
  void sv(PassStmt&) {}
  void sv(GotoStmt& v) { n(v.step); }
  void sv(RepeatStmt& v) { block(v.body); }
  void sv(StepStmt& v) {
    n(v.name);
    block(v.body);
  }
  void sv(GoalStmt& v) {
    e(v.cond);
    s(v.within_span);
  }
  void sv(IfStmt& v) {
    for (auto& a : v.arms) {
      e(a.cond);
      block(a.body);
    }
    if (v.else_body) block(*v.else_body);
  }
  void sv(SplitStmt& v) {
    for (auto& a : v.arms) {
      s(a.percent_span);
      n(a.name);
      block(a.body);
      s(a.span);
    }
  }
  void sv(WaitStmt& v) {
    s(v.duration_span);
    s(v.at_span);
    e(v.until);
    for (auto& c : v.cases) {
      if (c.event) event(*c.event);
      e(c.cond);
      block(c.body);
      s(c.span);
    }
  }
  void sv(ThrottleStmt& v) { n(v.unit); }
  void sv(ErrorStmt&) {}

  // ---- declarations
  void type(TypeSpec& t) {
    n(t.name);
    n(t.values);
    s(t.span);
  }
  void attrs(std::vector<TestAttr>& v) {
    for (auto& a : v) {
      n(a.name);
      e(a.value);
    }
  }
  void dv(AccountDecl& v) {
    s(v.timezone_span);
    s(v.quiet_span);
    s(v.quiet_from_span);
    s(v.quiet_to_span);
    s(v.daily_limit_span);
    for (auto& st : v.staff) s(st.second);
    n(v.plan);
  }
  void dv(FieldDecl& v) {
    n(v.name);
    type(v.type);
    e(v.default_value);
  }
  void dv(ListDecl& v) { n(v.names); }
  void dv(LinkDecl& v) {
    n(v.name);
    s(v.url_span);
  }
  void dv(MessageDecl& v) {
    n(v.name);
    s(v.value_span);
  }
  void dv(EventDecl& v) {
    n(v.name);
    for (auto& f : v.fields) {
      n(f.name);
      type(f.type);
    }
  }
  void dv(SegmentDecl& v) {
    n(v.name);
    e(v.expr);
  }
  void dv(RuleDecl& v) {
    event(v.event);
    e(v.when);
    block(v.body);
  }
  void dv(ScenarioDecl& v) {
    n(v.name);
    for (auto& so : v.start_on) {
      event(so.event);
      e(so.when);
      s(so.span);
    }
    e(v.start_when);
    s(v.restart_span);
    e(v.stop_when);
    n(v.on_update);
    block(v.body);
  }
  void dv(BroadcastDecl& v) {
    n(v.name);
    s(v.at_span);
    e(v.target);
    block(v.body);
  }
  void dv(TestDecl& v) {
    s(v.name_span);
    for (auto& it : v.items) {
      h_.id(it.id);
      h_.span(it.span);
      std::visit([&](auto& x) { tv(x); }, it.v);
    }
  }
  void tv(TestFriend& v) {
    n(v.id);
    attrs(v.attrs);
  }
  void tv(TestEvent& v) {
    s(v.at_span);
    event(v.event);
    attrs(v.payload);
    n(v.friend_id);
  }
  void tv(TestClock& v) {
    s(v.at_span);
    s(v.after_span);
  }
  void tv(ExpectSend& v) {
    n(v.messages);
    n(v.friend_id);
    s(v.at_span);
  }
  void tv(ExpectValue& v) {
    e(v.value);
    n(v.friend_id);
    s(v.op_span);
    e(v.rhs);
  }
  void tv(ErrorStmt&) {}
  void dv(ErrorDecl&) {}
};

// Walks one declaration with `hooks` (const hooks need const member functions).
template <typename Hooks>
void walk(Decl& d, Hooks&& hooks) {
  AstWalk<std::remove_reference_t<Hooks>>(hooks).decl(d);
}

}  // namespace okuri::ast
