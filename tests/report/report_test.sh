#!/usr/bin/env bash
# The HTML report (`okuri simulate --html`) in a real browser: Debian's Chromium, headless,
# driven by puppeteer-core (tests/report/report_test.mjs says what is checked). Skipped (125)
# when Chromium or the npm client is missing.
#   report_test.sh OKURI [ARTEFACTS]     (needs tests/report/node_modules: scripts/test.sh installs it)
set -euo pipefail
okuri="$(realpath "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
out="${2:-$PWD/report-artefacts}"
chromium="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium" ]; then echo "report test: skipped: no chromium"; exit 125; fi
if [ ! -d "$here/node_modules/puppeteer-core" ]; then echo "report test: skipped: run npm install in tests/report"; exit 125; fi
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

node "$here/make_events.mjs" 2000 > "$work/events.jsonl"
"$okuri" simulate "$here/project" --events "$work/events.jsonl" --to 2026-06-01 \
  --report "$work/report.json" --html "$out/report.html" > "$work/deliveries.jsonl"

# The size and opening time of a large account's report: 100,000 friends.
node "$here/make_events.mjs" 100000 > "$work/big.jsonl"
"$okuri" simulate "$here/project" --events "$work/big.jsonl" --to 2026-06-01 --html "$work/big.html" > /dev/null 2> "$work/big.err"

node "$here/report_test.mjs" "$chromium" "$out/report.html" "$work/report.json" "$work/deliveries.jsonl" "$work/events.jsonl" \
  "$out/report.png" "$work/big.html"
