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

// A scenario's header (`start`, `restart`, `stop when`, `on_update`) or a broadcast's
// `at` and `to`: not steps, but they decide who enters and when.
struct SettingChange {
  std::string setting;    // "restart", "stop when", "at", "to", …
  std::string old_value;  // empty: not written
  std::string new_value;
};

struct ScenarioDiff {
  std::string name;
  bool broadcast = false;
  enum Status { Added, Removed, Changed, Unchanged } status = Unchanged;
  std::string policy;  // continue | restart | exit (of the new version)
  std::vector<StepChange> changes;
  std::vector<SettingChange> settings;
  std::vector<Landing> landings;
};

std::vector<ScenarioDiff> diff_programs(const Program& old_p, const Program& new_p);

// Every other declaration that decides who gets what: segments, rules, messages,
// fields, links, events, the names of tags, scores, audiences and forms, and the
// account settings. Compared as written, without comments and line breaks.
struct DeclDiff {
  std::string kind;  // "segment", "rule", "message", "field", "link", "event", "tag", …, "account"
  std::string name;  // a rule: `on EVENT [when …]`; an account setting: its name
  enum Status { Added, Removed, Changed } status = Changed;
  std::string old_text;  // the declaration on one line (empty when added)
  std::string new_text;  // (empty when removed)
};
std::vector<DeclDiff> diff_declarations(const Program& old_p, const Program& new_p);

std::string render_diff_human(const std::vector<ScenarioDiff>& d, const std::vector<DeclDiff>& decls = {});
std::string render_diff_json(const std::vector<ScenarioDiff>& d, const std::vector<DeclDiff>& decls = {});

}  // namespace okuri
