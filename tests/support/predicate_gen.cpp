#include "tests/support/predicate_gen.hpp"

#include <fmt/format.h>

#include <vector>

#include "compiler/literals.hpp"

namespace okuri::testgen {
namespace {

template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

int range(std::mt19937_64& rng, int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<std::uint64_t>(hi - lo + 1)); }

}  // namespace

std::string project_declarations() {
  return "tag t0, t1, t2, 体験済み\n"
         "score eng\n"
         "link l0 \"https://example.com/0\"\nlink l1 \"https://example.com/1\"\n"
         "message m0 text \"a\"\nmessage m1 text \"b\"\n"
         "audience vip\n"
         "field visits: int = 0\n"
         "field birthday: date\n"
         "field lesson_at: datetime\n"
         "field plan_kind: one_of(trial, monthly, annual)\n"
         "field likes: set_of(knit, coat, shoes)\n"
         "field member: bool\n"
         "field memo: text\n"
         "field wait_for: duration\n"
         "field call_at: time\n";
}

std::string random_predicate(std::mt19937_64& rng, int depth) {
  if (depth > 0 && rng() % 3 != 0) {
    switch (rng() % 4) {
      case 0:
        return random_predicate(rng, depth - 1) + " and " + random_predicate(rng, depth - 1);
      case 1:
        return random_predicate(rng, depth - 1) + " or " + random_predicate(rng, depth - 1);
      case 2:
        return "not (" + random_predicate(rng, depth - 1) + ")";
      default:
        return "(" + random_predicate(rng, depth - 1) + ")";
    }
  }
  static const std::vector<std::string> ops = {"==", "!=", "<", "<=", ">", ">="};
  static const std::vector<std::string> prefs = {"tokyo", "osaka", "kanagawa", "hokkaido", "okinawa", "hyougo"};
  static const std::vector<std::string> genders = {"male", "female", "other"};
  static const std::vector<std::string> tags = {"t0", "t1", "t2", "体験済み"};
  static const std::vector<std::string> plans = {"trial", "monthly", "annual"};
  static const std::vector<std::string> likes = {"knit", "coat", "shoes"};
  static const std::vector<std::string> days = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  static const std::vector<std::string> texts = {"\"ig\"", "\"qr\"", "\"\"", "\"山\"", "\"i\""};
  const int a = range(rng, 15, 70);
  // Constants around the scan columns' saturation (-127 … 127) now and then.
  static const std::vector<int> edges = {-1000, -128, -127, -126, -125, 125, 126, 127, 128, 1000};
  const bool edge = rng() % 4 == 0;
  switch (rng() % 33) {
    case 0:
      return fmt::format("age {} {}", pick(rng, ops), edge ? pick(rng, edges) : range(rng, 18, 40));
    case 1:
      return fmt::format("age in {}..{}", a, a + range(rng, -2, 12));
    case 2:
      return fmt::format("age not in {}..{}", a, a + range(rng, 0, 12));
    case 3:
      return fmt::format("region {} [{}, {}]", rng() % 2 ? "in" : "not in", pick(rng, prefs), pick(rng, prefs));
    case 4:
      return fmt::format("gender {} {}", rng() % 2 ? "==" : "!=", pick(rng, genders));
    case 5:
      return fmt::format("tagged({})", pick(rng, tags));
    case 6:
      if (edge && rng() % 3 == 0) {
        const int lo = pick(rng, edges);
        return fmt::format("score {} {}..{}", rng() % 2 ? "in" : "not in", lo, lo + range(rng, 0, 300));
      }
      return fmt::format("score {} {}", pick(rng, ops), edge ? pick(rng, edges) : range(rng, -3, 12));
    case 7:
      return fmt::format("score(eng) {} {}", pick(rng, ops), range(rng, -3, 12));
    case 8:
      return fmt::format("friend_days {} {}", pick(rng, ops), range(rng, 0, 60));
    case 9:
      return fmt::format("known({})", pick(rng, std::vector<std::string>{"age", "region", "gender", "birthday", "memo", "member", "source"}));
    case 10:
      return fmt::format("has(likes, {})", pick(rng, likes));
    case 11:
      return fmt::format("visits + {} {} {}", range(rng, -2, 3), pick(rng, ops), range(rng, 0, 5));
    case 12:
      return fmt::format("birthday {} 2000-{:02}-{:02}", pick(rng, ops), range(rng, 1, 12), range(rng, 1, 28));
    case 13:
      return fmt::format("month(birthday) {} {}", pick(rng, ops), range(rng, 1, 12));
    case 14:
      return fmt::format("weekday(lesson_at) in [{}, {}]", pick(rng, days), pick(rng, days));
    case 15:
      return fmt::format("days_since(birthday) > {}", range(rng, 0, 20000));
    case 16:
      return fmt::format("lesson_at {} now", pick(rng, ops));
    case 17:
      return fmt::format("hour(lesson_at) >= {}", range(rng, 0, 23));
    case 18:
      return fmt::format("clicked(l{}{})", rng() % 2, rng() % 2 ? ", within 7d" : "");
    case 19:
      return fmt::format("clicks(l{}) >= {}", rng() % 2, range(rng, 0, 3));
    case 20:
      return fmt::format("opened(m{}{})", rng() % 2, rng() % 2 ? ", within 3d" : "");
    case 21:
      return fmt::format("sent(m{})", rng() % 2);
    case 22:
      return fmt::format("source {} {}", rng() % 2 ? "==" : "!=", pick(rng, texts));
    case 23:
      return fmt::format("{}({}, {})", rng() % 2 ? "contains" : "starts_with", rng() % 2 ? "memo" : "display_name", pick(rng, texts));
    case 24:
      return fmt::format("plan_kind {} {}", rng() % 2 ? "==" : "!=", pick(rng, plans));
    case 25:
      return fmt::format("member == {}", rng() % 2 ? "true" : "false");
    case 26:
      return "in_audience(vip)";
    case 27:
      return fmt::format("birthday + {}d {} today", range(rng, -30, 30), pick(rng, ops));
    case 28:
      return fmt::format("wait_for {} {}h", pick(rng, ops), range(rng, 0, 48));
    case 30:
      return fmt::format("day(birthday) {} {}", pick(rng, ops), range(rng, 1, 31));
    case 31:
      return fmt::format("days_until(lesson_at) {} {}", pick(rng, ops), range(rng, -30, 30));
    case 32:
      return fmt::format("visited(\"{}\")", rng() % 2 ? "https://example.com/lp*" : "/price");
    default:
      return fmt::format("hour(call_at) {} {}", pick(rng, ops), range(rng, 0, 23));
  }
}

