// Japanese names of things the language knows by an English (romaji) name: where
// a marketer writes `region == 東京`, `gender == 女性`, `weekday(today) == 土曜日`,
// `on 友だち追加` or `plan ライト`, the checker names the word to write instead.
#pragma once

#include <optional>
#include <string_view>

namespace okuri::stdlib {

enum class JapaneseKind { Gender, Region, Weekday, Event, Plan, Attribute };

// The English name for a Japanese word of that kind (`東京都`, `東京` → `tokyo`), or nullopt.
std::optional<std::string_view> english_name(JapaneseKind kind, std::string_view japanese);

}  // namespace okuri::stdlib
