#!/usr/bin/env bash
# A bounded libFuzzer run (OKURI_FUZZ_SECONDS, default 30) seeded from the
# examples and the golden files. Exit 125 (skipped) when fuzzing is turned off.
set -uo pipefail
bin="$1"
seconds="${OKURI_FUZZ_SECONDS:-30}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$seconds" = "0" ]; then echo "fuzzing turned off (OKURI_FUZZ_SECONDS=0)"; exit 125; fi
if [ ! -x "$bin" ]; then echo "fuzz target not built: run scripts/test.sh" >&2; exit 1; fi
work="$repo/build-fuzz/corpus"
mkdir -p "$work"
seeds=()
for d in "$repo"/examples/* "$repo"/tests/golden/* "$repo"/fuzz/seeds; do
  [ -d "$d" ] && seeds+=("$d")
done
cd "$repo/build-fuzz"
"$bin" -error_exitcode=1 -artifact_prefix="$repo/build-fuzz/" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
  "$work" "${seeds[@]}" 2>&1 | tail -20
status=${PIPESTATUS[0]}
exit "$status"
