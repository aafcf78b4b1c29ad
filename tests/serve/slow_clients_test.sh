#!/usr/bin/env bash
# Slow and idle clients cannot stop the service: with 1,000 connections held open (idle, slow
# headers, slow bodies), /healthz and signed webhooks are still answered at once; each of those
# connections is closed once its request's deadline passes; past --max-connections new
# connections are closed as they arrive, and counted.
#   slow_clients_test.sh OKURI     (needs tests/serve/node_modules)
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
base=$((12000 + ($$ * 29) % 18000))
rec_port=$base; port=$((base + 1))
start_recorder "$rec_port" "$work/rec.log" || exit 1
printf 'on postback { score += 1 }\n' >"$work/main.okuri"
ulimit -n 4096 2>/dev/null  # 1,000 connections on each side (the service raises its own limit too)
"$okuri" serve "$work/main.okuri" --db "$work/a.db" --listen "127.0.0.1:$port" --line-api "http://127.0.0.1:$rec_port" \
  --no-watch --no-profiles --request-deadline 8s --max-connections 1100 >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=($serve_pid)
wait_for "http://127.0.0.1:$port/healthz" || exit 1
# The webhooks are made and signed first, so that all of them go out while the connections are held.
for i in $(seq 1 50); do
  printf '{"destination":"U0","events":[{"type":"postback","mode":"active","timestamp":%s,"source":{"type":"user","userId":"U%032x"},"webhookEventId":"01SLOW%020d","deliveryContext":{"isRedelivery":false},"replyToken":"t%s","postback":{"data":"x"}}]}' \
    "$(date +%s000)" "$i" "$i" "$i" >"$work/body$i.json"
  openssl dgst -sha256 -hmac "$LINE_CHANNEL_SECRET" -binary "$work/body$i.json" | base64 >"$work/sig$i"
done
check "the test's signature is LINE's (checked with @line/bot-sdk)" 0 \
  "$(node "$here/client.mjs" check "$LINE_CHANNEL_SECRET" "$work/body1.json" "$(cat "$work/sig1")" >/dev/null 2>&1; echo $?)"
node "$here/hostile.mjs" 127.0.0.1 "$port" 1000 14 >"$work/hostile.log" 2>&1 &
hostile=$!
sleep 2
# Past the cap (1,100 with about 1,000 held): connections are closed as they arrive.
node "$here/hostile.mjs" 127.0.0.1 "$port" 300 2 >"$work/extra.log" 2>&1
refused="$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "okuri_requests_rejected_total{reason=\"too_many_connections\"}" { print $2 }')"
[ "${refused:-0}" -ge 150 ] || { echo "FAIL: past the cap, ${refused:-0} connections were refused (wanted most of 300)" >&2; fail=1; }
# While the 1,000 are held: 50 signed webhooks, one at a time, each within 0.5 s.
slow=0
held_from=$SECONDS
for i in $(seq 1 50); do
  got="$(curl -s -o /dev/null -w "%{http_code} %{time_total}" --max-time 5 -X POST -H "X-Line-Signature: $(cat "$work/sig$i")" \
    -H "Content-Type: application/json" --data-binary @"$work/body$i.json" "http://127.0.0.1:$port/webhook")"
  [ "${got%% *}" = 200 ] || { echo "FAIL: webhook $i answered ${got%% *}" >&2; fail=1; }
  awk -v t="${got##* }" 'BEGIN { exit !(t > 0.5) }' && slow=$((slow + 1))
done
check "webhooks slower than 0.5 s while 1,000 connections are held" 0 "$slow"
# All 50 went out while the held connections were still open (their 8 s deadline, from about 2 s before).
[ $((SECONDS - held_from)) -le 4 ] || { echo "FAIL: the webhooks took $((SECONDS - held_from)) s: some went out after the held connections closed" >&2; fail=1; }
check "/healthz answers meanwhile" ok "$(curl -s --max-time 2 "http://127.0.0.1:$port/healthz")"
wait "$hostile"
# The slow ones sent something every 2 s, yet the 8 s deadline for a whole request closed them.
read -r _ opened _ closed <"$work/hostile.log"
[ "$opened" -ge 990 ] || { echo "FAIL: only $opened of 1,000 connections opened" >&2; fail=1; }
[ "$closed" -ge 950 ] || { echo "FAIL: the server closed $closed of the held connections by their deadline (wanted all of them within 14 s)" >&2; fail=1; }
check "still up" ok "$(curl -s --max-time 2 "http://127.0.0.1:$port/healthz")"
if [ "$fail" != 0 ]; then cat "$work/hostile.log" "$work/extra.log" >&2; tail -5 "$work/serve.log" >&2; exit 1; fi
echo "slow clients: ok ($(cat "$work/hostile.log"); $refused refused past the cap)"
