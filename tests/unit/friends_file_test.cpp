// The parallel friends-file reader: cut anywhere, on any number of threads, it gives the store
// one serial reader gives, and the same first error.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>

#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/friends_file.hpp"
#include "runtime/id_hashes.hpp"

using namespace okuri;

namespace {

const char* kProject =
    "tag vip, 購入済み, t3\naudience lookalike\nscore eng\nfield visits: int = 0\nfield memo: text = \"なし\"\n"
    "field plan_kind: one_of(trial, annual)\nfield likes: set_of(knit, coat)\nfield lesson_at: datetime\n";

struct Project {
  std::unique_ptr<Program> p = compile_sources(".", {{"a.okuri", kProject}});
  ir::Schema schema = ir::make_schema(*p);
};

// Friends whose cells hold what splits badly: quotes with commas and doubled quotes, multi-byte
// text, empty cells, blank lines, CRLF line ends and ids that are not LINE ids.
std::string csv_file(std::size_t n, std::mt19937& rng) {
  static const char* kNames[] = {"\"山田, 花子\"", "佐藤 太郎", "\"say \"\"hi\"\"\"", "", "Ｊｏｈｎ　😀"};
  static const char* kRegions[] = {"tokyo", "東京都", "大阪", "hyougo", ""};
  std::string s =
      "id,display_name,gender,age,region,tags,score,score.eng,visits,memo,plan_kind,likes,lesson_at,audiences\n";
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % 17 == 0) s += "  \n";
    const std::string id = rng() % 5 == 0 ? fmt::format("friend-{}", i) : fmt::format("U{:032x}", i * 2654435761u + 1);
    s +=
        fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{}{}", id, kNames[rng() % 5], rng() % 2 ? "female" : "男性",
                    rng() % 3 ? std::to_string(rng() % 90) : "", kRegions[rng() % 5], rng() % 2 ? "vip;t3" : "購入済み",
                    static_cast<int>(rng() % 200) - 100, rng() % 9, rng() % 3 ? std::to_string(rng() % 40) : "",
                    rng() % 2 ? "\"メモ, です\"" : "", rng() % 2 ? "trial" : "annual", rng() % 2 ? "knit;coat" : "",
                    rng() % 2 ? "2026-01-20T18:00:00+09:00" : "2026-01-20 09:30", rng() % 3 == 0 ? "lookalike" : "",
                    rng() % 7 == 0 ? "\r\n" : "\n");
  }
  return s;
}

std::string jsonl_file(std::size_t n, std::mt19937& rng) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += fmt::format(
        R"({{"id":"U{:032x}","display_name":"{}","age":{},"tags":{},"memo":{},"likes":["coat"],"region":"{}"}})",
        i * 40503u + 7, rng() % 2 ? "山田 \\\"花子\\\"" : "Ｊｏｈｎ", rng() % 90, rng() % 2 ? "[\"vip\",\"t3\"]" : "[]",
        rng() % 2 ? "\"メモ\"" : "null", rng() % 2 ? "tokyo" : "北海道");
    s += "\n";
    if (rng() % 13 == 0) s += "\n";
  }
  return s;
}

// Every column of a row as one text, its texts spelled out.
std::string row_text(const rt::FriendStore& s, std::uint32_t r) {
  auto text = [&](std::int64_t id) {
    return id < 0 ? std::string("?") : std::string(s.texts.get(static_cast<std::int32_t>(id)));
  };
  std::string out =
      fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", s.id_of(r), text(s.display_name[r]), s.gender[r], s.age[r],
                  s.age8[r], s.region[r], s.score[r], s.score8[r], s.named_scores[0][r], s.blocked.get(r));
  for (const auto& t : s.tags) out += t.get(r) ? "T" : "-";
  for (const auto& a : s.audiences) out += a.get(r) ? "A" : "-";
  for (std::size_t f = 0; f < s.fields.size(); ++f) {
    const bool is_text = s.schema().fields[f].type.kind == TypeKind::Text;
    out += fmt::format(
        "|{}:{}", s.fields[f].known.get(r),
        is_text && s.fields[f].known.get(r) ? text(s.fields[f].values[r]) : std::to_string(s.fields[f].values[r]));
  }
  return out;
}

// Every column of every row, as one text: two stores hold the same friends exactly when equal.
std::string dump(const rt::FriendStore& s) {
  std::string out;
  for (std::uint32_t r = 0; r < s.size(); ++r) out += row_text(s, r) + "\n";
  for (std::size_t i = 0; i < s.texts.size(); ++i)
    out += fmt::format("text {} {}\n", i, s.texts.get(static_cast<std::int32_t>(i)));
  return out;
}

