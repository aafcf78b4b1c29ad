#include "cli/friends_input.hpp"

#include <cstdlib>
#include <iostream>

#include "cli/progress.hpp"
#include "runtime/friends_file.hpp"

namespace okuri::cli {

bool load_friends_file(rt::FriendStore& store, const std::string& path, bool quiet, int& status,
                       const std::set<std::string>* columns) {
  if (path.empty()) return true;
  Progress progress("loading " + path, "", quiet);
  rt::FriendsLoadOptions o;
  o.columns = columns;
  o.progress = &progress;
  // OKURI_THREADS caps the reader's threads (benchmarks compare at one thread count); default: every core.
  if (const char* t = std::getenv("OKURI_THREADS"); t != nullptr)
    o.threads = static_cast<unsigned>(std::strtoul(t, nullptr, 10));
  try {
    const auto loaded = rt::load_friends(store, path, o);
    progress.finish();
    for (const auto& w : loaded.warnings) std::cerr << "okuri: warning: " << w << "\n";
  } catch (const rt::DataError& e) {
    progress.finish();
    std::cerr << "okuri: " << e.what() << "\n";
    status = 2;
    return false;
  }
  return true;
}

}  // namespace okuri::cli
