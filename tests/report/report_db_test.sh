#!/usr/bin/env bash
# `okuri report` from a running account's database: `okuri serve` runs tests/report/project
# against a recording stand-in for LINE (tests/serve/recorder.mjs) and takes 300 friends, clicks
# and purchases; the report is read while serve runs, then after a restart. Checked: the figures
# match what LINE was sent and what the friends did (report_db_check.mjs), the figures survive
# the restart, the database is not written by the report, and the page passes the browser checks.
#   report_db_test.sh OKURI [ARTEFACTS]
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
out="${2:-$PWD/report-artefacts}"
report_here="$(cd "$(dirname "$0")" && pwd)"
here="$report_here/../serve"
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
chromium="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium" ] || [ ! -d "$report_here/node_modules/puppeteer-core" ]; then
  echo "skipped: chromium and tests/report/node_modules are needed (scripts/test.sh installs them)" >&2
  exit 125
fi
mkdir -p "$out"
base=$((12000 + ($$ * 7) % 18000))
rec_port=$base; port=$((base + 1))
start_recorder "$rec_port" "$work/rec.log" || exit 1
cp -r "$report_here/project" "$work/p"
serve() {
  "$okuri" serve "$work/p" --db "$work/account.db" --listen "127.0.0.1:$port" --line-api "http://127.0.0.1:$rec_port" \
    --no-watch --no-profiles >>"$work/serve.log" 2>&1 &
  serve_pid=$!
  pids+=($serve_pid)
  wait_for "http://127.0.0.1:$port/healthz" || exit 1
}
post() {  # post FILE
  check "events posted" 200 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$port/events" \
    -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "Content-Type: application/x-ndjson" --data-binary @"$1")"
}
drained() {  # until the outbox is empty and the report's figures had a second to be saved
  for _ in $(seq 1 100); do
    [ "$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "okuri_deliveries{status=\"pending\"}" { print $2 }')" = 0 ] && break
    sleep 0.2
  done
  sleep 1.5
}
serve
# 300 friends now; a third click the shop link, every fifth buys (after their offer).
now=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
{
  for k in $(seq 1 300); do printf '{"time":"%s","friend":"U%032x","type":"friend_added"}\n' "$(iso "$now")" "$k"; done
} >"$work/added.jsonl"
{
  for k in $(seq 1 300); do
    if [ $((k % 3)) = 0 ]; then printf '{"time":"%s","friend":"U%032x","type":"link_clicked","link":"shop"}\n' "$(iso $((now + 1)))" "$k"; fi
    if [ $((k % 5)) = 0 ]; then printf '{"time":"%s","friend":"U%032x","type":"purchased"}\n' "$(iso $((now + 2)))" "$k"; fi
  done
} >"$work/later.jsonl"
post "$work/added.jsonl"
sleep 1
post "$work/later.jsonl"
drained

before="$(sha256sum "$work/account.db" | cut -d' ' -f1)"
"$okuri" report "$work/p" --db "$work/account.db" -o "$out/account-report.html" --json "$work/r1.json" 2>"$work/report.err"
check "okuri report while serve runs" 0 $?
check "the report does not write the database" "$before" "$(sha256sum "$work/account.db" | cut -d' ' -f1)"
node "$report_here/report_db_check.mjs" "$work/r1.json" "$work/rec.log" "$work/later.jsonl" 300 || fail=1

# After a restart the figures go on from where they were: one more friend.
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null
serve
printf '{"time":"%s","friend":"U%032x","type":"friend_added"}\n' "$(iso "$(date +%s)")" 301 >"$work/one.jsonl"
post "$work/one.jsonl"
drained
"$okuri" report "$work/p" --db "$work/account.db" -o "$work/r2.html" --json "$work/r2.json" 2>>"$work/report.err"
check "okuri report after a restart" 0 $?
node "$report_here/report_db_check.mjs" "$work/r2.json" "$work/rec.log" "$work/later.jsonl" 301 || fail=1

# The page in the browser: no console errors, every count equal to the JSON's, one node per step.
node "$report_here/report_test.mjs" "$chromium" "$out/account-report.html" "$work/r1.json" - - "$out/account-report.png" || fail=1
check "a file that is not an account's database is refused" 2 "$("$okuri" report "$work/p" --db "$work/later.jsonl" -o "$work/x.html" 2>/dev/null; echo $?)"
if [ "$fail" != 0 ]; then
  echo "--- serve log" >&2; tail -20 "$work/serve.log" >&2; cat "$work/report.err" >&2
  exit 1
fi
echo "report from a running account: ok"
