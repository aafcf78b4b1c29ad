#include "runtime/id_hashes.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace okuri::rt {
namespace {

constexpr unsigned kBucketBits = 8;  // 256 buckets: 2 million ids make sets of 8,000 (128 KiB)

std::uint64_t nonzero(std::uint64_t h) { return h == 0 ? 1 : h; }  // 0 marks an empty slot

}  // namespace

std::uint64_t id_hash(const PackedId& packed) { return nonzero(XXH3_64bits(packed.data(), packed.size())); }

std::uint64_t id_hash(std::string_view odd_id) {
  return nonzero(XXH3_64bits_withSeed(odd_id.data(), odd_id.size(), 1));
}

std::vector<std::uint64_t> repeated_hashes(const std::vector<const IdHashes*>& parts, unsigned threads) {
  constexpr std::size_t kBuckets = std::size_t{1} << kBucketBits;
  auto bucket_of = [](std::uint64_t h) { return static_cast<std::size_t>(h >> (64 - kBucketBits)); };
  // A counting sort by bucket: sizes, then starts, then the hashes in place.
  std::vector<std::size_t> start(kBuckets + 1, 0);
  for (const auto* p : parts) {
    for (const std::uint64_t h : *p) ++start[bucket_of(h) + 1];
  }
  for (std::size_t b = 0; b < kBuckets; ++b) start[b + 1] += start[b];
  IdHashes sorted(start[kBuckets]);
  {
    std::vector<std::size_t> at(start.begin(), start.end() - 1);
    for (const auto* p : parts) {
      for (const std::uint64_t h : *p) sorted[at[bucket_of(h)]++] = h;
    }
  }
  std::vector<std::uint64_t> repeated;
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    std::vector<std::uint64_t> slots;
    for (std::size_t b = next++; b < kBuckets; b = next++) {
      const std::size_t n = start[b + 1] - start[b];
      std::size_t size = 16;
      while (size < n * 2) size *= 2;
      slots.assign(size, 0);
      const std::size_t mask = size - 1;
      for (std::size_t i = start[b]; i < start[b + 1]; ++i) {
        const std::uint64_t h = sorted[i];
        std::size_t s = static_cast<std::size_t>(h) & mask;  // the low bits: the top ones chose the bucket
        while (slots[s] != 0 && slots[s] != h) s = (s + 1) & mask;
        if (slots[s] == h) {
          std::lock_guard<std::mutex> lock(mu);
          repeated.push_back(h);
        }
        slots[s] = h;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  std::sort(repeated.begin(), repeated.end());
  repeated.erase(std::unique(repeated.begin(), repeated.end()), repeated.end());
  return repeated;
}

}  // namespace okuri::rt
