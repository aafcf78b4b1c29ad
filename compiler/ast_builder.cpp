// Builds the AST from the grammar's syntax tree. Syntax errors become E001;
// literals that have the right shape but no meaning (`25:00`, `2026-02-30`)
// become E007.
#include "compiler/ast_builder.hpp"

#include <charconv>

#include <fmt/format.h>

#include "compiler/syntax_hints.hpp"

namespace okuri {
namespace {

using grammar::Syn;
using namespace ast;

class Builder {
 public:
  Builder(const grammar::SyntaxTree& t, const SourceFile& f, std::uint32_t file, NodeId& next, Diagnostics& d)
      : t_(t), f_(f), file_(file), next_(next), diags_(d) {}

  File build() {
    File out;
    out.source = file_;
    for (const auto& e : t_.errors) diags_.all().push_back(syntax_diagnostic(f_, file_, e));
    for (auto c : kids(t_.root())) out.decls.push_back(decl(c));
    return out;
  }

 private:
  const grammar::SyntaxTree& t_;
  const SourceFile& f_;
  std::uint32_t file_;
  NodeId& next_;
  Diagnostics& diags_;

  std::vector<std::uint32_t> kids(std::uint32_t i) const { return t_.children(i); }
  Syn kind(std::uint32_t i) const { return t_.nodes[i].kind; }
  Span span(std::uint32_t i) const { return Span{file_, t_.nodes[i].begin, t_.nodes[i].end}; }
  std::string_view text(std::uint32_t i) const {
    return std::string_view(f_.text).substr(t_.nodes[i].begin, t_.nodes[i].end - t_.nodes[i].begin);
  }
  NodeId id() { return ++next_; }

  // The first Ident among the children (or the node itself).
  Name name(std::uint32_t i) {
    if (kind(i) == Syn::Ident) return Name{std::string(text(i)), span(i)};
    for (auto c : kids(i)) {
      if (kind(c) == Syn::Ident) return Name{std::string(text(c)), span(c)};
    }
    return Name{"", span(i)};
  }

  std::string str(std::uint32_t i) {
    auto v = unescape_text(text(i));
    if (!v) {
      diags_.report(Code::E007, span(i), "invalid escape in text: only \\\", \\\\ and \\n are allowed");
      return std::string(text(i).substr(1, text(i).size() >= 2 ? text(i).size() - 2 : 0));
    }
    return *v;
  }

  std::int64_t integer(std::uint32_t i) {
    std::int64_t v = 0;
    auto s = text(i);
    if (!s.empty() && s.back() == '%') s.remove_suffix(1);
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc()) {
      diags_.report(Code::E007, span(i), fmt::format("number `{}` is too large (the limit is 2^63-1)", s));
    }
    return v;
  }

  std::int64_t duration(std::uint32_t i) {
    auto v = parse_duration(text(i));
    if (!v) {
      diags_.report(Code::E007, span(i), fmt::format("invalid duration `{}`", text(i)));
      return 0;
    }
    return *v;
  }

  std::optional<MinuteOfDay> time_of_day(std::uint32_t i) {
    auto v = parse_time_of_day(text(i));
    if (!v) diags_.report(Code::E007, span(i), fmt::format("invalid time of day `{}`: use 00:00 to 23:59", text(i)));
    return v;
  }

  // A DateLit or DateTimeLit node as a moment (a date alone means 00:00).
  std::optional<CivilDateTime> moment(std::uint32_t i) {
    if (kind(i) == Syn::DateLit) {
      auto d = parse_date(text(i));
      if (!d) {
        diags_.report(Code::E007, span(i), fmt::format("invalid date `{}`", text(i)));
        return std::nullopt;
      }
      return CivilDateTime{*d, 0};
    }
    auto dt = parse_datetime(text(i));
    if (!dt) diags_.report(Code::E007, span(i), fmt::format("invalid date and time `{}`", text(i)));
    return dt;
  }

  // ---------------------------------------------------------------- expressions

  bool is_expr(Syn k) const {
    switch (k) {
      case Syn::OrExpr:
      case Syn::AndExpr:
      case Syn::NotExpr:
      case Syn::CmpExpr:
      case Syn::AddExpr:
      case Syn::NegExpr:
      case Syn::ParenExpr:
      case Syn::NameRef:
      case Syn::Member:
      case Syn::Call:
      case Syn::SetLit:
      case Syn::RangeLit:
      case Syn::StringLit:
      case Syn::IntLit:
      case Syn::DurationLit:
      case Syn::TimeLit:
      case Syn::DateLit:
      case Syn::DateTimeLit:
      case Syn::PercentLit:
      case Syn::BoolLit:
        return true;
      default:
        return false;
    }
  }

