// The step graph of a scenario or broadcast: what the runtime executes and
// what `okuri graph` draws. Nodes are steps (send, reply, wait, branch, split,
// action, goto, stop, …), edges are control flow. Every node has a stable id:
// its `step` name where it has one, else its structural path
// (`trial_funnel/3/else/1`). Stored in a Boost.Graph adjacency_list behind
// this interface; no Boost type appears here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ast.hpp"

namespace okuri {

struct Program;

enum class StepKind { Start, Send, Reply, Wait, Branch, Split, Action, Goal, Step, Goto, Repeat, Stop, End };
const char* to_string(StepKind k);

enum class EdgeKind {
  Next,     // sequence
  Then,     // an `if`/`else if` arm whose condition holds (label: the condition)
  Else,     // the `else` arm, or no arm held
  Case,     // a `wait … for` case (label: `on …`, `when …`)
  Timeout,  // a `wait … for` that timed out
  Arm,      // a split arm (label: `45% a`)
  Jump,     // `goto`
  Loop,     // the end of a `repeat` body back to its start
};
const char* to_string(EdgeKind k);

struct StepNode {
  std::string id;  // stable: step name or structural path
  StepKind kind = StepKind::Action;
  std::string label;  // "send welcome", "wait 1d at 20:00", "tag vip"
  bool named = false;  // a `step NAME`
  Span span;
  const ast::Stmt* stmt = nullptr;  // none for Start and End
  std::vector<std::string> messages;  // Send / Reply
  std::int64_t max_wait = 0;          // Wait: the longest it can take, in seconds (0 when unknown)
  bool may_not_wait = false;          // Wait: may go on at once (a date already past)
};

struct StepEdge {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  EdgeKind kind = EdgeKind::Next;
  std::string label;
  std::int64_t percent = 0;  // Arm
  const ast::WaitCase* wait_case = nullptr;  // Case / Timeout
  const ast::Expr* cond = nullptr;           // Then
  bool takes_time = false;  // leaves a wait that always waits
};

class StepGraph {
 public:
  StepGraph();
  ~StepGraph();
  StepGraph(StepGraph&&) noexcept;
  StepGraph& operator=(StepGraph&&) noexcept;

  std::string name;  // the scenario or broadcast
  bool is_broadcast = false;
  const ast::Decl* decl = nullptr;

  std::uint32_t add_node(StepNode n);
  void add_edge(StepEdge e);

  std::size_t node_count() const;
  const StepNode& node(std::uint32_t i) const;
  std::vector<StepEdge> out_edges(std::uint32_t i) const;
  std::vector<StepEdge> in_edges(std::uint32_t i) const;
  std::vector<StepEdge> edges() const;  // in insertion order of their source node
  std::optional<std::uint32_t> find(std::string_view id) const;
  std::uint32_t start() const { return 0; }

  // Analyses.
  std::vector<bool> reachable() const;  // from the start
  // Cycles that never pass a wait: each is a list of nodes in cycle order.
  std::vector<std::vector<std::uint32_t>> zero_time_cycles() const;
  // The longest time a friend can spend inside (sum of waits on a path),
  // or nullopt when a loop that waits makes it unbounded.
  std::optional<std::int64_t> longest_time() const;

  // A copy of this graph with every node and edge passed through `fix_node`
  // and `fix_edge` (which move spans and AST pointers when the same
  // declaration was copied to a new place; used by incremental re-checks).
  StepGraph copy_with(const std::function<void(StepNode&)>& fix_node,
                      const std::function<void(StepEdge&)>& fix_edge) const;
  // Passes every node through `fix_node`, in place.
  void update_nodes(const std::function<void(StepNode&)>& fix_node);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Lowers every scenario and broadcast of a checked program (in source order).
std::vector<StepGraph> lower_program(const Program& p);
// Lowers one declaration; nullopt unless it is a scenario or a broadcast.
std::optional<StepGraph> lower_decl(const Program& p, const ast::Decl& d);

// Graph checks: E006 (zero-time cycles), W101 (unreachable steps) and W106
// (`restart after` shorter than the scenario). Adds diagnostics to `p`.
void check_graphs(Program& p, const std::vector<StepGraph>& graphs);
// The same checks on one graph (check_graphs runs them graph by graph, in order).
void check_graph(Program& p, const StepGraph& g);

// Pictures. `details`: lines under the start node — what starts a scenario (`start on …`,
// `restart always`, `stop when …`), or a broadcast's time and target (start_details).
std::string to_dot(const StepGraph& g, const std::vector<std::string>& details = {});
std::string to_mermaid(const StepGraph& g, const std::vector<std::string>& details = {});
// Every scenario and broadcast as one Mermaid `flowchart`, one subgraph each (it renders when
// pasted into one ```mermaid block).
std::string to_mermaid_project(const Program& p);
std::vector<std::string> start_details(const Program& p, const StepGraph& g);

}  // namespace okuri
