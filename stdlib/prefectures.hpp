// Japan's 47 prefectures by romaji name, with the spellings the language accepts.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace okuri::stdlib {

struct Prefecture {
  int code;                    // JIS X 0401 code, 1 (hokkaido) … 47 (okinawa); LINE's area is jp_<code>
  std::string_view name;       // canonical romaji
  std::string_view kanji;
};

const std::vector<Prefecture>& prefectures();
// Canonical name for a spelling (`hyougo` → `hyogo`), or nullopt.
std::optional<std::string_view> canonical_prefecture(std::string_view spelling);
// Every accepted spelling, canonical names first.
const std::vector<std::string_view>& prefecture_spellings();

}  // namespace okuri::stdlib
