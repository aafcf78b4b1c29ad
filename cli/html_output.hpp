// Writing the HTML report for `okuri simulate --html` and `okuri report`.
#pragma once

#include <string>

#include "report/html_report.hpp"

namespace okuri::cli {

// The project's name for titles: its folder's name, or the file's without `.okuri`.
std::string project_title(const std::string& path);

// Writes a report: through a temporary file and a rename, or straight into what is not a
// regular file (`/dev/stdout`, a pipe). False when it could not.
bool write_output(const std::string& path, const std::string& text);

// Draws the page and writes it to `path`; on failure says why (naming `command`) and sets status 2.
bool write_html_report(const rt::Engine& e, const std::string& report_json, const report::HtmlOptions& o,
                       const std::string& path, const char* command, int& status);

}  // namespace okuri::cli
