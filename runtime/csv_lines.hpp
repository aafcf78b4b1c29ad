// The bytes of a friends file, before any value is read: lines, blank lines, and a CSV line's
// cells. Sixteen bytes at a time where SSE2 is there (every x86-64): a file of millions of
// rows spends much of its reading here. Private to runtime/ (friends_file.cpp).
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace okuri::rt::friends_detail {

// A line that holds nothing but spaces and tabs (after a trailing CR) is skipped, not a row.
bool blank(std::string_view line);

// The newlines of `bytes`.
std::size_t count_newlines(std::string_view bytes);

// Adds the rows (lines that are not blank) and the newlines of `bytes`, which end at a line end
// or at the file's end.
void count_rows(std::string_view bytes, std::size_t& rows, std::size_t& newlines);

// Splits one CSV record (RFC 4180: quotes, doubled quotes, commas inside quotes) into views of
// the line, or of `scratch` for a line with quotes or stray CRs. Returns false on an unterminated
// quote. Records may not span lines. A CR outside quotes is dropped.
bool split_csv(std::string_view line, std::vector<std::string_view>& out, std::deque<std::string>& scratch);

}  // namespace okuri::rt::friends_detail
