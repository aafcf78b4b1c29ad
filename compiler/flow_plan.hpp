// The compiled flow plan: everything the runtime runs, built once per compiled project and
// free of AST pointers. The engine (runtime/), the service and the dry runs read only this;
// `okuri graph`, `okuri diff` and the report read it where that makes them simpler.
//
//   Program (AST, symbols, step graphs) ──build_plan──▶ Plan ──▶ rt::Engine, rt::Renderer
//
// Indices are the plan's own: conditions (PredId) and values (ValueId) into `preds` and
// `values` (predicate IR), messages (MessageId) into `schema.messages` and `messages`, event
// types into `event_types` (the built-in events of stdlib/events.def first, in their order,
// then custom events), flows into `flows`. See docs/design/runtime-plan.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/pred_ir.hpp"
#include "compiler/program.hpp"
#include "compiler/step_graph.hpp"

namespace okuri::plan {

using PredId = std::int32_t;   // -1: no condition (always true)
using ValueId = std::int32_t;  // -1: none
using MessageId = std::uint32_t;

// Which events a rule, a `start on` or a `wait … for` case reacts to.
struct EventMatch {
  int type = -1;                           // event type number
  std::optional<std::string> arg;          // `link_clicked(trial_lp)`: the argument's name
  std::optional<std::string> url_pattern;  // `web_visited("/price*")`
  std::optional<std::string> from;         // `friend_added from "instagram"`
};

// ------------------------------------------------------------------ actions

enum class OpKind : std::uint8_t {
  Send,
  Reply,
  Tag,
  Untag,
  Score,
  SetField,
  ClearField,
  Start,
  Stop,
  Menu,
  Notify,
  If,
  Pass
};
enum class ScoreMode : std::uint8_t { Add, Sub, Assign };
enum class SetMode : std::uint8_t { Assign, Add, Remove };  // `set`, and `add`/`remove` on a set_of field

struct Op;
struct OpArm {
  PredId cond = -1;
  std::string text;  // the condition as written, for the trace
  std::vector<Op> body;
};

// One action of a rule or of an action step.
struct Op {
  OpKind kind = OpKind::Pass;
  std::vector<MessageId> messages;  // Send, Reply
  std::vector<std::int32_t> items;  // Tag, Untag: tag indices; Start, Stop: flow indices
  std::vector<std::string> names;   // the names behind `items` (the trace, raised events)
  std::int32_t target = -1;         // Score: named score (-1: the main score); SetField, ClearField: field
  std::string target_name;          // the score's or field's name
  ScoreMode mode = ScoreMode::Add;
  SetMode set_mode = SetMode::Assign;
  std::string value_text;           // SetField with add/remove: the items as written (the trace)
  ValueId value = -1;                // Score, SetField
  std::optional<std::int64_t> mask;  // SetField from a set literal (`set likes = [knit]`)
  std::string text;                  // Menu: the rich menu id
  std::int32_t notify = -1;          // Notify: index into Plan::notify_texts
  bool stop_self = false;            // Stop without a name (`stop` inside a rule does nothing)
  std::vector<OpArm> arms;           // If: `if` and each `else if`
  std::optional<std::vector<Op>> else_body;
};

// ------------------------------------------------------------------ flows

enum class WaitMode : std::uint8_t {
  Relative,    // wait 3d
  DayAt,       // wait 1d at 20:00
  UntilTime,   // wait until 10:00
  UntilValue,  // wait until lesson_at - 1d [at 10:00]
  For,         // wait up to 3d for { … }
};

struct WaitSpec {
  WaitMode mode = WaitMode::Relative;
  std::int64_t seconds = 0;       // Relative, For (the limit), DayAt (whole days)
  std::optional<MinuteOfDay> at;  // DayAt; UntilValue `at HH:MM`
  MinuteOfDay minute = 0;         // UntilTime
  ValueId until = -1;             // UntilValue
  TypeKind until_type = TypeKind::Error;
};

struct Edge {
  std::uint32_t to = 0;
  EdgeKind kind = EdgeKind::Next;
  PredId pred = -1;          // Then: the arm's condition; Case: the case's `when`
  bool on_event = false;     // Case: `on EVENT …` (else a `when` case)
  EventMatch match;          // Case on an event
  std::int64_t percent = 0;  // Arm
  std::string arm;           // Arm: its name
  std::string label;         // as `okuri graph` shows it
};

struct Node {
  StepKind kind = StepKind::Action;
  std::string id;                   // stable: the step name or the structural path
  std::string label;                // "send welcome", "wait 1d at 20:00"
  std::vector<Edge> out;            // in decision order (if arms, split arms, wait cases as written)
  std::vector<MessageId> messages;  // Send, Reply
  WaitSpec wait;                    // Wait
  std::vector<Op> ops;              // Action: the one action
  PredId goal = -1;                 // Goal
  std::int64_t goal_within = 0;     // Goal: seconds (0: no limit)
};

struct Condition {
  PredId pred = -1;
  std::string text;  // as written
};

struct StartOn {
  EventMatch match;
  PredId when = -1;
  std::string text;  // `start on …` as written
};

struct Flow {
  std::string name;
  bool broadcast = false;
  std::vector<Node> nodes;  // by step-graph node index (0: the start)
  // Scenarios.
  std::vector<Condition> stop_when;
  std::vector<StartOn> start_on;
  std::vector<Condition> start_when;
  bool start_when_reads_time = false;  // a `start when` can become true with time alone
  ast::RestartPolicy restart = ast::RestartPolicy::Never;
  std::int64_t restart_after = 0;
  // Broadcasts.
  std::int64_t at = 0;  // seconds since the epoch
  PredId target = -1;
  std::string target_text;
  bool target_reads_line = false;  // the target reads LINE's estimates (`line.*`)
  // How `okuri serve` has LINE send it: Friends — to the friends it knows who match (multicasts
  // and pushes); Everyone — no target and a body of sends alone: LINE's broadcast, which reaches
  // friends the service has never heard from; Narrowcast — the target reads `line.*`.
  enum class Reach : std::uint8_t { Friends, Everyone, Narrowcast } reach = Reach::Friends;
  std::string demographic;    // Narrowcast: filter.demographic (JSON); empty when the target has no `line.*` part
  bool audience = false;      // Narrowcast: the target also reads the account's own data (sent as an audience)
  bool sends_only = false;    // the body is sends alone (no per-friend step)
  std::int64_t throttle_count = 0;
  std::int64_t throttle_unit = 0;  // seconds
  // Only for readers outside the engine (reports, graphs): the step graph it was built from.
  const StepGraph* graph = nullptr;
  std::optional<std::uint32_t> find(std::string_view id) const;
};

struct Rule {
  std::string id;    // `rules/3`
  std::string text;  // `on … when …` as written
  EventMatch match;
  PredId when = -1;
  std::vector<Op> body;
};

// ------------------------------------------------------------------ texts and messages

// A text with its `{…}` interpolations resolved to what fills them (compiler/text_template.hpp).
struct TextRef {
  enum class Kind : std::uint8_t { Attribute, Field, Link, EventField } kind = Kind::Attribute;
  std::int32_t index = -1;  // ir::Attr, field index, link index; EventField: index into `event_fields`
  std::string name;         // as written
  std::string format;       // "" or a format of text_formats()
  std::optional<std::string> fallback;
  Type type;                        // the value's type (fields and event fields; attributes by ir::Attr)
  std::vector<std::string> values;  // enum and set values by index (fields, event fields)
};
struct TextPiece {
  std::string literal;  // when `ref` is empty
  std::optional<TextRef> ref;
};
struct TextTemplate {
  std::vector<TextPiece> pieces;
  bool reads_profile = false;             // reads the LINE profile (display_name, language)
  std::vector<std::string> event_fields;  // `{event.x}` names (notifications)
};

enum class MessageKind : std::uint8_t { Text, Sticker, Json };
struct Message {
  std::string name;
  MessageKind kind = MessageKind::Text;
  TextTemplate text;                            // Text
  std::int64_t package_id = 0, sticker_id = 0;  // Sticker
  std::string json;                             // Json: the LINE message objects (an array), checked at compile time
  std::int64_t count = 1;                       // LINE message objects it sends
};

struct Link {
  std::string name;
  std::string url;
};

// ------------------------------------------------------------------ the plan

struct Plan {
  ir::Schema schema;
  std::vector<ir::Predicate> preds;      // boolean conditions
  std::vector<ir::Predicate> values;     // value expressions (scores, `set`, `wait until`)
  std::vector<Flow> flows;               // scenarios and broadcasts, in source order
  std::vector<Rule> rules;               // in source order
  std::vector<std::string> event_types;  // by type number
  std::vector<Message> messages;         // by MessageId (the order of schema.messages)
  std::vector<TextTemplate> notify_texts;
  std::vector<Link> links;                    // by link index (the order of schema.links)
  std::vector<std::int32_t> broadcast_order;  // flows that are broadcasts, by time
  std::vector<std::size_t> timed_starts;      // flows with start_when_reads_time
  AccountSettings account;
  std::string root;  // the project folder
  // Expressions of test blocks and conditions lowered for `okuri test` and `okuri explain`, by
  // AST node id (tests read the AST by nature; the engine itself never does).
  std::unordered_map<ast::NodeId, ValueId> expr_values;
  std::unordered_map<ast::NodeId, PredId> expr_preds;

  int event_type(std::string_view name) const;  // -1 when unknown
  std::optional<std::size_t> flow_index(std::string_view name) const;
};

// Lowers a checked program without errors.
std::shared_ptr<const Plan> build_plan(const Program& p);

// Whether an expression reads LINE's estimates (`line.*`): a broadcast target that does can
// only be sent as a narrowcast, which LINE applies and does not report per friend.
bool reads_line_estimates(const ast::Expr& e);

// The mask of a set literal (`[knit, coat]`) over an enumeration's values; nullopt when `e` is not one.
std::optional<std::int64_t> set_mask(const ast::Expr& e, const std::vector<std::string>& values);

}  // namespace okuri::plan
