#include "compiler/step_graph.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/graph/strong_components.hpp>
#include <boost/graph/topological_sort.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>

#include "compiler/program.hpp"

namespace okuri {

const char* to_string(StepKind k) {
  switch (k) {
    case StepKind::Start:
      return "start";
    case StepKind::Send:
      return "send";
    case StepKind::Reply:
      return "reply";
    case StepKind::Wait:
      return "wait";
    case StepKind::Branch:
      return "branch";
    case StepKind::Split:
      return "split";
    case StepKind::Action:
      return "action";
    case StepKind::Goal:
      return "goal";
    case StepKind::Step:
      return "step";
    case StepKind::Goto:
      return "goto";
    case StepKind::Repeat:
      return "repeat";
    case StepKind::Stop:
      return "stop";
    case StepKind::End:
      return "end";
  }
  return "?";
}

const char* to_string(EdgeKind k) {
  switch (k) {
    case EdgeKind::Next:
      return "next";
    case EdgeKind::Then:
      return "then";
    case EdgeKind::Else:
      return "else";
    case EdgeKind::Case:
      return "case";
    case EdgeKind::Timeout:
      return "timeout";
    case EdgeKind::Arm:
      return "arm";
    case EdgeKind::Jump:
      return "jump";
    case EdgeKind::Loop:
      return "loop";
  }
  return "?";
}

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, StepNode, StepEdge>;

struct StepGraph::Impl {
  Graph g;
};

StepGraph::StepGraph() : impl_(std::make_unique<Impl>()) {}
StepGraph::~StepGraph() = default;
StepGraph::StepGraph(StepGraph&&) noexcept = default;
StepGraph& StepGraph::operator=(StepGraph&&) noexcept = default;

std::uint32_t StepGraph::add_node(StepNode n) { return static_cast<std::uint32_t>(boost::add_vertex(std::move(n), impl_->g)); }

void StepGraph::add_edge(StepEdge e) { boost::add_edge(e.from, e.to, e, impl_->g); }

std::size_t StepGraph::node_count() const { return boost::num_vertices(impl_->g); }

const StepNode& StepGraph::node(std::uint32_t i) const { return impl_->g[i]; }

std::vector<StepEdge> StepGraph::out_edges(std::uint32_t i) const {
  std::vector<StepEdge> out;
  for (auto [it, end] = boost::out_edges(i, impl_->g); it != end; ++it) out.push_back(impl_->g[*it]);
  return out;
}

std::vector<StepEdge> StepGraph::in_edges(std::uint32_t i) const {
  std::vector<StepEdge> out;
  for (auto [it, end] = boost::in_edges(i, impl_->g); it != end; ++it) out.push_back(impl_->g[*it]);
  return out;
}

std::vector<StepEdge> StepGraph::edges() const {
  std::vector<StepEdge> out;
  for (std::uint32_t i = 0; i < node_count(); ++i) {
    for (auto& e : out_edges(i)) out.push_back(std::move(e));
  }
  return out;
}

StepGraph StepGraph::copy_with(const std::function<void(StepNode&)>& fix_node,
                               const std::function<void(StepEdge&)>& fix_edge) const {
  StepGraph out;
  out.name = name;
  out.is_broadcast = is_broadcast;
  out.decl = decl;
  out.impl_->g = impl_->g;
  Graph& g = out.impl_->g;
  for (std::uint32_t i = 0; i < out.node_count(); ++i) fix_node(g[i]);
  for (auto [it, end] = boost::edges(g); it != end; ++it) fix_edge(g[*it]);
  return out;
}

void StepGraph::update_nodes(const std::function<void(StepNode&)>& fix_node) {
  Graph& g = impl_->g;
  for (std::uint32_t i = 0; i < node_count(); ++i) fix_node(g[i]);
}

std::optional<std::uint32_t> StepGraph::find(std::string_view id) const {
  for (std::uint32_t i = 0; i < node_count(); ++i) {
    if (impl_->g[i].id == id) return i;
  }
  return std::nullopt;
}

std::vector<bool> StepGraph::reachable() const {
  std::vector<bool> seen(node_count(), false);
  std::deque<std::uint32_t> q{start()};
  seen[start()] = true;
  while (!q.empty()) {
    const auto n = q.front();
    q.pop_front();
    for (auto [it, end] = boost::out_edges(n, impl_->g); it != end; ++it) {
      const auto t = static_cast<std::uint32_t>(boost::target(*it, impl_->g));
      if (!seen[t]) {
        seen[t] = true;
        q.push_back(t);
      }
    }
  }
  return seen;
}

namespace {

template <typename G>
std::vector<std::vector<std::uint32_t>> components(const G& g, std::size_t n) {
  std::vector<int> comp(n);
  const int count = boost::strong_components(
      g, boost::make_iterator_property_map(comp.begin(), boost::get(boost::vertex_index, g)));
  std::vector<std::vector<std::uint32_t>> out(static_cast<std::size_t>(count));
  for (std::uint32_t v = 0; v < n; ++v) out[static_cast<std::size_t>(comp[v])].push_back(v);
  return out;
}

}  // namespace

std::vector<std::vector<std::uint32_t>> StepGraph::zero_time_cycles() const {
  const Graph& g = impl_->g;
  auto instant = [&g](const Graph::edge_descriptor& e) { return !g[e].takes_time; };
  boost::filtered_graph<Graph, std::function<bool(const Graph::edge_descriptor&)>> fg(g, instant);
  std::vector<std::vector<std::uint32_t>> cycles;
  for (auto& c : components(fg, node_count())) {
    bool cyclic = c.size() > 1;
    if (c.size() == 1) {
      for (auto [it, end] = boost::out_edges(c[0], g); it != end; ++it) {
        if (boost::target(*it, g) == c[0] && instant(*it)) cyclic = true;
      }
    }
    if (!cyclic) continue;
    // Walk the cycle in order from its first node, staying inside the component on instant edges.
    std::sort(c.begin(), c.end());
    const std::uint32_t first = c.front();
    std::vector<std::uint32_t> path{first};
    std::vector<bool> in(node_count(), false);
    for (auto v : c) in[v] = true;
    std::vector<bool> used(node_count(), false);
    used[first] = true;
    std::uint32_t cur = first;
    for (std::size_t guard = 0; guard < c.size() + 1; ++guard) {
      std::optional<std::uint32_t> next;
      bool closes = false;
      for (auto [it, end] = boost::out_edges(cur, g); it != end; ++it) {
        if (!instant(*it)) continue;
        const auto t = static_cast<std::uint32_t>(boost::target(*it, g));
        if (!in[t]) continue;
        if (t == first) closes = true;
        if (!used[t] && !next) next = t;
      }
      if (closes && (path.size() > 1 || !next)) break;
      if (!next) break;
      used[*next] = true;
      path.push_back(*next);
      cur = *next;
    }
    path.push_back(first);
    cycles.push_back(std::move(path));
  }
  std::sort(cycles.begin(), cycles.end());
  return cycles;
}

std::optional<std::int64_t> StepGraph::longest_time() const {
  const Graph& g = impl_->g;
  const auto seen = reachable();
  // A loop through a wait that a friend can reach makes the time unbounded.
  for (auto& c : components(g, node_count())) {
    if (!seen[c[0]]) continue;
    bool cyclic = c.size() > 1;
    for (auto [it, end] = boost::out_edges(c[0], g); it != end; ++it) cyclic = cyclic || boost::target(*it, g) == c[0];
    if (!cyclic) continue;
    std::vector<bool> in(node_count(), false);
    for (auto v : c) in[v] = true;
    for (auto v : c) {
      for (auto [it, end] = boost::out_edges(v, g); it != end; ++it) {
        if (in[boost::target(*it, g)] && g[*it].takes_time) return std::nullopt;
      }
    }
  }
  // Otherwise the graph is acyclic where time passes: longest path in topological order,
  // ignoring zero-time cycles (reported as E006).
  std::vector<Graph::vertex_descriptor> order;
  try {
    boost::topological_sort(g, std::back_inserter(order));
  } catch (const boost::not_a_dag&) {
    return 0;
  }
  std::reverse(order.begin(), order.end());
  std::vector<std::int64_t> best(node_count(), -1);
  best[start()] = 0;
  std::int64_t longest = 0;
  for (auto v : order) {
    if (best[v] < 0) continue;
    longest = std::max(longest, best[v]);
    for (auto [it, end] = boost::out_edges(v, g); it != end; ++it) {
      const auto t = boost::target(*it, g);
      const std::int64_t w = g[*it].takes_time || g[v].kind == StepKind::Wait ? g[v].max_wait : 0;
      best[t] = std::max(best[t], best[v] + w);
    }
  }
  return longest;
}

// ------------------------------------------------------------------ lowering

namespace {

struct Dangling {
  std::uint32_t from;
  EdgeKind kind;
  std::string label;
  std::int64_t percent = 0;
  bool takes_time = false;
  const ast::WaitCase* wait_case = nullptr;
  const ast::Expr* cond = nullptr;
};

class Lowerer {
 public:
  Lowerer(const Program& p, StepGraph& g) : p_(p), g_(g) {}

