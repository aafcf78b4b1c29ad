#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "compiler/versions.hpp"
#include "compiler/workspace.hpp"

namespace okuri::cli {
namespace {

namespace fs = std::filesystem;

// Runs a command and returns its standard output; false when it fails.
bool run(const std::string& cmd, std::string& out) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  char buf[4096];
  std::size_t n = 0;
  out.clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return pclose(p) == 0;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A project at a git revision: the .okuri files of `dir` as they were at `rev`.
std::unique_ptr<Program> load_revision(const std::string& rev, const std::string& dir) {
  std::string list;
  if (!run("git -C " + quote(dir) + " ls-tree --name-only " + quote(rev) + " -- . 2>/dev/null", list)) {
    throw LoadError("not a folder, a file or a git revision: " + rev);
  }
  std::vector<std::pair<std::string, std::string>> files;
  std::istringstream names(list);
  std::string name;
  while (std::getline(names, name)) {
    if (name.size() < 6 || name.substr(name.size() - 6) != ".okuri") continue;
    std::string text;
    if (!run("git -C " + quote(dir) + " show " + quote(rev + ":./" + name) + " 2>/dev/null", text)) {
      throw LoadError("cannot read " + name + " at " + rev);
    }
    files.emplace_back(rev + ":" + (fs::path(dir) / name).lexically_normal().string(), std::move(text));
  }
  if (files.empty()) throw LoadError("no .okuri files in " + dir + " at " + rev);
  return compile_sources(dir, std::move(files));
}

std::unique_ptr<Program> load(const std::string& what, const std::string& dir) {
  std::error_code ec;
  if (fs::exists(what, ec)) return compile_path(what);
  return load_revision(what, dir);
}

}  // namespace

void add_diff_command(CLI::App& app, int& status) {
  struct Options {
    std::string old_version;
    std::string new_version;
    std::string project = ".";
    std::string format = "human";
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("diff", "Show what changed between two versions and where friends mid-way land.");
  cmd->footer(
      "Compare two versions of a project: two folders, or two git revisions of the folder given by --project.\n"
      "Per scenario: steps added (+), removed (-) and changed (~) by stable id, changed headers (start, restart,\n"
      "stop when, on_update; a broadcast's at and to), and for every wait of the old version where a friend\n"
      "waiting there lands in the new one under the scenario's `on_update` policy. Then every other change that\n"
      "decides who gets what: segments, rules, messages, fields, links, events, tags, scores and account settings.");
  cmd->add_option("old", opts->old_version, "Old version: a project folder or a git revision")->required();
  cmd->add_option("new", opts->new_version, "New version: a project folder or a git revision")->required();
  cmd->add_option("--project", opts->project, "The project folder inside the git repository (with revisions)");
  cmd->add_option("--format", opts->format, "human (default) or json")->check(CLI::IsMember({"human", "json"}));
  cmd->callback([opts, &status] {
    std::unique_ptr<Program> a;
    std::unique_ptr<Program> b;
    try {
      a = load(opts->old_version, opts->project);
      b = load(opts->new_version, opts->project);
    } catch (const LoadError& e) {
      std::cerr << "okuri: " << e.what() << "\n";
      status = 2;
      return;
    }
    a = require_no_errors(std::move(a), "diff", status);
    if (a) b = require_no_errors(std::move(b), "diff", status);
    if (!a || !b) return;
    const auto d = diff_programs(*a, *b);
    const auto decls = diff_declarations(*a, *b);
    std::cout << (opts->format == "json" ? render_diff_json(d, decls) : render_diff_human(d, decls));
  });
}

}  // namespace okuri::cli
