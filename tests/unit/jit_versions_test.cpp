// Compiled conditions across versions of a project. Code compiled for one layout of the
// friend's columns reads its columns at fixed slots; a version that adds, removes or
// reorders tags, scores or fields moves those slots. Every cache of compiled code (the
// engines' shared one in the process, and the object cache on disk) must tell the layouts
// apart: here the JIT is checked against the interpreter after each change, on friends
// carried from version to version as a hot reload carries them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <random>

#include <unistd.h>

#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "runtime/engine.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/jit/jit.hpp"
#include "tests/support/predicate_gen.hpp"

using namespace okuri;

namespace {

constexpr int kConditions = 120;

// The same conditions in every version; only the declarations around them change.
std::string rules(std::mt19937_64& rng) {
  std::string out = "event probe\n";
  for (int i = 0; i < kConditions; ++i) out += "on probe when " + testgen::random_predicate(rng) + " { pass }\n";
  return out;
}

// The declarations with their `field` lines in reverse order (every field moves to another slot).
std::string fields_reversed(const std::string& base) {
  std::vector<std::string> fields;
  std::string others;
  std::size_t at = 0;
  while (at < base.size()) {
    const std::size_t end = base.find('\n', at);
    const std::string line = base.substr(at, end == std::string::npos ? std::string::npos : end - at + 1);
    if (line.rfind("field ", 0) == 0) {
      fields.push_back(line);
    } else {
      others += line;
    }
    if (end == std::string::npos) break;
    at = end + 1;
  }
  std::string out = others;
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) out += *it;
  return out;
}

// Each version shifts the slots of the one before in another way.
std::vector<std::string> versions(const std::string& base, const std::string& conditions) {
  const std::string first_line = base.substr(0, base.find('\n') + 1);
  const std::string rest = base.substr(first_line.size());
  return {
      base + conditions,
      base + "tag zzz_new\n" + conditions,                                          // a tag appended
      "tag aaa_new\nscore s_front\n" + base + conditions,                           // a tag and a score in front
      base + "field extra: int\nlink l9 \"https://example.com/9\"\n" + conditions,  // a field and a link
      "tag t2, t1, t0, 体験済み\n" + rest + conditions,                             // tags reordered
      base + conditions,                                                            // back to the first
      "audience a_front\nscore s2\nscore s3\n" + base + conditions,                 // an audience and two scores
      "audience a_front\nscore s3\nscore s2\n" + base + conditions,                 // named scores reordered
      fields_reversed(base) + conditions,                                           // fields reordered, scores removed
  };
}

