#include "compiler/incremental.hpp"

#include <algorithm>
#include <cstring>

#include "compiler/ast_builder.hpp"
#include "compiler/ast_walk.hpp"
#include "compiler/checker.hpp"
#include "compiler/text_width.hpp"
#include "compiler/workspace.hpp"
#include "grammar/syntax_tree.hpp"

namespace okuri {

using namespace ast;

// What the next compile needs to know about one declaration of a compiled file.
namespace {

struct DeclInfo {
  std::uint32_t begin = 0;  // the declaration's span in its file's text
  std::uint32_t end = 0;
  std::uint32_t dep_end = 0;  // its parse reads no text at or after this (the end of its last line)
  NodeId id_lo = 0;           // its node ids: id_lo … id_lo + id_count - 1 (the Decl's own id first)
  std::uint32_t id_count = 0;
  std::vector<Diagnostic> build_diags;  // reported while building its AST (E004, E007)
  // Scenarios and broadcasts: its step graph (an index into the base
  // Program's graphs) and what the graph checks reported for it.
  std::int32_t graph = -1;
  std::vector<Diagnostic> graph_diags;
  // What checking its body gave, and under which of the compiler's check
  // interfaces (a record is replayed only under the same one).
  DeclCheck check;
  std::uint64_t check_gen = 0;  // 0: none
  // During a compile only, for a declaration taken from the previous one:
  // its step graph (moved with it) and its expression types and symbols
  // there (id_count of each).
  bool reused = false;
  std::optional<StepGraph> moved_graph;
  const Type* old_types = nullptr;
  const std::uint32_t* old_syms = nullptr;
};

// ------------------------------------------------------------------ moving a copied AST to its new place

// Moves declarations in place: byte offsets by `delta`, node ids by
// `id_shift` (the declarations of a private copy, which nobody else reads).
struct Shift {
  std::int64_t delta = 0;
  std::int64_t id_shift = 0;

  void span(Span& x) const {
    if (delta == 0 || (x.begin == 0 && x.end == 0)) return;
    x.begin = static_cast<std::uint32_t>(x.begin + delta);
    x.end = static_cast<std::uint32_t>(x.end + delta);
  }
  void id(NodeId& i) const { i = static_cast<NodeId>(i + id_shift); }
  void expr(Expr&) const {}
  void stmt(Stmt&) const {}

  void decl(Decl& x) const {
    if (delta == 0 && id_shift == 0) return;
    walk(x, *this);
  }
  void diag(Diagnostic& d) const {
    if (delta == 0) return;
    span(d.span);
    for (auto& note : d.notes) {
      if (note.span) span(*note.span);
    }
    if (d.fix) span(d.fix->span);
  }
};

// Finds the statements and expressions of a copied declaration by id (`nodes`:
// each node at its id - lo), so that its step graph can be pointed at them.
struct RecordNodes {
  std::vector<const void*>& nodes;
  NodeId lo = 0;

