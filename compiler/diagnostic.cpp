#include "compiler/diagnostic.hpp"

#include <algorithm>
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

void Diagnostics::drop_syntax_cascades(const SourceSet& sources) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stops;  // (file, offset) of each syntax error
  for (const auto& d : items_) {
    if (d.code == Code::E001) stops.emplace_back(d.span.file, d.span.begin);
  }
  if (stops.empty()) return;
  auto cut_short = [&](const Diagnostic& d) {
    if (d.code == Code::E001) return false;
    const auto& f = sources.file(d.span.file);
    const auto line = f.line_col(d.span.begin).line;
    for (const auto& [file, at] : stops) {
      if (file == d.span.file && at > d.span.begin && f.line_col(at).line == line) return true;
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
