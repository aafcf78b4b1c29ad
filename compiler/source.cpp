#include "compiler/source.hpp"

#include <cstring>

#include <algorithm>

namespace okuri {

SourceFile::SourceFile(std::string p, std::string t) : path(std::move(p)), text(std::move(t)) {
  line_starts.reserve(text.size() / 32 + 1);
  line_starts.push_back(0);
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  for (const char* at = begin; at < end;) {
    const auto* nl = static_cast<const char*>(std::memchr(at, '\n', static_cast<std::size_t>(end - at)));
    if (nl == nullptr) break;
    line_starts.push_back(static_cast<std::uint32_t>(nl - begin + 1));
    at = nl + 1;
  }
}

LineCol SourceFile::line_col(std::uint32_t offset) const {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  auto it = std::upper_bound(line_starts.begin(), line_starts.end(), offset);
  const auto line = static_cast<std::uint32_t>(it - line_starts.begin());
  std::uint32_t col = 1;
  for (std::uint32_t i = line_starts[line - 1]; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++col;
  }
  return LineCol{line, col};
}

std::uint32_t SourceFile::offset_of(LineCol lc) const {
  if (lc.line == 0) return 0;
  if (lc.line > line_starts.size()) return static_cast<std::uint32_t>(text.size());
  std::uint32_t i = line_starts[lc.line - 1];
  std::uint32_t col = 1;
  while (i < text.size() && text[i] != '\n' && col < lc.column) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    ++col;
  }
  return i;
}

std::string_view SourceFile::line_text(std::uint32_t line) const {
  if (line == 0 || line > line_starts.size()) return {};
  const std::uint32_t b = line_starts[line - 1];
  std::uint32_t e = line < line_starts.size() ? line_starts[line] - 1 : static_cast<std::uint32_t>(text.size());
  if (e > b && text[e - 1] == '\r') --e;
  return std::string_view(text).substr(b, e - b);
}

std::uint32_t SourceSet::add(std::string path, std::string text) {
  files_.emplace_back(std::move(path), std::move(text));
  return static_cast<std::uint32_t>(files_.size() - 1);
}

}  // namespace okuri
