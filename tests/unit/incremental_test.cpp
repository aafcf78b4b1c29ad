// The incremental compiler against compile_sources: after every random edit
// (of the benchmark fixture and of the example projects) the Program must be
// the same — AST, node ids, spans, symbols, references, types and diagnostics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bench/project_gen.hpp"
#include "compiler/ast_dump.hpp"
#include "compiler/incremental.hpp"
#include "compiler/workspace.hpp"

namespace {

using namespace okuri;
using Files = std::vector<std::pair<std::string, std::string>>;

std::string span_text(Span s) { return fmt::format("{}:{}-{}", s.file, s.begin, s.end); }

// The statements, wait cases and conditions of a Program's AST, by address.
struct AstNodes {
  std::set<const void*> decls, stmts, cases, exprs;
  void block(const ast::Block& b) {
    for (const auto& st : b.stmts) {
      if (!st) continue;
      stmts.insert(st.get());
      if (const auto* r = std::get_if<ast::RepeatStmt>(&st->v)) block(r->body);
      if (const auto* s = std::get_if<ast::StepStmt>(&st->v)) block(s->body);
      if (const auto* i = std::get_if<ast::IfStmt>(&st->v)) {
        for (const auto& a : i->arms) {
          exprs.insert(a.cond.get());
          block(a.body);
        }
        if (i->else_body) block(*i->else_body);
      }
      if (const auto* sp = std::get_if<ast::SplitStmt>(&st->v)) {
        for (const auto& a : sp->arms) block(a.body);
      }
      if (const auto* w = std::get_if<ast::WaitStmt>(&st->v)) {
        for (const auto& c : w->cases) {
          cases.insert(&c);
          exprs.insert(c.cond.get());
          block(c.body);
        }
      }
    }
  }
};

// Everything a Program says, as text.
std::string describe(const Program& p) {
  std::string out;
  for (const auto& f : p.ast.files) {
    out += fmt::format("file {}\n{}\n", f.source, dump_ast(f));
    for (const auto& d : f.decls) out += fmt::format("decl {} {}\n", d.id, span_text(d.span));
  }
  out += fmt::format("nodes {}\n", p.ast.node_count);
  for (const auto& s : p.symbols) {
    out += fmt::format("sym {} {} {} {} uses {} msgs {}\n", kind_word(s.kind), s.name, span_text(s.span), s.scope, s.uses,
                       s.message_count);
  }
  for (const auto& r : p.references) out += fmt::format("ref {} {}\n", span_text(r.span), r.symbol);
  for (std::size_t i = 0; i < p.expr_types.size(); ++i) {
    out += fmt::format("type {} {} {}\n", i, static_cast<int>(p.expr_types[i].kind), p.types.describe(p.expr_types[i]));
  }
  for (std::size_t id = 0; id < p.expr_symbols.size(); ++id) {
    if (p.expr_symbols[id] != Program::kNoSymbol) out += fmt::format("exprsym {} {}\n", id, p.expr_symbols[id]);
  }
  for (const auto& d : p.diags.all()) {
    out += fmt::format("diag {} {} {}\n", info(d.code).name, span_text(d.span), d.message);
    for (const auto& n : d.notes) out += fmt::format("  note {} {}\n", n.span ? span_text(*n.span) : "-", n.message);
    if (d.fix) out += fmt::format("  fix {} {}\n", span_text(d.fix->span), d.fix->replacement);
  }
  // The graphs point into this Program's AST (not a previous one's).
  AstNodes own;
  for (const auto& f : p.ast.files) {
    for (const auto& d : f.decls) {
      own.decls.insert(&d);
      if (const auto* sc = std::get_if<ast::ScenarioDecl>(&d.v)) own.block(sc->body);
      if (const auto* b = std::get_if<ast::BroadcastDecl>(&d.v)) own.block(b->body);
      if (const auto* r = std::get_if<ast::RuleDecl>(&d.v)) own.block(r->body);
    }
  }
  auto mine = [](const auto& set, const void* x) { return x == nullptr || set.count(x) > 0 ? "" : " FOREIGN"; };
  for (const auto& g : p.graphs) {
    out += fmt::format("graph {} {} {} nodes {}{}\n", g.name, g.is_broadcast, g.decl ? g.decl->id : 0, g.node_count(),
                       mine(own.decls, g.decl));
    for (std::size_t i = 0; i < g.node_count(); ++i) {
      const auto& n = g.node(static_cast<std::uint32_t>(i));
      out += fmt::format("  {} {} {} {} {} {} [{}] {} {} {}{}\n", n.id, static_cast<int>(n.kind), n.named, n.label,
                         span_text(n.span), n.stmt ? n.stmt->id : 0, fmt::join(n.messages, ","), n.max_wait,
                         n.may_not_wait, n.stmt ? span_text(n.stmt->span) : "-", mine(own.stmts, n.stmt));
      for (const auto& e : g.out_edges(static_cast<std::uint32_t>(i))) {
        out += fmt::format("    -> {} {} {} {} {} cond {} {}{} case {}{}\n", e.to, static_cast<int>(e.kind), e.label,
                           e.percent, e.takes_time, e.cond ? e.cond->id : 0, e.cond ? span_text(e.cond->span) : "-",
                           mine(own.exprs, e.cond), e.wait_case ? span_text(e.wait_case->span) : "-",
                           mine(own.cases, e.wait_case));
      }
    }
  }
  return out;
}

// One random edit: a character typed or deleted, a line break, a bracket, a
// quote, a comment, a whole line duplicated or removed, a word pasted.
void random_edit(std::string& text, std::mt19937& rng) {
  auto pick = [&](std::size_t n) { return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n); };
  const std::size_t at = pick(text.size() + 1);
  static const char* const kBits[] = {"a", "x", "1", " ", "\n", "{", "}", "(", ")", "\"", "#", ",", "=", "_",
                                      "send ", "tag ", "on ", "message ", "segment z = ", "or ", " and ", "é",
                                      "\n}\n", "\nscenario q {\n", "\ntag zz\n", "7d", "ー", "\t"};
  switch (pick(6)) {
    case 0:
    case 1:
      text.insert(at, kBits[pick(std::size(kBits))]);
      break;
    case 2:
    case 3:
      if (at < text.size()) text.erase(at, 1 + pick(std::min<std::size_t>(3, text.size() - at)));
      break;
    case 4: {  // duplicate or remove a line
      const auto ls = at == 0 ? 0 : text.rfind('\n', at - 1) + 1;
      auto le = text.find('\n', at);
      le = le == std::string::npos ? text.size() : le + 1;
      const std::string line = text.substr(ls, le - ls);
      if (pick(2) == 0) {
        text.insert(ls, line);
      } else {
        text.erase(ls, le - ls);
      }
      break;
    }
    default: {  // paste a fragment of the text elsewhere
      const std::size_t from = pick(text.size());
      const std::size_t len = std::min<std::size_t>(1 + pick(40), text.size() - from);
      text.insert(at, text.substr(from, len));
      break;
    }
  }
  // Keep the text valid UTF-8 most of the time: a cut inside a character is repaired by dropping its tail.
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    bool good = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; good && k < len; ++k) good = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    if (!good) {
      text.erase(i, 1);
      continue;
    }
    i += len;
  }
}

