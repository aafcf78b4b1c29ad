#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "compiler/formatter.hpp"

namespace okuri::cli {
namespace {

namespace fs = std::filesystem;

bool read_all(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !in.bad();
}

}  // namespace

// Writes through a temporary file and a rename, so a full disk never leaves half a file. A
// symbolic link is followed: the file it points to is replaced, and the link stays a link.
bool write_atomic(const std::string& given, const std::string& text) {
  std::string path = given;
  std::error_code link_ec;  // a path that does not exist yet is no link: written as it is
  if (fs::is_symlink(fs::symlink_status(given, link_ec))) {
    path = fs::weakly_canonical(given, link_ec).string();
    if (link_ec) return false;
  }
  const std::string tmp = path + ".okuri-fmt.tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return false;
    }
  }
  std::error_code ec;
  fs::permissions(tmp, fs::status(path, ec).permissions(), ec);
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return false;
  }
  return true;
}

void add_fmt_command(CLI::App& app, int& status) {
  struct Options {
    std::vector<std::string> paths;
    bool check = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("fmt", "Format .okuri files in the canonical layout.");
  cmd->footer(
      "Rewrite each .okuri file (PATHs are files or folders, searched recursively; default: the current\n"
      "folder) in the canonical layout: two-space indentation per block, canonical spacing, no trailing\n"
      "spaces, at most one blank line in a row. Line breaks and comments are kept. `-` formats standard\n"
      "input to standard output. Files with syntax errors are left alone.");
  cmd->add_option("paths", opts->paths, "Files or folders (default: the current folder)");
  cmd->add_flag("--check", opts->check, "Change nothing; print a unified diff and exit 1 when a file is not formatted");
  cmd->callback([opts, &status] {
    if (opts->paths.empty()) opts->paths.push_back(".");
    if (opts->paths.size() == 1 && opts->paths[0] == "-") {
      std::string src((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      auto r = format_checked(src);
      if (!r.ok) {
        for (const auto& e : r.errors) std::cerr << "<stdin>:" << e << "\n";
        status = 1;
        return;
      }
      std::cout << r.text;
      return;
    }
    std::vector<std::string> files;
    for (const auto& p : opts->paths) {
      std::error_code ec;
      if (fs::is_directory(p, ec)) {
        for (auto it = fs::recursive_directory_iterator(p, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
          if (ec) break;
          const auto name = it->path().filename().string();
          std::error_code entry_ec;  // a looping or dangling symbolic link is skipped, not a crash
          if (it->is_directory(entry_ec) &&
              (name == "build" || name == "node_modules" || (name.size() > 1 && name[0] == '.'))) {
            it.disable_recursion_pending();
            continue;
          }
          if (it->is_regular_file(entry_ec) && it->path().extension() == ".okuri") files.push_back(it->path().string());
        }
      } else if (fs::is_regular_file(p, ec)) {
        files.push_back(p);
      } else {
        std::cerr << "okuri: no such file or folder: " << p << "\n";
        status = 2;
        return;
      }
    }
    std::sort(files.begin(), files.end());
    bool unformatted = false;
    bool failed = false;
    for (const auto& f : files) {
      std::string src;
      if (!read_all(f, src)) {
        std::cerr << "okuri: cannot read " << f << "\n";
        status = 2;
        return;
      }
      auto r = format_checked(src);
      if (!r.ok) {
        for (const auto& e : r.errors) std::cerr << f << ":" << e << "\n";
        std::cerr << f << ": not formatted (fix the errors first)\n";
        failed = true;
        continue;
      }
      if (r.text == src) continue;
      unformatted = true;
      if (opts->check) {
        std::cout << unified_diff(f, f + " (formatted)", src, r.text);
      } else if (write_atomic(f, r.text)) {
        std::cerr << "formatted " << f << "\n";
      } else {
        std::cerr << "okuri: cannot write " << f << "; it is unchanged\n";
        failed = true;
      }
    }
    if (failed || (opts->check && unformatted)) status = 1;
  });
}

}  // namespace okuri::cli
