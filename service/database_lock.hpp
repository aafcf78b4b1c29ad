// One process per database: `okuri serve` holds an exclusive lock on `DB.lock` beside the
// database for as long as it runs, so a second process on the same database is refused at start
// instead of sending the outbox a second time. The operating system drops the lock when the
// process dies, however it dies, so a restart after `kill -9` takes it at once.
#pragma once

#include <string>

namespace okuri::svc {

class DatabaseLock {
 public:
  // Throws StoreError naming the process that holds it (its pid), or why the lock file failed.
  explicit DatabaseLock(const std::string& db_path);
  ~DatabaseLock();
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace okuri::svc