// Applies `edits` random edits (one file at a time) and compares after each,
// undoing an edit that broke the syntax (after comparing) and some others.
void run(Files files, unsigned seed, int edits) {
  std::mt19937 rng(seed);
  IncrementalCompiler inc;
  bool syntax_error = false;
  std::shared_ptr<const Program> last;  // the previous result, which later compiles must leave alone
  std::string last_described;
  std::uint32_t replayed = 0;
  std::uint32_t checked = 0;
  auto check = [&](const Files& fs) {
    auto full = compile_sources(".", fs);
    syntax_error = std::any_of(full->diags.all().begin(), full->diags.all().end(),
                               [](const Diagnostic& d) { return d.code == Code::E001; });
    // Half of the time the copy to edit is made ahead, as the server does.
    if (rng() % 2 == 0) inc.prepare();
    auto part = inc.compile(".", fs);
    replayed += inc.last_stats().decls_replayed;
    checked += inc.last_stats().decls_checked;
    const auto a = describe(*full);
    const auto b = describe(*part);
    if (a != b) {
      std::string texts;
      for (const auto& [path, text] : fs) texts += "--- " + path + "\n" + text + "\n";
      INFO(texts);
      REQUIRE(b == a);
    }
    if (last) REQUIRE(describe(*last) == last_described);
    last = part;
    last_described = b;
  };
  check(files);
  std::uint32_t patched = 0;
  for (int e = 0; e < edits; ++e) {
    auto& f = files[rng() % files.size()];
    const std::string before = f.second;
    random_edit(f.second, rng);
    check(files);
    patched += inc.last_stats().files_patched;
    // Back to the text before after a syntax error, and half of the time
    // otherwise: most keystrokes land in a file that parses.
    if (syntax_error || rng() % 2 == 0) {
      f.second = before;
      check(files);
      patched += inc.last_stats().files_patched;
    }
  }
  // The point of it all: most edits were handled without parsing a whole
  // file, and declarations' checks were replayed (random edits rename and
  // add names often, which checks every body again).
  CHECK(patched > static_cast<std::uint32_t>(edits / 2));
  CHECK(replayed > 0);
  CHECK(checked > 0);
}

