// The interpreter's scan over full batches of friends, column at a time (see
// interpreter_scan.cpp). Internal to the interpreter: `rt::scan` is the entry point.
#pragma once

#include <cstddef>
#include <cstdint>

#include "compiler/pred_ir.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/interpreter.hpp"

namespace okuri::rt::detail {

// Rows per batch: a multiple of 64.
inline constexpr std::size_t kScanBatch = 1024;

// Writes out[k] for the friends of the first `batches` full batches
// (rows 0 … batches * kScanBatch - 1), one 64-bit word per 64 friends.
void scan_batches(const ir::Predicate& p, const FriendStore& s, const EvalEnv& env, std::size_t batches,
                  std::uint64_t* out);

}  // namespace okuri::rt::detail
