#include "cli/html_output.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"

namespace okuri::cli {

std::string project_title(const std::string& path) {
  std::filesystem::path p = std::filesystem::absolute(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.extension() == ".okuri" ? p.stem().string() : p.filename().string();
}

bool write_output(const std::string& path, const std::string& text) {
  // Only a regular file (or a new one) is replaced by a rename: a symbolic link such as
  // /dev/stdout, a device or a pipe is written through.
  std::error_code ec;
  const auto st = std::filesystem::symlink_status(path, ec);
  if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st)) {
    std::ofstream f(path, std::ios::binary);
    f << text;
    f.flush();
    return static_cast<bool>(f);
  }
  return write_atomic(path, text);
}

bool write_html_report(const rt::Engine& e, const std::string& report_json, const report::HtmlOptions& o,
                       const std::string& path, const char* command, int& status) {
  std::string page;
  try {
    page = report::html_report(e, report_json, o);
  } catch (const std::exception& ex) {
    std::cerr << "okuri " << command << ": cannot draw the HTML report: " << ex.what() << "\n";
    status = 2;
    return false;
  }
  if (!write_output(path, page)) {
    std::cerr << "okuri " << command << ": cannot write the HTML report to " << path << "\n";
    status = 2;
    return false;
  }
  return true;
}

}  // namespace okuri::cli