  void span(Span&) const {}
  void id(NodeId&) const {}
  void expr(Expr& e) const { put(e.id, &e); }
  void stmt(Stmt& st) const { put(st.id, &st); }
  void put(NodeId id, const void* node) const {
    if (id >= lo && id - lo < nodes.size()) nodes[id - lo] = node;
  }
};

// One past the first '\n' at or after `at` (or the end of the text).
std::uint32_t line_end_after(std::string_view text, std::uint32_t at) {
  const auto nl = text.find('\n', at);
  return nl == std::string_view::npos ? static_cast<std::uint32_t>(text.size()) : static_cast<std::uint32_t>(nl + 1);
}

bool within(Span s, std::uint32_t begin, std::uint32_t end) { return s.begin >= begin && s.end <= end; }

// Gives each of `diags` (reported while building `decls`) to the declaration
// that contains it. False when one lies outside every declaration.
bool place_diags(std::vector<Diagnostic>& diags, std::vector<DeclInfo>& infos, std::size_t first_info,
                 std::size_t end_info) {
  for (auto& d : diags) {
    bool placed = false;
    for (std::size_t k = first_info; k < end_info && !placed; ++k) {
      if (within(d.span, infos[k].begin, infos[k].end)) {
        infos[k].build_diags.push_back(std::move(d));
        placed = true;
      }
    }
    if (!placed) return false;
  }
  return true;
}

// Describes declarations [first, decls.size()) just built; `id_end` is the
// last node id given to them.
void describe(const std::vector<Decl>& decls, std::size_t first, NodeId id_end, std::string_view text,
              std::vector<DeclInfo>& out) {
  for (std::size_t k = first; k < decls.size(); ++k) {
    DeclInfo info;
    info.begin = decls[k].span.begin;
    info.end = decls[k].span.end;
    info.dep_end = line_end_after(text, info.end);
    info.id_lo = decls[k].id;
    const NodeId next_lo = k + 1 < decls.size() ? decls[k + 1].id : id_end + 1;
    info.id_count = next_lo - decls[k].id;
    out.push_back(std::move(info));
  }
}

// A step graph copied with its declaration: the same graph, pointing at the
// copy's statements and expressions (`nodes`: the copy's node by id - id_lo).
std::optional<StepGraph> remap_graph(const StepGraph& og, NodeId id_lo, const std::vector<const void*>& nodes) {
  bool ok = true;
  auto moved = [&](const void* old_node, NodeId old_id) -> const void* {
    if (old_node == nullptr) return nullptr;
    if (old_id < id_lo || old_id - id_lo >= nodes.size()) {
      ok = false;
      return nullptr;
    }
    const void* n = nodes[old_id - id_lo];
    if (n == nullptr) ok = false;
    return n;
  };
  StepGraph g = og.copy_with(
      [&](StepNode& n) {
        if (n.stmt != nullptr) n.stmt = static_cast<const Stmt*>(moved(n.stmt, n.stmt->id));
      },
      [&](StepEdge& e) {
        if (e.cond != nullptr) e.cond = static_cast<const Expr*>(moved(e.cond, e.cond->id));
        if (e.wait_case != nullptr) {
          // A case edge leaves the wait node of its `wait … for`.
          const Stmt* ws = e.from < og.node_count() ? og.node(e.from).stmt : nullptr;
          const auto* w = ws != nullptr ? std::get_if<WaitStmt>(&ws->v) : nullptr;
          const auto* nws = ws != nullptr ? static_cast<const Stmt*>(moved(ws, ws->id)) : nullptr;
          const auto* nw = nws != nullptr ? std::get_if<WaitStmt>(&nws->v) : nullptr;
          if (w == nullptr || nw == nullptr || e.wait_case < w->cases.data() ||
              e.wait_case >= w->cases.data() + w->cases.size() || nw->cases.size() != w->cases.size()) {
            ok = false;
            e.wait_case = nullptr;
          } else {
            e.wait_case = nw->cases.data() + (e.wait_case - w->cases.data());
          }
        }
      });
  if (!ok) return std::nullopt;
  return g;
}

}  // namespace

struct IncrementalCompiler::FileState {
  std::string path;
  bool reusable = false;  // parsed without syntax errors, every build diagnostic inside a declaration
  // The Program that holds this file's text and declarations: the last
  // compile in which the file parsed cleanly (a text with a syntax error
  // keeps the previous base, so that the next edit diffs against it).
  std::shared_ptr<const Program> base;
  std::uint32_t source = 0;    // index into base->sources
  std::int64_t ast_file = -1;  // index into base->ast.files
  std::vector<DeclInfo> decls;
};

// A private copy of one file's base, which the next compile moves into its
// Program and edits in place: the declarations (same spans and node ids),
// their step graphs pointing into the copy, and their expression types and
// symbols (the declarations' node ids in order).
struct IncrementalCompiler::Copy {
  std::shared_ptr<const Program> of;
  std::vector<Decl> decls;
  std::vector<std::optional<StepGraph>> graphs;  // by declaration
  std::vector<Type> types;
  std::vector<std::uint32_t> syms;
};

IncrementalCompiler::IncrementalCompiler() = default;
IncrementalCompiler::~IncrementalCompiler() = default;

std::unique_ptr<IncrementalCompiler::Copy> IncrementalCompiler::make_copy(const FileState& st) {
  auto c = std::make_unique<Copy>();
  c->of = st.base;
  const Program& b = *st.base;
  const File& f = b.ast.files[static_cast<std::size_t>(st.ast_file)];
  c->decls.reserve(f.decls.size());
  c->graphs.resize(f.decls.size());
  for (std::size_t k = 0; k < f.decls.size(); ++k) {
    const DeclInfo& di = st.decls[k];
    c->decls.push_back(f.decls[k]);  // a deep copy: AST nodes are values
    if (di.graph >= 0 && static_cast<std::size_t>(di.graph) < b.graphs.size()) {
      std::vector<const void*> nodes(di.id_count, nullptr);
      walk(c->decls.back(), RecordNodes{nodes, di.id_lo});
      c->graphs[k] = remap_graph(b.graphs[static_cast<std::size_t>(di.graph)], di.id_lo, nodes);
    }
    for (NodeId n = di.id_lo; n < di.id_lo + di.id_count; ++n) {
      c->types.push_back(b.type_of(n));
      c->syms.push_back(n < b.expr_symbols.size() ? b.expr_symbols[n] : Program::kNoSymbol);
    }
  }
  return c;
}

void IncrementalCompiler::prepare() {
  prepared_ = true;
  stale_.clear();
  copies_.resize(prev_files_.size());
  for (std::size_t i = 0; i < prev_files_.size(); ++i) {
    const FileState& st = prev_files_[i];
    if (!st.reusable || !st.base || st.ast_file < 0) {
      copies_[i].reset();
    } else if (!copies_[i] || copies_[i]->of != st.base) {
      copies_[i] = make_copy(st);
    }
  }
}

// check_parsed's phases, reusing what the previous compile found for
// declarations taken unchanged: their body checks are replayed when the
// first pass declared what it declared last time (check_program_incremental);
// the step graph of a scenario or broadcast depends only on its own text and
// on the types of its expressions (a `wait until` waits differently for a
// time than for a date), and the graph checks only on the graph, so when
// every expression of the declaration has the type it had before, its graph
// and the graph checks' diagnostics are kept (moved with it).
void IncrementalCompiler::check(Program& p, std::vector<FileState>& states) {
  p.expr_types.assign(p.ast.node_count + 1, Type{});
  p.expr_symbols.assign(p.ast.node_count + 1, Program::kNoSymbol);
  IncrementalCheck& ic = check_;
  ic.records.clear();
  ic.replay.clear();
  // The project's declarations in order, with their descriptions (nullptr: the file keeps none).
  std::vector<std::pair<const Decl*, DeclInfo*>> decls;
  bool undescribed = false;
  for (auto& st : states) {
    if (st.ast_file < 0) continue;
    const File& file = p.ast.files[static_cast<std::size_t>(st.ast_file)];
    const bool described = st.reusable && st.decls.size() == file.decls.size();
    undescribed = undescribed || !described;
    for (std::size_t k = 0; k < file.decls.size(); ++k) {
      decls.emplace_back(&file.decls[k], described ? &st.decls[k] : nullptr);
    }
  }
  std::vector<DeclCheck> scratch(undescribed ? decls.size() : 0);  // records nobody keeps
  ic.records.reserve(decls.size());
  ic.replay.reserve(decls.size());
  p.graphs.reserve(prev_graphs_);
  for (std::size_t flat = 0; flat < decls.size(); ++flat) {
    DeclInfo* info = decls[flat].second;
    const bool replay = info != nullptr && info->reused && info->old_types != nullptr && info->check_gen != 0 &&
                        info->check_gen == check_gen_;
    ic.records.push_back(info != nullptr ? &info->check : &scratch[flat]);
    ic.replay.push_back(replay);
    if (replay) {
      std::copy_n(info->old_types, info->id_count, p.expr_types.begin() + info->id_lo);
      std::copy_n(info->old_syms, info->id_count, p.expr_symbols.begin() + info->id_lo);
    }
  }
  check_program_incremental(p, ic);
  if (!ic.same_interface) ++check_gen_;
  stats_.decls_checked = ic.checked;
  stats_.decls_replayed = ic.replayed;

  for (std::size_t flat = 0; flat < decls.size(); ++flat) {
    const Decl& d = *decls[flat].first;
    DeclInfo* info = decls[flat].second;
    if (!std::holds_alternative<ScenarioDecl>(d.v) && !std::holds_alternative<BroadcastDecl>(d.v)) continue;
    bool kept = false;
    if (info != nullptr && info->moved_graph && info->old_types != nullptr) {
      const bool same =
          (ic.same_interface && ic.replay[flat]) ||
          std::equal(info->old_types, info->old_types + info->id_count, p.expr_types.begin() + info->id_lo);
      if (same) {
        StepGraph g = std::move(*info->moved_graph);
        g.decl = &d;
        p.graphs.push_back(std::move(g));
        for (const auto& gd : info->graph_diags) p.diags.all().push_back(gd);
        kept = true;
      }
    }
    if (!kept) {
      const std::size_t diags_before = p.diags.all().size();
      p.graphs.push_back(std::move(*lower_decl(p, d)));
      check_graph(p, p.graphs.back());
      if (info != nullptr) {
        info->graph_diags.assign(p.diags.all().begin() + static_cast<std::ptrdiff_t>(diags_before),
                                 p.diags.all().end());
      }
    }
    if (info != nullptr) info->graph = static_cast<std::int32_t>(p.graphs.size() - 1);
  }
  prev_graphs_ = p.graphs.size();
  p.diags.drop_syntax_cascades(p.sources);
  p.diags.sort();
  // Every record now holds under the interface just seen (unless a segment
  // is defined in terms of itself, where that is reported depends on the
  // order of the checks, or a segment's name is declared twice, where which
  // declaration owns it decides which is checked: those records are never
  // replayed).
  for (auto& st : states) {
    for (auto& d : st.decls) {
      d.check_gen = ic.segment_cycle || ic.segment_duplicates ? 0 : check_gen_;
      d.reused = false;
      d.moved_graph.reset();
      d.old_types = nullptr;
      d.old_syms = nullptr;
    }
  }
}

void IncrementalCompiler::reset() {
  compiled_ = false;
  prev_files_.clear();
  prev_root_.clear();
  copies_.clear();
  stale_.clear();
}

std::shared_ptr<const Program> IncrementalCompiler::compile(std::string root,
                                                            std::vector<std::pair<std::string, std::string>> files) {
  try {
    return compile_files(std::move(root), std::move(files));
  } catch (...) {
    reset();  // the previous state may be half moved into the failed compile: start over next time
    throw;
  }
}

std::shared_ptr<const Program> IncrementalCompiler::compile_files(
    std::string root, std::vector<std::pair<std::string, std::string>> files) {
  stats_ = Stats{};
  // A caller that does not call prepare() between compiles frees here what
  // prepare() would have freed.
  if (!prepared_) stale_.clear();
  prepared_ = false;
  auto p = std::make_shared<Program>();
  p->root = std::move(root);
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [path, text] : files) p->sources.add(std::move(path), std::move(text));

