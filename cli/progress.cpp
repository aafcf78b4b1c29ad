#include "cli/progress.hpp"

#include "stdlib/number_text.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace okuri::cli {

Progress::Progress(std::string what, std::string unit, bool quiet)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      on_(!quiet && isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {
  // OKURI_PROGRESS_AFTER (seconds, default 1): when the line first shows; tests set it to 0.
  if (const char* after = std::getenv("OKURI_PROGRESS_AFTER"); after != nullptr) after_ = std::atof(after);
}

Progress::~Progress() { finish(); }

void Progress::show(std::size_t done, std::size_t total, std::size_t count) {
  if (!on_) return;
  const auto now = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(now - start_).count();
  // Nothing for a run shorter than a second; then at most ten lines a second.
  if (secs < after_ || (shown_ && now - last_ < std::chrono::milliseconds(100))) return;
  last_ = now;
  shown_ = true;
  std::string line = what_;
  if (total > 0) line += fmt::format(": {:3}%", done * 100 / total);
  if (count > 0 && !unit_.empty()) {
    line += fmt::format(" · {} {} · {}/s", stdlib::with_commas(static_cast<std::int64_t>(count)), unit_,
                        stdlib::with_commas(static_cast<std::int64_t>(static_cast<double>(count) / secs)));
  } else {
    line += fmt::format(" · {:.0f} MB/s", static_cast<double>(done) / secs / 1e6);
  }
  if (total > 0 && done > 0 && done < total) {
    const double left = secs * static_cast<double>(total - done) / static_cast<double>(done);
    line += left < 60 ? fmt::format(" · about {:.0f} s left", left + 0.5)
                      : fmt::format(" · about {:.0f} min left", left / 60 + 0.5);
  }
  std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (!shown_) return;
  std::fprintf(stderr, "\r\x1b[K");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace okuri::cli