  ExprPtr make(Span s, decltype(Expr::v) v) {
    auto e = std::make_unique<Expr>();
    e->id = id();
    e->span = s;
    e->v = std::move(v);
    return e;
  }

  // Operands of one `and`, `or`, `+`/`-` chain. A chain becomes nested binary nodes, and every
  // walk over them recurses: 25,000 clauses would overflow the stack of the checker, the
  // language server and a reloading service. Longer chains are an error (parentheses are
  // bounded by the grammar), so no tree is deeper than 64 × this.
  static constexpr std::size_t kMaxChain = 256;

  // How many of a chain's children to keep: `stride` children per operand (1 for `and`/`or`,
  // 2 for `+`/`-` with their operators).
  std::size_t chain_length(const std::vector<std::uint32_t>& ch, std::size_t stride) {
    const std::size_t operands = (ch.size() + stride - 1) / stride;
    if (operands <= kMaxChain) return ch.size();
    const std::size_t keep = (kMaxChain - 1) * stride + 1;
    diags_.report(
        Code::E001, span(ch[keep]),
        fmt::format("this chain has {} operands; at most {} are allowed: split it into segments", operands, kMaxChain));
    return keep;
  }

  ExprPtr binary_chain(const std::vector<std::uint32_t>& all, BinOp fixed) {
    std::vector<std::uint32_t> ch = all;
    ch.resize(chain_length(all, 1));
    ExprPtr acc = expr(ch[0]);
    for (std::size_t k = 1; k < ch.size(); ++k) {
      auto rhs = expr(ch[k]);
      const Span s{file_, acc->span.begin, rhs->span.end};
      const Span op{file_, acc->span.end, rhs->span.begin};
      acc = make(s, Binary{fixed, std::move(acc), std::move(rhs), op});
    }
    return acc;
  }

  static BinOp cmp_op(std::string_view op) {
    if (op == "==") return BinOp::Eq;
    if (op == "!=") return BinOp::Ne;
    if (op == "<=") return BinOp::Le;
    if (op == ">=") return BinOp::Ge;
    if (op == "<") return BinOp::Lt;
    return BinOp::Gt;
  }

  ExprPtr expr(std::uint32_t i) {
    const Span s = span(i);
    switch (kind(i)) {
      case Syn::OrExpr:
        return binary_chain(kids(i), BinOp::Or);
      case Syn::AndExpr:
        return binary_chain(kids(i), BinOp::And);
      case Syn::NotExpr:
        return make(s, Not{expr(kids(i).at(0))});
      case Syn::NegExpr:
        return make(s, Neg{expr(kids(i).at(0))});
      case Syn::ParenExpr:
        return make(s, Paren{expr(kids(i).at(0))});
      case Syn::CmpExpr: {
        auto ch = kids(i);
        BinOp op = BinOp::Eq;
        if (kind(ch[1]) == Syn::CmpOp) op = cmp_op(text(ch[1]));
        if (kind(ch[1]) == Syn::InOp) op = BinOp::In;
        if (kind(ch[1]) == Syn::NotInOp) op = BinOp::NotIn;
        return make(s, Binary{op, expr(ch[0]), expr(ch[2]), span(ch[1])});
      }
      case Syn::AddExpr: {
        auto ch = kids(i);
        ch.resize(chain_length(ch, 2));  // operands and the operators between them
        ExprPtr acc = expr(ch[0]);
        for (std::size_t k = 1; k + 1 < ch.size(); k += 2) {
          const BinOp op = text(ch[k]) == "+" ? BinOp::Add : BinOp::Sub;
          auto rhs = expr(ch[k + 1]);
          Span bs{file_, acc->span.begin, rhs->span.end};
          acc = make(bs, Binary{op, std::move(acc), std::move(rhs), span(ch[k])});
        }
        return acc;
      }
      case Syn::RangeLit: {
        auto ch = kids(i);
        return make(s, RangeLit{expr(ch.at(0)), expr(ch.at(1))});
      }
      case Syn::SetLit: {
        SetLit set;
        for (auto c : kids(i)) set.items.push_back(expr(c));
        return make(s, std::move(set));
      }
      case Syn::NameRef:
        return make(s, NameRef{std::string(text(i))});
      case Syn::Member: {
        auto ch = kids(i);
        return make(s, Member{name(ch.at(0)), name(ch.at(1))});
      }
      case Syn::Call: {
        auto ch = kids(i);
        Call call;
        call.callee = name(ch.at(0));
        for (std::size_t k = 1; k < ch.size(); ++k) {
          if (kind(ch[k]) == Syn::WithinArg) {
            auto w = kids(ch[k]);
            call.within = duration(w.at(0));
            call.within_span = span(ch[k]);
          } else {
            call.args.push_back(expr(ch[k]));
          }
        }
        return make(s, std::move(call));
      }
      case Syn::StringLit:
        return make(s, TextLit{str(i)});
      case Syn::IntLit:
        return make(s, IntLit{integer(i)});
      case Syn::PercentLit:
        return make(s, PercentLit{integer(i)});
      case Syn::BoolLit:
        return make(s, BoolLit{text(i) == "true"});
      case Syn::DurationLit:
        return make(s, DurationLit{duration(i)});
      case Syn::TimeLit: {
        auto m = time_of_day(i);
        return make(s, TimeLit{m.value_or(0), m.has_value()});
      }
      case Syn::DateLit: {
        auto m = moment(i);
        return make(s, DateLit{m ? m->date : CivilDate{}, m.has_value()});
      }
      case Syn::DateTimeLit: {
        auto m = moment(i);
        return make(s, DateTimeLit{m.value_or(CivilDateTime{}), m.has_value()});
      }
      default:
        return make(s, ErrorExpr{});
    }
  }

