#include "compiler/fixes.hpp"

#include <algorithm>
#include <map>

namespace okuri {

std::vector<FixedFile> apply_certain_fixes(const Program& p) {
  std::map<std::uint32_t, std::vector<const FixIt*>> by_file;
  for (const auto& d : p.diags.all()) {
    if (d.fix && d.fix->certain) by_file[d.fix->span.file].push_back(&*d.fix);
  }
  std::vector<FixedFile> out;
  for (auto& [file, fixes] : by_file) {
    std::stable_sort(fixes.begin(), fixes.end(),
                     [](const FixIt* a, const FixIt* b) { return a->span.begin < b->span.begin; });
    const std::string& text = p.sources.file(file).text;
    std::string result;
    std::uint32_t at = 0;
    std::size_t applied = 0;
    for (const FixIt* f : fixes) {
      if (f->span.begin < at || f->span.end > text.size()) continue;  // overlaps one applied: next round
      result.append(text, at, f->span.begin - at);
      result += f->replacement;
      at = f->span.end;
      ++applied;
    }
    result.append(text, at, std::string::npos);
    out.push_back({file, std::move(result), applied});
  }
  return out;
}

}  // namespace okuri
