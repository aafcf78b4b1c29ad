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