rt::EvalEnv fixed_env(const stdlib::Zone& zone) {
  rt::EvalEnv env;
  env.zone = &zone;
  env.today = days_from_civil(CivilDate{2026, 11, 22});
  env.now = zone.to_utc(env.today, 12 * 60);
  return env;
}

void random_friends(rt::FriendStore& s, std::mt19937_64& rng, std::size_t n, const rt::EvalEnv& env) {
  const auto& schema = s.schema();
  auto chance = [&](int pct) { return static_cast<int>(rng() % 100) < pct; };
  static const std::vector<std::string> sources = {"ig", "qr", "", "instagram"};
  static const std::vector<std::string> names = {"山田", "yamada", "i", ""};
  for (std::size_t k = 0; k < n; ++k) {
    const auto row = s.add(fmt::format("U{:032x}", rng() & 0xffffffffffffull));
    if (chance(85)) s.gender[row] = static_cast<std::uint8_t>(1 + rng() % 3);
    if (chance(80)) {
      s.set_age(row, static_cast<std::int16_t>(chance(30)   ? pick(rng, std::vector<int>{19, 20, 29, 30, 15, 70})
                                               : chance(10) ? pick(rng, std::vector<int>{125, 126, 127, 128, 300})
                                                            : range(rng, 10, 80)));
    }
    if (chance(80)) s.region[row] = static_cast<std::uint8_t>(1 + rng() % 47);
    if (chance(90)) s.friend_since[row] = static_cast<std::int32_t>(env.today - range(rng, 0, 60));
    if (chance(70)) s.source[row] = s.texts.intern(pick(rng, sources));
    if (chance(70)) s.display_name[row] = s.texts.intern(pick(rng, names));
    s.blocked.set(row, chance(10));
    s.set_score(row, chance(15) ? pick(rng, std::vector<std::int64_t>{-1000, -128, -127, -126, 126, 127, 128, 1000,
                                                                      std::numeric_limits<std::int64_t>::max(),
                                                                      std::numeric_limits<std::int64_t>::min()})
                                : range(rng, -3, 12));
    for (auto& t : s.tags) t.set(row, chance(40));
    for (auto& a : s.audiences) a.set(row, chance(30));
    for (auto& v : s.named_scores) v[row] = range(rng, -3, 12);
    for (std::size_t f = 0; f < schema.fields.size(); ++f) {
      auto& col = s.fields[f];
      if (!chance(75)) continue;
      std::int64_t v = 0;
      switch (schema.fields[f].type.kind) {
        case TypeKind::Int:
          v = range(rng, -2, 6);
          break;
        case TypeKind::Date:
          v = chance(20) ? env.today + range(rng, -2, 2) : days_from_civil(CivilDate{range(rng, 1960, 2010), range(rng, 1, 12), range(rng, 1, 28)});
          break;
        case TypeKind::DateTime:
          v = env.now + static_cast<std::int64_t>(range(rng, -20, 20)) * 3600 * (chance(50) ? 1 : 24);
          break;
        case TypeKind::Enum:
          v = range(rng, 0, static_cast<int>(schema.fields[f].values.size()) - 1);
          break;
        case TypeKind::Set:
          v = static_cast<std::int64_t>(rng() % 8);  // includes the empty set
          break;
        case TypeKind::Bool:
          v = static_cast<std::int64_t>(rng() % 2);
          break;
        case TypeKind::Text:
          v = s.texts.intern(pick(rng, names));
          break;
        case TypeKind::Duration:
          v = range(rng, 0, 72) * 3600;
          break;
        case TypeKind::Time:
          v = range(rng, 0, 1439);
          break;
        default:
          break;
      }
      col.values[row] = v;
      col.known.set(row, true);
    }
    for (auto& l : s.links) {
      if (chance(40)) {
        l.clicks[row] = static_cast<std::uint32_t>(range(rng, 1, 4));
        l.last[row] = env.now - range(rng, 0, 14) * 86400 - range(rng, 0, 86399);
      }
    }
    for (auto& m : s.messages) {
      if (chance(50)) m.sent[row] = 1;
      if (chance(30)) {
        m.opened[row] = 1;
        m.last_opened[row] = env.now - range(rng, 0, 6) * 86400 - range(rng, 0, 86399);
      }
    }
  }
}

}  // namespace okuri::testgen