Files read_project(const std::string& dir) {
  Files out;
  for (const auto& path : project_files(dir)) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.emplace_back(std::filesystem::path(path).filename().string(), ss.str());
  }
  return out;
}

}  // namespace

TEST_CASE("incremental compile equals a full compile after random edits of the 500-line fixture", "[incremental]") {
  run({{"bench.okuri", bench::generate_project(500)}}, 1, 300);
}

TEST_CASE("incremental compile equals a full compile after random edits of the examples", "[incremental]") {
  unsigned seed = 10;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(OKURI_SOURCE_DIR) + "/examples")) {
    if (!entry.is_directory()) continue;
    SECTION(entry.path().filename().string()) { run(read_project(entry.path().string()), seed, 150); }
    ++seed;
  }
}

TEST_CASE("incremental compile: an edit in one declaration re-parses only that declaration", "[incremental]") {
  std::string text = bench::generate_project(500);
  IncrementalCompiler inc;
  inc.compile(".", {{"bench.okuri", text}});
  CHECK(inc.last_stats().files_parsed == 1);
  const auto at = text.find("segment s0_7 = age in ");
  REQUIRE(at != std::string::npos);
  text.insert(at + std::string("segment s0_7 = age in ").size(), "1");
  auto p = inc.compile(".", {{"bench.okuri", text}});
  CHECK(inc.last_stats().files_patched == 1);
  CHECK(inc.last_stats().decls_reparsed == 1);
  CHECK(inc.last_stats().files_copied == 1);  // no copy made ahead
  // Only the edited segment's body is checked again; the others are replayed.
  const auto decls = static_cast<std::uint32_t>(p->ast.files[0].decls.size());
  CHECK(inc.last_stats().decls_checked == 1);
  CHECK(inc.last_stats().decls_replayed == decls - 1);
  CHECK(describe(*p) == describe(*compile_sources(".", {{"bench.okuri", text}})));
  // With the copy made ahead, the compile makes none; a scenario edited.
  inc.prepare();
  const auto wait_at = text.find("  wait ");
  REQUIRE(wait_at != std::string::npos);
  text.insert(wait_at + std::string("  wait ").size(), "1");
  p = inc.compile(".", {{"bench.okuri", text}});
  CHECK(inc.last_stats().files_copied == 0);
  CHECK(inc.last_stats().decls_checked == 1);
  CHECK(describe(*p) == describe(*compile_sources(".", {{"bench.okuri", text}})));
  // A renamed tag changes what the first pass declares: every body is checked.
  const auto tag_at = text.find("tag t0_3\n");
  REQUIRE(tag_at != std::string::npos);
  text.insert(tag_at + std::string("tag t0_3").size(), "9");
  p = inc.compile(".", {{"bench.okuri", text}});
  CHECK(inc.last_stats().decls_replayed == 0);
  CHECK(describe(*p) == describe(*compile_sources(".", {{"bench.okuri", text}})));
  // The same text again: nothing re-parsed, still a fresh check.
  inc.compile(".", {{"bench.okuri", text}});
  CHECK(inc.last_stats().files_reused == 1);
  CHECK(inc.last_stats().decls_reparsed == 0);
  // A file added: a full parse.
  inc.compile(".", {{"bench.okuri", text}, {"more.okuri", "tag extra\n"}});
  CHECK(inc.last_stats().files_parsed == 2);
}

// Compiles `steps` in order, with and without the copy made ahead, and
// compares every result with a full compile.
void sequence(const std::vector<Files>& steps) {
  for (int prepared = 0; prepared < 2; ++prepared) {
    IncrementalCompiler inc;
    for (const auto& fs : steps) {
      if (prepared != 0) inc.prepare();
      auto p = inc.compile(".", fs);
      std::string texts;
      for (const auto& [path, text] : fs) texts += "--- " + path + "\n" + text;
      INFO(texts);
      CHECK(describe(*p) == describe(*compile_sources(".", fs)));
    }
  }
}