std::vector<std::size_t> random_cuts(std::size_t size, std::mt19937& rng) {
  std::vector<std::size_t> cuts;
  const std::size_t n = 1 + rng() % 40;
  for (std::size_t i = 0; i < n; ++i) cuts.push_back(rng() % (size + 1));
  return cuts;
}

std::string error_of(const ir::Schema& schema, const std::string& text, bool jsonl, const rt::FriendsLoadOptions& o) {
  rt::FriendStore s(schema);
  std::string load_error = "no error";
  try {
    rt::load_friends_text(s, jsonl ? "f.jsonl" : "f.csv", text, jsonl, o);
  } catch (const rt::DataError& e) {
    CHECK(s.size() == 0);
    load_error = e.what();
  }
  // A scan of the same text stops at the same first error.
  std::string scan_error = "no error";
  try {
    rt::scan_friends_text(schema, jsonl ? "f.jsonl" : "f.csv", text, jsonl, o, [](const rt::FriendStore&, unsigned) {});
  } catch (const rt::DataError& e) {
    scan_error = e.what();
  }
  CHECK(scan_error == load_error);
  return load_error;
}

}  // namespace

TEST_CASE("friends read in chunks cut anywhere, on several threads, equal one serial read", "[friends-file]") {
  Project pr;
  REQUIRE(pr.p->diags.error_count() == 0);
  std::mt19937 rng(11);
  for (const bool jsonl : {false, true}) {
    const std::string text = jsonl ? jsonl_file(3000, rng) : csv_file(3000, rng);
    rt::FriendStore serial(pr.schema);
    rt::FriendsLoadOptions one;
    one.threads = 1;
    one.split_at = {text.size()};  // a single chunk
    rt::load_friends_text(serial, "f", text, jsonl, one);
    REQUIRE(serial.size() == 3000);
    const std::string want = dump(serial);
    for (int round = 0; round < 25; ++round) {
      rt::FriendsLoadOptions o;
      o.threads = 1 + static_cast<unsigned>(round % 4);
      o.split_at = random_cuts(text.size(), rng);
      rt::FriendStore s(pr.schema);
      rt::load_friends_text(s, "f", text, jsonl, o);
      INFO("jsonl " << jsonl << ", round " << round << ", " << o.split_at.size() << " cuts, " << o.threads
                    << " threads");
      REQUIRE(s.size() == serial.size());
      const std::string got = dump(s);
      if (got != want) {
        std::size_t i = 0;
        while (i < got.size() && got[i] == want[i]) ++i;
        const std::size_t b = want.rfind('\n', i) == std::string::npos ? 0 : want.rfind('\n', i) + 1;
        FAIL("first difference, want: " << want.substr(b, want.find('\n', i) - b)
                                        << "\n got: " << got.substr(b, got.find('\n', i) - b));
      }
      CHECK(s.scan_columns_agree());
      for (std::uint32_t r = 0; r < s.size(); r += 97) CHECK(s.find(s.id_of(r)) == std::optional<std::uint32_t>(r));
    }
  }
}