  void lower(const std::string& name, const ast::Block& body) {
    StepNode start;
    start.id = name;
    start.kind = StepKind::Start;
    start.label = name;
    g_.add_node(std::move(start));
    auto out = block(body, name, {Dangling{0, EdgeKind::Next, {}}});
    if (!out.empty()) {
      StepNode end;
      end.id = name + "/end";
      end.kind = StepKind::End;
      end.label = "end";
      connect(out, g_.add_node(std::move(end)));
    }
    for (const auto& [from, step] : gotos_) {
      if (auto to = step_nodes_.find(step); to != step_nodes_.end()) {
        StepEdge e;
        e.from = from;
        e.to = to->second;
        e.kind = EdgeKind::Jump;
        e.label = "goto";
        g_.add_edge(e);
      }
    }
  }

 private:
  const Program& p_;
  StepGraph& g_;
  std::map<std::string, std::uint32_t> step_nodes_;
  std::vector<std::pair<std::uint32_t, std::string>> gotos_;

  std::string text(Span s) const { return std::string(p_.sources.text(s)); }

  void connect(const std::vector<Dangling>& in, std::uint32_t to) {
    for (const auto& d : in) {
      StepEdge e;
      e.from = d.from;
      e.to = to;
      e.kind = d.kind;
      e.label = d.label;
      e.percent = d.percent;
      e.takes_time = d.takes_time;
      e.wait_case = d.wait_case;
      e.cond = d.cond;
      g_.add_edge(std::move(e));
    }
  }