std::vector<const ast::Expr*> conditions_of(const Program& p) {
  std::vector<const ast::Expr*> out;
  for (const auto& f : p.ast.files) {
    for (const auto& d : f.decls) {
      if (const auto* r = std::get_if<ast::RuleDecl>(&d.v); r != nullptr && r->when) out.push_back(r->when.get());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("JIT row conditions agree with the interpreter after every change of layout, friends carried over",
          "[jit][versions]") {
  if (!jit::Jit::available()) {
    WARN("built without the JIT: nothing to compare");
    return;
  }
  std::mt19937_64 rng(20261205);
  const std::string base = testgen::project_declarations();
  const auto sources = versions(base, rules(rng));
  const stdlib::Zone zone("Asia/Tokyo");
  const auto env = testgen::fixed_env(zone);
  std::vector<std::unique_ptr<Program>> programs;
  std::unique_ptr<rt::Engine> jit_engine, interp_engine;
  const auto compile_rows = jit::engine_row_compiler("", jit::Tier::Baseline);
  std::size_t compared = 0;
  for (std::size_t v = 0; v < sources.size(); ++v) {
    INFO("version " << v);
    programs.push_back(compile_sources(".", {{"main.okuri", sources[v]}}));
    const Program& p = *programs.back();
    if (p.diags.error_count() != 0) FAIL(render_human(p.sources, p.diags.all()));
    rt::EngineOptions with_jit;
    with_jit.compile_rows = compile_rows;
    auto je = std::make_unique<rt::Engine>(p, with_jit);
    auto ie = std::make_unique<rt::Engine>(p, rt::EngineOptions{});
    REQUIRE(je->jit());
    je->start_at(env.now);
    ie->start_at(env.now);
    if (v == 0) {
      std::mt19937_64 a(7), b(7);
      testgen::random_friends(je->store(), a, 200, env);
      testgen::random_friends(ie->store(), b, 200, env);
    } else {
      je->take_over(*jit_engine);
      ie->take_over(*interp_engine);
    }
    REQUIRE(je->store().size() == 200);
    const auto conds = conditions_of(p);
    REQUIRE(conds.size() == static_cast<std::size_t>(kConditions));
    for (std::size_t c = 0; c < conds.size(); ++c) {
      for (std::uint32_t row = 0; row < je->store().size(); ++row) {
        const bool want = ie->holds(*conds[c], row);
        if (je->holds(*conds[c], row) != want) {
          FAIL("condition `" << p.sources.text(conds[c]->span) << "` on friend " << je->store().id_of(row)
                             << ": the JIT says " << !want << ", the interpreter " << want
                             << " (inputs: " << ie->inputs_of(*conds[c], row) << ")");
        }
        ++compared;
      }
    }
    jit_engine = std::move(je);
    interp_engine = std::move(ie);
  }
  CHECK(compared == sources.size() * kConditions * 200);
}

TEST_CASE("the object cache on disk keys compiled code by the layout it reads", "[jit][versions]") {
  if (!jit::Jit::available()) {
    WARN("built without the JIT: nothing to compare");
    return;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("okuri-jit-versions-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string base = testgen::project_declarations();
  std::mt19937_64 rng(99);
  std::string segments;
  for (int i = 0; i < 60; ++i)
    segments += "segment s" + std::to_string(i) + " = " + testgen::random_predicate(rng) + "\n";
  const stdlib::Zone zone("Asia/Tokyo");
  const auto env = testgen::fixed_env(zone);
  // The same segments, before and after a tag is added in front (every later slot moves), then
  // the first layout again: only that one may come from the disk.
  const std::vector<std::string> layouts = {base, "tag aaa_new\n" + base, base};
  const std::vector<bool> cached = {false, false, true};
  for (std::size_t k = 0; k < layouts.size(); ++k) {
    const std::string& decls = layouts[k];
    auto p = compile_sources(".", {{"main.okuri", decls + segments}});
    REQUIRE(p->diags.error_count() == 0);
    ir::Schema schema = ir::make_schema(*p);
    const auto preds = ir::lower_segments(*p, schema);
    rt::FriendStore store(schema);
    std::mt19937_64 friends(5);
    testgen::random_friends(store, friends, 150, env);
    // A new JIT each time: as a new process would, it can only share code through the disk.
    jit::Jit j(jit::JitOptions{dir.string()});
    const auto compiled = j.compile("segments", preds, schema, jit::Tier::Baseline);
    CHECK(compiled.from_cache == cached[k]);
    rt::ColumnBinding cols;
    cols.bind(store);
    const rt::EnvAbi abi{env.now, env.today, env.zone};
    for (std::size_t i = 0; i < preds.size(); ++i) {
      std::vector<std::uint64_t> want;
      rt::scan(preds[i], store, env, want);
      for (std::uint32_t r = 0; r < store.size(); ++r) {
        const bool w = ((want[r / 64] >> (r % 64)) & 1) != 0;
        INFO("segment s" << i << " row " << r << (compiled.from_cache ? " (from the disk cache)" : ""));
        REQUIRE((compiled.row[i](cols.slots.data(), &abi, r, nullptr) != 0) == w);
      }
    }
  }
  std::filesystem::remove_all(dir);
}
