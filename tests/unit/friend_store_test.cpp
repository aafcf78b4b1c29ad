#include <fmt/format.h>

#include <catch2/catch.hpp>

#include <limits>

#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/friends_file.hpp"

using namespace okuri;

namespace {
struct Fixture {
  std::unique_ptr<Program> p = compile_sources(".", {{"a.okuri",
                                                      "tag vip, 購入済み\nscore eng\nfield visits: int\nfield plan_kind: one_of(trial, annual)\n"
                                                      "field likes: set_of(knit, coat)\nfield lesson_at: datetime\n"}});
  ir::Schema schema = ir::make_schema(*p);
};
}  // namespace

TEST_CASE("LINE user ids are packed into 16 bytes and found again", "[store]") {
  const std::string id = "U4af4980629a1b2c3d4e5f60718293a4b";
  auto packed = rt::pack_line_id(id);
  REQUIRE(packed);
  CHECK(rt::unpack_line_id(*packed) == id);
  CHECK_FALSE(rt::pack_line_id("U1").has_value());
  CHECK_FALSE(rt::pack_line_id("U4AF4980629A1B2C3D4E5F60718293A4B").has_value());  // LINE ids are lower-case hex
  Fixture f;
  rt::FriendStore s(f.schema);
  for (int i = 0; i < 5000; ++i) s.add(fmt::format("U{:032x}", i * 7919));
  s.add("U1");
  CHECK(s.find(fmt::format("U{:032x}", 4999 * 7919)) == std::optional<std::uint32_t>(4999));
  CHECK(s.find("U1") == std::optional<std::uint32_t>(5000));
  CHECK_FALSE(s.find("U2").has_value());
  CHECK(s.id_of(5000) == "U1");
}

TEST_CASE("friends load from CSV with every column kind", "[store]") {
  Fixture f;
  rt::FriendStore s(f.schema);
  rt::load_friends_text(s, "f.csv",
                        "id,gender,age,region,friend_since,source,blocked,tags,score,score.eng,visits,plan_kind,likes,lesson_at\n"
                        "U1,female,24,東京都,2026-01-05,\"ig, story\",false,vip;購入済み,3,2,5,annual,knit;coat,2026-01-20T18:00:00+09:00\n"
                        "U2,,,hyougo,,,true,,,,,,,\n",
                        false);
  REQUIRE(s.size() == 2);
  CHECK(s.gender[0] == 2);
  CHECK(s.age[0] == 24);
  CHECK(s.region[0] == 13);
  CHECK(s.region[1] == 28);
  CHECK(s.texts.get(s.source[0]) == "ig, story");
  CHECK(s.tags[0].get(0));
  CHECK(s.tags[1].get(0));
  CHECK(s.named_scores[0][0] == 2);
  CHECK(s.fields[1].values[0] == 1);
  CHECK(s.fields[2].values[0] == 3);
  CHECK(s.fields[3].values[0] == 1768899600);  // 2026-01-20 09:00 UTC
  CHECK(s.age[1] == rt::kUnknownAge);
  CHECK(s.blocked.get(1));
  CHECK_FALSE(s.fields[0].known.get(1));
  // The scan columns: saturated age and score, -128 for an unknown age.
  CHECK(s.scan_columns_agree());
  CHECK(s.age8[0] == 24);
  CHECK(s.age8[1] == rt::kNarrowUnknown);
  CHECK(s.score8[0] == 3);
}

TEST_CASE("the scan columns saturate age and score", "[store]") {
  CHECK(rt::narrow_value(0) == 0);
  CHECK(rt::narrow_value(126) == 126);
  CHECK(rt::narrow_value(127) == 127);
  CHECK(rt::narrow_value(128) == 127);
  CHECK(rt::narrow_value(-127) == -127);
  CHECK(rt::narrow_value(-128) == -127);
  CHECK(rt::narrow_value(std::numeric_limits<std::int64_t>::min()) == -127);
  CHECK(rt::narrow_value(std::numeric_limits<std::int64_t>::max()) == 127);
  CHECK(rt::narrow_age(rt::kUnknownAge) == rt::kNarrowUnknown);
  CHECK(rt::narrow_age(-32767) == -127);
  CHECK(rt::narrow_age(300) == 127);
}

TEST_CASE("friends load from JSONL; arrays, null and booleans", "[store]") {
  Fixture f;
  rt::FriendStore s(f.schema);
  rt::load_friends_text(s, "f.jsonl",
                        "{\"id\":\"U1\",\"age\":31,\"tags\":[\"vip\"],\"likes\":[],\"blocked\":true,\"region\":null}\n", true);
  REQUIRE(s.size() == 1);
  CHECK(s.age[0] == 31);
  CHECK(s.fields[2].known.get(0));  // an empty set is known
  CHECK(s.fields[2].values[0] == 0);
  CHECK(s.region[0] == 0);
}