TEST_CASE("the first bad line wins, whatever the chunks and threads", "[friends-file]") {
  Project pr;
  std::mt19937 rng(5);
  std::string text = csv_file(2000, rng);
  // Two errors: an age at one line, a duplicate id further on, and a bad byte further still.
  auto line_start = [&](std::size_t line) {
    std::size_t pos = 0;
    for (std::size_t l = 1; l < line; ++l) pos = text.find('\n', pos) + 1;
    return pos;
  };
  const std::size_t bad_line = 700;
  const std::size_t at = line_start(bad_line);
  text.insert(at, "Uage,x,female,999,tokyo,,1,1,,,trial,,,\n");
  // The second occurrence of the first friend's id.
  const std::string first_id = text.substr(line_start(2), text.find(',', line_start(2)) - line_start(2));
  const std::size_t dup_at = line_start(1500);
  text.insert(dup_at, first_id + ",x,female,20,tokyo,,1,1,,,trial,,,\n");
  std::set<std::string> seen;
  for (int round = 0; round < 20; ++round) {
    rt::FriendsLoadOptions o;
    o.threads = 1 + static_cast<unsigned>(round % 3);
    o.split_at = random_cuts(text.size(), rng);
    seen.insert(error_of(pr.schema, text, false, o));
  }
  REQUIRE(seen.size() == 1);
  CHECK(*seen.begin() == fmt::format("f.csv:{}: column `age`: `999` is not an age (a whole number 0–150)", bad_line));
  // Without the bad age, the duplicate id is the first error, at the second occurrence's line.
  const std::string fixed = text.substr(0, at) + text.substr(text.find('\n', at) + 1);
  seen.clear();
  for (int round = 0; round < 10; ++round) {
    rt::FriendsLoadOptions o;
    o.threads = 2;
    o.split_at = random_cuts(fixed.size(), rng);
    seen.insert(error_of(pr.schema, fixed, false, o));
  }
  REQUIRE(seen.size() == 1);
  CHECK(*seen.begin() == fmt::format("f.csv:1499: column `id`: `{}` appears twice", first_id));
  // A byte that is not UTF-8 is an error at its line, and the first error of the file wins
  // whichever it is: after the repeated id, the repeated id; before it, the bad byte.
  const std::string after = fixed + "Ulast,\xC0\xAF,,,,,,,,,,,,\n";
  CHECK(error_of(pr.schema, after, false, {}) == fmt::format("f.csv:1499: column `id`: `{}` appears twice", first_id));
  std::size_t early = 0;  // where line 1000 of `fixed` starts
  for (int l = 1; l < 1000; ++l) early = fixed.find('\n', early) + 1;
  const std::string before = fixed.substr(0, early) + "Ubad,\xC0\xAF,,,,,,,,,,,,\n" + fixed.substr(early);
  seen.clear();
  for (int round = 0; round < 10; ++round) {
    rt::FriendsLoadOptions o;
    o.threads = 1 + static_cast<unsigned>(round % 2);
    o.split_at = random_cuts(before.size(), rng);
    seen.insert(error_of(pr.schema, before, false, o));
  }
  REQUIRE(seen.size() == 1);
  CHECK(seen.begin()->rfind("f.csv:1000: not valid UTF-8", 0) == 0);
}

TEST_CASE("undeclared columns, keys, tags and audiences are warnings with their line", "[friends-file]") {
  Project pr;
  rt::FriendStore s(pr.schema);
  const auto loaded = rt::load_friends_text(s, "f.csv", "id,tags,memo_old\nU1,vip,\nU2,vipp;t3,\nU3,vipp,\n", false);
  REQUIRE(loaded.warnings.size() == 2);
  CHECK(loaded.warnings[0] == "f.csv:1: column `memo_old` is not a friend column or a field of the project; ignored");
  CHECK(loaded.warnings[1] == "f.csv:3: tag `vipp` is not declared in the project; ignored (2 rows)");
  rt::FriendStore j(pr.schema);
  const auto lj = rt::load_friends_text(
      j, "f.jsonl", "{\"id\":\"U1\"}\n{\"id\":\"U2\",\"vistis\":3,\"audiences\":[\"nope\"]}\n", true);
  REQUIRE(lj.warnings.size() == 2);
  CHECK(lj.warnings[0] == "f.jsonl:2: key `vistis` is not a friend column or a field of the project; ignored");
  CHECK(lj.warnings[1] == "f.jsonl:2: audience `nope` is not declared in the project; ignored (1 row)");
  // A scan says the same, its lines counted from each chunk's start and then made the file's.
  std::string many = "id,tags,memo_old\n";
  for (int i = 0; i < 200; ++i) many += fmt::format("U{},{},\n", i, i % 50 == 49 ? "vipp" : "vip");
  rt::FriendStore all(pr.schema);
  const auto want = rt::load_friends_text(all, "f.csv", many, false).warnings;
  REQUIRE(want.size() == 2);
  CHECK(want[1] == "f.csv:51: tag `vipp` is not declared in the project; ignored (4 rows)");
  std::mt19937 rng(3);
  for (int round = 0; round < 6; ++round) {
    rt::FriendsLoadOptions o;
    o.threads = 2;
    o.split_at = random_cuts(many.size(), rng);
    CHECK(rt::scan_friends_text(pr.schema, "f.csv", many, false, o, [](const rt::FriendStore&, unsigned) {}).warnings ==
          want);
  }
}

