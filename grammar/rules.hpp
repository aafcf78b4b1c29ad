// The Okuri grammar as PEGTL rules. Included by parse.cpp (the only translation
// unit that instantiates pegtl::parse) and by the grammar unit test that runs
// analyze<>. Rule names are snake_case structs; `node<Rule>` marks the rules
// that become syntax tree nodes.
#pragma once

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/analyze_traits.hpp>
#include <tao/pegtl/contrib/icu/utf8.hpp>

#include <string>

#include "grammar/syntax_tree.hpp"

namespace okuri::grammar::rules {

namespace pegtl = tao::pegtl;
using namespace tao::pegtl;  // NOLINT: grammar files read better with PEGTL's names

// ---------------------------------------------------------------- lexical

struct comment : seq<one<'#'>, star<not_one<'\n'>>> {};
struct blank_char : one<' ', '\t', '\r'> {};
// Space inside a line (never a newline).
struct sp : star<sor<blank_char, comment>> {};
// Space that may cross lines (after operators, commas, inside brackets).
struct wsnl : star<sor<one<' ', '\t', '\r', '\n'>, comment>> {};
// Statement separators: newlines and semicolons with any space between.
struct seps : star<sor<one<' ', '\t', '\r', '\n', ';'>, comment>> {};

struct ident_first : sor<ranges<'a', 'z', 'A', 'Z'>, one<'_'>, utf8::icu::xid_start> {};
struct ident_rest : sor<ranges<'a', 'z', 'A', 'Z', '0', '9'>, one<'_'>, utf8::icu::xid_continue> {};
struct ident : seq<ident_first, star<ident_rest>> {};

template <typename S>
struct kw : seq<S, not_at<ident_rest>> {};
#define OKURI_KW(x) ::okuri::grammar::rules::kw<TAO_PEGTL_STRING(x)>

// Words that can never be names because expressions would be ambiguous.
struct kw_to : OKURI_KW("to") {};
struct kw_for : OKURI_KW("for") {};
struct kw_at : OKURI_KW("at") {};
struct kw_by : OKURI_KW("by") {};
struct kw_of : OKURI_KW("of") {};
struct kw_from : OKURI_KW("from") {};

// Words that can never be names: expression operators, and the declaration
// keywords (so that a declaration after an unfinished line is not read as a name).
struct reserved : sor<OKURI_KW("and"), OKURI_KW("or"), OKURI_KW("not"), OKURI_KW("in"), OKURI_KW("true"),
                      OKURI_KW("false"), OKURI_KW("account"), OKURI_KW("field"), OKURI_KW("link"), OKURI_KW("message"),
                      OKURI_KW("audience"), OKURI_KW("form"), OKURI_KW("segment"), OKURI_KW("scenario"),
                      OKURI_KW("broadcast"), OKURI_KW("test")> {};
struct name : seq<not_at<reserved>, ident> {};

// Punctuation with names of their own so that errors can say what was expected.
struct colon : one<':'> {};
struct equals : seq<one<'='>, not_at<one<'=', '>'>>> {};
struct arrow : string<'=', '>'> {};
struct open_paren : one<'('> {};
struct close_paren : one<')'> {};
struct close_bracket : one<']'> {};
struct slash : one<'/'> {};
struct dash : one<'-'> {};
struct comma : one<','> {};

// ---------------------------------------------------------------- literals

struct string_char : sor<seq<one<'\\'>, not_one<'\n'>>, not_one<'\n', '"'>> {};
struct string_body : until<one<'"'>, string_char> {};
struct string_lit : if_must<one<'"'>, string_body> {};

struct date_part : seq<rep<4, digit>, one<'-'>, rep_min_max<1, 2, digit>, one<'-'>,
                       rep_min_max<1, 2, digit>, not_at<ident_rest>> {};
struct time_part : seq<rep_min_max<1, 2, digit>, one<':'>, rep<2, digit>, not_at<ident_rest>> {};
struct datetime_lit : seq<date_part, plus<one<' '>>, time_part> {};
struct date_lit : date_part {};
struct time_lit : time_part {};
struct duration_lit : seq<plus<digit>, one<'s', 'm', 'h', 'd', 'w'>, not_at<ident_rest>> {};
struct percent_lit : seq<plus<digit>, one<'%'>> {};
struct int_lit : seq<plus<digit>, not_at<ident_rest>> {};
struct bool_lit : sor<OKURI_KW("true"), OKURI_KW("false")> {};
struct number_lit : sor<datetime_lit, date_lit, time_lit, duration_lit, percent_lit, int_lit> {};
struct moment_lit : sor<datetime_lit, date_lit> {};

// ---------------------------------------------------------------- nesting guard

// Counts nesting through the parse state; deeper than kMaxNesting raises.
template <typename Rule>
struct nested {
  using rule_t = nested;
  using subs_t = type_list<Rule>;
  template <apply_mode A, rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput, typename State>
  static bool match(ParseInput& in, State& st) {
    struct guard {
      unsigned& d;
      ~guard() { --d; }
    } g{++st.depth};
    if (st.depth > kMaxNesting) {
      throw pegtl::parse_error("nesting is deeper than " + std::to_string(kMaxNesting) + " levels", in);
    }
    return Control<Rule>::template match<A, M, Action, Control>(in, st);
  }
};

// `{ Content }` where a missing `}` names where the block opened. A block still
// open at a line that starts with a declaration keyword (`scenario`, `message` …
// at column 1), or at the end of the file, ends there: the error is reported
// once, at that line, the next declaration parses as one (no cascade of errors
// inside a swallowed block), and what the block holds is still checked.
template <typename Content>
struct braced {
  using rule_t = braced;
  using subs_t = type_list<one<'{'>, Content, one<'}'>>;
  template <apply_mode A, rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput, typename State>
  static bool match(ParseInput& in, State& st) {
    if (in.empty() || in.peek_char() != '{') return false;
    const auto open = static_cast<std::uint32_t>(in.current() - st.base);
    in.bump(1);
    struct guard {
      unsigned& d;
      ~guard() { --d; }
    } g{++st.depth};
    if (st.depth > kMaxNesting) {
      throw pegtl::parse_error("nesting is deeper than " + std::to_string(kMaxNesting) + " levels", in);
    }
    if (!Control<Content>::template match<A, M, Action, Control>(in, st)) return false;
    if (in.empty() || in.peek_char() != '}') {
      const auto here = static_cast<std::uint32_t>(in.current() - st.base);
      const std::uint32_t blamed = st.unclosed_opener(open, here);
      if (in.empty()) {
        st.error_at(here, "expected '}' to close the block opened at " + st.line_col(blamed), {}, blamed);
        return true;  // the block ends with the file: what it holds is still checked
      }
      if (st.at_declaration(here, false, false)) {
        st.error_at(here,
                    "expected '}' to close the block opened at " + st.line_col(blamed) + " before `" +
                        std::string(st.word_at(here)) + "`",
                    {}, blamed);
        return true;  // the block ends here; the caller sees the line start (stmt_end)
      }
      st.pending_opener = blamed;
      throw pegtl::parse_error("expected '}' to close the block opened at " + st.line_col(blamed), in);
    }
    in.bump(1);
    return true;
  }
};

// Error recovery for one statement, case, arm or declaration. Tries `Rule`;
// when it fails or raises, records the error, skips to the end of the logical
// line (balancing brackets), leaves an Error node and succeeds. Fails only at
// a closing '}' (of the enclosing block), at a declaration keyword at the start
// of a line inside a block (the block was left open: `braced` reports it), or
// at the end of the input, so that `star<recover<…>>` ends there.
template <typename Rule, typename What, bool TopLevel>
struct recover {
  using rule_t = recover;
  using subs_t = type_list<Rule>;
  template <apply_mode A, rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput, typename State>
  static bool match(ParseInput& in, State& st) {
    if (in.empty()) return false;
    if (!TopLevel && in.peek_char() == '}') return false;
    const auto start = static_cast<std::uint32_t>(in.current() - st.base);
    if (!TopLevel && st.at_declaration(start, What::statements, What::cases) && !st.closed_later(start)) return false;
    const auto saved_depth = st.depth;
    {
      auto m = in.template mark<rewind_mode::required>();
      try {
        if (Control<Rule>::template match<A, rewind_mode::required, Action, Control>(in, st)) {
          return m(true);
        }
        std::vector<std::string_view> words;
        for (const auto w : What::keywords) {
          if (!w.empty()) words.push_back(w);
        }
        st.error_at(start, std::string("expected ") + What::text + ", found " + st.token_at(start), std::move(words));
      } catch (const pegtl::parse_error& e) {
        const auto& pos = e.positions().front();
        st.error_at(static_cast<std::uint32_t>(pos.byte), std::string(e.message()), {}, st.pending_opener);
        st.pending_opener = -1;
      }
    }
    st.depth = saved_depth;
    const char* before = in.current();
    st.skip_logical_line(in, TopLevel);
    // Always make progress, or star<recover<…>> would loop.
    if (in.current() == before && !in.empty() && (TopLevel || in.peek_char() != '}')) in.bump(1);
    st.push_error_node(start, static_cast<std::uint32_t>(in.current() - st.base));
    return true;
  }
};

// What each recovering list expects, the words that start its items (for a
// did-you-mean), and which declaration keywords can also start an item there
// (`tag` and `score` are statements too; `on` starts a wait case).
struct what_decl {
  static constexpr const char* text =
      "a declaration (account, field, tag, score, link, message, audience, form, event, segment, on, scenario, "
      "broadcast or test)";
  static constexpr std::string_view keywords[] = {"account", "field",    "tag",       "score", "link",
                                                  "message", "audience", "form",      "event", "segment",
                                                  "on",      "scenario", "broadcast", "test"};
  static constexpr bool statements = false, cases = false;
};
struct what_stmt {
  static constexpr const char* text = "a statement";
  static constexpr std::string_view keywords[] = {"send",   "reply", "tag",    "untag",    "score",   "set",
                                                  "clear",  "add",   "remove", "start",    "stop",    "menu",
                                                  "notify", "pass",  "goto",   "repeat",   "step",    "goal",
                                                  "if",     "split", "wait",   "throttle", "restart", "on_update"};
  static constexpr bool statements = true, cases = false;
};
struct what_case {
  static constexpr const char* text = "a case (`on …`, `when …` or `timeout`) followed by `=>`";
  static constexpr std::string_view keywords[] = {"on", "when", "timeout"};
  static constexpr bool statements = true, cases = true;
};
struct what_arm {
  static constexpr const char* text = "a split arm such as `50% a => send m`";
  static constexpr std::string_view keywords[] = {""};
  static constexpr bool statements = true, cases = false;
};
struct what_account {
  static constexpr const char* text = "an account setting (timezone, quiet_hours, daily_limit, plan or staff)";
  static constexpr std::string_view keywords[] = {"timezone", "quiet_hours", "daily_limit", "plan", "staff"};
  static constexpr bool statements = false, cases = false;
};
struct what_test {
  static constexpr const char* text = "a test line (`friend …`, `at …`, `after …` or `expect …`)";
  static constexpr std::string_view keywords[] = {"friend", "at", "after", "expect"};
  static constexpr bool statements = false, cases = false;
};

// At the start of a line: where a block left open ends (see `braced`).
struct line_start {
  using rule_t = line_start;
  using subs_t = empty_list;
  template <apply_mode A, rewind_mode M, template <typename...> class Action, template <typename...> class Control,
            typename ParseInput, typename State>
  static bool match(ParseInput& in, State& st) {
    const auto at = in.current() - st.base;
    return at == 0 || st.base[at - 1] == '\n';
  }
};

// After a statement: the rest of the line must be empty.
struct stmt_end : seq<sp, sor<one<';'>, one<'\n'>, at<one<'}'>>, eof, line_start>> {};

// ---------------------------------------------------------------- expressions

struct expr;
struct add_expr;
struct unary;
struct not_expr;

struct paren_expr : seq<one<'('>, wsnl, must<nested<expr>>, wsnl, must<close_paren>> {};
struct set_lit : seq<one<'['>, wsnl, opt<list<seq<add_expr, wsnl>, seq<comma, wsnl>>>, must<close_bracket>> {};
struct within_arg : seq<OKURI_KW("within"), sp, must<duration_lit>> {};
struct call_arg : sor<within_arg, nested<expr>> {};
struct call : seq<ident, open_paren, wsnl, opt<list<seq<call_arg, wsnl>, seq<comma, wsnl>>>, must<close_paren>> {};
struct member : seq<ident, one<'.'>, ident> {};
struct name_ref : name {};
struct primary : sor<paren_expr, set_lit, string_lit, number_lit, bool_lit, call, member, name_ref> {};

struct neg_expr : seq<one<'-'>, sp, must<nested<unary>>> {};
struct unary : sor<neg_expr, primary> {};
struct add_op : seq<one<'+', '-'>, not_at<one<'='>>> {};
struct add_expr : seq<unary, star<seq<sp, add_op, sp, wsnl, must<unary>>>> {};
// `lo..hi`, or a single value: parsed once, so nested `in` never backtracks exponentially.
struct range_tail : seq<string<'.', '.'>, sp, must<add_expr>> {};
struct range_lit : seq<add_expr, opt<range_tail>> {};
struct in_rhs : seq<range_lit> {};
struct cmp_op : sor<string<'=', '='>, string<'!', '='>, string<'<', '='>, string<'>', '='>, one<'<'>, one<'>'>> {};
struct in_op : OKURI_KW("in") {};
struct not_in_op : seq<OKURI_KW("not"), plus<blank_char>, OKURI_KW("in")> {};
struct cmp_expr : seq<add_expr, opt<seq<sp, sor<seq<cmp_op, sp, wsnl, must<add_expr>>, seq<not_in_op, sp, wsnl, must<in_rhs>>,
                                                seq<in_op, sp, wsnl, must<in_rhs>>>>>> {};
struct not_op_expr : seq<OKURI_KW("not"), sp, must<nested<not_expr>>> {};
struct not_expr : sor<not_op_expr, cmp_expr> {};
struct and_expr : seq<not_expr, star<seq<sp, OKURI_KW("and"), sp, wsnl, must<not_expr>>>> {};
struct or_expr : seq<and_expr, star<seq<sp, OKURI_KW("or"), sp, wsnl, must<and_expr>>>> {};
struct expr : seq<or_expr> {};

// ---------------------------------------------------------------- shared pieces

struct name_list : list<seq<name, sp>, seq<comma, sp, wsnl>> {};
struct event_arg : sor<string_lit, name> {};
struct event_from : seq<OKURI_KW("from"), sp, must<string_lit>> {};
struct event_pattern : seq<name, opt<open_paren, wsnl, must<event_arg>, wsnl, must<close_paren>>, opt<seq<sp, event_from>>> {};
struct when_clause : seq<OKURI_KW("when"), sp, must<expr>> {};

struct statement;
struct block_body;
struct block : braced<block_body> {};
struct arm_body : sor<block, statement> {};

// ---------------------------------------------------------------- statements

struct send_stmt : seq<OKURI_KW("send"), sp, must<name_list>> {};
struct reply_stmt : seq<OKURI_KW("reply"), sp, must<name_list>> {};
struct tag_stmt : seq<OKURI_KW("tag"), sp, must<name_list>> {};
struct untag_stmt : seq<OKURI_KW("untag"), sp, must<name_list>> {};
struct score_target : seq<open_paren, sp, must<name>, sp, must<close_paren>> {};
struct assign_op : sor<string<'+', '='>, string<'-', '='>, equals> {};
struct score_stmt : seq<OKURI_KW("score"), opt<score_target>, sp, must<assign_op>, sp, wsnl, must<expr>> {};
struct set_stmt : seq<OKURI_KW("set"), sp, must<name>, sp, must<equals>, sp, wsnl, must<expr>> {};
struct clear_stmt : seq<OKURI_KW("clear"), sp, must<name>> {};
// `add knit, coat to interests` / `remove knit from interests`: items of a set_of field.
struct add_stmt : seq<OKURI_KW("add"), sp, must<name_list>, sp, must<kw_to>, sp, must<name>> {};
struct remove_stmt : seq<OKURI_KW("remove"), sp, must<name_list>, sp, must<kw_from>, sp, must<name>> {};
struct start_stmt : seq<OKURI_KW("start"), sp, must<name>> {};
struct stop_stmt : seq<OKURI_KW("stop"), sp, opt<name>> {};
struct menu_target : sor<string_lit, name> {};
struct menu_stmt : seq<OKURI_KW("menu"), sp, must<menu_target>> {};
struct notify_stmt : seq<OKURI_KW("notify"), sp, must<string_lit>> {};
struct pass_stmt : OKURI_KW("pass") {};
struct goto_stmt : seq<OKURI_KW("goto"), sp, must<name>> {};
struct repeat_stmt : seq<OKURI_KW("repeat"), sp, must<block>> {};
struct step_stmt : seq<OKURI_KW("step"), sp, must<name>, sp, must<block>> {};
struct goal_stmt : seq<OKURI_KW("goal"), sp, must<expr>, sp, opt<within_arg>> {};

struct if_stmt;
struct else_target : sor<if_stmt, block> {};
struct else_clause : seq<wsnl, OKURI_KW("else"), sp, must<else_target>> {};
struct if_stmt : seq<OKURI_KW("if"), sp, must<expr>, sp, must<block>, opt<else_clause>> {};

struct split_arm : seq<percent_lit, sp, must<name>, sp, must<arrow>, sp, wsnl, must<arm_body>> {};
struct split_body : seq<seps, star<recover<seq<split_arm, must<stmt_end>>, what_arm, false>, seps>> {};
struct split_stmt : seq<OKURI_KW("split"), sp, must<braced<split_body>>> {};

struct case_on : seq<OKURI_KW("on"), sp, must<event_pattern>, sp, opt<when_clause>, sp, must<arrow>, sp, wsnl, must<arm_body>> {};
struct case_when : seq<OKURI_KW("when"), sp, must<expr>, sp, must<arrow>, sp, wsnl, must<arm_body>> {};
struct case_timeout : seq<OKURI_KW("timeout"), sp, must<arrow>, sp, wsnl, must<arm_body>> {};
struct wait_case : sor<case_on, case_when, case_timeout> {};
struct cases_body : seq<seps, star<recover<seq<wait_case, must<stmt_end>>, what_case, false>, seps>> {};
struct wait_for : seq<OKURI_KW("up"), sp, must<kw_to>, sp, must<duration_lit>, sp, must<kw_for>, sp,
                      must<braced<cases_body>>> {};
struct wait_at : seq<OKURI_KW("at"), sp, must<time_lit>> {};
struct wait_until : seq<OKURI_KW("until"), sp, must<expr>, sp, opt<wait_at>> {};
struct wait_day_at : seq<duration_lit, sp, OKURI_KW("at"), sp, must<time_lit>> {};
struct wait_relative : duration_lit {};
struct wait_form : sor<wait_for, wait_until, wait_day_at, wait_relative> {};
struct wait_stmt : seq<OKURI_KW("wait"), sp, must<wait_form>> {};

struct throttle_stmt : seq<OKURI_KW("throttle"), sp, must<int_lit>, sp, must<slash>, sp, must<name>> {};

struct statement : sor<send_stmt, reply_stmt, tag_stmt, untag_stmt, score_stmt, set_stmt, clear_stmt, add_stmt,
                       remove_stmt, start_stmt, stop_stmt, menu_stmt, notify_stmt, pass_stmt, goto_stmt, repeat_stmt,
                       step_stmt, goal_stmt, if_stmt, split_stmt, wait_stmt, throttle_stmt> {};
struct block_body : seq<seps, star<recover<seq<statement, must<stmt_end>>, what_stmt, false>, seps>> {};

// ---------------------------------------------------------------- scenario headers

struct start_on : seq<OKURI_KW("start"), sp, OKURI_KW("on"), sp, must<event_pattern>, sp, opt<when_clause>> {};
struct start_when : seq<OKURI_KW("start"), sp, OKURI_KW("when"), sp, must<expr>> {};
struct restart_never : OKURI_KW("never") {};
struct restart_always : OKURI_KW("always") {};
struct restart_after : seq<OKURI_KW("after"), sp, must<duration_lit>> {};
struct restart_policy : sor<restart_never, restart_always, restart_after> {};
struct restart_stmt : seq<OKURI_KW("restart"), sp, must<restart_policy>> {};
struct stop_when : seq<OKURI_KW("stop"), sp, OKURI_KW("when"), sp, must<expr>> {};
struct on_update : seq<OKURI_KW("on_update"), sp, must<name>> {};
struct scenario_item : sor<start_on, start_when, restart_stmt, stop_when, on_update, statement> {};
struct scenario_body : seq<seps, star<recover<seq<scenario_item, must<stmt_end>>, what_stmt, false>, seps>> {};

// ---------------------------------------------------------------- declarations

struct account_timezone : seq<OKURI_KW("timezone"), sp, must<string_lit>> {};
struct account_quiet : seq<OKURI_KW("quiet_hours"), sp, must<time_lit>, sp, must<dash>, sp, must<time_lit>> {};
struct account_daily : seq<OKURI_KW("daily_limit"), sp, must<int_lit>> {};
struct account_plan : seq<OKURI_KW("plan"), sp, must<name>> {};
// `staff "U…", "U…"`: the LINE user ids `notify` reaches.
struct account_staff : seq<OKURI_KW("staff"), sp, must<string_lit>, star<sp, comma, sp, must<string_lit>>> {};
struct account_item : sor<account_timezone, account_quiet, account_daily, account_plan, account_staff> {};
struct account_body : seq<seps, star<recover<seq<account_item, must<stmt_end>>, what_account, false>, seps>> {};
struct account_decl : seq<OKURI_KW("account"), sp, must<braced<account_body>>> {};

struct name_list_nl : list<seq<name, wsnl>, seq<comma, wsnl>> {};
struct type_one_of : seq<OKURI_KW("one_of"), sp, must<open_paren>, wsnl, must<name_list_nl>, must<close_paren>> {};
struct type_set_of : seq<OKURI_KW("set_of"), sp, must<open_paren>, wsnl, must<name_list_nl>, must<close_paren>> {};
struct type_name : name {};
struct type_spec : sor<type_one_of, type_set_of, type_name> {};
struct field_default : seq<equals, sp, wsnl, must<expr>> {};
struct field_decl : seq<OKURI_KW("field"), sp, must<name>, sp, must<colon>, sp, must<type_spec>, sp, opt<field_default>> {};
struct tag_decl : seq<OKURI_KW("tag"), sp, must<name_list>> {};
struct score_decl : seq<OKURI_KW("score"), sp, must<name_list>> {};
struct link_decl : seq<OKURI_KW("link"), sp, must<name>, sp, must<string_lit>> {};
struct message_text : seq<OKURI_KW("text"), sp, must<string_lit>> {};
struct message_json : seq<OKURI_KW("json"), sp, must<string_lit>> {};
struct message_sticker : seq<OKURI_KW("sticker"), sp, must<int_lit>, sp, must<int_lit>> {};
struct message_body : sor<message_text, message_json, message_sticker> {};
struct message_decl : seq<OKURI_KW("message"), sp, must<name>, sp, must<message_body>> {};
struct audience_decl : seq<OKURI_KW("audience"), sp, must<name_list>> {};
struct form_decl : seq<OKURI_KW("form"), sp, must<name_list>> {};
struct event_field : seq<name, sp, must<colon>, sp, must<type_spec>> {};
struct event_fields : seq<wsnl, opt<list<seq<event_field, wsnl>, seq<comma, wsnl>>>> {};
struct event_decl : seq<OKURI_KW("event"), sp, must<name>, sp, opt<braced<event_fields>>> {};
struct segment_decl : seq<OKURI_KW("segment"), sp, must<name>, sp, must<equals>, sp, wsnl, must<expr>> {};
struct rule_decl : seq<OKURI_KW("on"), sp, must<event_pattern>, sp, opt<when_clause>, sp, must<block>> {};
struct scenario_decl : seq<OKURI_KW("scenario"), sp, must<name>, sp, must<braced<scenario_body>>> {};
struct broadcast_to : seq<OKURI_KW("to"), sp, must<expr>> {};
struct broadcast_decl : seq<OKURI_KW("broadcast"), sp, must<name>, sp, must<kw_at>, sp, must<moment_lit>, sp,
                            opt<broadcast_to>, sp, must<block>> {};

// Tests
struct test_attr : seq<name, sp, must<colon>, sp, must<expr>> {};
struct attr_list : seq<wsnl, opt<list<seq<test_attr, wsnl>, seq<comma, wsnl>>>> {};
struct test_friend : seq<OKURI_KW("friend"), sp, must<name>, sp, opt<braced<attr_list>>> {};
struct test_payload : braced<attr_list> {};
// `at MOMENT EVENT … by FRIEND`, or `at MOMENT` alone: the clock moves there (timers fire).
struct test_event_body : seq<event_pattern, sp, opt<test_payload>, sp, must<kw_by>, sp, must<name>> {};
struct test_event : seq<OKURI_KW("at"), sp, must<moment_lit>, sp, opt<test_event_body>> {};
// `after 3d`: the clock moves on by a duration from the line before.
struct test_after : seq<OKURI_KW("after"), sp, must<duration_lit>> {};
struct send_kind : sor<OKURI_KW("send"), OKURI_KW("reply")> {};
struct expect_time : seq<OKURI_KW("at"), sp, must<moment_lit>> {};
// `offer_a or offer_b`: one of them (an A/B split, whichever arm the friend gets).
struct or_names : seq<name, sp, plus<seq<OKURI_KW("or"), sp, must<name>, sp>>> {};
struct expect_names : sor<or_names, name_list> {};
struct expect_send : seq<send_kind, sp, must<expect_names>, sp, must<kw_to>, sp, must<name>, sp, opt<expect_time>> {};
struct expect_no_send
    : seq<OKURI_KW("no"), sp, must<send_kind>, sp, must<expect_names>, sp, must<kw_to>, sp, must<name>> {};
struct expect_value : seq<primary, sp, must<kw_of>, sp, must<name>, sp, opt<cmp_op, sp, must<add_expr>>> {};
struct expect_body : sor<expect_no_send, expect_send, expect_value> {};
struct expect_stmt : seq<OKURI_KW("expect"), sp, must<expect_body>> {};
struct test_item : sor<test_friend, test_event, test_after, expect_stmt> {};
struct test_body : seq<seps, star<recover<seq<test_item, must<stmt_end>>, what_test, false>, seps>> {};
struct test_decl : seq<OKURI_KW("test"), sp, must<string_lit>, sp, must<braced<test_body>>> {};

struct declaration : sor<account_decl, field_decl, tag_decl, score_decl, link_decl, message_decl, audience_decl,
                         form_decl, event_decl, segment_decl, rule_decl, scenario_decl, broadcast_decl, test_decl> {};
struct file : seq<seps, star<recover<seq<declaration, must<stmt_end>>, what_decl, true>, seps>, eof> {};

// ---------------------------------------------------------------- node selection

template <typename Rule>
struct node {
  static constexpr bool selected = false;
};
// Expression levels that only become nodes when they combine two or more children.
template <typename Rule>
inline constexpr bool transparent = false;

#define OKURI_NODE(rule, kind)                 \
  template <>                                  \
  struct node<rule> {                          \
    static constexpr bool selected = true;     \
    static constexpr Syn value = Syn::kind;    \
  };
#define OKURI_FOLD(rule) \
  template <>            \
  inline constexpr bool transparent<rule> = true;

OKURI_NODE(ident, Ident)
OKURI_NODE(string_lit, StringLit)
OKURI_NODE(int_lit, IntLit)
OKURI_NODE(duration_lit, DurationLit)
OKURI_NODE(time_lit, TimeLit)
OKURI_NODE(date_lit, DateLit)
OKURI_NODE(datetime_lit, DateTimeLit)
OKURI_NODE(percent_lit, PercentLit)
OKURI_NODE(bool_lit, BoolLit)
OKURI_NODE(cmp_op, CmpOp)
OKURI_NODE(in_op, InOp)
OKURI_NODE(not_in_op, NotInOp)
OKURI_NODE(add_op, AddOp)
OKURI_NODE(assign_op, AssignOp)
OKURI_NODE(send_kind, Keyword)
OKURI_NODE(or_expr, OrExpr)
OKURI_FOLD(or_expr)
OKURI_NODE(and_expr, AndExpr)
OKURI_FOLD(and_expr)
OKURI_NODE(not_op_expr, NotExpr)
OKURI_NODE(cmp_expr, CmpExpr)
OKURI_FOLD(cmp_expr)
OKURI_NODE(add_expr, AddExpr)
OKURI_FOLD(add_expr)
OKURI_NODE(neg_expr, NegExpr)
OKURI_NODE(paren_expr, ParenExpr)
OKURI_NODE(name_ref, NameRef)
OKURI_NODE(member, Member)
OKURI_NODE(call, Call)
OKURI_NODE(within_arg, WithinArg)
OKURI_NODE(set_lit, SetLit)
OKURI_NODE(range_lit, RangeLit)
OKURI_FOLD(range_lit)
OKURI_NODE(file, File)
OKURI_NODE(account_decl, AccountDecl)
OKURI_NODE(account_timezone, AccountTimezone)
OKURI_NODE(account_quiet, AccountQuietHours)
OKURI_NODE(account_daily, AccountDailyLimit)
OKURI_NODE(account_plan, AccountPlan)
OKURI_NODE(account_staff, AccountStaff)
OKURI_NODE(field_decl, FieldDecl)
OKURI_NODE(type_name, TypeName)
OKURI_NODE(type_one_of, TypeOneOf)
OKURI_NODE(type_set_of, TypeSetOf)
OKURI_NODE(tag_decl, TagDecl)
OKURI_NODE(score_decl, ScoreDecl)
OKURI_NODE(link_decl, LinkDecl)
OKURI_NODE(message_decl, MessageDecl)
OKURI_NODE(message_text, MessageText)
OKURI_NODE(message_json, MessageJson)
OKURI_NODE(message_sticker, MessageSticker)
OKURI_NODE(audience_decl, AudienceDecl)
OKURI_NODE(form_decl, FormDecl)
OKURI_NODE(event_decl, EventDecl)
OKURI_NODE(event_field, EventField)
OKURI_NODE(segment_decl, SegmentDecl)
OKURI_NODE(rule_decl, RuleDecl)
OKURI_NODE(scenario_decl, ScenarioDecl)
OKURI_NODE(broadcast_decl, BroadcastDecl)
OKURI_NODE(test_decl, TestDecl)
OKURI_NODE(event_pattern, EventPattern)
OKURI_NODE(event_from, EventFrom)
OKURI_NODE(start_on, StartOn)
OKURI_NODE(start_when, StartWhen)
OKURI_NODE(restart_never, RestartNever)
OKURI_NODE(restart_always, RestartAlways)
OKURI_NODE(restart_after, RestartAfter)
OKURI_NODE(stop_when, StopWhen)
OKURI_NODE(on_update, OnUpdate)
OKURI_NODE(block, Block)
OKURI_NODE(send_stmt, SendStmt)
OKURI_NODE(reply_stmt, ReplyStmt)
OKURI_NODE(tag_stmt, TagStmt)
OKURI_NODE(untag_stmt, UntagStmt)
OKURI_NODE(score_stmt, ScoreStmt)
OKURI_NODE(score_target, ScoreTarget)
OKURI_NODE(set_stmt, SetStmt)
OKURI_NODE(clear_stmt, ClearStmt)
OKURI_NODE(add_stmt, AddStmt)
OKURI_NODE(remove_stmt, RemoveStmt)
OKURI_NODE(start_stmt, StartStmt)
OKURI_NODE(stop_stmt, StopStmt)
OKURI_NODE(menu_stmt, MenuStmt)
OKURI_NODE(notify_stmt, NotifyStmt)
OKURI_NODE(pass_stmt, PassStmt)
OKURI_NODE(goto_stmt, GotoStmt)
OKURI_NODE(repeat_stmt, RepeatStmt)
OKURI_NODE(step_stmt, StepStmt)
OKURI_NODE(goal_stmt, GoalStmt)
OKURI_NODE(if_stmt, IfStmt)
OKURI_NODE(else_clause, ElseClause)
OKURI_NODE(split_stmt, SplitStmt)
OKURI_NODE(split_arm, SplitArm)
OKURI_NODE(wait_stmt, WaitStmt)
OKURI_NODE(wait_relative, WaitRelative)
OKURI_NODE(wait_day_at, WaitDayAt)
OKURI_NODE(wait_until, WaitUntil)
OKURI_NODE(wait_at, WaitAt)
OKURI_NODE(wait_for, WaitFor)
OKURI_NODE(case_on, CaseOn)
OKURI_NODE(case_when, CaseWhen)
OKURI_NODE(case_timeout, CaseTimeout)
OKURI_NODE(throttle_stmt, Throttle)
OKURI_NODE(test_friend, TestFriend)
OKURI_NODE(test_attr, TestAttr)
OKURI_NODE(test_event, TestEvent)
OKURI_NODE(test_after, TestAfter)
OKURI_NODE(or_names, OrNames)
OKURI_NODE(test_payload, TestPayload)
OKURI_NODE(expect_send, ExpectSend)
OKURI_NODE(expect_no_send, ExpectNoSend)
OKURI_NODE(expect_value, ExpectValue)
OKURI_NODE(expect_time, ExpectTime)

#undef OKURI_NODE
#undef OKURI_FOLD

// ---------------------------------------------------------------- error messages

template <typename Rule>
inline constexpr const char* error_message = nullptr;
#define OKURI_ERR(rule, text) \
  template <>                 \
  inline constexpr const char* error_message<rule> = text;

OKURI_ERR(name, "expected a name")
OKURI_ERR(name_list, "expected a name")
OKURI_ERR(name_list_nl, "expected a name")
OKURI_ERR(string_lit, "expected a text in double quotes")
OKURI_ERR(string_body, "unterminated text: expected a closing '\"' on the same line")
OKURI_ERR(expr, "expected an expression")
OKURI_ERR(nested<expr>, "expected an expression")
OKURI_ERR(nested<unary>, "expected a value after '-'")
OKURI_ERR(nested<not_expr>, "expected a condition after `not`")
OKURI_ERR(not_expr, "expected a condition")
OKURI_ERR(and_expr, "expected a condition")
OKURI_ERR(add_expr, "expected a value")
OKURI_ERR(unary, "expected a value")
OKURI_ERR(in_rhs, "expected a range such as `20..29` or a set such as `[tokyo, osaka]`")
OKURI_ERR(close_paren, "expected ')'")
OKURI_ERR(close_bracket, "expected ']'")
OKURI_ERR(open_paren, "expected '('")
OKURI_ERR(colon, "expected ':'")
OKURI_ERR(equals, "expected '='")
OKURI_ERR(arrow, "expected '=>'")
OKURI_ERR(slash, "expected '/' as in `throttle 2000/min`")
OKURI_ERR(dash, "expected '-' between the start and the end of quiet hours")
OKURI_ERR(assign_op, "expected '+=', '-=' or '='")
OKURI_ERR(duration_lit, "expected a duration such as 30m, 2h, 1d or 2w")
OKURI_ERR(time_lit, "expected a time of day such as 10:00")
OKURI_ERR(int_lit, "expected a whole number")
OKURI_ERR(moment_lit, "expected a date or a date and time such as 2026-12-01 10:00")
OKURI_ERR(type_spec, "expected a type (int, bool, text, date, datetime, duration, time, one_of(…) or set_of(…))")
OKURI_ERR(event_pattern, "expected an event such as friend_added or link_clicked(link)")
OKURI_ERR(event_arg, "expected a name or a text inside the parentheses")
OKURI_ERR(block, "expected '{' to open a block")
OKURI_ERR(braced<split_body>, "expected '{' after `split`")
OKURI_ERR(braced<cases_body>, "expected '{' after `for`")
OKURI_ERR(braced<scenario_body>, "expected '{' to open the scenario")
OKURI_ERR(braced<account_body>, "expected '{' after `account`")
OKURI_ERR(braced<test_body>, "expected '{' to open the test")
OKURI_ERR(arm_body, "expected a statement or a block after '=>'")
OKURI_ERR(wait_form, "expected a wait: `wait 3d`, `wait 1d at 20:00`, `wait until 10:00` or `wait up to 3d for { … }`")
OKURI_ERR(restart_policy, "expected `never`, `always` or `after` and a duration")
OKURI_ERR(message_body, "expected `text \"…\"`, `json \"file.json\"` or `sticker PACKAGE STICKER`")
OKURI_ERR(stmt_end, "expected the end of the line (a newline or ';')")
OKURI_ERR(kw_to, "expected `to`")
OKURI_ERR(kw_for, "expected `for`")
OKURI_ERR(kw_at, "expected `at` and a date")
OKURI_ERR(kw_by, "expected `by` and a friend")
OKURI_ERR(kw_of, "expected `of` and a friend")
OKURI_ERR(kw_from, "expected `from` and a set_of field, as in `remove knit from interests`")
OKURI_ERR(expect_names, "expected a message, or messages separated by `,` (all of them) or `or` (one of them)")
OKURI_ERR(send_kind, "expected `send` or `reply`")
OKURI_ERR(eof, "expected a declaration")
OKURI_ERR(else_target, "expected '{' or `if` after `else`")
OKURI_ERR(menu_target, "expected a rich menu id in double quotes")
OKURI_ERR(expect_body, "expected `send`, `reply`, `no send` or a value `of` a friend")

#undef OKURI_ERR

}  // namespace okuri::grammar::rules

// analyze<> needs to know how the hand-written rules consume input.
namespace tao::pegtl {
template <typename Name, typename Rule>
struct analyze_traits<Name, okuri::grammar::rules::nested<Rule>> : analyze_seq_traits<Rule> {};
template <typename Name, typename Content>
struct analyze_traits<Name, okuri::grammar::rules::braced<Content>> : analyze_any_traits<Content> {};
template <typename Name, typename Rule, typename What, bool Top>
struct analyze_traits<Name, okuri::grammar::rules::recover<Rule, What, Top>> : analyze_any_traits<Rule> {};
template <typename Name>
struct analyze_traits<Name, okuri::grammar::rules::line_start> : analyze_opt_traits<> {};
}  // namespace tao::pegtl
