// The interpreter's scan (column at a time over batches of friends, the rest 64
// friends at a time) against its row form, which is the meaning: random
// predicates and friends, constants at the edges of the columns' widths, and
// stores of every interesting length around the block and batch sizes.
#include <catch2/catch.hpp>

#include <limits>
#include <random>

#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "runtime/interpreter.hpp"
#include "tests/support/predicate_gen.hpp"

using namespace okuri;

namespace {

const char* kEdgeSegments =
    "segment e_a1 = age > 40000\n"
    "segment e_a2 = age < -40000\n"
    "segment e_a3 = age != 70000\n"
    "segment e_a4 = age == 70000\n"
    "segment e_a5 = age >= -32768 and age <= 32767\n"
    "segment e_a6 = age in -5..40000\n"
    "segment e_a7 = not (age in 20..29) and age not in 30..100000\n"
    "segment e_a8 = age > 32766 or age < -32766\n"
    "segment e_a9 = 30 <= age and 40 > age\n"
    "segment e_a10 = age not in 29..20\n"
    "segment e_a11 = age in [19, 20, 29, 30, 70000]\n"
    "segment e_a12 = age not in [15, 70]\n"
    "segment e_r1 = region in [tokyo, osaka, kanagawa, hokkaido, okinawa, hyougo, chiba, saitama, kyoto, nara]\n"
    "segment e_r2 = region not in [tokyo, osaka, kanagawa, hokkaido, okinawa, hyougo, chiba, saitama, kyoto, nara]\n"
    "segment e_r3 = gender != female and region not in [tokyo]\n"
    "segment e_r4 = gender in [male, other] or region in [tokyo, kanagawa, chiba, saitama]\n"
    "segment e_c1 = clicks(l0) >= 5000000000\n"
    "segment e_c2 = clicks(l0) > -1\n"
    "segment e_c3 = clicks(l0) >= 3000000000\n"
    "segment e_c4 = clicks(l1) == age or clicks(l0) < 2\n"
    "segment e_c5 = clicks(l0) in [0, 3000000000, -1]\n"
    "segment e_s1 = score >= -9000000000000000000 and score(eng) < 9000000000000000000\n"
    "segment e_s2 = score + 9000000000000000000 > 0\n"
    "segment e_s3 = score > 9223372036854775807 or score < -9223372036854775807\n"
    "segment e_s4 = score <= 9223372036854775807 and not (score == 3)\n"
    "segment e_v1 = visits in [1, 3, 100000000000]\n"
    "segment e_v2 = visits not in [-2, 5]\n"
    "segment e_v3 = visits in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
    "segment e_f1 = friend_days > 10 and known(birthday) and member == true\n"
    "segment e_f2 = plan_kind in [trial, annual] and not (plan_kind == monthly)\n"
    "segment e_f3 = has(likes, coat) or not known(likes)\n"
    "segment e_sh = age in 20..29 and region in [tokyo, kanagawa, chiba, saitama] and tagged(t2) and not tagged(t0) "
    "and score >= 5\n";

bool bit(const std::vector<std::uint64_t>& m, std::size_t i) { return ((m[i / 64] >> (i % 64)) & 1) != 0; }

}  // namespace

TEST_CASE("the interpreter's scan agrees with its row form", "[predicates][interpreter][scan]") {
  std::mt19937_64 rng(20261202);
  constexpr int kRandom = 150;
  std::string src = testgen::project_declarations() + kEdgeSegments;
  for (int i = 0; i < kRandom; ++i) {
    src += "segment g" + std::to_string(i) + " = " + testgen::random_predicate(rng, i % 3 == 0 ? 4 : 3) + "\n";
  }
  auto p = compile_sources(".", {{"scan.okuri", src}});
  if (p->diags.error_count() != 0) FAIL(render_human(p->sources, p->diags.all()));
  ir::Schema schema = ir::make_schema(*p);
  const auto preds = ir::lower_segments(*p, schema);
  REQUIRE(preds.size() > kRandom);
  const stdlib::Zone zone("Asia/Tokyo");
  const auto env = testgen::fixed_env(zone);

  std::size_t pairs = 0;
  std::size_t hits = 0;
  for (std::size_t n : {0u, 1u, 63u, 64u, 65u, 1023u, 1024u, 1025u, 5000u}) {
    std::mt19937_64 frng(n * 7 + 3);
    rt::FriendStore store(schema);
    testgen::random_friends(store, frng, n, env);
    for (std::size_t r = 0; r < n; ++r) {
      if (r % 7 == 0) store.set_age(static_cast<std::uint32_t>(r), r % 2 ? 32767 : -32767);
      if (r % 11 == 0) store.links[0].clicks[r] = r % 2 ? 0xF0000000u : 3000000000u;
      if (r % 13 == 0) {
        store.set_score(static_cast<std::uint32_t>(r),
                        r % 2 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min());
      }
    }
    for (const auto& pred : preds) {
      std::vector<std::uint64_t> mask{1, 2, 3};  // scan replaces whatever was there
      rt::scan(pred, store, env, mask);
      INFO("segment " << pred.name << " friends " << n << "\n" << ir::print(pred));
      REQUIRE(mask.size() == (n + 63) / 64);
      if (n % 64 != 0) REQUIRE((mask.back() >> (n % 64)) == 0);  // no bits past the last friend
      for (std::uint32_t r = 0; r < n; ++r) {
        INFO("row " << r);
        const bool want = rt::eval_row(pred, store, r, env);
        REQUIRE(bit(mask, r) == want);
        hits += want ? 1 : 0;
        ++pairs;
      }
    }
  }
  CHECK(pairs >= 50000);
  CHECK(hits > pairs / 10);
  CHECK(hits < pairs * 9 / 10);
}