  std::uint32_t add(std::vector<Dangling>& in, StepNode n) {
    const auto i = g_.add_node(std::move(n));
    connect(in, i);
    in.clear();
    return i;
  }

  static std::string names(const std::vector<ast::Name>& v) {
    std::string s;
    for (const auto& n : v) s += (s.empty() ? "" : ", ") + n.text;
    return s;
  }

  std::vector<Dangling> block(const ast::Block& b, const std::string& prefix, std::vector<Dangling> in) {
    int index = 0;
    for (const auto& sp : b.stmts) {
      ++index;
      const ast::Stmt& s = *sp;
      StepNode n;
      n.id = fmt::format("{}/{}", prefix, index);
      n.span = s.span;
      n.stmt = &s;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, ast::SendStmt> || std::is_same_v<T, ast::ReplyStmt>) {
              n.kind = std::is_same_v<T, ast::SendStmt> ? StepKind::Send : StepKind::Reply;
              n.label = fmt::format("{} {}", std::is_same_v<T, ast::SendStmt> ? "send" : "reply", names(v.messages));
              for (const auto& m : v.messages) n.messages.push_back(m.text);
              const auto i = add(in, std::move(n));
              in = {Dangling{i, EdgeKind::Next, {}}};
            } else if constexpr (std::is_same_v<T, ast::StopStmt>) {
              if (v.scenario) {
                n.kind = StepKind::Action;
                n.label = "stop " + v.scenario->text;
                const auto i = add(in, std::move(n));
                in = {Dangling{i, EdgeKind::Next, {}}};
              } else {
                n.kind = StepKind::Stop;
                n.label = "stop";
                add(in, std::move(n));
              }
            } else if constexpr (std::is_same_v<T, ast::GotoStmt>) {
              n.kind = StepKind::Goto;
              n.label = "goto " + v.step.text;
              const auto i = add(in, std::move(n));
              gotos_.emplace_back(i, v.step.text);
            } else if constexpr (std::is_same_v<T, ast::GoalStmt>) {
              n.kind = StepKind::Goal;
              n.label = "goal " + text(v.cond->span) + (v.within ? " within " + format_duration(*v.within) : "");
              const auto i = add(in, std::move(n));
              in = {Dangling{i, EdgeKind::Next, {}}};
            } else if constexpr (std::is_same_v<T, ast::WaitStmt>) {
              n.kind = StepKind::Wait;
              bool always = true;
              switch (v.kind) {
                case ast::WaitKind::Relative:
                  n.label = "wait " + format_duration(v.seconds);
                  n.max_wait = v.seconds;
                  break;
                case ast::WaitKind::DayAt:
                  n.label = fmt::format("wait {} at {}", format_duration(v.seconds), v.at ? format_time(*v.at) : "?");
                  n.max_wait = v.seconds + 86400;
                  always = v.seconds > 0;
                  break;
                case ast::WaitKind::Until: {
                  n.label = "wait until " + (v.until ? text(v.until->span) : std::string("?")) +
                            (v.at ? " at " + format_time(*v.at) : "");
                  const Type t = v.until ? p_.type_of(v.until->id) : Type{};
                  if (t.kind == TypeKind::Time) {
                    n.max_wait = 86400;
                  } else {
                    always = false;  // a date already past goes on at once
                  }
                  break;
                }
                case ast::WaitKind::For:
                  n.label = "wait up to " + format_duration(v.seconds);
                  n.max_wait = v.seconds;
                  break;
              }
              n.may_not_wait = !always;
              const auto i = add(in, std::move(n));
              if (v.kind != ast::WaitKind::For) {
                in = {Dangling{i, EdgeKind::Next, {}, 0, always}};
                return;
              }
              std::vector<Dangling> out;
              bool has_timeout = false;
              int k = 0;
              for (const auto& c : v.cases) {
                ++k;
                Dangling d{i, EdgeKind::Case, {}, 0, true, &c, c.cond.get()};
                std::string arm;
                switch (c.kind) {
                  case ast::CaseKind::On:
                    d.label = "on " + (c.event ? text(c.event->span) : std::string()) +
                              (c.cond ? " when " + text(c.cond->span) : "");
                    arm = fmt::format("on{}", k);
                    break;
                  case ast::CaseKind::When:
                    d.label = "when " + text(c.cond->span);
                    arm = fmt::format("when{}", k);
                    break;
                  case ast::CaseKind::Timeout:
                    d.kind = EdgeKind::Timeout;
                    d.label = "timeout";
                    arm = "timeout";
                    has_timeout = true;
                    break;
                }
                auto r = block(c.body, fmt::format("{}/{}/{}", prefix, index, arm), {d});
                out.insert(out.end(), r.begin(), r.end());
              }
              if (!has_timeout) out.push_back(Dangling{i, EdgeKind::Timeout, "timeout", 0, true});
              in = std::move(out);
            } else if constexpr (std::is_same_v<T, ast::IfStmt>) {
              n.kind = StepKind::Branch;
              n.label = "if";
              const auto i = add(in, std::move(n));
              std::vector<Dangling> out;
              int k = 0;
              for (const auto& a : v.arms) {
                ++k;
                Dangling d{i, EdgeKind::Then, text(a.cond->span), 0, false, nullptr, a.cond.get()};
                auto r = block(a.body, fmt::format("{}/{}/{}", prefix, index, k == 1 ? std::string("then") : fmt::format("elif{}", k)),
                               {d});
                out.insert(out.end(), r.begin(), r.end());
              }
              Dangling e{i, EdgeKind::Else, "else"};
              if (v.else_body) {
                auto r = block(*v.else_body, fmt::format("{}/{}/else", prefix, index), {e});
                out.insert(out.end(), r.begin(), r.end());
              } else {
                out.push_back(e);
              }
              in = std::move(out);
            } else if constexpr (std::is_same_v<T, ast::SplitStmt>) {
              n.kind = StepKind::Split;
              n.label = "split";
              const auto i = add(in, std::move(n));
              std::vector<Dangling> out;
              for (const auto& a : v.arms) {
                Dangling d{i, EdgeKind::Arm, fmt::format("{}% {}", a.percent, a.name.text), a.percent};
                auto r = block(a.body, fmt::format("{}/{}/{}", prefix, index, a.name.text), {d});
                out.insert(out.end(), r.begin(), r.end());
              }
              in = std::move(out);
            } else if constexpr (std::is_same_v<T, ast::StepStmt>) {
              n.kind = StepKind::Step;
              n.id = v.name.text;
              n.named = true;
              n.label = "step " + v.name.text;
              const auto i = add(in, std::move(n));
              step_nodes_[v.name.text] = i;
              in = block(v.body, v.name.text, {Dangling{i, EdgeKind::Next, {}}});
            } else if constexpr (std::is_same_v<T, ast::RepeatStmt>) {
              n.kind = StepKind::Repeat;
              n.label = "repeat";
              const auto i = add(in, std::move(n));
              auto r = block(v.body, fmt::format("{}/{}", prefix, index), {Dangling{i, EdgeKind::Next, {}}});
              for (auto& d : r) d.kind = d.kind == EdgeKind::Next ? EdgeKind::Loop : d.kind;
              connect(r, i);
              in.clear();
            } else {
              n.kind = StepKind::Action;
              n.label = text(s.span);
              const auto i = add(in, std::move(n));
              in = {Dangling{i, EdgeKind::Next, {}}};
            }
          },
          s.v);
      if (in.empty()) {
        // The rest of this block cannot be reached by falling through; it is
        // still lowered (a `goto` may jump into a named step there).
        in = {};
      }
    }
    return in;
  }
};

}  // namespace

std::optional<StepGraph> lower_decl(const Program& p, const ast::Decl& d) {
  if (const auto* sc = std::get_if<ast::ScenarioDecl>(&d.v)) {
    StepGraph g;
    g.name = sc->name.text;
    g.decl = &d;
    Lowerer(p, g).lower(sc->name.text, sc->body);
    return g;
  }
  if (const auto* b = std::get_if<ast::BroadcastDecl>(&d.v)) {
    StepGraph g;
    g.name = b->name.text;
    g.is_broadcast = true;
    g.decl = &d;
    Lowerer(p, g).lower(b->name.text, b->body);
    return g;
  }
  return std::nullopt;
}

std::vector<StepGraph> lower_program(const Program& p) {
  std::vector<StepGraph> out;
  for (const auto& f : p.ast.files) {
    for (const auto& d : f.decls) {
      if (auto g = lower_decl(p, d)) out.push_back(std::move(*g));
    }
  }
  return out;
}

}  // namespace okuri