TEST_CASE("a command that reads some columns skips the others unparsed", "[friends-file]") {
  Project pr;
  const std::set<std::string> cols = {"age"};
  rt::FriendsLoadOptions o;
  o.columns = &cols;
  rt::FriendStore s(pr.schema);
  // The region is wrong, but nothing here reads it.
  rt::load_friends_text(s, "f.csv", "id,age,region,display_name\nU1,30,atlantis,花子\n", false, o);
  REQUIRE(s.size() == 1);
  CHECK(s.age[0] == 30);
  CHECK(s.region[0] == 0);
  CHECK(s.display_name[0] == rt::kUnknownText);
  // What a segment reads: its attributes, tags and named scores.
  auto p = compile_sources(
      ".", {{"a.okuri",
             std::string(kProject) + "segment s = age >= 20 and tagged(vip) and score(eng) > 1 and visits > 2\n"}});
  REQUIRE(p->diags.error_count() == 0);
  ir::Schema schema = ir::make_schema(*p);
  const auto* seg = p->find(SymbolKind::Segment, "s");
  REQUIRE(seg != nullptr);
  const auto pred = ir::lower_predicate(*p, schema, *std::get<ast::SegmentDecl>(seg->decl->v).expr, "s");
  CHECK(rt::friend_columns_read(schema, std::vector<ir::Predicate>{pred}) ==
        std::set<std::string>{"age", "score.eng", "tags", "visits"});
}

TEST_CASE("blank lines of every kind are skipped wherever they fall, and a bad byte is named at its line",
          "[friends-file]") {
  Project pr;
  std::mt19937 rng(23);
  // Rows of different lengths, so that blank lines fall at every place of the counter's 16-byte
  // blocks, in a file longer than its 64 KiB reading blocks.
  static const char* kBlanks[] = {"", " ", "\t", "\r", " \t \r", "                 "};
  std::string text = "id,age\n";
  std::size_t rows = 0, line = 1, bad_line = 0;
  while (text.size() < 300000) {
    if (rng() % 4 == 0) {
      text += kBlanks[rng() % 6];
      text += '\n';
    } else {
      text += fmt::format("U{:032x},{}{}\n", rows, std::string(rng() % 20, '0'), rng() % 90);  // zeros: lengths vary
      ++rows;
    }
    ++line;
    if (bad_line == 0 && text.size() > 200000) bad_line = line + 1;
  }
  for (const bool trailing_newline : {true, false}) {
    const std::string t = trailing_newline ? text : text + "   ";  // a last blank line without its newline
    for (int round = 0; round < 8; ++round) {
      rt::FriendsLoadOptions o;
      o.threads = 1 + static_cast<unsigned>(round % 2);
      if (round > 0) o.split_at = random_cuts(t.size(), rng);
      rt::FriendStore s(pr.schema);
      rt::load_friends_text(s, "f.csv", t, false, o);
      INFO("round " << round);
      REQUIRE(s.size() == rows);
      CHECK(s.id_of(static_cast<std::uint32_t>(rows - 1)) == fmt::format("U{:032x}", rows - 1));
      // A scan sizes each chunk's table by its lines and keeps the rows: the same count.
      std::atomic<std::size_t> scanned{0};
      const auto r = rt::scan_friends_text(pr.schema, "f.csv", t, false, o, [&](const rt::FriendStore& b, unsigned) {
        scanned += b.size();
        for (std::uint32_t k = 0; k < b.size(); ++k) CHECK(b.age[k] >= 0);  // every row read, none left unknown
      });
      CHECK(scanned == rows);
      CHECK(r.rows == rows);
    }
  }
  // A byte that is not UTF-8, far into the file: the error names its line.
  std::size_t at = 0;
  for (std::size_t l = 1; l < bad_line; ++l) at = text.find('\n', at) + 1;
  const std::string bad = text.substr(0, at) + "U\xC0\xAF,1\n" + text.substr(at);
  for (int round = 0; round < 4; ++round) {
    rt::FriendsLoadOptions o;
    o.threads = 1 + static_cast<unsigned>(round % 2);
    if (round > 0) o.split_at = random_cuts(bad.size(), rng);
    const std::string e = error_of(pr.schema, bad, false, o);
    INFO(e);
    CHECK(e.rfind(fmt::format("f.csv:{}: not valid UTF-8 (byte {})", bad_line, at + 2), 0) == 0);
  }
}

