// Applying fix-its to source text: what `okuri check --fix` writes back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/program.hpp"

namespace okuri {

struct FixedFile {
  std::uint32_t file;  // index into p.sources
  std::string text;    // the file with the fixes applied
  std::size_t fixes;   // how many
};

// Every file of `p` with a certain fix-it (FixIt::certain) among its diagnostics,
// with those fixes applied. Fixes that overlap an earlier one are left for the
// next round (the caller compiles again and repeats until none is left).
std::vector<FixedFile> apply_certain_fixes(const Program& p);

}  // namespace okuri