TEST_CASE("incremental compile: a segment declared twice", "[incremental]") {
  const std::string head = "field level: int\ntag x\nsegment a = vip or tagged(x)\n";
  // The first of two is removed: the second is checked now.
  sequence({{{"d.okuri", head + "segment vip = level >= 5\nsegment vip = level >= 3\n"}},
            {{"d.okuri", head + "segment vip = level >= 3\n"}},
            {{"d.okuri", head + "segment vip = level >= 4\n"}}});
  // A new first one pasted above: the old one is no longer checked.
  sequence({{{"d.okuri", head + "segment vip = level >= 3\n"}},
            {{"d.okuri", head + "segment vip = tagged(x)\nsegment vip = level >= 3\n"}},
            {{"d.okuri", head + "segment vip = tagged(x)\nsegment vip = level >= 4\n"}}});
  // A cycle through the one that takes over.
  sequence({{{"d.okuri", "tag x\nsegment a = b\nsegment b = tagged(x)\nsegment b = a\n"}},
            {{"d.okuri", "tag x\nsegment a = b\nsegment b = a\n"}},
            {{"d.okuri", "tag x\nsegment a = b \nsegment b = a\n"}}});
}

TEST_CASE("incremental compile: a note that points at another declaration", "[incremental]") {
  const std::string rule = "on friend_added {\n  tag welcome\n}\n";
  const std::string msg = "message welcome text \"hi\"\n";
  sequence(
      {{{"n.okuri", rule + msg}}, {{"n.okuri", rule + "# note\n" + msg}}, {{"n.okuri", rule + "\n# note\n" + msg}}});
  // Across files: the note points into the other file.
  sequence({{{"a.okuri", msg}, {"b.okuri", "tag t\n" + rule}},
            {{"a.okuri", "# x\n" + msg}, {"b.okuri", "tag t\n" + rule}},
            {{"a.okuri", "# x\n" + msg}, {"b.okuri", "tag tt\ntag t\n" + rule}}});
}

TEST_CASE("incremental compile: segments used from other files", "[incremental]") {
  // A segment first checked from a declaration in another file, in both orders of the files.
  Files a = {{"a.okuri", "scenario s {\n  start when vip\n  send m\n}\n"},
             {"b.okuri", "tag x\nsegment vip = tagged(x) and age > 20\nmessage m text \"m\"\n"},
             {"c.okuri", "segment other = vip or age < 10\n"}};
  Files b = a;
  b[1].second = "tag x\nsegment vip = tagged(x) and age > 21\nmessage m text \"m\"\n";
  Files c = b;
  c[2].second = "segment other = vip or age < 11\n";
  sequence({a, b, c, a});
  for (auto* fs : {&a, &b, &c}) std::swap((*fs)[0].first, (*fs)[2].first);
  sequence({a, b, c, a});
}

TEST_CASE("incremental compile: segments defined in terms of themselves", "[incremental]") {
  // A cycle made, kept through a syntax error elsewhere, and broken again;
  // each result equals a full compile.
  const std::vector<std::string> texts = {
      "tag x\nsegment a = b and age > 20\nsegment b = tagged(x)\nsegment c = a or b\n",
      "tag x\nsegment a = b and age > 20\nsegment b = tagged(x) or c\nsegment c = a or b\n",
      "tag x\nsegment a = b and age > 20\nsegment b = tagged(x) or c\nsegment c = a or b\nsegment d = (\n",
      "tag x\nsegment a = b and age > 21\nsegment b = tagged(x) or c\nsegment c = a or b\n",
      "tag x\nsegment a = b and age > 21\nsegment b = tagged(x)\nsegment c = a or b\n",
      "tag x\nsegment a = b and age > 22\nsegment b = tagged(x)\nsegment c = a or b\n",
      "tag x\nsegment a = b and age > 22\nsegment b = a\nsegment c = a or b\n",
  };
  for (int prepared = 0; prepared < 2; ++prepared) {
    IncrementalCompiler inc;
    for (const auto& t : texts) {
      if (prepared != 0) inc.prepare();
      auto p = inc.compile(".", {{"c.okuri", t}});
      INFO(t);
      CHECK(describe(*p) == describe(*compile_sources(".", {{"c.okuri", t}})));
    }
  }
}
