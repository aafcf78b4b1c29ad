// The JIT interface in a build configured with -DOKURI_JIT=OFF: nothing is
// compiled, available() says so, and callers use the interpreter.
#include <cstdlib>
#include <stdexcept>

#include "runtime/jit/jit.hpp"

namespace okuri::jit {

struct Jit::Impl {};

bool Jit::available() { return false; }
Jit::Jit(JitOptions /*options*/) : impl_(std::make_unique<Impl>()) {}
Jit::~Jit() = default;

CompiledGroup Jit::compile(const std::string& /*group*/, const std::vector<ir::Predicate>& /*preds*/,
                           const ir::Schema& /*schema*/, Tier /*tier*/) {
  throw std::runtime_error("this build of okuri has no JIT (configured with -DOKURI_JIT=OFF); use --engine interp");
}

void Jit::remove(const std::string& /*group*/) {}

std::string Jit::target() const { return "none"; }

std::string default_cache_dir() {
  if (const char* d = std::getenv("OKURI_CACHE_DIR"); d != nullptr && *d != 0) return d;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != 0) return std::string(h) + "/.cache/okuri/jit";
  return ".okuri-cache/jit";
}

}  // namespace okuri::jit
