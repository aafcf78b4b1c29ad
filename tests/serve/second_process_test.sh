#!/usr/bin/env bash
# Two processes on one database (against a recording stand-in for LINE):
#   1. a second `okuri serve` on the same --db is refused at start, with a message naming the
#      first, and 400 new friends still get their welcome exactly once;
#   2. fencing: when another process takes the lease anyway (the epoch moved, as a process that
#      bypassed the lock would), the first one sends nothing more — not even rows already due.
#   second_process_test.sh OKURI     (needs tests/serve/node_modules and the sqlite3 command)
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
command -v sqlite3 >/dev/null || { echo "skipped: the sqlite3 command is needed" >&2; exit 125; }
base=$((12000 + ($$ * 13) % 18000))
rec_port=$base; a_port=$((base + 1)); b_port=$((base + 2))
start_recorder "$rec_port" "$work/rec.log" || exit 1
cat >"$work/main.okuri" <<'EOF2'
message welcome text "ようこそ"
scenario hello {
  start on friend_added
  send welcome
}
EOF2
serve() {  # serve PORT (exec: in the background the pid is okuri's own, for the cleanup)
  exec "$okuri" serve "$work/main.okuri" --db "$work/account.db" --listen "127.0.0.1:$1" --line-api "http://127.0.0.1:$rec_port" \
    --no-watch --no-profiles "${@:2}"
}
serve "$a_port" >>"$work/a.log" 2>&1 &
a_pid=$!
pids+=($a_pid)
wait_for "http://127.0.0.1:$a_port/healthz" || exit 1

# 1. The second process is refused.
timeout 20 bash -c "$(declare -f serve); okuri='$okuri' work='$work' rec_port='$rec_port' serve $b_port" >"$work/b.log" 2>&1
check "a second serve on the same database exits 2" 2 "$?"
holder="$(sed -n 's/.* is being served by process \([0-9]*\):.*/\1/p' "$work/b.log")"
check "it names the process that serves the database" okuri "$(ps -p "${holder:-0}" -o comm= 2>/dev/null)"
now_iso="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for k in $(seq 1 400); do printf '{"time":"%s","friend":"U%032x","type":"friend_added"}\n' "$now_iso" "$k"; done >"$work/added.jsonl"
check "400 friends posted" 200 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$a_port/events" \
  -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "Content-Type: application/x-ndjson" --data-binary @"$work/added.jsonl")"
pushes() { grep -c '"url":"/v2/bot/message/push"' "$work/rec.log"; }
for _ in $(seq 1 100); do [ "$(pushes)" -ge 400 ] && break; sleep 0.2; done
sleep 1
check "every friend got the welcome once" 400 "$(pushes)"
check "no friend got it twice" 0 "$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const seen = new Map();
  for (const l of lines) if (l.url === "/v2/bot/message/push") { const to = JSON.parse(l.body).to; seen.set(to, (seen.get(to) || 0) + 1); }
  console.log([...seen.values()].filter((n) => n > 1).length);
' "$work/rec.log")"

# 2. Fencing: the epoch moves under the running process, then rows fall due.
sqlite3 "$work/account.db" >/dev/null "PRAGMA busy_timeout=10000; UPDATE meta SET value = value + 1 WHERE key = 'epoch';"
sqlite3 "$work/account.db" >/dev/null "PRAGMA busy_timeout=10000; INSERT INTO outbox(key, friend, partition, due, reply, reply_token, messages, scenario, node, created)
  SELECT 'fenced-' || k, printf('U%032x', k), 0, strftime('%s','now'), 0, '', '[{\"type\":\"text\",\"text\":\"fenced\"}]', 'hello', 'hello/1', strftime('%s','now')
  FROM (WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 20) SELECT k FROM n);"
sleep 3
check "a process that lost its lease sends nothing" 0 "$(grep -c fenced "$work/rec.log")"
check "it says why" 1 "$(grep -c "lease lost): this process sends nothing more" "$work/a.log")"
if [ "$fail" != 0 ]; then
  echo "--- a" >&2; tail -20 "$work/a.log" >&2; echo "--- b" >&2; cat "$work/b.log" >&2
  exit 1
fi
echo "second process: ok"
