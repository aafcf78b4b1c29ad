#include <catch2/catch.hpp>

#include "compiler/literals.hpp"

using namespace okuri;

TEST_CASE("dates are checked against the calendar", "[literals]") {
  CHECK_FALSE(parse_date("2026-02-30").has_value());
  CHECK_FALSE(parse_date("2026-02-29").has_value());
  CHECK(parse_date("2028-02-29").has_value());
  CHECK_FALSE(parse_date("2100-02-29").has_value());
  CHECK(parse_date("2000-02-29").has_value());
  CHECK_FALSE(parse_date("2026-13-01").has_value());
  CHECK_FALSE(parse_date("2026-04-31").has_value());
  auto d = parse_date("2026-12-01");
  REQUIRE(d);
  CHECK(d->year == 2026);
  CHECK(d->month == 12);
  CHECK(d->day == 1);
}

TEST_CASE("times of day run from 00:00 to 23:59", "[literals]") {
  CHECK(parse_time_of_day("00:00") == 0);
  CHECK(parse_time_of_day("23:59") == 23 * 60 + 59);
  CHECK(parse_time_of_day("9:30") == 9 * 60 + 30);
  CHECK_FALSE(parse_time_of_day("25:00").has_value());
  CHECK_FALSE(parse_time_of_day("24:00").has_value());
  CHECK_FALSE(parse_time_of_day("10:60").has_value());
}

TEST_CASE("datetimes", "[literals]") {
  auto dt = parse_datetime("2026-12-01 10:00");
  REQUIRE(dt);
  CHECK(dt->minute == 600);
  CHECK_FALSE(parse_datetime("2026-02-30 10:00").has_value());
  CHECK_FALSE(parse_datetime("2026-12-01 25:00").has_value());
}

TEST_CASE("durations in every unit", "[literals]") {
  CHECK(parse_duration("90s") == 90);
  CHECK(parse_duration("30m") == 1800);
  CHECK(parse_duration("2h") == 7200);
  CHECK(parse_duration("1d") == 86400);
  CHECK(parse_duration("2w") == 14 * 86400);
  CHECK_FALSE(parse_duration("3x").has_value());
  CHECK(format_duration(86400 * 3) == "3d");
  CHECK(format_duration(14 * 86400) == "2w");
  CHECK(format_duration(90) == "90s");
}

TEST_CASE("time zones come from the tz database", "[literals]") {
  CHECK(is_valid_time_zone("Asia/Tokyo"));
  CHECK(is_valid_time_zone("America/New_York"));
  CHECK(is_valid_time_zone("UTC"));
  CHECK_FALSE(is_valid_time_zone("Asia/Tokio"));
  CHECK_FALSE(is_valid_time_zone(""));
}

TEST_CASE("days since the epoch round-trip, leap days included", "[literals]") {
  for (const auto& d : {CivilDate{2028, 2, 29}, CivilDate{1970, 1, 1}, CivilDate{2026, 12, 31}, CivilDate{2000, 3, 1}}) {
    CHECK(civil_from_days(days_from_civil(d)) == d);
  }
  CHECK(days_from_civil(CivilDate{2028, 3, 1}) - days_from_civil(CivilDate{2028, 2, 28}) == 2);
}

TEST_CASE("text escapes", "[literals]") {
  CHECK(unescape_text("\"a\\\"b\\\\c\\nd\"") == std::string("a\"b\\c\nd"));
  CHECK_FALSE(unescape_text("\"bad \\q\"").has_value());
}
