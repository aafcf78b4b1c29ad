// Subcommands of `okuri`. Each registers itself on the app and sets the exit
// status through `status` when it runs: 0 ok, 1 diagnostics or failed tests,
// 2 bad usage or unreadable input.
#pragma once

#include <CLI/CLI.hpp>

namespace okuri::cli {

void add_check_command(CLI::App& app, int& status);
void add_graph_command(CLI::App& app, int& status);
void add_fmt_command(CLI::App& app, int& status);
void add_diff_command(CLI::App& app, int& status);
void add_segment_command(CLI::App& app, int& status);

// Colour on a terminal unless NO_COLOR is set; `--color always|never` overrides.
bool want_color(const std::string& mode, int fd);

}  // namespace okuri::cli