  // The first child that is an expression, if any.
  ExprPtr first_expr(const std::vector<std::uint32_t>& ch, std::size_t from = 0) {
    for (std::size_t k = from; k < ch.size(); ++k) {
      if (is_expr(kind(ch[k]))) return expr(ch[k]);
    }
    return nullptr;
  }

  // ---------------------------------------------------------------- events

  EventPattern event(std::uint32_t i) {
    EventPattern ev;
    ev.span = span(i);
    auto ch = kids(i);
    ev.name = name(ch.at(0));
    for (std::size_t k = 1; k < ch.size(); ++k) {
      switch (kind(ch[k])) {
        case Syn::Ident:
          ev.arg = name(ch[k]);
          ev.arg_span = span(ch[k]);
          break;
        case Syn::StringLit:
          ev.arg_text = str(ch[k]);
          ev.arg_span = span(ch[k]);
          break;
        case Syn::EventFrom: {
          auto f = kids(ch[k]);
          ev.from = str(f.at(0));
          ev.from_span = span(f.at(0));
          break;
        }
        default:
          break;
      }
    }
    return ev;
  }

  // ---------------------------------------------------------------- statements

  Block block(std::uint32_t i) {
    Block b;
    b.span = span(i);
    for (auto c : kids(i)) b.stmts.push_back(stmt(c));
    return b;
  }

  // After `=>`: a block, or one statement that becomes a one-statement block.
  Block arm_body(std::uint32_t i) {
    if (kind(i) == Syn::Block) return block(i);
    Block b;
    b.span = span(i);
    b.stmts.push_back(stmt(i));
    return b;
  }

  std::vector<Name> names(std::uint32_t i) {
    std::vector<Name> out;
    for (auto c : kids(i)) {
      if (kind(c) == Syn::Ident) out.push_back(name(c));
    }
    return out;
  }

  StmtPtr make_stmt(Span s, decltype(Stmt::v) v) {
    auto st = std::make_unique<Stmt>();
    st->id = id();
    st->span = s;
    st->v = std::move(v);
    return st;
  }

