#!/usr/bin/env bash
# `okuri store copy` both ways (a throwaway PostgreSQL 15 cluster, a recording stand-in for LINE):
#   1. an account served on SQLite (friends inside a scenario, waiting; deliveries sent and due)
#      is copied to PostgreSQL and verified; served there, every friend is as it was, the timer
#      a friend waits on fires once, and what was sent is not sent again;
#   2. copied back to a new SQLite file: the same again;
#      the report reads the account on PostgreSQL (every worker's figures added up);
#   3. refusals: a target that holds an account, a store being served, a database laid out for
#      another partition count.
#   store_copy_test.sh OKURI
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/serve/harness_pg.sh
source "$here/harness_pg.sh"
base=$((12000 + ($$ * 23) % 18000))  # below the ephemeral ports
rec_port=$base
port=$((base + 1))
start_recorder "$rec_port" "$work/rec.log" || exit 1
cat >"$work/main.okuri" <<'EOF2'
message welcome text "ようこそ"
message later text "20秒後のお知らせ"
event ping { n: int }
on ping { score += event.n }
scenario hello {
  start on friend_added
  send welcome
  wait 20s
  send later
}
EOF2
serve() {  # serve STORE-OPTION…: in the background, its pid in serve_pid
  "$okuri" serve "$work/main.okuri" "$@" --listen "127.0.0.1:$port" --line-api "http://127.0.0.1:$rec_port" \
    --no-watch --no-profiles >>"$work/serve.log" 2>&1 &
  serve_pid=$!
  pids+=($serve_pid)
  wait_for "http://127.0.0.1:$port/healthz"
}
stop() { kill -TERM "$serve_pid"; wait "$serve_pid"; }
post() {  # post JSONL-FILE → status
  curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$port/events" -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" \
    -H "Content-Type: application/x-ndjson" --data-binary @"$1"
}
states() {  # states → every friend's state, one a line
  for k in $(seq 1 30); do
    curl -s -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" "http://127.0.0.1:$port/friends/$(printf 'U%032x' "$k")"
    echo
  done
}
pushes() { grep -c '"url":"/v2/bot/message/push"' "$work/rec.log"; }
now_iso() { date -u +%Y-%m-%dT%H:%M:%SZ; }

# ---- 1. SQLite → PostgreSQL
serve --db "$work/a.db" || exit 1
t="$(now_iso)"
for k in $(seq 1 30); do
  printf '{"time":"%s","friend":"U%032x","type":"friend_added"}\n' "$t" "$k"
  printf '{"time":"%s","friend":"U%032x","type":"ping","n":%d}\n' "$t" "$k" "$k"
done >"$work/first.jsonl"
check "30 friends follow" 200 "$(post "$work/first.jsonl")"
for _ in $(seq 1 50); do [ "$(pushes)" = 30 ] && break; sleep 0.2; done
check "30 welcomes" 30 "$(pushes)"
states >"$work/before.txt"
stop
check "a copy while it is served is refused" 1 "$(
  serve --db "$work/a.db" >/dev/null
  "$okuri" store copy --from "$work/a.db" --to "$PG_URL" --quiet 2>"$work/busy.err" >/dev/null
  echo $?
  stop
)"
check "it says why" 1 "$(grep -c "being served" "$work/busy.err")"
"$okuri" store copy --from "$work/a.db" --to "$PG_URL" >"$work/copy1.out" 2>&1
check "copied to PostgreSQL" 0 "$?"
check "it says what it copied" 1 "$(grep -c "friends: 30" "$work/copy1.out")"
serve --store "$PG_URL" --lease 3s --renew-interval 1s || exit 1
states >"$work/after.txt"
check "every friend as on SQLite" "" "$(diff "$work/before.txt" "$work/after.txt")"
# The friends wait 20 s for `later`: it fires once, from PostgreSQL, and nothing is sent again.
for _ in $(seq 1 150); do [ "$(pushes)" = 60 ] && break; sleep 0.2; done
sleep 1
check "the waiting timer fired once after the move" 60 "$(pushes)"
states >"$work/after_timer.txt"
# The report of the account on PostgreSQL, as from SQLite: 30 friends entered `hello`.
"$okuri" report "$work/main.okuri" --store "$PG_URL" -o "$work/pg.html" --json "$work/pg.json" 2>"$work/report.err"
check "okuri report --store" 0 "$?"
check "the report counts the friends who entered" 30 "$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const f = (r.funnel || []).find((x) => x.name === "hello");
  console.log(f ? f.entered : JSON.stringify(Object.keys(r)));
' "$work/pg.json")"
stop

# ---- 2. PostgreSQL → a new SQLite file
"$okuri" store copy --from "$PG_URL" --to "$work/b.db" --quiet >"$work/copy2.out" 2>&1
check "copied back to SQLite" 0 "$?"
serve --db "$work/b.db" || exit 1
states >"$work/back.txt"
check "every friend as on PostgreSQL" "" "$(diff "$work/after_timer.txt" "$work/back.txt")"
sleep 2
check "nothing sent again" 60 "$(pushes)"
stop

# ---- 3. refusals
"$okuri" store copy --from "$work/a.db" --to "$PG_URL" --quiet 2>"$work/full.err" >/dev/null
check "a target that holds an account is refused" 1 "$?"
check "it says so" 1 "$(grep -c "already holds an account" "$work/full.err")"
pg_psql -c "CREATE DATABASE other" >/dev/null
other="${PG_URL%/*}/other"
"$okuri" store copy --from "$work/a.db" --to "$other" --quiet >/dev/null 2>&1
"$PG_BIN/psql" -X -q -d "$other" -c "UPDATE okuri_meta SET value = 32 WHERE key = 'partitions'" >/dev/null
timeout 20 "$okuri" serve "$work/main.okuri" --store "$other" --listen "127.0.0.1:$port" --no-watch --no-profiles \
  >"$work/parts.out" 2>&1
check "a database laid out for 32 partitions is refused" 1 "$(grep -c "laid out for 32 partitions, and this okuri uses 64" "$work/parts.out")"

if [ "$fail" != 0 ]; then
  tail -20 "$work/serve.log" >&2
  exit 1
fi
echo "store copy: ok"
