#!/usr/bin/env bash
# Several `okuri serve` workers on one PostgreSQL database (a throwaway PostgreSQL 15 cluster):
#   1. 3 workers, 100,000 webhook events posted to them in turn, 10 rounds of kill -9 of a
#      random worker, each restarted: every event answered 200 is applied exactly once, no retry
#      key or reply token is accepted twice by LINE's stand-in, and every friend's final state
#      equals a single SQLite worker's run of the same events;
#   2. fencing: a worker stopped (SIGSTOP) past its lease finds its partitions taken when it
#      wakes, commits nothing for them, and goes on with what it is given;
#   3. takeover: after kill -9, the others hold every partition within the lease time;
#   4. PostgreSQL restarts in the middle of a stream: the workers reconnect and nothing accepted
#      is lost.
#   workers_test.sh OKURI
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/serve/harness_pg.sh
source "$here/harness_pg.sh"
base=$((12000 + ($$ * 17) % 18000))  # below the ephemeral ports (32768 and up)
mock_port=$base
secret="$LINE_CHANNEL_SECRET"
lease=(--lease 3s --renew-interval 1s)
declare -A wpid  # worker port → pid

start_worker() {  # start_worker PORT [OPTION…]: a worker on the shared database
  "$okuri" serve "$here/project" --store "$PG_URL" --listen "127.0.0.1:$1" --line-api "http://127.0.0.1:$mock_port" \
    --line-timeout 1 --no-watch --no-profiles "${lease[@]}" "${@:2}" >>"$work/w$1.log" 2>&1 &
  wpid[$1]=$!
  pids+=($!)
  wait_for "http://127.0.0.1:$1/healthz" || { tail -5 "$work/w$1.log" >&2; return 1; }
}
held() {  # held PORT → partitions the worker holds
  curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk '$1 == "okuri_partitions_held" { print $2 }'
}
balanced() {  # balanced PORT…: until every partition is held, each worker holding some (20 s at most)
  local p sum ok
  for _ in $(seq 1 100); do
    sum=0 ok=1
    for p in "$@"; do
      h="$(held "$p")"
      [ "${h:-0}" -gt 0 ] || ok=0
      sum=$((sum + ${h:-0}))
    done
    [ "$ok" = 1 ] && [ "$sum" = 64 ] && return 0
    sleep 0.2
  done
  echo "FAIL: the partitions were not shared out among $*" >&2
  fail=1
}
score_sum() {  # score_sum PORT… → the sum of every friend's score, each from the worker holding it
  local f s total=0
  for f in "${friends[@]}"; do
    s="$(friend_state "$f" "$@" | sed -n 's/.*"score":\([0-9]*\).*/\1/p')"
    total=$((total + ${s:-0}))
  done
  echo "$total"
}
friend_state() {  # friend_state ID PORT… → the friend's state from the worker that holds it
  local p out
  for p in "${@:2}"; do
    out="$(curl -s --max-time 5 -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" "http://127.0.0.1:$p/friends/$1")"
    [ -n "$out" ] && [ "$out" != null ] && { echo "$out"; return; }
  done
  echo missing
}
settled() {  # settled PORT…: until the inbox is empty and the outbox holds nothing due (60 s at most)
  for _ in $(seq 1 300); do
    [ "$(pg_psql -c "SELECT (SELECT count(*) FROM inbox) + (SELECT count(*) FROM outbox WHERE status IN ('pending','replying'))")" = 0 ] && return 0
    sleep 0.2
  done
  echo "FAIL: the inbox or the outbox did not empty: $(pg_psql -c "SELECT 'inbox', count(*) FROM inbox UNION ALL SELECT status, count(*) FROM outbox GROUP BY status" | tr '\n' ' ')" >&2
  fail=1
}

node "$here/mock_line.mjs" "$mock_port" "$work/mock.log" &
pids+=($!)
wait_for "http://127.0.0.1:$mock_port/" || exit 1