  StmtPtr stmt(std::uint32_t i) {
    const Span s = span(i);
    auto ch = kids(i);
    switch (kind(i)) {
      case Syn::SendStmt:
        return make_stmt(s, SendStmt{names(i)});
      case Syn::ReplyStmt:
        return make_stmt(s, ReplyStmt{names(i)});
      case Syn::TagStmt:
        return make_stmt(s, TagStmt{names(i), false});
      case Syn::UntagStmt:
        return make_stmt(s, TagStmt{names(i), true});
      case Syn::ScoreStmt: {
        ScoreStmt sc;
        for (auto c : ch) {
          if (kind(c) == Syn::ScoreTarget) sc.score = name(c);
          if (kind(c) == Syn::AssignOp) {
            const auto op = text(c);
            sc.op = op == "+=" ? ScoreOp::Add : op == "-=" ? ScoreOp::Sub : ScoreOp::Assign;
          }
        }
        sc.value = first_expr(ch);
        return make_stmt(s, std::move(sc));
      }
      case Syn::SetStmt:
        return make_stmt(s, SetStmt{name(ch.at(0)), first_expr(ch, 1)});
      case Syn::AddStmt:
      case Syn::RemoveStmt: {
        // The items become the set literal `[a, b]` they stand for; the field is the last name.
        std::vector<std::uint32_t> items;
        for (auto c : ch) {
          if (kind(c) == Syn::Ident) items.push_back(c);
        }
        SetStmt st;
        st.op = kind(i) == Syn::AddStmt ? SetOp::Add : SetOp::Remove;
        if (items.empty()) return make_stmt(s, ErrorStmt{});
        st.field = name(items.back());
        items.pop_back();
        SetLit set;
        for (auto c : items) set.items.push_back(make(span(c), NameRef{std::string(text(c))}));
        const Span set_span =
            items.empty() ? st.field.span : Span{file_, span(items.front()).begin, span(items.back()).end};
        st.value = make(set_span, std::move(set));
        return make_stmt(s, std::move(st));
      }
      case Syn::ClearStmt:
        return make_stmt(s, ClearStmt{name(ch.at(0))});
      case Syn::StartStmt:
        return make_stmt(s, StartStmt{name(ch.at(0))});
      case Syn::StopStmt: {
        StopStmt st;
        if (!ch.empty()) st.scenario = name(ch[0]);
        return make_stmt(s, std::move(st));
      }
      case Syn::MenuStmt: {
        MenuStmt m;
        m.richmenu_span = span(ch.at(0));
        m.richmenu = kind(ch[0]) == Syn::StringLit ? str(ch[0]) : std::string(text(ch[0]));
        return make_stmt(s, std::move(m));
      }
      case Syn::NotifyStmt:
        return make_stmt(s, NotifyStmt{str(ch.at(0)), span(ch.at(0))});
      case Syn::PassStmt:
        return make_stmt(s, PassStmt{});
      case Syn::GotoStmt:
        return make_stmt(s, GotoStmt{name(ch.at(0))});
      case Syn::RepeatStmt:
        return make_stmt(s, RepeatStmt{block(ch.at(0))});
      case Syn::StepStmt:
        return make_stmt(s, StepStmt{name(ch.at(0)), block(ch.at(1))});
      case Syn::GoalStmt: {
        GoalStmt g;
        g.cond = expr(ch.at(0));
        if (ch.size() > 1 && kind(ch[1]) == Syn::WithinArg) {
          g.within = duration(kids(ch[1]).at(0));
          g.within_span = span(ch[1]);
        }
        return make_stmt(s, std::move(g));
      }
      case Syn::IfStmt: {
        IfStmt st;
        std::uint32_t cur = i;
        while (true) {
          auto c = kids(cur);
          st.arms.push_back(IfArm{expr(c.at(0)), block(c.at(1))});
          if (c.size() < 3) break;
          auto target = kids(c[2]).at(0);  // ElseClause → IfStmt or Block
          if (kind(target) == Syn::IfStmt) {
            cur = target;
            continue;
          }
          st.else_body = block(target);
          break;
        }
        return make_stmt(s, std::move(st));
      }
      case Syn::SplitStmt: {
        SplitStmt sp;
        for (auto c : ch) {
          if (kind(c) != Syn::SplitArm) continue;
          auto a = kids(c);
          SplitArm arm;
          arm.span = span(c);
          arm.percent = integer(a.at(0));
          arm.percent_span = span(a.at(0));
          arm.name = name(a.at(1));
          arm.body = arm_body(a.at(2));
          sp.arms.push_back(std::move(arm));
        }
        return make_stmt(s, std::move(sp));
      }
      case Syn::Throttle:
        return make_stmt(s, ThrottleStmt{integer(ch.at(0)), name(ch.at(1))});
      case Syn::WaitStmt: {
        auto st = wait_form(ch.at(0));
        st->span = s;
        return st;
      }
      default:
        return make_stmt(s, ErrorStmt{});
    }
  }

