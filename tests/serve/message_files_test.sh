#!/usr/bin/env bash
# JSON message files reach friends as `okuri check` saw them (against a recording stand-in for LINE):
#   1. a file named by an absolute path and one by a path relative to the project both go out
#      whole (never `"messages":[]`);
#   2. editing a file reloads the project: the next push carries the new content;
#   3. an edit that breaks the file is refused: the running version goes on, and so do its pushes.
#   message_files_test.sh OKURI     (needs tests/serve/node_modules)
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
base=$((12000 + ($$ * 31) % 18000))
rec_port=$base; port=$((base + 1))
start_recorder "$rec_port" "$work/rec.log" || exit 1
mkdir -p "$work/project/cards" "$work/elsewhere"
printf '{"type":"text","text":"absolute-v1"}\n' >"$work/elsewhere/abs.json"
printf '{"type":"text","text":"relative-v1"}\n' >"$work/project/cards/rel.json"
cat >"$work/project/main.okuri" <<EOF2
message by_absolute json "$work/elsewhere/abs.json"
message by_relative json "cards/rel.json"
scenario hello {
  start on friend_added
  send by_absolute, by_relative
}
EOF2
"$okuri" check "$work/project" >"$work/check.out" 2>&1
check "okuri check accepts both files" 0 "$?"
"$okuri" serve "$work/project" --db "$work/a.db" --listen "127.0.0.1:$port" --line-api "http://127.0.0.1:$rec_port" \
  --no-profiles >"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$port/healthz" || exit 1
follow() {  # follow N: friend N follows; → the text of the push it got (both messages' texts)
  printf '{"time":"%s","friend":"U%032x","type":"friend_added"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >"$work/f.jsonl"
  curl -s -o /dev/null -X POST "http://127.0.0.1:$port/events" -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" \
    --data-binary @"$work/f.jsonl"
  local to
  to="$(printf 'U%032x' "$1")"
  for _ in $(seq 1 50); do
    grep -q "$to" "$work/rec.log" && break
    sleep 0.1
  done
  node -e '
    const to = process.argv[2];
    for (const l of require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")) {
      const r = JSON.parse(l);
      if (r.url !== "/v2/bot/message/push") continue;
      const b = JSON.parse(r.body);
      if (b.to === to) console.log(b.messages.map((m) => m.text).join(" "));
    }' "$work/rec.log" "$to"
}
check "both files go out whole" "absolute-v1 relative-v1" "$(follow 1)"
reloads() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="okuri_reloads_total{result=\"$1\"}" '$1 == m { print $2 }'; }
printf '{"type":"text","text":"relative-v2"}\n' >"$work/project/cards/rel.json"
for _ in $(seq 1 50); do [ "$(reloads ok)" = 1 ] && break; sleep 0.2; done
check "editing the file reloads the project" 1 "$(reloads ok)"
check "the next push carries the new content" "absolute-v1 relative-v2" "$(follow 2)"
printf '{"type":"text","text":' >"$work/elsewhere/abs.json"
for _ in $(seq 1 50); do [ "$(reloads failed)" = 1 ] && break; sleep 0.2; done
check "a broken file is refused" 1 "$(reloads failed)"
check "the running version goes on" "absolute-v1 relative-v2" "$(follow 3)"
if [ "$fail" != 0 ]; then tail -10 "$work/serve.log" >&2; exit 1; fi
echo "message files: ok"
