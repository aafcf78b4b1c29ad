#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests, golden files, examples,
# docs examples, and a bounded libFuzzer run over parse + check.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# The fuzz target needs clang and its own build folder.
FUZZ_SECONDS="${OKURI_FUZZ_SECONDS:-30}"
if [ "$FUZZ_SECONDS" != "0" ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOKURI_FUZZ=ON -DOKURI_WERROR=OFF >/dev/null
  cmake --build build-fuzz -j "$(nproc)" --target okuri_fuzz_check
fi

cd build
ctest --output-on-failure -j "$(nproc)" "$@"