  StmtPtr wait_form(std::uint32_t i) {
    const Span s = span(i);
    auto ch = kids(i);
    switch (kind(i)) {
      case Syn::WaitRelative: {
        WaitStmt w;
        w.kind = WaitKind::Relative;
        w.seconds = duration(i);
        w.duration_span = s;
        return make_stmt(s, std::move(w));
      }
      case Syn::WaitDayAt: {
        WaitStmt w;
        w.kind = WaitKind::DayAt;
        w.seconds = duration(ch.at(0));
        w.duration_span = span(ch[0]);
        w.at = time_of_day(ch.at(1));
        w.at_valid = w.at.has_value();
        w.at_span = span(ch[1]);
        return make_stmt(s, std::move(w));
      }
      case Syn::WaitUntil: {
        WaitStmt w;
        w.kind = WaitKind::Until;
        w.until = expr(ch.at(0));
        if (ch.size() > 1 && kind(ch[1]) == Syn::WaitAt) {
          auto t = kids(ch[1]).at(0);
          w.at = time_of_day(t);
          w.at_valid = w.at.has_value();
          w.at_span = span(t);
        }
        return make_stmt(s, std::move(w));
      }
      case Syn::WaitFor: {
        WaitStmt w;
        w.kind = WaitKind::For;
        w.seconds = duration(ch.at(0));
        w.duration_span = span(ch[0]);
        for (std::size_t k = 1; k < ch.size(); ++k) w.cases.push_back(wait_case(ch[k]));
        return make_stmt(s, std::move(w));
      }
      default:
        return make_stmt(s, ErrorStmt{});
    }
  }

  WaitCase wait_case(std::uint32_t i) {
    WaitCase c;
    c.span = span(i);
    auto ch = kids(i);
    switch (kind(i)) {
      case Syn::CaseOn:
        c.kind = CaseKind::On;
        c.event = event(ch.at(0));
        if (ch.size() > 2) c.cond = expr(ch[1]);
        c.body = arm_body(ch.back());
        break;
      case Syn::CaseWhen:
        c.kind = CaseKind::When;
        c.cond = expr(ch.at(0));
        c.body = arm_body(ch.at(1));
        break;
      case Syn::CaseTimeout:
        c.kind = CaseKind::Timeout;
        c.body = arm_body(ch.at(0));
        break;
      default:  // Error node from recovery
        c.kind = CaseKind::Timeout;
        c.body.span = span(i);
        c.body.stmts.push_back(make_stmt(span(i), ErrorStmt{}));
        break;
    }
    return c;
  }

  // ---------------------------------------------------------------- declarations

  TypeSpec type_spec(std::uint32_t i) {
    TypeSpec t;
    t.span = span(i);
    switch (kind(i)) {
      case Syn::TypeOneOf:
        t.kind = TypeSpec::OneOf;
        t.values = names(i);
        break;
      case Syn::TypeSetOf:
        t.kind = TypeSpec::SetOf;
        t.values = names(i);
        break;
      default:
        t.kind = TypeSpec::Named;
        t.name = name(i);
        break;
    }
    return t;
  }

  std::vector<TestAttr> attrs(const std::vector<std::uint32_t>& ch) {
    std::vector<TestAttr> out;
    for (auto c : ch) {
      if (kind(c) != Syn::TestAttr) continue;
      auto a = kids(c);
      out.push_back(TestAttr{name(a.at(0)), expr(a.at(1))});
    }
    return out;
  }

