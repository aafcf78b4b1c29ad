// Progress of a long load or run on stderr, when stderr is a terminal: one line, rewritten,
// with how far, the rate and an estimate of the time left. Silent for the first second (short
// runs print nothing), when stderr is not a terminal, and under --quiet.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "runtime/friends_file.hpp"

namespace okuri::cli {

class Progress : public rt::LoadProgress {
 public:
  // `what`: "loading friends.csv"; `unit`: what `count` counts ("rows", "events"), or empty
  // when only bytes are known.
  Progress(std::string what, std::string unit, bool quiet);
  ~Progress() override;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` bytes read (the share and the estimate come from them); `count` things so far.
  void update(std::size_t done, std::size_t total) override { show(done, total, 0); }
  void show(std::size_t done, std::size_t total, std::size_t count);
  // Clears the line (also done by the destructor).
  void finish();
  bool on() const { return on_; }

 private:
  std::string what_, unit_;
  bool on_ = false;
  bool shown_ = false;
  double after_ = 1.0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace okuri::cli
