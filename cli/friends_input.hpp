// `--friends FILE` for the commands that take one: loads (or scans) it with progress on a terminal,
// prints its warnings (undeclared columns and tags, with their line) and its error.
#pragma once

#include <set>
#include <string>

#include "runtime/friend_store.hpp"
#include "runtime/friends_file.hpp"

namespace okuri::cli {

// False (status 2, the error printed) when the file does not load. `columns`: only these are
// read (null: all).
bool load_friends_file(rt::FriendStore& store, const std::string& path, bool quiet, int& status,
                       const std::set<std::string>* columns = nullptr);

// The same read a chunk at a time into `batch` (rt::scan_friends), for a command that only
// counts: false, as above, when the file has an error (drop what the batches counted).
bool scan_friends_file(const ir::Schema& schema, const std::string& path, bool quiet, int& status,
                       const std::set<std::string>* columns, const rt::FriendBatch& batch);

}  // namespace okuri::cli
