// Random well-typed predicates over a fixed project, and random friends that
// hit the edges: unknown values, empty sets, boundary ages and dates.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "runtime/friend_store.hpp"
#include "runtime/interpreter.hpp"

namespace okuri::testgen {

// The declarations every generated predicate may use.
std::string project_declarations();

// One random condition in the language's syntax (depth bounds nesting).
std::string random_predicate(std::mt19937_64& rng, int depth = 3);

// A fixed evaluation time: 2026-11-22 12:00 Asia/Tokyo.
rt::EvalEnv fixed_env(const stdlib::Zone& zone);

// Appends `n` random friends to `store` (built from the schema of project_declarations()).
void random_friends(rt::FriendStore& store, std::mt19937_64& rng, std::size_t n, const rt::EvalEnv& env);

}  // namespace okuri::testgen
