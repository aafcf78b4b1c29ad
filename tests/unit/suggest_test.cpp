#include <catch2/catch.hpp>

#include "compiler/suggest.hpp"

using namespace okuri;

TEST_CASE("edit distance counts code points, not bytes", "[suggest]") {
  CHECK(edit_distance("体験予約済", "体験予約済み") == 1);
  CHECK(edit_distance("tokio", "tokyo") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("資料請求", "資料請求") == 0);
}

TEST_CASE("did-you-mean picks the closest name", "[suggest]") {
  CHECK(suggest("体験予約済", {"体験予約済み", "購入済み", "資料請求"}) == std::optional<std::string>("体験予約済み"));
  CHECK(suggest("tokio", {"tokyo", "kyoto", "osaka"}) == std::optional<std::string>("tokyo"));
  CHECK(suggest("man", {"male", "female", "other"}) == std::optional<std::string>("male"));
  CHECK(suggest("Purchased", {"purchased", "vip"}) == std::optional<std::string>("purchased"));
}

TEST_CASE("no suggestion when nothing is close", "[suggest]") {
  CHECK_FALSE(suggest("xyz", {"purchased", "vip"}).has_value());
  CHECK_FALSE(suggest("a", {}).has_value());
}