friends=()
for k in $(seq 1 40); do friends+=("$(printf 'U%032x' $((k * 7919)))"); done
friend_list="$(IFS=,; echo "${friends[*]}")"

# ---- 1. three workers, 100,000 events, 10 rounds of kill -9
echo "[${SECONDS}s] part 1" >&2
ports=($((base + 1)) $((base + 2)) $((base + 3)))
for p in "${ports[@]}"; do start_worker "$p" || exit 1; done
urls="$(printf 'http://127.0.0.1:%s/webhook,' "${ports[@]}")"
node "$here/client.mjs" stream "${urls%,}" "$secret" 100000 "$friend_list" 20 5000 >"$work/client.log" 2>&1 &
client=$!
mid_stream=0
for round in $(seq 1 10); do
  sleep "0.$((5 + RANDOM % 5))"  # ten rounds well inside the stream (about 15 s here)
  kill -0 "$client" 2>/dev/null && mid_stream=$((mid_stream + 1))
  victim="${ports[$((RANDOM % 3))]}"
  kill -9 "${wpid[$victim]}"
  wait "${wpid[$victim]}" 2>/dev/null
  start_worker "$victim" || { fail=1; break; }
done
wait "$client"
check "the streaming client's exit status" 0 "$?"
check "kills while the events were streaming in" 10 "$mid_stream"
echo "[${SECONDS}s] events posted: $(cat "$work/client.log")" >&2
settled
balanced "${ports[@]}"
total="$(score_sum "${ports[@]}")"
check "every event applied once (the scores' sum)" 100000 "$total"
check "each partition held by one worker" 64 "$(($(held "${ports[0]}") + $(held "${ports[1]}") + $(held "${ports[2]}")))"
delivered="$(grep -cE "^/v2/bot/message/(reply|push) 200" "$work/mock.log")"
uncertain="$(pg_psql -c "SELECT count(*) FROM outbox WHERE status = 'uncertain'")"
if [ "$delivered" -gt 20 ] || [ "$((delivered + uncertain))" -lt 20 ]; then
  echo "FAIL: 20 deliveries: $delivered arrived, $uncertain uncertain" >&2
  fail=1
fi
check "push retry keys accepted twice" 0 "$(grep "^/v2/bot/message/push 200" "$work/mock.log" | awk '{print $3}' | sort | uniq -d | wc -l)"
check "reply tokens used twice" 0 "$(grep "^/v2/bot/message/reply" "$work/mock.log" |
  awk '($3 in last) && last[$3] != "429" { bad++ } { last[$3] = $2 } END { print bad + 0 }')"
for p in "${ports[@]}"; do
  kill -TERM "${wpid[$p]}"
  wait "${wpid[$p]}"
done

# The same events through one SQLite worker: the same final state for every friend.
echo "[${SECONDS}s] the same events on SQLite" >&2
single=$((base + 4))
"$okuri" serve "$here/project" --db "$work/single.db" --listen "127.0.0.1:$single" --line-api "http://127.0.0.1:$mock_port" \
  --no-watch --no-profiles >>"$work/single.log" 2>&1 &
single_pid=$!
pids+=($single_pid)
wait_for "http://127.0.0.1:$single/healthz" || exit 1
node "$here/client.mjs" stream "http://127.0.0.1:$single/webhook" "$secret" 100000 "$friend_list" 20 5000 >/dev/null 2>&1
for p in "${ports[@]}"; do start_worker "$p" || exit 1; done
balanced "${ports[@]}"
differ=0
for f in "${friends[@]}"; do
  one="$(friend_state "$f" "$single")"
  many="$(friend_state "$f" "${ports[@]}")"
  if [ "$one" != "$many" ]; then
    differ=$((differ + 1))
    [ "$differ" = 1 ] && echo "  $f: SQLite $one, PostgreSQL $many" >&2
  fi
done
check "friends whose state differs from the single SQLite worker's" 0 "$differ"
kill -TERM "$single_pid"
wait "$single_pid"

