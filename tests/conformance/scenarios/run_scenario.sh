#!/usr/bin/env bash
# Runs one scenario case of the conformance corpus on one engine and compares
# its deliveries (text form) with expected.txt.
#   run_scenario.sh OKURI CASE_DIR ENGINE     (ENGINE: interp or jit)
# A case folder holds the project (*.okuri), events.jsonl, optionally friends.csv
# and ARGS (more options for `okuri simulate`), and expected.txt.
# Set OKURI_UPDATE_GOLDEN=1 to rewrite expected.txt from the interpreter's output.
set -uo pipefail
okuri="$1"
case_dir="$2"
engine="$3"
args=()
[ -f "$case_dir/ARGS" ] && read -r -a args < "$case_dir/ARGS"
friends=()
[ -f "$case_dir/friends.csv" ] && friends=(--friends "$case_dir/friends.csv")
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
actual="$("$okuri" simulate "$case_dir" --events "$case_dir/events.jsonl" "${friends[@]}" --format text \
  --engine "$engine" --report "$report" "${args[@]}")" || { echo "okuri simulate failed on $case_dir" >&2; exit 1; }
if [ "${OKURI_UPDATE_GOLDEN:-}" = "1" ] && [ "$engine" = "interp" ]; then
  printf '%s\n' "$actual" > "$case_dir/expected.txt"
  echo "updated $case_dir/expected.txt"
  exit 0
fi
if ! diff -u "$case_dir/expected.txt" <(printf '%s\n' "$actual"); then
  echo "scenario conformance mismatch: $case_dir on $engine" >&2
  exit 1
fi
