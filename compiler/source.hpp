// Source files of a project and conversions from byte offsets to lines and columns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace okuri {

// A range of bytes in one source file. `file` indexes SourceSet::files.
struct Span {
  std::uint32_t file = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

// 1-based line and column; the column counts Unicode code points.
struct LineCol {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

struct SourceFile {
  std::string path;  // as shown to the user (relative when given relative)
  std::string text;
  std::vector<std::uint32_t> line_starts;  // byte offset of each line's first character

  SourceFile(std::string path, std::string text);
  LineCol line_col(std::uint32_t offset) const;
  std::uint32_t offset_of(LineCol lc) const;  // inverse of line_col, clamped
  std::string_view line_text(std::uint32_t line) const;  // without the newline
};

class SourceSet {
 public:
  std::uint32_t add(std::string path, std::string text);
  const SourceFile& file(std::uint32_t i) const { return files_[i]; }
  SourceFile& file(std::uint32_t i) { return files_[i]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(files_.size()); }
  std::string_view text(Span s) const { return std::string_view(files_[s.file].text).substr(s.begin, s.end - s.begin); }

 private:
  std::vector<SourceFile> files_;
};

}  // namespace okuri
