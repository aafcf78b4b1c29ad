#!/usr/bin/env bash
# Rewrites the expected output of golden cases (all, or those whose path
# contains one of the arguments). Review the diff: it is the review.
set -euo pipefail
cd "$(dirname "$0")/.."
okuri="${OKURI:-build/okuri}"
for group in tests/golden/*/; do
  for entry in "$group"*; do
    case "$entry" in
      *.okuri) case_path="${entry%.okuri}" ;;
      *.expected | *.json | *.md) continue ;;
      *) [ -d "$entry" ] && { [ -f "$entry/RUN" ] || [ -n "$(ls "$entry"/*.okuri 2>/dev/null)" ]; } && case_path="$entry" || continue ;;
    esac
    if [ $# -gt 0 ]; then
      match=0
      for f in "$@"; do [[ "$case_path" == *"$f"* ]] && match=1; done
      [ $match -eq 1 ] || continue
    fi
    OKURI_UPDATE_GOLDEN=1 bash tests/golden/run_golden.sh "$okuri" "$PWD/$case_path" >/dev/null
    echo "updated ${case_path}.expected"
  done
done