TEST_CASE("a scan hands every friend over once, a chunk at a time, as a load reads them", "[friends-file]") {
  Project pr;
  std::mt19937 rng(31);
  for (const bool jsonl : {false, true}) {
    const std::string text = jsonl ? jsonl_file(3000, rng) : csv_file(3000, rng);
    rt::FriendStore loaded(pr.schema);
    const auto l = rt::load_friends_text(loaded, "f", text, jsonl, {});
    std::vector<std::string> want;
    for (std::uint32_t r = 0; r < loaded.size(); ++r) want.push_back(row_text(loaded, r));
    std::sort(want.begin(), want.end());
    for (int round = 0; round < 12; ++round) {
      rt::FriendsLoadOptions o;
      o.threads = 1 + static_cast<unsigned>(round % 4);
      o.split_at = random_cuts(text.size(), rng);
      std::mutex mu;
      std::vector<std::string> got;
      std::size_t batches = 0;
      const auto scanned =
          rt::scan_friends_text(pr.schema, "f", text, jsonl, o, [&](const rt::FriendStore& b, unsigned) {
            std::lock_guard<std::mutex> lock(mu);
            ++batches;
            for (std::uint32_t r = 0; r < b.size(); ++r) got.push_back(row_text(b, r));
          });
      INFO("jsonl " << jsonl << ", round " << round);
      CHECK(scanned.rows == l.rows);
      CHECK(scanned.warnings == l.warnings);
      CHECK(batches >= 1);
      std::sort(got.begin(), got.end());
      REQUIRE(got.size() == want.size());
      CHECK(got == want);
    }
  }
}

TEST_CASE("repeated id hashes are found across parts and buckets, each once", "[friends-file]") {
  std::mt19937_64 rng(7);
  std::vector<rt::IdHashes> parts(5);
  std::vector<std::uint64_t> twice;
  for (auto& p : parts) {
    for (int i = 0; i < 20000; ++i) p.push_back(rng() | 1);
  }
  for (int i = 0; i < 30; ++i) {  // repeats within a part, across parts, and three times
    const std::uint64_t h = parts[rng() % 5][rng() % 20000];
    twice.push_back(h);
    parts[rng() % 5].push_back(h);
    if (i % 10 == 0) parts[rng() % 5].push_back(h);
  }
  std::sort(twice.begin(), twice.end());
  twice.erase(std::unique(twice.begin(), twice.end()), twice.end());
  std::vector<const rt::IdHashes*> views;
  for (const auto& p : parts) views.push_back(&p);
  for (const unsigned threads : {1u, 3u}) CHECK(rt::repeated_hashes(views, threads) == twice);
  CHECK(rt::repeated_hashes({}, 2).empty());
  // An id is hashed as the store sees it: a LINE id by its packed bytes.
  const std::string id = "U0123456789abcdef0123456789abcdef";
  CHECK(rt::id_hash(*rt::pack_line_id(id)) != rt::id_hash(std::string_view(id)));
  CHECK(rt::id_hash(std::string_view("friend-1")) != rt::id_hash(std::string_view("friend-2")));
}

TEST_CASE("tags of every length are told apart, and near misses are not taken for them", "[friends-file]") {
  // Tags of 1 to 40 bytes that share their first and last bytes, one of 17 that differs from
  // another only in the middle, and one in Japanese: a name's words must compare every byte.
  std::vector<std::string> tags;
  for (std::size_t n = 1; n <= 40; ++n) tags.push_back(n == 1 ? "a" : "a" + std::string(n - 2, 'm') + "z");
  tags.push_back("a" + std::string(7, 'm') + "x" + std::string(7, 'm') + "z");
  tags.push_back("タグ");
  std::string project = "tag ";
  for (std::size_t i = 0; i < tags.size(); ++i) project += (i > 0 ? ", " : "") + tags[i];
  auto p = compile_sources(".", {{"a.okuri", project + "\n"}});
  REQUIRE(p->diags.error_count() == 0);
  const ir::Schema schema = ir::make_schema(*p);
  REQUIRE(schema.tags.size() == tags.size());
  std::string csv = "id,tags\n";
  for (std::size_t i = 0; i < tags.size(); ++i) csv += fmt::format("U{},{}\n", i, tags[i]);
  // Near misses: one byte changed in the middle, one byte more.
  csv += "Unear1," + std::string("a") + std::string(7, 'm') + "y" + std::string(7, 'm') + "z\n";
  csv += "Unear2," + tags[5] + "m\n";
  rt::FriendStore s(schema);
  const auto loaded = rt::load_friends_text(s, "f.csv", csv, false);
  REQUIRE(s.size() == tags.size() + 2);
  for (std::size_t i = 0; i < tags.size(); ++i) {
    for (std::size_t t = 0; t < tags.size(); ++t) {
      INFO("row " << i << " tag " << schema.tags[t]);
      CHECK(s.tags[t].get(i) == (schema.tags[t] == tags[i]));
    }
  }
  for (std::size_t t = 0; t < tags.size(); ++t) {
    CHECK_FALSE(s.tags[t].get(tags.size()));
    CHECK_FALSE(s.tags[t].get(tags.size() + 1));
  }
  CHECK(loaded.warnings.size() == 2);  // the two near misses are undeclared tags
}
