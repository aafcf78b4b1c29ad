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
void add_run_commands(CLI::App& app, int& status);  // simulate, test, explain
void add_preview_command(CLI::App& app, int& status);
void add_send_test_command(CLI::App& app, int& status);
void add_serve_command(CLI::App& app, int& status);
void add_store_command(CLI::App& app, int& status);  // store copy
void add_lsp_command(CLI::App& app, int& status);  // the language server
void add_report_command(CLI::App& app, int& status);  // a running account's HTML report

}  // namespace okuri::cli

#include <memory>

#include "compiler/program.hpp"

namespace okuri::cli {

// Compiles a project for a command that needs it free of errors. On an
// unreadable path prints why and sets status 2; on errors prints them (not the
// warnings) and sets status 1. Returns nullptr in both cases.
std::unique_ptr<Program> compile_for_command(const std::string& path, const char* command, int& status);
// Compiles already-loaded sources the same way.
std::unique_ptr<Program> require_no_errors(std::unique_ptr<Program> p, const char* command, int& status);

// Colour on a terminal unless NO_COLOR is set; `--color always|never` overrides.
bool want_color(const std::string& mode, int fd);

// Writes a file through a temporary file and a rename (false when it could not).
bool write_atomic(const std::string& path, const std::string& text);

}  // namespace okuri::cli
