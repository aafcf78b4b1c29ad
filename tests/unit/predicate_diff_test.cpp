// The interpreter is the meaning; the JIT must agree with it everywhere.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "runtime/friends_file.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/jit/jit.hpp"
#include "tests/support/predicate_gen.hpp"

using namespace okuri;

namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool bit(const std::vector<std::uint64_t>& m, std::size_t i) { return ((m[i / 64] >> (i % 64)) & 1) != 0; }

}  // namespace

TEST_CASE("JIT and interpreter agree on 50,000+ random predicate and friend pairs", "[predicates][diff]") {
  std::mt19937_64 rng(20261122);
  constexpr int kPreds = 400;
  constexpr std::size_t kFriends = 130;  // two full blocks and a tail
  std::string src = testgen::project_declarations();
  std::vector<std::string> texts;
  for (int i = 0; i < kPreds; ++i) {
    texts.push_back(testgen::random_predicate(rng));
    src += "segment s" + std::to_string(i) + " = " + texts.back() + "\n";
  }
  auto p = compile_sources(".", {{"gen.okuri", src}});
  if (p->diags.error_count() != 0) FAIL(render_human(p->sources, p->diags.all()));
  ir::Schema schema = ir::make_schema(*p);
  const auto preds = ir::lower_segments(*p, schema);
  REQUIRE(preds.size() == kPreds);
  rt::FriendStore store(schema);
  const stdlib::Zone zone("Asia/Tokyo");
  const auto env = testgen::fixed_env(zone);
  testgen::random_friends(store, rng, kFriends, env);

  // The interpreter's two forms agree.
  std::vector<std::vector<std::uint64_t>> masks(preds.size());
  std::size_t pairs = 0;
  std::size_t hits = 0;
  for (std::size_t i = 0; i < preds.size(); ++i) {
    rt::scan(preds[i], store, env, masks[i]);
    for (std::uint32_t r = 0; r < store.size(); ++r) {
      INFO("predicate " << texts[i] << " friend row " << r);
      REQUIRE(rt::eval_row(preds[i], store, r, env) == bit(masks[i], r));
      ++pairs;
      hits += bit(masks[i], r) ? 1 : 0;
    }
  }
  CHECK(pairs >= 50000);
  // Both outcomes are exercised.
  CHECK(hits > pairs / 10);
  CHECK(hits < pairs * 9 / 10);

  if (!jit::Jit::available()) return;
  jit::Jit j;
  rt::ColumnBinding binding;
  binding.bind(store);
  const rt::EnvAbi abi{env.now, env.today, env.zone};
  for (auto tier : {jit::Tier::Baseline, jit::Tier::Optimized}) {
    const auto compiled = j.compile("diff", preds, schema, tier);
    for (std::size_t i = 0; i < preds.size(); ++i) {
      std::vector<std::uint64_t> out((store.size() + 63) / 64, 0);
      compiled.scan[i](binding.slots.data(), &abi, store.size(), out.data());
      for (std::uint32_t r = 0; r < store.size(); ++r) {
        INFO("tier " << static_cast<int>(tier) << " predicate " << texts[i] << " friend row " << r << "\n" << ir::print(preds[i]));
        REQUIRE(bit(out, r) == bit(masks[i], r));
        REQUIRE((compiled.row[i](binding.slots.data(), &abi, r, nullptr) != 0) == bit(masks[i], r));
      }
    }
  }
}

TEST_CASE("event fields read the same in both back ends", "[predicates][diff]") {
  auto p = compile_sources(".", {{"e.okuri",
                                  "event purchase { amount: int, note: text }\n"
                                  "on purchase when event.amount >= 5000 and contains(event.note, \"ギフト\") { pass }\n"}});
  REQUIRE(p->diags.error_count() == 0);
  ir::Schema schema = ir::make_schema(*p);
  const ast::Expr* cond = nullptr;
  for (const auto& d : p->ast.files[0].decls) {
    if (const auto* r = std::get_if<ast::RuleDecl>(&d.v)) cond = r->when.get();
  }
  REQUIRE(cond != nullptr);
  const auto pred = ir::lower_predicate(*p, schema, *cond, "rule");
  REQUIRE(pred.uses_event());
  rt::FriendStore store(schema);
  store.add("U1");
  const stdlib::Zone zone("Asia/Tokyo");
  rt::EvalEnv env;
  env.zone = &zone;
  for (auto [amount, note, known, want] : std::vector<std::tuple<int, std::string, bool, bool>>{
           {6000, "ギフト包装", true, true}, {4000, "ギフト", true, false}, {6000, "自宅用", true, false}, {6000, "", false, false}}) {
    rt::EventValues ev(schema.event_fields.size());
    for (std::size_t k = 0; k < schema.event_fields.size(); ++k) {
      if (schema.event_fields[k] == "amount") ev[k] = rt::EventValue{true, amount, ""};
      if (schema.event_fields[k] == "note") ev[k] = rt::EventValue{known, 0, note};
    }
    CHECK(rt::eval_row(pred, store, 0, env, &ev) == want);
    if (jit::Jit::available()) {
      jit::Jit j;
      const auto c = j.compile("event", {pred}, schema, jit::Tier::Baseline);
      rt::ColumnBinding b;
      b.bind(store);
      rt::EventBinding eb;
      eb.bind(ev);
      const rt::EnvAbi abi{env.now, env.today, env.zone};
      CHECK((c.row[0](b.slots.data(), &abi, 0, &eb.abi) != 0) == want);
    }
  }
}

