// Loading friends from a file: CSV with a header row, or JSONL (one object a
// line), columns as docs/input-formats.md says.
//
// The file is memory-mapped and read in chunks that end at line ends, on all
// cores: a first pass counts each chunk's rows, so every chunk then writes
// straight into its own rows of the store; texts are interned per chunk and
// merged in file order, so the result is the same, id for id, whatever the
// thread count. Chunks already read are given back to the system, so memory
// holds the store plus a few chunks, not the file.
//
// A malformed row raises DataError naming file:line, the column and the value:
// the first bad line of the file, whatever the thread count. Nothing is added
// to the store unless the whole file loads.
#pragma once

#include <cstddef>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/pred_ir.hpp"
#include "runtime/friend_store.hpp"

namespace okuri::rt {

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct LoadProgress {
  virtual ~LoadProgress() = default;
  virtual void update(std::size_t bytes_done, std::size_t bytes_total) = 0;
};

struct FriendsLoadOptions {
  // Only these columns are read (with `id`); the others are skipped without being parsed or
  // checked. Null: every column.
  const std::set<std::string>* columns = nullptr;
  unsigned threads = 0;  // 0: one per core
  LoadProgress* progress = nullptr;
  // Where chunks end, as byte offsets (each moved on to the next line start); empty: by size.
  // For tests that cut files at awkward places.
  std::vector<std::size_t> split_at;
};

struct FriendsLoaded {
  std::size_t rows = 0;
  // `file:line: column `x` is not …; ignored`: columns and tags the project does not declare.
  std::vector<std::string> warnings;
};

// Loads `path` (.csv, or .jsonl/.json by extension) into `store`, which must be empty. The
// account time zone converts datetimes without an offset.
FriendsLoaded load_friends(FriendStore& store, const std::string& path, const FriendsLoadOptions& options = {});
FriendsLoaded load_friends_text(FriendStore& store, const std::string& shown_path, std::string_view text, bool jsonl,
                                const FriendsLoadOptions& options = {});

// A command that only counts (segment count) needs no store of every friend. scan_friends reads
// the file as load_friends does, in one pass: each chunk is counted, checked and read into a
// store of its own (one per thread, reused), which is handed to `batch` on that thread; only
// the columns asked for hold values. Memory holds a chunk's rows per thread and a hash of each
// id (repeated ids are found from them), not every friend. The same errors as load_friends,
// but batches already handed over are not taken back: when scan_friends throws, drop what
// they counted.
using FriendBatch = std::function<void(const FriendStore& friends, unsigned thread)>;
FriendsLoaded scan_friends(const ir::Schema& schema, const std::string& path, const FriendsLoadOptions& options,
                           const FriendBatch& batch);
FriendsLoaded scan_friends_text(const ir::Schema& schema, const std::string& shown_path, std::string_view text,
                                bool jsonl, const FriendsLoadOptions& options, const FriendBatch& batch);

// The friends-file columns the predicates read (`age`, `tags`, `score.engagement`, a field's
// name): what a command that only evaluates them needs to load.
std::set<std::string> friend_columns_read(const ir::Schema& schema, const std::vector<ir::Predicate>& preds);

}  // namespace okuri::rt
