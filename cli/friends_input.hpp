// `--friends FILE` for the commands that take one: loads it with progress on a terminal,
// prints its warnings (undeclared columns and tags, with their line) and its error.
#pragma once

#include <set>
#include <string>

#include "runtime/friend_store.hpp"

namespace okuri::cli {

// False (status 2, the error printed) when the file does not load. `columns`: only these are
// read (null: all).
bool load_friends_file(rt::FriendStore& store, const std::string& path, bool quiet, int& status,
                       const std::set<std::string>* columns = nullptr);

}  // namespace okuri::cli
