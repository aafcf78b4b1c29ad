// Statements: names, reply tokens (E010), LINE limits (E009), splits (E005),
// waits, and fixed-time sends in quiet hours (W103). Flow over the step graph
// (W101, E006, W106) is in graph_checks.cpp.
#include <fmt/format.h>

#include "compiler/checker.hpp"
#include "compiler/suggest.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::detail {

void Checker::block(const ast::Block& b, const StmtCtx& ctx) {
  for (const auto& s : b.stmts) stmt(*s, ctx);
}

void Checker::check_send_count(const std::vector<ast::Name>& msgs, Span at, const char* verb) {
  std::int64_t total = 0;
  for (const auto& m : msgs) {
    if (auto i = lookup(SymbolKind::Message, m.text)) total += p_.symbols[*i].message_count;
  }
  if (total > stdlib::kMaxMessagesPerSend) {
    p_.diags.report(Code::E009, at,
                    fmt::format("a {} may carry at most {} messages, this one has {}", verb, stdlib::kMaxMessagesPerSend,
                                total));
  }
}

void Checker::stmt(const ast::Stmt& s, const StmtCtx& ctx) {
  ExprCtx ectx;
  ectx.event = ctx.event;
  if (ctx.in_rule) {
    const char* flow = std::visit(
        [](const auto& v) -> const char* {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::WaitStmt>) return "wait";
          if constexpr (std::is_same_v<T, ast::RepeatStmt>) return "repeat";
          if constexpr (std::is_same_v<T, ast::GoalStmt>) return "goal";
          if constexpr (std::is_same_v<T, ast::StepStmt>) return "step";
          if constexpr (std::is_same_v<T, ast::GotoStmt>) return "goto";
          if constexpr (std::is_same_v<T, ast::SplitStmt>) return nullptr;
          return nullptr;
        },
        s.v);
    if (flow != nullptr) {
      auto& d = p_.diags.report(Code::E003, s.span,
                                fmt::format("`{}` only works inside a scenario or broadcast; a rule runs at once", flow));
      d.notes.push_back(Note{std::nullopt, "start a scenario from the rule instead: `start NAME`"});
      return;
    }
  }
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ast::SendStmt>) {
          for (const auto& m : v.messages) resolve(SymbolKind::Message, m);
          check_send_count(v.messages, s.span, "send");
        } else if constexpr (std::is_same_v<T, ast::ReplyStmt>) {
          for (const auto& m : v.messages) resolve(SymbolKind::Message, m);
          check_send_count(v.messages, s.span, "reply");
          if (!ctx.reply_ok) {
            auto& d = p_.diags.report(
                Code::E010, s.span,
                "reply needs a reply token; only rules on friend_added, message_received or postback have one");
            d.notes.push_back(Note{std::nullopt, "use `send` to push the message instead (pushes count against the monthly quota)"});
          }
        } else if constexpr (std::is_same_v<T, ast::TagStmt>) {
          for (const auto& t : v.tags) resolve(SymbolKind::Tag, t);
        } else if constexpr (std::is_same_v<T, ast::ScoreStmt>) {
          if (v.score) resolve(SymbolKind::Score, *v.score);
          if (v.value) {
            const Type t = expr(*v.value, ectx);
            if (!t.is_error() && t.kind != TypeKind::Int) {
              p_.diags.report(Code::E003, v.value->span,
                              fmt::format("type mismatch: a score is int but `{}` is {}", show(*v.value), p_.types.describe(t)));
            }
          }
        } else if constexpr (std::is_same_v<T, ast::SetStmt> || std::is_same_v<T, ast::ClearStmt>) {
          Type ft;
          bool ok = false;
          if (const auto* a = stdlib::find_attribute(v.field.text)) {
            switch (a->id) {
              case stdlib::AttrKind::Gender:
                ft = Type::enumeration(TypeTable::kGender);
                ok = true;
                break;
              case stdlib::AttrKind::Region:
                ft = Type::enumeration(TypeTable::kRegion);
                ok = true;
                break;
              case stdlib::AttrKind::Age:
                ft = Type::of(TypeKind::Int);
                ok = true;
                break;
              default:
                p_.diags.report(Code::E003, v.field.span,
                                fmt::format("`{}` is kept by LINE and Okuri and cannot be set", v.field.text));
                break;
            }
          } else if (auto f = resolve(SymbolKind::Field, v.field)) {
            ft = p_.symbols[*f].type;
            ok = true;
          }
          if constexpr (std::is_same_v<T, ast::SetStmt>) {
            if (v.op != ast::SetOp::Assign && (!ok || ft.kind != TypeKind::Set)) {
              // `add` and `remove` change the items of a set_of field.
              const char* verb = v.op == ast::SetOp::Add ? "add … to" : "remove … from";
              if (ok && !ft.is_error()) {
                p_.diags.report(
                    Code::E003, v.field.span,
                    fmt::format("type mismatch: `{}` needs a set_of field, but `{}` is {}; use `set {} = …`", verb,
                                v.field.text, p_.types.describe(ft), v.field.text));
              }
              return;
            }
            if (v.value) {
              Type t;
              if (ft.kind == TypeKind::Set) {
                if (const auto* set = std::get_if<ast::SetLit>(&v.value->v)) {
                  for (const auto& item : set->items) expr(*item, ectx, Type::enumeration(ft.enum_id));
                  t = ft;
                } else {
                  t = expr(*v.value, ectx, ft);
                }
              } else {
                t = expr(*v.value, ectx, ft);
              }
              if (ok && !t.is_error() && !ft.is_error() && !(t == ft)) {
                p_.diags.report(Code::E003, v.value->span,
                                fmt::format("type mismatch: `{}` is {} but `{}` is {}", v.field.text, p_.types.describe(ft),
                                            show(*v.value), p_.types.describe(t)));
              }
            }
          }
        } else if constexpr (std::is_same_v<T, ast::StartStmt>) {
          if (resolve(SymbolKind::Scenario, v.scenario)) {
            started_scenarios_.insert(v.scenario.text);
            if (ic_ != nullptr) started_log_.push_back(v.scenario.text);
          }
        } else if constexpr (std::is_same_v<T, ast::StopStmt>) {
          if (v.scenario) {
            resolve(SymbolKind::Scenario, *v.scenario);
          } else if (ctx.scenario == nullptr && ctx.broadcast == nullptr) {
            p_.diags.report(Code::E003, s.span, "`stop` alone leaves a scenario; in a rule, name the scenario: `stop NAME`");
          }
        } else if constexpr (std::is_same_v<T, ast::MenuStmt>) {
          if (v.richmenu.empty()) p_.diags.report(Code::E007, v.richmenu_span, "rich menu id is empty");
        } else if constexpr (std::is_same_v<T, ast::NotifyStmt>) {
          if (v.text.empty()) p_.diags.report(Code::E007, v.text_span, "notification text is empty");
          check_text(v.text_span, "notification", ctx.event);
        } else if constexpr (std::is_same_v<T, ast::GotoStmt>) {
          if (ctx.scenario == nullptr) {
            p_.diags.report(Code::E003, s.span, "`goto` only works inside a scenario");
          } else {
            resolve(SymbolKind::Step, v.step, ctx.scenario->name.text);
          }
        } else if constexpr (std::is_same_v<T, ast::RepeatStmt>) {
          block(v.body, ctx);
        } else if constexpr (std::is_same_v<T, ast::StepStmt>) {
          if (ctx.scenario == nullptr) {
            p_.diags.report(Code::E003, s.span, "a named `step` only works inside a scenario");
          }
          block(v.body, ctx);
        } else if constexpr (std::is_same_v<T, ast::GoalStmt>) {
          condition(v.cond.get(), ectx);
        } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
          for (const auto& a : v.arms) {
            condition(a.cond.get(), ectx);
            block(a.body, ctx);
          }
          if (v.else_body) block(*v.else_body, ctx);
        } else if constexpr (std::is_same_v<T, ast::SplitStmt>) {
          std::int64_t sum = 0;
          std::map<std::string, Span> seen;
          for (const auto& a : v.arms) {
            sum += a.percent;
            if (a.percent <= 0) p_.diags.report(Code::E005, a.percent_span, "a split arm needs more than 0%");
            auto [it, fresh] = seen.emplace(a.name.text, a.name.span);
            if (!fresh) {
              auto& d = p_.diags.report(Code::E004, a.name.span, fmt::format("duplicate definition of split arm `{}`", a.name.text));
              d.notes.push_back(Note{it->second, "first defined here"});
            }
            block(a.body, ctx);
          }
          if (!v.arms.empty() && sum != 100) {
            p_.diags.report(Code::E005, s.span, fmt::format("split percentages add up to {}%, not 100%", sum));
          }
        } else if constexpr (std::is_same_v<T, ast::WaitStmt>) {
          if (v.kind == ast::WaitKind::DayAt && v.seconds % 86400 != 0) {
            p_.diags.report(Code::E007, v.duration_span,
                            "`wait N at HH:MM` counts whole calendar days: write it in days, such as `wait 1d at 20:00`");
          }
          if ((v.kind == ast::WaitKind::Relative || v.kind == ast::WaitKind::For) && v.seconds <= 0) {
            p_.diags.report(Code::E007, v.duration_span, "a wait needs a duration longer than zero");
          }
          if (v.kind == ast::WaitKind::Until && v.until) {
            const Type t = expr(*v.until, ectx);
            if (!t.is_error() && t.kind != TypeKind::Time && t.kind != TypeKind::Date && t.kind != TypeKind::DateTime) {
              p_.diags.report(Code::E003, v.until->span,
                              fmt::format("type mismatch: `wait until` needs a time of day, a date or a datetime, but `{}` is {}",
                                          show(*v.until), p_.types.describe(t)));
            } else if (t.kind == TypeKind::Time && v.at) {
              p_.diags.report(Code::E003, v.at_span, "`wait until HH:MM` already names a time; drop the `at`");
            }
          }
          bool seen_timeout = false;
          for (const auto& c : v.cases) {
            StmtCtx cctx = ctx;
            if (c.kind == ast::CaseKind::On && c.event) {
              check_event_pattern(*c.event);
              const EventInfo* ev = event_info(*c.event);
              cctx.event = ev;
              cctx.reply_ok = ev != nullptr && ev->has_reply_token && ev->name != "friend_added";
              ExprCtx cectx;
              cectx.event = ev;
              if (c.cond) condition(c.cond.get(), cectx);
            } else if (c.kind == ast::CaseKind::When) {
              condition(c.cond.get(), ectx);
            } else if (c.kind == ast::CaseKind::Timeout) {
              if (seen_timeout) p_.diags.report(Code::E004, c.span, "duplicate definition of the `timeout` case");
              seen_timeout = true;
            }
            block(c.body, cctx);
          }
        } else if constexpr (std::is_same_v<T, ast::ThrottleStmt>) {
          if (ctx.broadcast == nullptr) {
            p_.diags.report(Code::E003, s.span, "`throttle` only applies to a broadcast");
          }
          if (v.unit.text != "s" && v.unit.text != "min" && v.unit.text != "h") {
            auto best = suggest(v.unit.text, {"s", "min", "h"});
            auto& d = p_.diags.report(Code::E008, v.unit.span,
                                      fmt::format("`{}` is not a rate unit (s, min or h){}", v.unit.text,
                                                  best ? fmt::format("; did you mean `{}`?", *best) : std::string()));
            if (best) d.fix = FixIt{v.unit.span, *best};
          }
          if (v.count <= 0) p_.diags.report(Code::E007, s.span, "throttle needs a rate above zero");
        }
      },
      s.v);
}

