// The JIT's vector scan: constants at the edges of the columns' widths, sets
// with many members, tails of every length, and segments that share one shape
// (generated once, called with each occurrence's constants and columns).
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <random>

#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/jit/jit.hpp"
#include "tests/support/predicate_gen.hpp"

using namespace okuri;

namespace {

const char* kSegments =
    "segment a1 = age > 40000\n"
    "segment a2 = age < -40000\n"
    "segment a3 = age != 70000\n"
    "segment a4 = age == 70000\n"
    "segment a5 = age >= -32768 and age <= 32767\n"
    "segment a6 = age in -5..40000\n"
    "segment a7 = not (age in 20..29) and age not in 30..100000\n"
    "segment a8 = age > 32766 or age < -32766\n"
    "segment r1 = region in [tokyo, osaka, kanagawa, hokkaido, okinawa, hyougo, chiba, saitama, kyoto, nara]\n"
    "segment r2 = region not in [tokyo, osaka, kanagawa, hokkaido, okinawa, hyougo, chiba, saitama, kyoto, nara]\n"
    "segment r3 = gender != female and region not in [tokyo]\n"
    "segment c1 = clicks(l0) >= 5000000000\n"
    "segment c2 = clicks(l0) > -1\n"
    "segment c3 = clicks(l0) >= 3000000000\n"
    "segment c4 = clicks(l1) == age or clicks(l0) < 2\n"
    "segment s1 = score >= -9000000000000000000 and score(eng) < 9000000000000000000\n"
    "segment s2 = score + 9000000000000000000 > 0\n"
    "segment v1 = visits in [1, 3, 100000000000]\n"
    "segment v2 = visits not in [-2, 5]\n"
    "segment f1 = friend_days > 10 and known(birthday) and member == true\n"
    "segment sh1 = age in 20..29 and region in [tokyo, osaka] and (score >= 3 or tagged(t1)) and not clicked(l0, "
    "within 7d)\n"
    "segment sh2 = age in 30..39 and region in [kanagawa, okinawa] and (score >= 7 or tagged(t2)) and not clicked(l1, "
    "within 7d)\n"
    "segment sh3 = age in 15..70000 and region in [hokkaido, hyougo] and (score >= 100000 or tagged(t0)) and not "
    "clicked(l1, within 3d)\n"
    "segment sh4 = age in 15..69 and region in [hokkaido, hyougo] and (score >= 1 or tagged(t0)) and not clicked(l0)\n"
    "segment sh_all = sh1 or sh2 or sh3 or sh4 or tagged(体験済み) or in_audience(vip)\n"
    // The scan columns of age and score: constants at the edge of saturation (-126 … 126 read them).
    "segment n1 = age >= 126 and age <= 126\n"
    "segment n2 = score > 125 or score < -125\n"
    "segment n3 = score in -126..126 and age not in -126..20\n"
    "segment n4 = score not in [126, -126, 0] and age in [126, 19]\n"
    "segment n5 = score >= 127 or score <= -127 or age > 126\n"
    "segment n6 = score == 126 or score == -126 or age == 126\n"
    "segment n7 = 126 <= score and -126 < age\n";

bool bit(const std::vector<std::uint64_t>& m, std::size_t i) { return ((m[i / 64] >> (i % 64)) & 1) != 0; }

// The test project's declarations plus `segments`, lowered, with a fixed clock.
struct Lowered {
  std::shared_ptr<const Program> program;
  ir::Schema schema;
  std::vector<ir::Predicate> preds;
  stdlib::Zone zone{"Asia/Tokyo"};
  rt::EvalEnv env = testgen::fixed_env(zone);
  rt::EnvAbi abi{env.now, env.today, env.zone};
};
std::unique_ptr<Lowered> lower(const std::string& segments) {
  auto l = std::make_unique<Lowered>();
  l->program = compile_sources(".", {{"v.okuri", testgen::project_declarations() + segments}});
  if (l->program->diags.error_count() != 0) FAIL(render_human(l->program->sources, l->program->diags.all()));
  l->schema = ir::make_schema(*l->program);
  l->preds = ir::lower_segments(*l->program, l->schema);
  return l;
}

}  // namespace

