// A canonical text form of the AST without spans or ids: two files mean the
// same program exactly when their dumps are equal (used to prove that
// `okuri fmt` keeps the meaning, and by `okuri diff` to compare steps).
#include "compiler/ast_dump.hpp"

#include <fmt/format.h>

namespace okuri {
namespace {

using namespace ast;

class Dumper {
 public:
  std::string out;

  void name(const Name& n) { out += n.text; }
  void names(const std::vector<Name>& v) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ',';
      name(v[i]);
    }
    out += ']';
  }

  void expr(const Expr* e) {
    if (e == nullptr) {
      out += "_";
      return;
    }
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, IntLit>) {
            out += fmt::format("{}", v.value);
          } else if constexpr (std::is_same_v<T, BoolLit>) {
            out += v.value ? "true" : "false";
          } else if constexpr (std::is_same_v<T, TextLit>) {
            out += fmt::format("\"{}\"", v.value);
          } else if constexpr (std::is_same_v<T, DurationLit>) {
            out += fmt::format("{}s", v.seconds);
          } else if constexpr (std::is_same_v<T, TimeLit>) {
            out += fmt::format("time({})", v.minute);
          } else if constexpr (std::is_same_v<T, DateLit>) {
            out += "date(" + format_date(v.date) + ")";
          } else if constexpr (std::is_same_v<T, DateTimeLit>) {
            out += "datetime(" + format_date(v.value.date) + " " + format_time(v.value.minute) + ")";
          } else if constexpr (std::is_same_v<T, PercentLit>) {
            out += fmt::format("{}%", v.value);
          } else if constexpr (std::is_same_v<T, NameRef>) {
            out += v.name;
          } else if constexpr (std::is_same_v<T, Member>) {
            out += v.object.text + "." + v.field.text;
          } else if constexpr (std::is_same_v<T, Call>) {
            out += v.callee.text + "(";
            for (std::size_t i = 0; i < v.args.size(); ++i) {
              if (i) out += ',';
              expr(v.args[i].get());
            }
            if (v.within) out += fmt::format(",within {}s", *v.within);
            out += ')';
          } else if constexpr (std::is_same_v<T, Not>) {
            out += "(not ";
            expr(v.operand.get());
            out += ')';
          } else if constexpr (std::is_same_v<T, Neg>) {
            out += "(- ";
            expr(v.operand.get());
            out += ')';
          } else if constexpr (std::is_same_v<T, Binary>) {
            out += fmt::format("({} ", to_string(v.op));
            expr(v.lhs.get());
            out += ' ';
            expr(v.rhs.get());
            out += ')';
          } else if constexpr (std::is_same_v<T, SetLit>) {
            out += '[';
            for (std::size_t i = 0; i < v.items.size(); ++i) {
              if (i) out += ',';
              expr(v.items[i].get());
            }
            out += ']';
          } else if constexpr (std::is_same_v<T, RangeLit>) {
            expr(v.lo.get());
            out += "..";
            expr(v.hi.get());
          } else if constexpr (std::is_same_v<T, Paren>) {
            out += "(paren ";
            expr(v.inner.get());
            out += ')';
          } else {
            out += "<error>";
          }
        },
        e->v);
  }

  void event(const EventPattern& e) {
    out += "event(" + e.name.text;
    if (e.arg) out += " arg=" + e.arg->text;
    if (e.arg_text) out += " text=\"" + *e.arg_text + "\"";
    if (e.from) out += " from=\"" + *e.from + "\"";
    out += ')';
  }

  void block(const Block& b) {
    out += '{';
    for (const auto& s : b.stmts) {
      stmt(*s);
      out += ';';
    }
    out += '}';
  }

  void stmt(const Stmt& s) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, SendStmt>) {
            out += "send";
            names(v.messages);
          } else if constexpr (std::is_same_v<T, ReplyStmt>) {
            out += "reply";
            names(v.messages);
          } else if constexpr (std::is_same_v<T, TagStmt>) {
            out += v.remove ? "untag" : "tag";
            names(v.tags);
          } else if constexpr (std::is_same_v<T, ScoreStmt>) {
            out += "score(" + (v.score ? v.score->text : std::string()) + ")";
            out += v.op == ScoreOp::Add ? "+=" : v.op == ScoreOp::Sub ? "-=" : "=";
            expr(v.value.get());
          } else if constexpr (std::is_same_v<T, SetStmt>) {
            out += (v.op == SetOp::Add ? "add " : v.op == SetOp::Remove ? "remove " : "set ") + v.field.text + "=";
            expr(v.value.get());
          } else if constexpr (std::is_same_v<T, ClearStmt>) {
            out += "clear " + v.field.text;
          } else if constexpr (std::is_same_v<T, StartStmt>) {
            out += "start " + v.scenario.text;
          } else if constexpr (std::is_same_v<T, StopStmt>) {
            out += "stop " + (v.scenario ? v.scenario->text : std::string());
          } else if constexpr (std::is_same_v<T, MenuStmt>) {
            out += "menu \"" + v.richmenu + "\"";
          } else if constexpr (std::is_same_v<T, NotifyStmt>) {
            out += "notify \"" + v.text + "\"";
          } else if constexpr (std::is_same_v<T, PassStmt>) {
            out += "pass";
          } else if constexpr (std::is_same_v<T, GotoStmt>) {
            out += "goto " + v.step.text;
          } else if constexpr (std::is_same_v<T, RepeatStmt>) {
            out += "repeat";
            block(v.body);
          } else if constexpr (std::is_same_v<T, StepStmt>) {
            out += "step " + v.name.text;
            block(v.body);
          } else if constexpr (std::is_same_v<T, GoalStmt>) {
            out += "goal ";
            expr(v.cond.get());
            if (v.within) out += fmt::format(" within {}s", *v.within);
          } else if constexpr (std::is_same_v<T, IfStmt>) {
            out += "if";
            for (const auto& a : v.arms) {
              out += '(';
              expr(a.cond.get());
              out += ')';
              block(a.body);
            }
            if (v.else_body) {
              out += "else";
              block(*v.else_body);
            }
          } else if constexpr (std::is_same_v<T, SplitStmt>) {
            out += "split{";
            for (const auto& a : v.arms) {
              out += fmt::format("{}% {}=>", a.percent, a.name.text);
              block(a.body);
            }
            out += '}';
          } else if constexpr (std::is_same_v<T, WaitStmt>) {
            out += fmt::format("wait({} {}s", static_cast<int>(v.kind), v.seconds);
            if (v.at) out += fmt::format(" at {}", *v.at);
            if (v.until) {
              out += " until ";
              expr(v.until.get());
            }
            for (const auto& c : v.cases) {
              out += fmt::format(" case{}", static_cast<int>(c.kind));
              if (c.event) event(*c.event);
              if (c.cond) expr(c.cond.get());
              block(c.body);
            }
            out += ')';
          } else if constexpr (std::is_same_v<T, ThrottleStmt>) {
            out += fmt::format("throttle {}/{}", v.count, v.unit.text);
          } else {
            out += "<error>";
          }
        },
        s.v);
  }

  void type(const TypeSpec& t) {
    if (t.kind == TypeSpec::Named) {
      out += t.name.text;
      return;
    }
    out += t.kind == TypeSpec::OneOf ? "one_of" : "set_of";
    names(t.values);
  }

  void attrs(const std::vector<TestAttr>& v) {
    out += '{';
    for (const auto& a : v) {
      out += a.name.text + ":";
      expr(a.value.get());
      out += ',';
    }
    out += '}';
  }

  void decl(const Decl& d) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, AccountDecl>) {
            out += "account(";
            if (v.timezone) out += "tz=" + *v.timezone;
            if (v.quiet_from && v.quiet_to) out += fmt::format(" quiet={}-{}", *v.quiet_from, *v.quiet_to);
            if (v.daily_limit) out += fmt::format(" daily={}", *v.daily_limit);
            if (v.plan) out += " plan=" + v.plan->text;
            out += ')';
          } else if constexpr (std::is_same_v<T, FieldDecl>) {
            out += "field " + v.name.text + ":";
            type(v.type);
            if (v.default_value) {
              out += '=';
              expr(v.default_value.get());
            }
          } else if constexpr (std::is_same_v<T, ListDecl>) {
            out += fmt::format("list{}", static_cast<int>(v.kind));
            names(v.names);
          } else if constexpr (std::is_same_v<T, LinkDecl>) {
            out += "link " + v.name.text + " \"" + v.url + "\"";
          } else if constexpr (std::is_same_v<T, MessageDecl>) {
            out += fmt::format("message {} {} \"{}\" {} {}", v.name.text, static_cast<int>(v.kind), v.value, v.package_id,
                               v.sticker_id);
          } else if constexpr (std::is_same_v<T, EventDecl>) {
            out += "event " + v.name.text + "{";
            for (const auto& f : v.fields) {
              out += f.name.text + ":";
              type(f.type);
              out += ',';
            }
            out += '}';
          } else if constexpr (std::is_same_v<T, SegmentDecl>) {
            out += "segment " + v.name.text + "=";
            expr(v.expr.get());
          } else if constexpr (std::is_same_v<T, RuleDecl>) {
            out += "on ";
            event(v.event);
            out += " when ";
            expr(v.when.get());
            block(v.body);
          } else if constexpr (std::is_same_v<T, ScenarioDecl>) {
            out += "scenario " + v.name.text + "(";
            for (const auto& s : v.start_on) {
              out += "start_on ";
              event(s.event);
              expr(s.when.get());
            }
            for (const auto& e : v.start_when) {
              out += " start_when ";
              expr(e.get());
            }
            out += fmt::format(" restart={} {}", static_cast<int>(v.restart), v.restart_after);
            for (const auto& e : v.stop_when) {
              out += " stop_when ";
              expr(e.get());
            }
            if (v.on_update) out += " on_update=" + v.on_update->text;
            out += ')';
            block(v.body);
          } else if constexpr (std::is_same_v<T, BroadcastDecl>) {
            out += "broadcast " + v.name.text + " at " + format_date(v.at.date) + " " + format_time(v.at.minute) + " to ";
            expr(v.target.get());
            block(v.body);
          } else if constexpr (std::is_same_v<T, TestDecl>) {
            out += "test \"" + v.name + "\"{";
            for (const auto& item : v.items) {
              std::visit(
                  [&](const auto& t) {
                    using I = std::decay_t<decltype(t)>;
                    if constexpr (std::is_same_v<I, TestFriend>) {
                      out += "friend " + t.id.text;
                      attrs(t.attrs);
                    } else if constexpr (std::is_same_v<I, TestEvent>) {
                      out += "at " + format_date(t.at.date) + " " + format_time(t.at.minute) + " ";
                      event(t.event);
                      attrs(t.payload);
                      out += " by " + t.friend_id.text;
                    } else if constexpr (std::is_same_v<I, TestClock>) {
                      if (t.at) {
                        out += "at " + format_date(t.at->date) + " " + format_time(t.at->minute);
                      } else {
                        out += "after " + format_duration(t.after);
                      }
                    } else if constexpr (std::is_same_v<I, ExpectSend>) {
                      out += fmt::format("expect {}{}{} ", t.negated ? "no " : "", t.reply ? "reply" : "send",
                                         t.any_of ? " one of" : "");
                      names(t.messages);
                      out += " to " + t.friend_id.text;
                      if (t.at) out += " at " + format_date(t.at->date) + " " + format_time(t.at->minute);
                    } else if constexpr (std::is_same_v<I, ExpectValue>) {
                      out += "expect ";
                      expr(t.value.get());
                      out += " of " + t.friend_id.text;
                      if (t.op) {
                        out += std::string(" ") + to_string(*t.op) + " ";
                        expr(t.rhs.get());
                      }
                    } else {
                      out += "<error>";
                    }
                  },
                  item.v);
              out += ';';
            }
            out += '}';
          } else {
            out += "<error>";
          }
        },
        d.v);
    out += '\n';
  }
};

}  // namespace

std::string dump_ast(const ast::File& f) {
  Dumper d;
  for (const auto& decl : f.decls) d.decl(decl);
  return d.out;
}

std::string dump_stmt(const ast::Stmt& s) {
  Dumper d;
  d.stmt(s);
  return d.out;
}

}  // namespace okuri