TEST_CASE("the conformance corpus gives the expected friends on every back end", "[predicates][conformance]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(OKURI_SOURCE_DIR) / "tests/conformance/predicates";
  // Divergences we know of and accept: none. The file must exist and stay empty.
  const auto divergences = read(fs::path(OKURI_SOURCE_DIR) / "tests/conformance/known_divergences.txt");
  CHECK(divergences.find_first_not_of(" \n") == std::string::npos);
  std::size_t cases = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".okuri") continue;
    ++cases;
    auto p = compile_path(e.path().string());
    INFO(e.path().string());
    REQUIRE(p->diags.error_count() == 0);
    ir::Schema schema = ir::make_schema(*p);
    const auto preds = ir::lower_segments(*p, schema);
    rt::FriendStore store(schema);
    auto friends = e.path();
    friends.replace_extension(".csv");
    rt::load_friends(store, friends.string());
    const stdlib::Zone zone(schema.timezone.c_str());
    const auto env = testgen::fixed_env(zone);
    // Expected: one line per segment, `name: id id …` (sorted as in the file).
    auto expected_path = e.path();
    expected_path.replace_extension(".expected");
    std::istringstream expected(read(expected_path));
    std::map<std::string, std::string> want;
    std::string line;
    while (std::getline(expected, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string ids = line.substr(colon + 1);
      while (!ids.empty() && ids.front() == ' ') ids.erase(0, 1);
      want[line.substr(0, colon)] = ids;
    }
    std::unique_ptr<jit::Jit> j;
    jit::CompiledGroup compiled;
    rt::ColumnBinding binding;
    const rt::EnvAbi abi{env.now, env.today, env.zone};
    if (jit::Jit::available()) {
      j = std::make_unique<jit::Jit>();
      compiled = j->compile("case", preds, schema, jit::Tier::Baseline);
      binding.bind(store);
    }
    for (std::size_t i = 0; i < preds.size(); ++i) {
      std::vector<std::uint64_t> mask;
      rt::scan(preds[i], store, env, mask);
      std::string got;
      for (std::uint32_t r = 0; r < store.size(); ++r) {
        if (bit(mask, r)) got += (got.empty() ? "" : " ") + store.id_of(r);
      }
      INFO("segment " << preds[i].name);
      REQUIRE(want.count(preds[i].name) == 1);
      CHECK(got == want[preds[i].name]);
      if (j) {
        std::vector<std::uint64_t> out(mask.size(), 0);
        compiled.scan[i](binding.slots.data(), &abi, store.size(), out.data());
        CHECK(out == mask);
      }
    }
  }
  CHECK(cases >= 3);
}

TEST_CASE("tier 1 answers at once and tier 2 is swapped in from the background", "[predicates][jit]") {
  if (!jit::Jit::available()) return;
  auto p = compile_sources(".", {{"t.okuri", "tag vip\nsegment s = tagged(vip) and age in 20..29\n"}});
  REQUIRE(p->diags.error_count() == 0);
  ir::Schema schema = ir::make_schema(*p);
  const auto preds = ir::lower_segments(*p, schema);
  rt::FriendStore store(schema);
  store.add("U1");
  store.add("U2");
  store.tags[0].set(0, true);
  store.set_age(0, 25);
  store.set_age(1, 25);
  const stdlib::Zone zone("Asia/Tokyo");
  const auto env = testgen::fixed_env(zone);
  const rt::EnvAbi abi{env.now, env.today, env.zone};
  rt::ColumnBinding b;
  b.bind(store);
  jit::Jit j;
  jit::TieredGroup g(j, "scenario", preds, schema);
  std::uint64_t mask = 0;
  g.scan(0)(b.slots.data(), &abi, store.size(), &mask);  // tier 1 or 2, whichever is in place
  CHECK(mask == 1);
  g.wait();
  CHECK(g.optimized());
  mask = 0;
  g.scan(0)(b.slots.data(), &abi, store.size(), &mask);
  CHECK(mask == 1);
  CHECK(g.row(0)(b.slots.data(), &abi, 1, nullptr) == 0);
}

TEST_CASE("the IR printer", "[predicates][ir]") {
  auto p = compile_sources(".", {{"t.okuri", "tag vip\nsegment s = tagged(vip) and region in [tokyo, osaka] and age >= 20\n"}});
  REQUIRE(p->diags.error_count() == 0);
  ir::Schema schema = ir::make_schema(*p);
  const auto preds = ir::lower_segments(*p, schema);
  CHECK(ir::print(preds[0]) ==
        "predicate s\n"
        "  %0 = tagged #0 : bool\n"
        "  %1 = attr #2 : int\n"
        "  %2 = in.set mask=0x4001000 %1 : bool\n"
        "  %3 = and %0, %2 : bool\n"
        "  %4 = attr #1 : int\n"
        "  %5 = const.int 20 : int\n"
        "  %6 = cmp.ge %4, %5 : bool\n"
        "  %7 = and %3, %6 : bool\n");
}
