// `okuri diff`: what changed between two versions of a project, per scenario,
// and where a friend waiting at each step of the old version lands in the new
// one under the scenario's `on_update` policy.
#pragma once

#include <string>
#include <vector>

#include "compiler/program.hpp"

namespace okuri {

struct StepChange {
  enum Kind { Added, Removed, Changed } kind;
  std::string id;
  std::string old_label;
  std::string new_label;
};

struct Landing {
  std::string from;  // the old step where friends wait
  enum Kind { Same, Next, Restart, Exit } kind;
  std::string to;    // the new step (Same, Next), else empty
  std::string note;  // a sentence for people
};

struct ScenarioDiff {
  std::string name;
  bool broadcast = false;
  enum Status { Added, Removed, Changed, Unchanged } status = Unchanged;
  std::string policy;  // continue | restart | exit (of the new version)
  std::vector<StepChange> changes;
  std::vector<Landing> landings;
};

std::vector<ScenarioDiff> diff_programs(const Program& old_p, const Program& new_p);
std::string render_diff_human(const std::vector<ScenarioDiff>& d);
std::string render_diff_json(const std::vector<ScenarioDiff>& d);

}  // namespace okuri