  // Reuse only when the same files, in the same order, were compiled last time.
  bool same_files = compiled_ && prev_root_ == p->root && prev_files_.size() == p->sources.size();
  for (std::uint32_t i = 0; same_files && i < p->sources.size(); ++i) {
    same_files = prev_files_[i].path == p->sources.file(i).path;
  }
  if (!same_files) {
    for (auto& c : copies_) stale_.push_back(std::move(c));
    copies_.clear();
  }
  copies_.resize(p->sources.size());

  std::vector<FileState> states(p->sources.size());
  std::vector<bool> consumed(p->sources.size(), false);  // the previous state gave its records away
  std::vector<std::unique_ptr<Copy>> taken;              // copies in use by this compile
  NodeId next = 0;
  for (std::uint32_t i = 0; i < p->sources.size(); ++i) {
    const auto& f = p->sources.file(i);
    FileState& st = states[i];
    st.path = f.path;
    const std::string_view text = f.text;

    // Reuse: the previous file had a clean parse and the text is valid UTF-8 of a sane size.
    FileState* old = same_files && prev_files_[i].reusable ? &prev_files_[i] : nullptr;
    if (old != nullptr && text.size() >= 0xFFFFFFF0u) old = nullptr;
    std::string_view otext;
    std::size_t pre = 0;
    std::size_t suf = 0;
    if (old != nullptr) {
      otext = old->base->sources.file(old->source).text;
      // The edit: common prefix and suffix of the old and new texts.
      const std::size_t lim = std::min(otext.size(), text.size());
      // (A block at a time, then a byte at a time.)
      constexpr std::size_t kBlock = 64;
      while (pre + kBlock <= lim && std::memcmp(otext.data() + pre, text.data() + pre, kBlock) == 0) pre += kBlock;
      while (pre < lim && otext[pre] == text[pre]) ++pre;
      while (suf + kBlock <= lim - pre && std::memcmp(otext.data() + otext.size() - suf - kBlock,
                                                      text.data() + text.size() - suf - kBlock, kBlock) == 0) {
        suf += kBlock;
      }
      while (suf < lim - pre && otext[otext.size() - 1 - suf] == text[text.size() - 1 - suf]) ++suf;
      // The old text was valid UTF-8 and the lines outside the edit are the same
      // bytes: only the edited lines need the check.
      const auto from = pre == 0 ? std::string_view::npos : text.rfind('\n', pre - 1);
      const std::size_t lo = from == std::string_view::npos ? 0 : from + 1;
      const auto to = text.find('\n', text.size() - suf);
      const std::size_t hi = to == std::string_view::npos ? text.size() : to;
      if (first_invalid_utf8(text.substr(lo, hi - lo)) != std::string::npos) old = nullptr;
    }
    if (old != nullptr) {
      const auto n = old->decls.size();
      const bool unchanged = pre == otext.size() && pre == text.size();
      const auto change_end = static_cast<std::uint32_t>(otext.size() - suf);  // in the old text
      const std::int64_t delta = static_cast<std::int64_t>(text.size()) - static_cast<std::int64_t>(otext.size());
      const auto p0 = static_cast<std::uint32_t>(pre);

      // Declarations [i0, j) are re-parsed from the text [a, b) (new offsets).
      //
      // Why this equals a full parse: between declarations the file rule only
      // skips separators, so a full parse reaches a declaration's start in the
      // same state whatever came before. A declaration's rules look ahead at
      // most to the end of the line where it ends (`sp` never crosses a line;
      // a continuation on the next line needs an operator, comma or bracket
      // before the line break, which is inside the declaration), so a
      // declaration whose last line ends before the edit (`dep_end`) parses
      // the same. Re-parsing starts at the first declaration that can see the
      // edit (or at the start of the edited line when the edit is between
      // declarations: a line start is never inside a comment) and stops at the
      // first declaration after the edit that starts a line; the stretch must
      // parse without errors, and its last declaration must end before that
      // line break. The declarations after it are the same text, so they parse
      // the same, only shifted.
      std::size_t i0 = n;
      std::size_t j = n;
      std::uint32_t a = 0;
      std::uint32_t b = 0;
      bool ok = true;
      if (!unchanged) {
        i0 = static_cast<std::size_t>(
            std::upper_bound(old->decls.begin(), old->decls.end(), p0,
                             [](std::uint32_t at, const DeclInfo& d) { return at < d.dep_end; }) -
            old->decls.begin());
        if (i0 < n && old->decls[i0].begin <= p0) {
          a = old->decls[i0].begin;
        } else {
          const auto nl = p0 == 0 ? std::string_view::npos : otext.rfind('\n', p0 - 1);
          a = nl == std::string_view::npos ? 0 : static_cast<std::uint32_t>(nl + 1);
        }
        j = i0;
        while (j < n && old->decls[j].begin < change_end) ++j;
        b = j < n ? static_cast<std::uint32_t>(old->decls[j].begin + delta) : static_cast<std::uint32_t>(text.size());
        // The next reused declaration must start a line, so that nothing re-parsed reads into it.
        if (j < n && (b == 0 || text[b - 1] != '\n')) ok = false;
      }

      grammar::SyntaxTree tree;
      if (ok && !unchanged) {
        tree = grammar::parse(text.substr(a, b - a));
        ok = tree.errors.empty() && tree.nodes.back().kind == grammar::Syn::File;
        if (ok) {
          for (auto& node : tree.nodes) {
            node.begin += a;
            node.end += a;
          }
          // The last re-parsed declaration ends before the line break that precedes the reused one.
          const auto kids = tree.children(tree.root());
          if (!kids.empty() && j < n && tree.nodes[kids.back()].end >= b) ok = false;
        }
      }

      if (ok) {
        // The base's declarations, as a private copy to move and edit: the one
        // prepare() made while the user typed, or one made now.
        std::unique_ptr<Copy> copy = std::move(copies_[i]);
        if (!copy || copy->of != old->base) {
          copy = make_copy(*old);
          ++stats_.files_copied;
        }
        Copy& c = *copy;
        taken.push_back(std::move(copy));
        consumed[i] = true;
        // The copy's declarations and the old descriptions (with their
        // records), edited in place: the re-parsed stretch replaced, the
        // others moved to where a full parse puts them.
        std::vector<Decl> decls = std::move(c.decls);
        std::vector<DeclInfo> infos = std::move(old->decls);
        const NodeId first_id = n > 0 ? infos[0].id_lo : 0;
        auto reuse = [&](std::size_t k, std::size_t k_old, std::int64_t d) {
          DeclInfo& ni = infos[k];
          const NodeId old_lo = ni.id_lo;
          const Shift sh{d, static_cast<std::int64_t>(next + 1) - static_cast<std::int64_t>(old_lo)};
          sh.decl(decls[k]);
          ni.reused = true;
          ni.begin = static_cast<std::uint32_t>(ni.begin + d);
          ni.end = static_cast<std::uint32_t>(ni.end + d);
          ni.dep_end = static_cast<std::uint32_t>(ni.dep_end + d);
          ni.id_lo = next + 1;
          for (auto& bd : ni.build_diags) {
            sh.diag(bd);
            p->diags.all().push_back(bd);
          }
          for (auto& cd : ni.check.diags) sh.diag(cd);
          if (d != 0) {
            for (auto& ref : ni.check.refs) sh.span(ref.span);
          }
          if (c.graphs[k_old]) {
            ni.moved_graph = std::move(c.graphs[k_old]);
            if (d != 0) ni.moved_graph->update_nodes([&](StepNode& gn) { sh.span(gn.span); });
            for (auto& gd : ni.graph_diags) sh.diag(gd);
          } else {
            ni.graph_diags.clear();
          }
          ni.old_types = c.types.data() + (old_lo - first_id);
          ni.old_syms = c.syms.data() + (old_lo - first_id);
          next += ni.id_count;
          ++stats_.decls_reused;
        };
        for (std::size_t k = 0; k < i0; ++k) reuse(k, k, 0);
        bool placed = true;
        std::size_t after = j;  // the first declaration after the stretch, in the new order
        if (!unchanged) {
          Diagnostics built;
          File fresh = build_ast(tree, f, i, next, built);
          std::vector<DeclInfo> fresh_infos;
          describe(fresh.decls, 0, next, text, fresh_infos);
          const std::size_t m = fresh.decls.size();
          if (m == j - i0) {
            for (std::size_t t = 0; t < m; ++t) {
              decls[i0 + t] = std::move(fresh.decls[t]);
              infos[i0 + t] = std::move(fresh_infos[t]);
            }
          } else {
            decls.erase(decls.begin() + static_cast<std::ptrdiff_t>(i0),
                        decls.begin() + static_cast<std::ptrdiff_t>(j));
            decls.insert(decls.begin() + static_cast<std::ptrdiff_t>(i0), std::make_move_iterator(fresh.decls.begin()),
                         std::make_move_iterator(fresh.decls.end()));
            infos.erase(infos.begin() + static_cast<std::ptrdiff_t>(i0),
                        infos.begin() + static_cast<std::ptrdiff_t>(j));
            infos.insert(infos.begin() + static_cast<std::ptrdiff_t>(i0), std::make_move_iterator(fresh_infos.begin()),
                         std::make_move_iterator(fresh_infos.end()));
          }
          after = i0 + m;
          stats_.decls_reparsed += static_cast<std::uint32_t>(m);
          for (const auto& d : built.all()) p->diags.all().push_back(d);
          // (Every diagnostic of a declaration lies inside it; should one not, this
          // compile is still right, but the next one parses the file whole.)
          placed = place_diags(built.all(), infos, i0, after);
        }
        for (std::size_t k = after; k < decls.size(); ++k) reuse(k, k - after + j, delta);
        File out;
        out.source = i;
        out.decls = std::move(decls);
        st.decls = std::move(infos);
        st.reusable = placed;
        if (!placed) st.decls.clear();
        st.ast_file = static_cast<std::int64_t>(p->ast.files.size());
        p->ast.files.push_back(std::move(out));
        ++(unchanged ? stats_.files_reused : stats_.files_patched);
        continue;
      }
    }

    // A whole file, exactly as compile_sources does it.
    ++stats_.files_parsed;
    if (f.text.size() >= 0xFFFFFFF0u) {
      p->diags.report(Code::E001, Span{i, 0, 0}, "file is too large (4 GiB or more)");
      continue;
    }
    bool clean = true;
    if (const auto bad = first_invalid_utf8(f.text); bad != std::string::npos) {
      p->diags.report(Code::E001, Span{i, static_cast<std::uint32_t>(bad), static_cast<std::uint32_t>(bad + 1)},
                      "the file is not valid UTF-8 here; save it as UTF-8");
      clean = false;
    }
    const auto tree = grammar::parse(f.text);
    Diagnostics built;
    File out = build_ast(tree, f, i, next, built);
    for (const auto& d : built.all()) p->diags.all().push_back(d);
    clean = clean && tree.errors.empty();
    describe(out.decls, 0, next, text, st.decls);
    st.reusable = clean && place_diags(built.all(), st.decls, 0, st.decls.size());
    if (!st.reusable) st.decls.clear();
    st.ast_file = static_cast<std::int64_t>(p->ast.files.size());
    p->ast.files.push_back(std::move(out));
  }
  p->ast.node_count = next;
  check(*p, states);

  for (std::uint32_t i = 0; i < states.size(); ++i) {
    if (states[i].reusable) {
      states[i].base = p;
      states[i].source = i;
    } else if (same_files && prev_files_[i].reusable && !consumed[i]) {
      states[i] = std::move(prev_files_[i]);  // a syntax error: the next edit diffs against the last clean text
    }
  }
  // A copy of a base that a file still has (it did not parse) stays for the
  // next compile; the others, and what is left of those used, are freed by
  // the next prepare().
  for (std::uint32_t i = 0; i < copies_.size(); ++i) {
    if (copies_[i] && !(i < states.size() && states[i].base == copies_[i]->of)) stale_.push_back(std::move(copies_[i]));
  }
  for (auto& c : taken) stale_.push_back(std::move(c));
  compiled_ = true;
  prev_root_ = p->root;
  prev_files_ = std::move(states);
  return p;
}

}  // namespace okuri
