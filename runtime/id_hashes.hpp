// Repeated friend ids among millions, found without an index of them: each id is hashed to 64
// bits, and the hashes are spread over buckets by their top bits, so that each bucket's set of
// hashes seen fits in the cache. Used by scan_friends (runtime/friends_file.cpp), which builds
// no store of every friend: the common answer, no hash repeated, is then exact; a repeated hash
// is confirmed (or not) by the caller against the ids themselves.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/friend_store.hpp"
#include "runtime/huge_pages.hpp"

namespace okuri::rt {

// The hash of an id: of its packed bytes for a LINE user id (so that the ids the store takes
// for one are one), else of its text.
std::uint64_t id_hash(const PackedId& packed);
std::uint64_t id_hash(std::string_view odd_id);

// Hashes of many ids, in huge pages (millions of them: a page fault per 4 KiB would cost more
// than hashing).
using IdHashes = std::vector<std::uint64_t, HugePageAllocator<std::uint64_t>>;

// The hashes that occur more than once among all the parts' (in any order, each once).
std::vector<std::uint64_t> repeated_hashes(const std::vector<const IdHashes*>& parts, unsigned threads);

}  // namespace okuri::rt
