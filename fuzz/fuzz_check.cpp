// libFuzzer target: any bytes as a one-file project, parsed, checked, lowered
// to step graphs, rendered, and formatted. Finds crashes, hangs, leaks and
// undefined behaviour, and checks that formatting is idempotent and keeps the
// meaning (format_checked compares the ASTs).
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/diagnostic.hpp"
#include "compiler/formatter.hpp"
#include "compiler/step_graph.hpp"
#include "compiler/workspace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto p = okuri::compile_sources("/nonexistent", {{"fuzz.okuri", text}});
  // Rendering walks every span: it must stay inside the text.
  (void)okuri::render_human(p->sources, p->diags.all());
  (void)okuri::render_json(p->sources, p->diags.all());
  (void)okuri::render_sarif(p->sources, p->diags.all());
  for (const auto& g : p->graphs) {
    (void)okuri::to_dot(g);
    (void)okuri::to_mermaid(g);
  }
  const auto once = okuri::format_checked(text);
  if (once.ok) {
    const auto twice = okuri::format_checked(once.text);
    if (!twice.ok || twice.text != once.text) __builtin_trap();  // not idempotent
  } else {
    for (const auto& e : once.errors) {
      if (e.rfind("internal error", 0) == 0) __builtin_trap();  // formatting changed the meaning
    }
  }
  return 0;
}
