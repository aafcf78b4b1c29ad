// A running project's version as the service keeps it: the shape the saved friend states were
// written for, the sources stored beside them (to compile that version back after a restart),
// what the reload watcher compares, and what the project needs from outside (for warnings).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/flow_plan.hpp"
#include "compiler/program.hpp"
#include "runtime/engine.hpp"

namespace okuri::svc {

// What the saved friend states depend on: the schema's names and every scenario's steps.
std::int64_t project_shape(rt::Engine& e);
// The project's `.okuri` sources and JSON message files, as the store keeps them.
std::string sources_of(const Program& p);
// That version compiled back from what sources_of returned.
std::unique_ptr<Program> program_from(const std::string& sources);
// The diagnostics as `okuri check` prints them.
std::string error_text(const Program& p);
// The project's `.okuri` files and the given JSON message files, by size and time.
std::string fingerprint(const std::string& project, const std::vector<std::string>& message_files);

// What the project needs from the outside world, for the warnings at start and after a reload.
struct ProjectNeeds {
  bool clicks = false;  // reads link_clicked, clicked() or clicks()
  bool notify = false;  // has a `notify`
};
ProjectNeeds needs_of(const plan::Plan& pl);

}  // namespace okuri::svc