# ---- 2. fencing: a worker paused past its lease
echo "[${SECONDS}s] part 2" >&2
a="${ports[0]}"
b="${ports[1]}"
kill -TERM "${wpid[${ports[2]}]}"
wait "${wpid[${ports[2]}]}"
for _ in $(seq 1 50); do [ "$(($(held "$a") + $(held "$b")))" = 64 ] && [ "$(held "$a")" -gt 0 ] && break; sleep 0.2; done
a_before="$(held "$a")"
log_before="$(wc -l < "$work/w$a.log")"  # what A said before the pause (part 1 gave back partitions too)
kill -STOP "${wpid[$a]}"
stopped_at=$SECONDS
# While it sleeps, B takes its partitions over and applies what arrives for its friends.
for _ in $(seq 1 60); do [ "$(held "$b")" = 64 ] && break; sleep 0.2; done
check "the live worker took every partition" 64 "$(held "$b")"
node "$here/client.mjs" stream "http://127.0.0.1:$b/webhook" "$secret" 2000 "$friend_list" 20 5000 100000 >/dev/null 2>&1
kill -CONT "${wpid[$a]}"
echo "  A held $a_before partitions, paused $((SECONDS - stopped_at)) s" >&2
# Until A's engine has let the lost partitions go, its /healthz still shows the partitions it held
# before the pause (and its engine their old state): the shares below must be A's after that. A
# lost lease is logged first ("taken over"), the engine's letting go after ("given back or lost").
noticed() { tail -n +"$((log_before + 1))" "$work/w$a.log" | grep -cm1 -E "[1-9][0-9]* given back or lost"; }
for _ in $(seq 1 100); do
  [ "$(noticed)" = 1 ] && break
  sleep 0.2
done
for _ in $(seq 1 100); do
  [ "$(held "$a")" -gt 0 ] && [ "$(($(held "$a") + $(held "$b")))" = 64 ] && break
  sleep 0.2
done
check "after waking, the partitions are shared again without overlap" 64 "$(($(held "$a") + $(held "$b")))"
check "the paused worker noticed it lost its partitions" 1 "$(noticed)"
settled
total="$(score_sum "$a" "$b")"
check "events applied once across the pause" 102000 "$total"

# ---- 3. takeover after kill -9
echo "[${SECONDS}s] part 3" >&2
kill -9 "${wpid[$a]}"
wait "${wpid[$a]}" 2>/dev/null
t0=$(date +%s%N)
for _ in $(seq 1 100); do [ "$(held "$b")" = 64 ] && break; sleep 0.1; done
took=$((($(date +%s%N) - t0) / 1000000))
check "the survivor holds every partition" 64 "$(held "$b")"
# The lease (3 s), a renewal interval (1 s), and a catch-up.
[ "$took" -le 6000 ] || { echo "FAIL: the takeover took $took ms" >&2; fail=1; }
echo "  takeover after kill -9: $took ms (lease 3 s, renewal every 1 s)" >&2
start_worker "$a" || exit 1

# ---- 4. PostgreSQL restarts in the middle of a stream
echo "[${SECONDS}s] part 4" >&2
node "$here/client.mjs" stream "http://127.0.0.1:$a/webhook,http://127.0.0.1:$b/webhook" "$secret" 20000 "$friend_list" 20 5000 \
  102000 >"$work/client4.log" 2>&1 &
client=$!
sleep 2
pg_restart || { echo "FAIL: PostgreSQL did not restart" >&2; exit 1; }
wait "$client"
check "the client got every body through" 0 "$?"
settled
total="$(score_sum "$a" "$b")"
check "events applied once across a PostgreSQL restart" 122000 "$total"
check "the workers said they lost the database" 1 "$(cat "$work/w$a.log" "$work/w$b.log" | grep -cm1 "PostgreSQL")"

if [ "$fail" != 0 ]; then
  for p in "${ports[@]}"; do echo "--- worker $p" >&2; tail -40 "$work/w$p.log" >&2; done
  exit 1
fi
echo "workers: ok"
