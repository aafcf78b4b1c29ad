#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/formatter.hpp"

using namespace okuri;

TEST_CASE("formatting is idempotent and keeps the meaning on every example and corpus file", "[fmt]") {
  namespace fs = std::filesystem;
  const fs::path root = OKURI_SOURCE_DIR;
  std::size_t files = 0;
  std::size_t formatted = 0;
  for (const char* dir : {"examples", "fuzz/seeds", "tests/golden", "build-fuzz/corpus"}) {
    std::error_code ec;
    if (!fs::exists(root / dir, ec)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root / dir, ec)) {
      if (!e.is_regular_file()) continue;
      const bool okuri = e.path().extension() == ".okuri";
      const bool corpus = std::string(dir) == "build-fuzz/corpus";
      if (!okuri && !corpus) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      ++files;
      const auto once = format_checked(ss.str());  // compares the ASTs before and after
      if (!once.ok) {
        for (const auto& err : once.errors) CHECK(err.rfind("internal error", 0) != 0);
        continue;
      }
      ++formatted;
      const auto twice = format_checked(once.text);
      REQUIRE(twice.ok);
      INFO(e.path().string());
      CHECK(twice.text == once.text);
    }
  }
  CHECK(files > 10);
  CHECK(formatted > 5);
}

TEST_CASE("the canonical layout", "[fmt]") {
  CHECK(format_source("tag   a,b\n") == "tag a, b\n");
  CHECK(format_source("segment s = tagged( a )and( age>20 )\n") == "segment s = tagged(a) and (age > 20)\n");
  CHECK(format_source("scenario x {\nsend m\n}\n") == "scenario x {\n  send m\n}\n");
  CHECK(format_source("\n\n# c\n\n\n\ntag a\n\n") == "# c\n\ntag a\n");
  CHECK(format_source("scenario x {\n  score += -3\n  wait until lesson_at - 1d at 10:00\n}\n") ==
        "scenario x {\n  score += -3\n  wait until lesson_at - 1d at 10:00\n}\n");
  // A field after `.` is a value even when it is spelt like a keyword: `event.at - 1d` subtracts.
  CHECK(format_source("on reserved { set remind_at = event.at - 1d }\n") == "on reserved { set remind_at = event.at - 1d }\n");
  CHECK(format_source("on reserved { set remind_at = event.at -1d }\n") == "on reserved { set remind_at = event.at - 1d }\n");
  CHECK(format_source("scenario x {\n  wait 1d at -1\n}\n") == "scenario x {\n  wait 1d at -1\n}\n");
  CHECK(format_source("account {\n  quiet_hours 22:00-08:00\n}\n") == "account {\n  quiet_hours 22:00 - 08:00\n}\n");
  CHECK(format_source("segment s =\nage > 1 and\nage < 9\n") == "segment s =\n    age > 1 and\n    age < 9\n");
  CHECK(format_source("broadcast b at 2026-12-01 10:00 {\n throttle 2000 / min\n}\n") ==
        "broadcast b at 2026-12-01 10:00 {\n  throttle 2000/min\n}\n");
  CHECK(format_source("segment k = gender == female and\nregion in [\ntokyo, kanagawa\n]\n") ==
        "segment k = gender == female and\n    region in [\n      tokyo, kanagawa\n    ]\n");
  CHECK(format_source("segment k = region in [\ntokyo\n]\ntag a\n") == "segment k = region in [\n  tokyo\n]\ntag a\n");
  // `=>` lines up in a run of arms, measured in display columns.
  CHECK(format_source("split {\n50% a => pass\n50% 体験 => pass\n}\n") ==
        "split {\n  50% a    => pass\n  50% 体験 => pass\n}\n");
}

TEST_CASE("a unified diff of an unformatted file", "[fmt]") {
  const auto d = unified_diff("a", "b", "x\ny\nz\n", "x\nY\nz\n");
  CHECK(d == "--- a\n+++ b\n@@ -1,3 +1,3 @@\n x\n-y\n+Y\n z\n");
  CHECK(unified_diff("a", "b", "same\n", "same\n").empty());
}
