#include "service/database_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "service/store.hpp"

namespace okuri::svc {

DatabaseLock::DatabaseLock(const std::string& db_path) {
  const std::string path = db_path + ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw StoreError(fmt::format("{}: cannot open the lock file: {}", path, std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char pid[32] = {};
    const ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      const std::string who =
          n > 0 ? fmt::format("process {}", std::string(pid, static_cast<std::size_t>(n))) : "another process";
      throw StoreError(fmt::format(
          "{} is being served by {}: two processes on one database would send its messages twice. Stop that one first "
          "(or give this one its own --db)",
          db_path, who));
    }
    throw StoreError(fmt::format("{}: cannot lock: {}", path, std::strerror(err)));
  }
  const std::string me = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t w = ::pwrite(fd_, me.data(), me.size(), 0);
  }
}

DatabaseLock::~DatabaseLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the lock
}

}  // namespace okuri::svc
