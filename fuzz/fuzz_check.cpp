// libFuzzer target: any bytes as a one-file project, parsed and checked.
// Finds crashes, hangs, leaks and undefined behaviour in the front end.
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/diagnostic.hpp"
#include "compiler/workspace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto p = okuri::compile_sources("/nonexistent", {{"fuzz.okuri", std::move(text)}});
  // Rendering walks every span: it must stay inside the text.
  (void)okuri::render_human(p->sources, p->diags.all());
  (void)okuri::render_json(p->sources, p->diags.all());
  return 0;
}