TEST_CASE("a malformed row names file, line, column and value, and nothing is loaded", "[store]") {
  Fixture f;
  rt::FriendStore s(f.schema);
  auto bad = [&](const std::string& text, bool jsonl, const std::string& msg) {
    try {
      rt::load_friends_text(s, jsonl ? "f.jsonl" : "f.csv", text, jsonl);
      FAIL("no error for " << text);
    } catch (const rt::DataError& e) {
      CHECK(std::string(e.what()) == msg);
    }
    CHECK(s.size() == 0);
  };
  bad("id,age\nU1,24\nU2,abc\n", false, "f.csv:3: column `age`: `abc` is not an age (a whole number 0–150)");
  bad("id,region\nU1,tokio\n", false, "f.csv:2: column `region`: `tokio` is not a prefecture (tokyo, osaka, … or 東京都)");
  bad("id,plan_kind\nU1,gold\n", false, "f.csv:2: column `plan_kind`: `gold` is not a plan_kind");
  bad("id,age\nU1\n", false, "f.csv:2: 1 values, but the header has 2 columns");
  bad("id,age\nU1,1\nU1,2\n", false, "f.csv:3: column `id`: `U1` appears twice");
  bad("id,memo\n\"U1,x\n", false, "f.csv:2: unterminated quote");
  bad("{\"id\":\"U1\"}\n{\"id\":\"U2\",\"age\":\"x\"}\n", true, "f.jsonl:2: column `age`: `x` is not an age (a whole number 0–150)");
  bad("{\"id\":\"U1\"\n", true,
      "f.jsonl:1: not valid JSON: The JSON document has an improper structure: missing or superfluous commas, braces, "
      "missing keys, etc.");
  bad("[1]\n", true, "f.jsonl:1: a friend must be a JSON object");
  bad("id,memo\nU1,a\xC0\xAF\n", false, "f.csv:2: not valid UTF-8 (byte 13); save the file as UTF-8");
  bad("id,age\rU1,24\rU2,30\r", false,
      "f.csv:1: lines end with a carriage return alone; save the file with LF or CRLF line endings");
}

TEST_CASE("fields with a default start with it, in new friends and under empty cells", "[store]") {
  auto p = compile_sources(".", {{"a.okuri",
                                  "field visits: int = 0\nfield vip: bool = true\nfield memo: text = \"なし\"\n"
                                  "field plan_kind: one_of(trial, annual) = annual\nfield likes: set_of(knit, coat) = [coat]\n"
                                  "field best: time = 19:00\nfield due: date = 2026-01-01 + 1w\nfield nickname: text\n"}});
  REQUIRE(p->diags.error_count() == 0);
  const ir::Schema schema = ir::make_schema(*p);
  rt::FriendStore s(schema);
  const auto row = s.add("U1");
  for (std::size_t f = 0; f + 1 < s.fields.size(); ++f) CHECK(s.fields[f].known.get(row));
  CHECK(s.fields[0].values[row] == 0);
  CHECK(s.fields[1].values[row] == 1);
  CHECK(s.texts.get(static_cast<std::int32_t>(s.fields[2].values[row])) == "なし");
  CHECK(s.fields[3].values[row] == 1);
  CHECK(s.fields[4].values[row] == 2);
  CHECK(s.fields[5].values[row] == 19 * 60);
  CHECK(s.fields[6].values[row] == days_from_civil(CivilDate{2026, 1, 8}));
  CHECK_FALSE(s.fields[7].known.get(row));  // no default: unknown
  // A file: an empty cell (CSV) or a missing key (JSONL) leaves the default; a value replaces it.
  rt::FriendStore csv(schema);
  rt::load_friends_text(csv, "f.csv", "id,visits,vip,memo\nU1,,,\nU2,3,false,常連\n", false);
  CHECK(csv.fields[0].values[0] == 0);
  CHECK(csv.fields[1].values[0] == 1);
  CHECK(csv.fields[0].values[1] == 3);
  CHECK(csv.fields[1].values[1] == 0);
  CHECK(csv.texts.get(static_cast<std::int32_t>(csv.fields[2].values[1])) == "常連");
  rt::FriendStore jsonl(schema);
  rt::load_friends_text(jsonl, "f.jsonl", "{\"id\":\"U1\",\"vip\":null}\n", true);
  CHECK(jsonl.fields[1].known.get(0));
  CHECK(jsonl.fields[1].values[0] == 1);
}

TEST_CASE("a friend's id viewed without allocating equals the id given, LINE id or not", "[store]") {
  Fixture f;
  rt::FriendStore s(f.schema);
  const std::string line_id = "U0123456789abcdef0123456789abcdef";
  const std::string odd_id = "friend \"7\" \\ 日本";
  const auto a = s.add(line_id);
  const auto b = s.add(odd_id);
  rt::FriendStore::IdText scratch;
  CHECK(s.id_view(a, scratch) == line_id);
  CHECK(s.id_view(b, scratch) == odd_id);
  CHECK(s.id_of(a) == line_id);
  // A key made once finds the same rows as the id itself.
  CHECK(s.find(line_id, rt::FriendStore::key_of(line_id)) == a);
  CHECK(s.find(odd_id, rt::FriendStore::key_of(odd_id)) == b);
  CHECK_FALSE(s.find("U0123456789abcdef0123456789abcdee").has_value());
}
