#include "runtime/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace okuri::rt {

MappedFile::MappedFile(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw std::runtime_error("cannot read " + path + ": not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ == 0) return;
  data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
  if (data_ == MAP_FAILED) {
    data_ = nullptr;
    ::close(fd_);
    throw std::runtime_error("cannot map " + path + ": " + std::strerror(errno));
  }
  ::madvise(data_, size_, MADV_SEQUENTIAL);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
}

std::string_view MappedFile::text() const {
  return data_ == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(data_), size_);
}

void MappedFile::release(std::size_t begin, std::size_t end) const {
  if (data_ == nullptr) return;
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<std::uintptr_t>(data_);
  const std::uintptr_t b = (base + begin + page - 1) / page * page;
  const std::uintptr_t e = (base + end) / page * page;
  if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
}

void MappedFile::populate(std::size_t begin, std::size_t end) const {
#ifdef MADV_POPULATE_READ
  if (data_ == nullptr || end <= begin) return;
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<std::uintptr_t>(data_);
  const std::uintptr_t b = (base + begin) / page * page;
  ::madvise(reinterpret_cast<void*>(b), base + end - b,
            MADV_POPULATE_READ);  // older kernels refuse it: then pages fault in
#else
  (void)begin;
  (void)end;
#endif
}

}  // namespace okuri::rt
