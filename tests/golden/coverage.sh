#!/usr/bin/env bash
# Fails when a diagnostic code of compiler/diagnostic_codes.def has no golden
# test whose expected output shows it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
missing=0
for code in $(sed -n 's/^OKURI_DIAG(\([EW][0-9]*\),.*/\1/p' "$repo/compiler/diagnostic_codes.def"); do
  if ! grep -rqE "\[$code\]|\"code\": \"$code\"" "$repo/tests/golden" --include='*.expected'; then
    echo "no golden test shows $code" >&2
    missing=1
  fi
  if [ ! -f "$repo/docs/diagnostics/$code.md" ]; then
    echo "no page docs/diagnostics/$code.md" >&2
    missing=1
  fi
done
exit $missing
