#!/usr/bin/env bash
# A bounded libFuzzer run (OKURI_FUZZ_SECONDS, default 30). Exit 125 (skipped) when fuzzing is
# turned off.
#   run_fuzz.sh BIN                   parse + check, seeded from the examples and the golden files, up to 256 KiB
#   run_fuzz.sh BIN SEEDS MAX_LEN     another target, seeded from SEEDS, inputs up to MAX_LEN bytes
set -uo pipefail
bin="$1"
seconds="${OKURI_FUZZ_SECONDS:-30}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$seconds" = "0" ]; then echo "fuzzing turned off (OKURI_FUZZ_SECONDS=0)"; exit 125; fi
if [ ! -x "$bin" ]; then echo "fuzz target not built: run scripts/test.sh" >&2; exit 1; fi
work="$repo/build-fuzz/corpus-$(basename "$bin")"
mkdir -p "$work"
seeds=()
max_len=262144  # the sizes that once broke the checker (a 25,000-clause `and` chain is 200 KB)
if [ $# -ge 3 ]; then
  seeds=("$2")
  max_len="$3"
else
  for d in "$repo"/examples/* "$repo"/tests/golden/* "$repo"/fuzz/seeds; do
    [ -d "$d" ] && seeds+=("$d")
  done
fi
cd "$repo/build-fuzz"
"$bin" -error_exitcode=1 -artifact_prefix="$repo/build-fuzz/" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len="$max_len" -print_final_stats=1 "$work" "${seeds[@]}" 2>&1 | tail -20
status=${PIPESTATUS[0]}
exit "$status"
