#include "compiler/diagnostic.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <tuple>

namespace okuri {

const std::vector<CodeInfo>& all_codes() {
  static const std::vector<CodeInfo> codes = {
#define OKURI_DIAG(code, sev, title) CodeInfo{Code::code, #code, Severity::sev, title},
#include "compiler/diagnostic_codes.def"
#undef OKURI_DIAG
  };
  return codes;
}

const CodeInfo& info(Code c) { return all_codes()[static_cast<std::size_t>(c)]; }

Diagnostic& Diagnostics::report(Code code, Span span, std::string message) {
  items_.push_back(Diagnostic{code, info(code).severity, span, std::move(message), {}, std::nullopt});
  return items_.back();
}

std::size_t Diagnostics::error_count() const {
  return static_cast<std::size_t>(
      std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

std::size_t Diagnostics::warning_count() const {
  return static_cast<std::size_t>(std::count_if(
      items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Severity::Warning; }));
}

namespace {

// The names a declaration would have declared on a line that did not parse (`field visits：int`,
// `message m text “hi”`, `tag a, b；c`): a keyword, then a name, or names after commas for the
// lists. Empty when the line does not start with a declaration's keyword.
std::vector<std::string_view> names_declared_on(std::string_view line) {
  static constexpr std::string_view kOne[] = {"field", "message", "link", "event", "segment"};
  static constexpr std::string_view kList[] = {"tag", "score", "audience", "form"};
  std::vector<std::string_view> out;
  std::size_t i = line.find_first_not_of(" \t");
  if (i == std::string_view::npos) return out;
  const std::size_t kw_end = line.find_first_of(" \t", i);
  if (kw_end == std::string_view::npos) return out;
  const std::string_view kw = line.substr(i, kw_end - i);
  const bool one = std::find(std::begin(kOne), std::end(kOne), kw) != std::end(kOne);
  const bool list = std::find(std::begin(kList), std::end(kList), kw) != std::end(kList);
  if (!one && !list) return out;
  // A name ends at a space, an ASCII delimiter, or a full-width one (UTF-8 lead byte 0xEF or 0xE3
  // starts `：`, `，`, `、`, `＝`, `“`…): names of Japanese letters are kept whole.
  auto name_at = [&](std::size_t from) {
    std::size_t e = from;
    while (e < line.size()) {
      const auto c = static_cast<unsigned char>(line[e]);
      if (c == ' ' || c == '\t' || c == ':' || c == '=' || c == ',' || c == '{' || c == '(' || c == '"') break;
      if ((c == 0xEF && e + 1 < line.size() && static_cast<unsigned char>(line[e + 1]) == 0xBC) ||
          (c == 0xE3 && e + 1 < line.size() && static_cast<unsigned char>(line[e + 1]) == 0x80) ||
          (c == 0xE2 && e + 1 < line.size() && static_cast<unsigned char>(line[e + 1]) == 0x80)) {
        break;  // full-width forms (U+FF00…), CJK punctuation (U+3000…), curly quotes (U+2018…)
      }
      ++e;
    }
    return e;
  };
  i = line.find_first_not_of(" \t", kw_end);
  while (i != std::string_view::npos && i < line.size()) {
    const std::size_t e = name_at(i);
    if (e > i) out.push_back(line.substr(i, e - i));
    if (!list) break;
    const std::size_t comma = line.find(',', e);
    if (comma == std::string_view::npos || line.substr(e, comma - e).find_first_not_of(" \t") != std::string_view::npos)
      break;
    i = line.find_first_not_of(" \t", comma + 1);
  }
  return out;
}

}  // namespace

void Diagnostics::drop_syntax_cascades(const SourceSet& sources) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stops;  // (file, offset) of each syntax error
  std::vector<std::string_view> cut_names;  // what the declarations on those lines would have declared
  for (const auto& d : items_) {
    if (d.code != Code::E001) continue;
    stops.emplace_back(d.span.file, d.span.begin);
    const auto& f = sources.file(d.span.file);
    for (auto n : names_declared_on(f.line_text(f.line_col(d.span.begin).line))) cut_names.push_back(n);
  }
  if (stops.empty()) return;
  auto cut_short = [&](const Diagnostic& d) {
    if (d.code == Code::E001) return false;
    const auto& f = sources.file(d.span.file);
    const auto line = f.line_col(d.span.begin).line;
    for (const auto& [file, at] : stops) {
      if (file == d.span.file && at > d.span.begin && f.line_col(at).line == line) return true;
    }
    // A use of a name whose declaration did not parse: the syntax error is the one mistake.
    if (d.message.rfind("unknown ", 0) == 0 && d.span.end > d.span.begin && d.span.end <= f.text.size()) {
      const std::string_view used(f.text.data() + d.span.begin, d.span.end - d.span.begin);
      if (std::find(cut_names.begin(), cut_names.end(), used) != cut_names.end()) return true;
    }
    return false;
  };
  items_.erase(std::remove_if(items_.begin(), items_.end(), cut_short), items_.end());
}

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.span.file, a.span.begin, a.code, a.message) <
           std::tie(b.span.file, b.span.begin, b.code, b.message);
  });
  // The same problem reported twice at one place is noise.
  items_.erase(std::unique(items_.begin(), items_.end(),
                           [](const Diagnostic& a, const Diagnostic& b) {
                             return a.code == b.code && a.span.file == b.span.file && a.span.begin == b.span.begin &&
                                    a.message == b.message;
                           }),
               items_.end());
}

}  // namespace okuri