TEST_CASE("the JIT's vector scan agrees with the interpreter at the edges", "[predicates][jit][vector]") {
  if (!jit::Jit::available()) return;
  const auto l = lower(kSegments);
  const auto& [program, schema, preds, zone, env, abi] = *l;
  jit::Jit j;
  const auto tier1 = j.compile("v1", preds, schema, jit::Tier::Baseline);
  const auto tier2 = j.compile("v2", preds, schema, jit::Tier::Optimized);
  std::size_t pairs = 0;
  // Stores of every interesting length: empty, a tail alone, full blocks, full blocks and a tail.
  for (std::size_t n : {0u, 1u, 2u, 63u, 64u, 65u, 127u, 128u, 129u, 200u, 1000u}) {
    std::mt19937_64 rng(n + 17);
    rt::FriendStore store(schema);
    testgen::random_friends(store, rng, n, env);
    for (std::size_t r = 0; r < n; ++r) {
      if (r % 7 == 0) store.set_age(static_cast<std::uint32_t>(r), r % 2 ? 32767 : -32767);
      if (r % 11 == 0) store.links[0].clicks[r] = r % 2 ? 0xF0000000u : 3000000000u;
      if (r % 13 == 0)
        store.set_score(static_cast<std::uint32_t>(r),
                        r % 2 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min());
      static const std::int64_t kEdges[] = {125, 126, 127, 128, -125, -126, -127, -128, 1000, -1000};
      if (r % 5 == 1) store.set_score(static_cast<std::uint32_t>(r), kEdges[(r / 5) % 10]);
      if (r % 5 == 2) store.set_age(static_cast<std::uint32_t>(r), static_cast<std::int16_t>(kEdges[(r / 5) % 10]));
    }
    rt::ColumnBinding b;
    b.bind(store);
    for (std::size_t i = 0; i < preds.size(); ++i) {
      std::vector<std::uint64_t> want;
      rt::scan(preds[i], store, env, want);
      for (const auto* c : {&tier1, &tier2}) {
        std::vector<std::uint64_t> got(want.size(), 0);
        c->scan[i](b.slots.data(), &abi, store.size(), got.data());
        INFO("segment " << preds[i].name << " friends " << n << "\n" << ir::print(preds[i]));
        REQUIRE(got == want);
        for (std::uint32_t r = 0; r < n; ++r) {
          INFO("row " << r);
          REQUIRE((c->row[i](b.slots.data(), &abi, r, nullptr) != 0) == bit(want, r));
          ++pairs;
        }
      }
    }
  }
  CHECK(pairs > 50000);
}

TEST_CASE("the JIT's vector scan reads the scan columns of age and score where they keep the answer",
          "[predicates][jit][vector]") {
  if (!jit::Jit::available()) return;
  const auto l = lower(
      "segment narrow = score >= 5 and age in 20..29\n"
      "segment wide = score >= 500 or age > 200\n");
  const auto& [program, schema, preds, zone, env, abi] = *l;
  jit::Jit j;
  const auto code = j.compile("n", preds, schema, jit::Tier::Baseline);
  rt::FriendStore store(schema);
  for (int r = 0; r < 128; ++r) {
    const auto row = store.add(fmt::format("U{:032x}", r + 1));
    store.set_score(row, 1000);
    store.set_age(row, 25);
  }
  CHECK(store.scan_columns_agree());
  // Spoil the scan columns of one friend: only the narrow comparisons see it.
  store.score8[3] = 0;
  store.age8[4] = 100;
  rt::ColumnBinding b;
  b.bind(store);
  auto scan = [&](std::size_t i) {
    std::vector<std::uint64_t> m((store.size() + 63) / 64, 0);
    code.scan[i](b.slots.data(), &abi, store.size(), m.data());
    return m;
  };
  const auto narrow = scan(preds[0].name == "narrow" ? 0 : 1);
  const auto wide = scan(preds[0].name == "narrow" ? 1 : 0);
  CHECK_FALSE(bit(narrow, 3));
  CHECK_FALSE(bit(narrow, 4));
  CHECK(bit(narrow, 5));
  CHECK(bit(wide, 3));
  CHECK(bit(wide, 4));
  CHECK_FALSE(store.scan_columns_agree());
}