  TestItem test_item(std::uint32_t i) {
    TestItem item;
    item.id = id();
    item.span = span(i);
    auto ch = kids(i);
    switch (kind(i)) {
      case Syn::TestFriend:
        item.v = TestFriend{name(ch.at(0)), attrs(ch)};
        break;
      case Syn::TestEvent: {
        if (ch.size() == 1) {  // `at MOMENT` alone
          TestClock clock;
          clock.at = moment(ch[0]);
          clock.at_valid = clock.at.has_value();
          clock.at_span = span(ch[0]);
          item.v = std::move(clock);
          break;
        }
        TestEvent ev;
        auto m = moment(ch.at(0));
        ev.at = m.value_or(CivilDateTime{});
        ev.at_valid = m.has_value();
        ev.at_span = span(ch[0]);
        ev.event = event(ch.at(1));
        for (std::size_t k = 2; k < ch.size(); ++k) {
          if (kind(ch[k]) == Syn::TestPayload) ev.payload = attrs(kids(ch[k]));
          if (kind(ch[k]) == Syn::Ident) ev.friend_id = name(ch[k]);
        }
        item.v = std::move(ev);
        break;
      }
      case Syn::TestAfter: {
        TestClock clock;
        clock.after = duration(ch.at(0));
        clock.after_span = span(ch[0]);
        item.v = std::move(clock);
        break;
      }
      case Syn::ExpectSend:
      case Syn::ExpectNoSend: {
        ExpectSend ex;
        ex.negated = kind(i) == Syn::ExpectNoSend;
        std::vector<Name> idents;
        for (auto c : ch) {
          if (kind(c) == Syn::Keyword) ex.reply = text(c) == "reply";
          if (kind(c) == Syn::Ident) idents.push_back(name(c));
          if (kind(c) == Syn::OrNames) {
            ex.any_of = true;
            for (auto n : kids(c)) idents.push_back(name(n));
          }
          if (kind(c) == Syn::ExpectTime) {
            auto t = kids(c).at(0);
            ex.at = moment(t);
            ex.at_valid = ex.at.has_value();
            ex.at_span = span(t);
          }
        }
        if (!idents.empty()) {
          ex.friend_id = idents.back();
          idents.pop_back();
        }
        ex.messages = std::move(idents);
        item.v = std::move(ex);
        break;
      }
      case Syn::ExpectValue: {
        ExpectValue ex;
        ex.value = expr(ch.at(0));
        ex.friend_id = name(ch.at(1));
        if (ch.size() > 3) {
          ex.op = cmp_op(text(ch[2]));
          ex.op_span = span(ch[2]);
          ex.rhs = expr(ch[3]);
        }
        item.v = std::move(ex);
        break;
      }
      default:
        item.v = ErrorStmt{};
        break;
    }
    return item;
  }