// W103: a send that follows a wait to a fixed local time inside quiet hours.
// A broadcast narrowed by LINE's estimates goes out as a narrowcast: LINE picks the friends and
// never says who they were, so nothing can be done per friend there — only sends (E014).
void Checker::only_sends_in_narrowcast(const ast::Block& body) {
  for (const auto& st : body.stmts) {
    const char* what = std::visit(
        [](const auto& v) -> const char* {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::SendStmt> || std::is_same_v<T, ast::PassStmt> ||
                        std::is_same_v<T, ast::ErrorStmt>) {
            return nullptr;
          } else if constexpr (std::is_same_v<T, ast::ReplyStmt>) {
            return "reply";
          } else if constexpr (std::is_same_v<T, ast::TagStmt>) {
            return v.remove ? "untag" : "tag";
          } else if constexpr (std::is_same_v<T, ast::ScoreStmt>) {
            return "score";
          } else if constexpr (std::is_same_v<T, ast::SetStmt>) {
            return v.op == ast::SetOp::Assign ? "set" : v.op == ast::SetOp::Add ? "add" : "remove";
          } else if constexpr (std::is_same_v<T, ast::ClearStmt>) {
            return "clear";
          } else if constexpr (std::is_same_v<T, ast::StartStmt>) {
            return "start";
          } else if constexpr (std::is_same_v<T, ast::StopStmt>) {
            return "stop";
          } else if constexpr (std::is_same_v<T, ast::MenuStmt>) {
            return "menu";
          } else if constexpr (std::is_same_v<T, ast::NotifyStmt>) {
            return "notify";
          } else if constexpr (std::is_same_v<T, ast::GotoStmt>) {
            return "goto";
          } else if constexpr (std::is_same_v<T, ast::RepeatStmt>) {
            return "repeat";
          } else if constexpr (std::is_same_v<T, ast::StepStmt>) {
            return "step";
          } else if constexpr (std::is_same_v<T, ast::GoalStmt>) {
            return "goal";
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            return "if";
          } else if constexpr (std::is_same_v<T, ast::SplitStmt>) {
            return "split";
          } else if constexpr (std::is_same_v<T, ast::WaitStmt>) {
            return "wait";
          } else {
            return "throttle";
          }
        },
        st->v);
    if (what == nullptr) continue;
    auto& d = p_.diags.report(
        Code::E014, st->span,
        fmt::format("a broadcast narrowed by LINE's estimates (`line.*`) can only `send`: LINE "
                    "chooses who receives it and does not say who did, so `{}` cannot be done per friend",
                    what));
    d.notes.push_back(
        Note{std::nullopt, "target your own data instead (tags, fields, scores), where every friend's part is known"});
  }
}

