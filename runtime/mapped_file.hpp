// A whole file mapped read-only, for the bulk readers (friends files, event streams): the pages
// come from the page cache as they are read, and a reader can give back what it has read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace okuri::rt {

class MappedFile {
 public:
  // Throws std::runtime_error naming the path and the reason.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view text() const;
  // Gives back the pages wholly inside bytes [begin, end) (read already): they stay in the page
  // cache, not in this process's memory.
  void release(std::size_t begin, std::size_t end) const;
  // Maps bytes [begin, end) in one call ahead of reading them; a hint.
  void populate(std::size_t begin, std::size_t end) const;

 private:
  int fd_ = -1;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace okuri::rt
