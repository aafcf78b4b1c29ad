// Did-you-mean: the closest candidate by edit distance over code points, so
// that Japanese names (`体験予約済` → `体験予約済み`) are measured per character.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace okuri {

// Levenshtein distance over Unicode code points.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The best candidate within a distance that grows with the name's length
// (1 for up to 2 characters, then 2 or a third of the length);
// ties go to the earlier candidate in sorted order. Case differences count 0.5.
std::optional<std::string> suggest(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace okuri
