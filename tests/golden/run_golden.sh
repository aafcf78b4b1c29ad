#!/usr/bin/env bash
# Runs one golden case and compares its output with <case>.expected.
#   run_golden.sh OKURI CASE_PATH      (CASE_PATH without .okuri / .expected)
# The case's first line may name the command: `# RUN: check --format json`
# (default `check`); the path of the case is appended, or put where `{}`
# stands (`{-}`: nowhere, for a command that names its own files). A folder case may hold its RUN line in a file `RUN`. The output is stdout
# and stderr together, then a line `exit: N`.
# Set OKURI_UPDATE_GOLDEN=1 to rewrite the expected file instead.
set -uo pipefail
okuri="$1"
case_path="$2"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
rel="${case_path#"$repo"/}"
if [ -d "$rel" ]; then
  target="$rel"
  if [ -f "$rel/RUN" ]; then first="$rel/RUN"; else first="$(ls "$rel"/*.okuri | head -1)"; fi
else
  target="$rel.okuri"
  first="$target"
fi
cmd="check"
run_line="$(head -1 "$first" | sed -n 's/^# RUN: //p')"
[ -n "$run_line" ] && cmd="$run_line"
if [[ "$cmd" == *"{-}"* ]]; then
  cmd="${cmd//\{-\}/}"
  # shellcheck disable=SC2086
  actual="$(NO_COLOR=1 "$okuri" $cmd 2>&1; echo "exit: $?")"
elif [[ "$cmd" == *"{}"* ]]; then
  cmd="${cmd//\{\}/$target}"
  # shellcheck disable=SC2086
  actual="$(NO_COLOR=1 "$okuri" $cmd 2>&1; echo "exit: $?")"
else
  # shellcheck disable=SC2086
  actual="$(NO_COLOR=1 "$okuri" $cmd "$target" 2>&1; echo "exit: $?")"
fi
expected_file="$rel.expected"
if [ "${OKURI_UPDATE_GOLDEN:-}" = "1" ]; then
  printf '%s\n' "$actual" > "$expected_file"
  echo "updated $expected_file"
  exit 0
fi
if ! diff -u "$expected_file" <(printf '%s\n' "$actual"); then
  echo "golden mismatch: $rel (update with: OKURI_UPDATE_GOLDEN=1 ctest -R golden/)" >&2
  exit 1
fi