  Decl decl(std::uint32_t i) {
    Decl d;
    d.id = id();
    d.span = span(i);
    auto ch = kids(i);
    switch (kind(i)) {
      case Syn::AccountDecl: {
        AccountDecl a;
        std::vector<std::pair<Syn, Span>> seen;
        for (auto c : ch) {
          auto k = kids(c);
          bool repeated = false;
          for (const auto& [kind_seen, where] : seen) {
            if (kind_seen != kind(c)) continue;
            const auto text_of = text(c);
            auto& d2 = diags_.report(Code::E004, span(c),
                                     fmt::format("duplicate definition of `{}` in the account settings",
                                                 text_of.substr(0, text_of.find_first_of(" \t"))));
            d2.notes.push_back(Note{where, "first defined here"});
            repeated = true;
          }
          if (repeated) continue;
          seen.emplace_back(kind(c), span(c));
          switch (kind(c)) {
            case Syn::AccountTimezone:
              a.timezone = str(k.at(0));
              a.timezone_span = span(k[0]);
              break;
            case Syn::AccountQuietHours:
              a.quiet_from = time_of_day(k.at(0));
              a.quiet_to = time_of_day(k.at(1));
              a.quiet_valid = a.quiet_from && a.quiet_to;
              a.quiet_span = span(c);
              a.quiet_from_span = span(k[0]);
              a.quiet_to_span = span(k[1]);
              break;
            case Syn::AccountDailyLimit:
              a.daily_limit = integer(k.at(0));
              a.daily_limit_span = span(k[0]);
              break;
            case Syn::AccountPlan:
              a.plan = name(k.at(0));
              break;
            case Syn::AccountStaff:
              for (auto s : k) a.staff.emplace_back(str(s), span(s));
              break;
            default:
              break;
          }
        }
        d.v = std::move(a);
        break;
      }
      case Syn::FieldDecl: {
        FieldDecl f;
        f.name = name(ch.at(0));
        f.type = type_spec(ch.at(1));
        f.default_value = first_expr(ch, 2);
        d.v = std::move(f);
        break;
      }
      case Syn::TagDecl:
        d.v = ListDecl{ListKind::Tag, names(i)};
        break;
      case Syn::ScoreDecl:
        d.v = ListDecl{ListKind::Score, names(i)};
        break;
      case Syn::AudienceDecl:
        d.v = ListDecl{ListKind::Audience, names(i)};
        break;
      case Syn::FormDecl:
        d.v = ListDecl{ListKind::Form, names(i)};
        break;
      case Syn::LinkDecl:
        d.v = LinkDecl{name(ch.at(0)), str(ch.at(1)), span(ch.at(1))};
        break;
      case Syn::MessageDecl: {
        MessageDecl m;
        m.name = name(ch.at(0));
        auto body = ch.at(1);
        auto b = kids(body);
        switch (kind(body)) {
          case Syn::MessageText:
            m.kind = MessageKind::Text;
            m.value = str(b.at(0));
            m.value_span = span(b[0]);
            break;
          case Syn::MessageJson:
            m.kind = MessageKind::Json;
            m.value = str(b.at(0));
            m.value_span = span(b[0]);
            break;
          default:
            m.kind = MessageKind::Sticker;
            m.package_id = integer(b.at(0));
            m.sticker_id = integer(b.at(1));
            m.value_span = Span{file_, t_.nodes[b[0]].begin, t_.nodes[b[1]].end};
            break;
        }
        d.v = std::move(m);
        break;
      }
      case Syn::EventDecl: {
        EventDecl e;
        e.name = name(ch.at(0));
        for (std::size_t k = 1; k < ch.size(); ++k) {
          if (kind(ch[k]) != Syn::EventField) continue;
          auto f = kids(ch[k]);
          e.fields.push_back(EventFieldDecl{name(f.at(0)), type_spec(f.at(1))});
        }
        d.v = std::move(e);
        break;
      }
      case Syn::SegmentDecl:
        d.v = SegmentDecl{name(ch.at(0)), expr(ch.at(1))};
        break;
      case Syn::RuleDecl: {
        RuleDecl r;
        r.event = event(ch.at(0));
        if (ch.size() > 2) r.when = expr(ch[1]);
        r.body = block(ch.back());
        d.v = std::move(r);
        break;
      }
      case Syn::ScenarioDecl: {
        ScenarioDecl sc;
        sc.name = name(ch.at(0));
        sc.body.span = d.span;
        for (std::size_t k = 1; k < ch.size(); ++k) {
          const auto c = ch[k];
          auto h = kids(c);
          switch (kind(c)) {
            case Syn::StartOn: {
              StartOn so;
              so.span = span(c);
              so.event = event(h.at(0));
              if (h.size() > 1) so.when = expr(h[1]);
              sc.start_on.push_back(std::move(so));
              break;
            }
            case Syn::StartWhen:
              sc.start_when.push_back(expr(h.at(0)));
              break;
            case Syn::RestartNever:
              sc.restart = RestartPolicy::Never;
              sc.restart_span = span(c);
              break;
            case Syn::RestartAlways:
              sc.restart = RestartPolicy::Always;
              sc.restart_span = span(c);
              break;
            case Syn::RestartAfter:
              sc.restart = RestartPolicy::After;
              sc.restart_after = duration(h.at(0));
              sc.restart_span = span(c);
              break;
            case Syn::StopWhen:
              sc.stop_when.push_back(expr(h.at(0)));
              break;
            case Syn::OnUpdate:
              sc.on_update = name(h.at(0));
              break;
            default:
              sc.body.stmts.push_back(stmt(c));
              break;
          }
        }
        d.v = std::move(sc);
        break;
      }
      case Syn::BroadcastDecl: {
        BroadcastDecl b;
        b.name = name(ch.at(0));
        auto m = moment(ch.at(1));
        b.at = m.value_or(CivilDateTime{});
        b.at_valid = m.has_value();
        b.at_span = span(ch[1]);
        if (ch.size() > 3) b.target = expr(ch[2]);
        b.body = block(ch.back());
        d.v = std::move(b);
        break;
      }
      case Syn::TestDecl: {
        TestDecl t;
        t.name = str(ch.at(0));
        t.name_span = span(ch[0]);
        for (std::size_t k = 1; k < ch.size(); ++k) t.items.push_back(test_item(ch[k]));
        d.v = std::move(t);
        break;
      }
      default:
        d.v = ErrorDecl{};
        break;
    }
    return d;
  }
};

}  // namespace

ast::File build_ast(const grammar::SyntaxTree& tree, const SourceFile& file, std::uint32_t file_index,
                    ast::NodeId& next_id, Diagnostics& diags) {
  return Builder(tree, file, file_index, next_id, diags).build();
}

}  // namespace okuri