void Checker::check_fixed_time_sends(const ast::Block& b, std::optional<MinuteOfDay> fixed) {
  for (const auto& s : b.stmts) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ast::SendStmt>) {
            if (fixed && p_.account.in_quiet_hours(*fixed)) {
              p_.diags.report(Code::W103, s->span,
                              fmt::format("send at {} falls inside quiet hours {}-{}; it will be delivered at {}",
                                          format_time(*fixed), format_time(*p_.account.quiet_from),
                                          format_time(*p_.account.quiet_to), format_time(*p_.account.quiet_to)));
            }
          } else if constexpr (std::is_same_v<T, ast::WaitStmt>) {
            fixed.reset();
            if (v.kind == ast::WaitKind::DayAt && v.at) fixed = v.at;
            if (v.kind == ast::WaitKind::Until) {
              if (v.at) {
                fixed = v.at;
              } else if (v.until) {
                if (const auto* t = std::get_if<ast::TimeLit>(&v.until->v); t != nullptr && t->valid) fixed = t->minute;
                if (const auto* t = std::get_if<ast::DateTimeLit>(&v.until->v); t != nullptr && t->valid) {
                  fixed = t->value.minute;
                }
              }
            }
            for (const auto& c : v.cases) check_fixed_time_sends(c.body, std::nullopt);
          } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
            for (const auto& a : v.arms) check_fixed_time_sends(a.body, fixed);
            if (v.else_body) check_fixed_time_sends(*v.else_body, fixed);
          } else if constexpr (std::is_same_v<T, ast::SplitStmt>) {
            for (const auto& a : v.arms) check_fixed_time_sends(a.body, fixed);
          } else if constexpr (std::is_same_v<T, ast::StepStmt>) {
            check_fixed_time_sends(v.body, fixed);
            fixed.reset();
          } else if constexpr (std::is_same_v<T, ast::RepeatStmt>) {
            check_fixed_time_sends(v.body, std::nullopt);
          }
        },
        s->v);
  }
}

}  // namespace okuri::detail
