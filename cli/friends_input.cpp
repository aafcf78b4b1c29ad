#include "cli/friends_input.hpp"

#include <cstdlib>
#include <iostream>

#include "cli/progress.hpp"

namespace okuri::cli {
namespace {

// Reads the file with `read` (a load or a scan): progress on a terminal, then its warnings, or
// its error (status 2).
template <typename Read>
bool read_friends_file(const std::string& path, bool quiet, int& status, const std::set<std::string>* columns,
                       Read&& read) {
  if (path.empty()) return true;
  Progress progress("loading " + path, "", quiet);
  rt::FriendsLoadOptions o;
  o.columns = columns;
  o.progress = &progress;
  // OKURI_THREADS caps the reader's threads (benchmarks compare at one thread count); default: every core.
  if (const char* t = std::getenv("OKURI_THREADS"); t != nullptr)
    o.threads = static_cast<unsigned>(std::strtoul(t, nullptr, 10));
  try {
    const rt::FriendsLoaded loaded = read(o);
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

}  // namespace

bool load_friends_file(rt::FriendStore& store, const std::string& path, bool quiet, int& status,
                       const std::set<std::string>* columns) {
  return read_friends_file(path, quiet, status, columns,
                           [&](const rt::FriendsLoadOptions& o) { return rt::load_friends(store, path, o); });
}

bool scan_friends_file(const ir::Schema& schema, const std::string& path, bool quiet, int& status,
                       const std::set<std::string>* columns, const rt::FriendBatch& batch) {
  return read_friends_file(path, quiet, status, columns,
                           [&](const rt::FriendsLoadOptions& o) { return rt::scan_friends(schema, path, o, batch); });
}

}  // namespace okuri::cli
