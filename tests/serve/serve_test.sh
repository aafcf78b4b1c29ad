#!/usr/bin/env bash
# `okuri serve` against real peers on loopback: LINE's Messaging API mocked by Prism
# from the official OpenAPI file (every request the sender makes must validate), webhook
# bodies validated by Prism against webhook.yml, signatures cross-checked with LINE's
# Node SDK; then restarts, kill -9 while events stream in, and bad requests.
#   serve_test.sh OKURI        (needs tests/serve/node_modules: `npm install` there; scripts/test.sh does it)
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
openapi="$here/openapi"  # LINE's official OpenAPI files (Apache 2.0, LICENSE beside them)
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
if [ ! -f "$openapi/messaging-api.yml" ]; then
  echo "skipped: LINE's OpenAPI files are not here ($openapi)" >&2
  exit 125
fi
base=$((10000 + $$ % 20000))  # below the ephemeral port range (32768 and up)
api_port=$base
hook_port=$((base + 1))
serve_port=$((base + 2))
mock_port=$((base + 3))
secret="test-channel-secret"
export LINE_CHANNEL_SECRET="$secret" LINE_CHANNEL_ACCESS_TOKEN="test-access-token" OKURI_EVENTS_TOKEN="test-events-token"
prism="$here/node_modules/.bin/prism"
"$prism" mock -h 127.0.0.1 -p "$api_port" --errors "$openapi/messaging-api.yml" >"$work/api.log" 2>&1 &
pids+=($!)
"$prism" mock -h 127.0.0.1 -p "$hook_port" --errors "$openapi/webhook.yml" >"$work/hook.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$api_port/v2/bot/info" || exit 1
wait_for "http://127.0.0.1:$hook_port/callback" || exit 1

start_serve() {  # start_serve DB LINE_API [PROJECT [OPTION…]]
  "$okuri" serve "${3:-$here/project}" --db "$1" --listen "127.0.0.1:$serve_port" --line-api "$2" --max-body 65536 --line-timeout 1 \
    "${@:4}" >>"$work/serve.log" 2>&1 &
  serve_pid=$!
  wait_for "http://127.0.0.1:$serve_port/healthz" || { tail -5 "$work/serve.log" >&2; return 1; }
}
url="http://127.0.0.1:$serve_port"
friend="U4af4980629000000000000000000000a"
post_hook() {  # post_hook FILE [SIGNATURE] → prints the status (signed with openssl; part 1 cross-checks with LINE's SDK)
  local sig="${2:-$(openssl dgst -sha256 -hmac "$secret" -binary "$1" | base64 -w0)}"
  curl -s -o "$work/last.txt" -w "%{http_code}" -X POST "$url/webhook" -H "Content-Type: application/json" \
    -H "X-Line-Signature: $sig" --data-binary @"$1"
}
hook_body() {  # hook_body ID TYPE EXTRA [FRIEND] → a webhook body with one event
  printf '{"destination":"U00000000000000000000000000000000","events":[{"type":"%s","mode":"active","timestamp":%s,"source":{"type":"user","userId":"%s"},"webhookEventId":"%s","deliveryContext":{"isRedelivery":false}%s}]}' \
    "$2" "$(($(date +%s) * 1000))" "${4:-$friend}" "$1" "$3"
}
metric() {  # metric NAME → its value
  curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
score_of() {  # score_of FRIEND → the friend's score
  curl -s -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" "$url/friends/$1" | sed -n 's/.*"score":\([0-9]*\).*/\1/p'
}
now_z() { date -u +%Y-%m-%dT%H:%M:%SZ; }
custom() {  # custom JSONL → the status of posting it to /events
  printf '%s\n' "$1" >"$work/c.jsonl"
  curl -s -o /dev/null -w "%{http_code}" -X POST "$url/events" -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "Content-Type: application/x-ndjson" --data-binary @"$work/c.jsonl"
}

# ---- 0. A broadcast on own data goes out as one multicast (validated by Prism); one narrowed by
# LINE's estimates as a narrowcast, pushed to no one (line_wide_test.sh tests narrowcasts in
# full). Broadcasts start on the minute, so this instance runs beside the other parts from here
# and is checked at the end.
bcast_port=$((base + 5))
mkdir -p "$work/bcast"
bcast_at=$(( ($(date +%s) + 40 + 59) / 60 * 60 ))
at_tokyo="$(TZ=Asia/Tokyo date -d "@$bcast_at" "+%Y-%m-%d %H:%M")"
printf 'event ping\nmessage sale text "セールのお知らせ"\nmessage women text "レディースデー"\n' >"$work/bcast/main.okuri"
printf 'broadcast spring at %s to score >= 0 {\n  send sale\n}\n' "$at_tokyo" >>"$work/bcast/main.okuri"
printf 'broadcast ladies at %s to line.gender == female {\n  send women\n}\n' "$at_tokyo" >>"$work/bcast/main.okuri"
printf 'on ping { score += 1 }\n' >>"$work/bcast/main.okuri"
"$okuri" serve "$work/bcast" --db "$work/bcast.db" --listen "127.0.0.1:$bcast_port" --line-api "http://127.0.0.1:$api_port" \
  --no-watch --no-profiles >"$work/bcast.log" 2>&1 &
bcast_pid=$!
pids+=($bcast_pid)
# The same broadcast where the month's quota is short (2 messages left, 3 friends): held, nothing sent.
quota_port=$((base + 6))
quota_rec=$((base + 7))
node "$here/recorder.mjs" "$quota_rec" "$work/quota-rec.log" "quota:1000:998" &
pids+=($!)
wait_for "http://127.0.0.1:$quota_rec/" || exit 1
"$okuri" serve "$work/bcast" --db "$work/quota.db" --listen "127.0.0.1:$quota_port" --line-api "http://127.0.0.1:$quota_rec" \
  --no-watch --no-profiles >"$work/quota.log" 2>&1 &
quota_pid=$!
pids+=($quota_pid)

# ---- 1. Webhooks: signatures, validation against webhook.yml, replies and pushes to Prism
echo "[${SECONDS}s] part 1" >&2
wait_for "http://127.0.0.1:$bcast_port/healthz" || exit 1
now_iso="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for k in 1 2 3; do printf '{"time":"%s","friend":"U0000000000000000000000000000bc0%s","type":"ping"}\n' "$now_iso" "$k"; done >"$work/bcast.jsonl"
wait_for "http://127.0.0.1:$quota_port/healthz" || exit 1
check "three friends for the broadcast held for the quota" 200 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$quota_port/events" \
  -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "Content-Type: application/x-ndjson" --data-binary @"$work/bcast.jsonl")"
check "three friends for the broadcast" 200 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$bcast_port/events" \
  -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "Content-Type: application/x-ndjson" --data-binary @"$work/bcast.jsonl")"
start_serve "$work/state.db" "http://127.0.0.1:$api_port" || exit 1
hook_body 01FOLLOW000000000000000001 follow ',"replyToken":"nHuyWiB7yP5Zw52FIkcQobQuGDXCTA","follow":{"isUnblocked":false}' >"$work/follow.json"
hook_body 01POSTBACK0000000000000001 postback ',"replyToken":"b60d432864f44d079f6d8efe86cf404b","postback":{"data":"send"}' >"$work/postback.json"
for body in follow postback; do
  code="$(curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$hook_port/callback" -H "Content-Type: application/json" \
    -H "X-Line-Signature: x" --data-binary @"$work/$body.json")"
  check "webhook.yml accepts the $body body" 200 "$code"
done
sig="$(node "$here/client.mjs" sign "$secret" "$work/follow.json")"
node "$here/client.mjs" check "$secret" "$work/follow.json" "$sig" || { echo "FAIL: the SDK rejects the signature" >&2; fail=1; }
check "openssl and LINE's SDK agree on the signature" "$sig" "$(openssl dgst -sha256 -hmac "$secret" -binary "$work/follow.json" | base64 -w0)"
check "signed follow" 200 "$(post_hook "$work/follow.json" "$sig")"
check "the same follow again (a redelivery)" 200 "$(post_hook "$work/follow.json" "$sig")"
check "postback" 200 "$(post_hook "$work/postback.json")"
hook_body 01POSTBACK0000000000000002 postback ',"replyToken":"c60d432864f44d079f6d8efe86cf404b","postback":{"data":"menu"}' >"$work/menu.json"
check "postback that links a rich menu" 200 "$(post_hook "$work/menu.json")"
check "bad signature" 401 "$(post_hook "$work/follow.json" "AAAA$sig")"
if node "$here/client.mjs" check "$secret" "$work/follow.json" "AAAA$sig"; then echo "FAIL: the SDK accepts a bad signature" >&2; fail=1; fi
check "missing signature" 401 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "$url/webhook" --data-binary @"$work/follow.json")"
printf '{"destination":"x","events":[{"type":"follow"' >"$work/broken.json"
check "malformed body, signed" 400 "$(post_hook "$work/broken.json")"
head -c 100000 /dev/zero | tr '\0' 'x' >"$work/big.json"
check "oversized body" 413 "$(post_hook "$work/big.json" x)"
check "/events without the token" 401 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "$url/events" -d '{}')"
printf '{"time":"%s","friend":"%s","type":"ping","n":5}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$friend" >"$work/ping.jsonl"
check "/events with the token" 200 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "$url/events" \
  -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" --data-binary @"$work/ping.jsonl")"
check "duplicates counted" 1 "$(metric okuri_events_duplicate_total)"
check "bad signatures counted" 2 "$(metric 'okuri_requests_rejected_total{reason="signature"}')"
# The follow and the postback are answered with free replies at once; the scenario's push comes 3 s later.
sleep 5
check "sent (3 messages, 1 menu link)" 4 "$(metric 'okuri_deliveries{status="sent"}')"
check "replies to LINE" 2 "$(metric 'okuri_line_requests_total{outcome="reply_sent"}')"
check "pushes to LINE" 1 "$(metric 'okuri_line_requests_total{outcome="push_sent"}')"
check "score from two postbacks (2) and ping (5)" 7 "$(score_of "$friend")"
sends_log() { grep -A2 "post /v2/bot/message/.*Request received" "$work/api.log"; }
check "rich menu linked through the API (validated)" 1 \
  "$(grep -A2 "post /v2/bot/user/$friend/richmenu/richmenu-.*Request received" "$work/api.log" | grep -c "passed the validation")"
check "menu links counted" 1 "$(metric 'okuri_line_requests_total{outcome="menu_linked"}')"
check "requests to the Messaging API that failed validation" 0 "$(sends_log | grep -c "did not pass the validation")"
check "requests to the Messaging API that passed validation" 3 "$(sends_log | grep -c "passed the validation")"
check "the follower's LINE profile was asked for (validated)" 1 \
  "$(grep -A2 "get /v2/bot/profile/$friend.*Request received" "$work/api.log" | grep -c "passed the validation")"

# ---- 2. Graceful stop and restart: state kept, a pending wait fires after the restart, nothing sent twice
echo "[${SECONDS}s] part 2" >&2
# A second friend follows; the service stops before their 3-second wait is over.
hook_body 01FOLLOW000000000000000002 follow ',"replyToken":"aHuyWiB7yP5Zw52FIkcQobQuGDXCTA","follow":{"isUnblocked":false}' \
  U00000000000000000000000000000b0b >"$work/follow2.json"
friend_before="$friend"
check "second follow" 200 "$(post_hook "$work/follow2.json")"
kill -TERM "$serve_pid"
wait "$serve_pid"
check "exit status after SIGTERM" 0 "$?"
start_serve "$work/state.db" "http://127.0.0.1:$api_port" || exit 1
check "state after restart" 7 "$(score_of "$friend_before")"
sleep 5
check "pushes after the restart (the second friend's wait fired)" 2 "$(grep -c "post /v2/bot/message/push" "$work/api.log")"
check "replies after the restart (nothing sent twice)" 3 "$(grep -c "post /v2/bot/message/reply" "$work/api.log")"
kill -TERM "$serve_pid"
wait "$serve_pid"
# ---- 2b. Hot reload: a friend waits in a scenario while its file changes (the watcher), while it is
# broken (the running version goes on), on SIGHUP (on_update exit), and while the service is down.
echo "[${SECONDS}s] part 2b" >&2
mkdir -p "$work/reload"
cp "$here/project/main.okuri" "$work/reload/main.okuri"
cat >>"$work/reload/main.okuri" <<'OKURI'

event enroll {}
message lesson1 text "第1回"
message lesson2 text "第2回"
message lesson3 text "第3回"

scenario course {
  start on enroll

  send lesson1
  step first {
    wait 1h
    send lesson2
  }
  wait 1d
  send lesson3
}
OKURI
student="U00000000000000000000000000000c0c"
inside() {  # → the friend's position in `course`, or "none"
  curl -s -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" "$url/friends/$student" |
    sed -n 's/.*"course":"\([^"]*\)".*/\1/p' | grep . || echo none
}
wait_metric() {  # wait_metric NAME VALUE → prints the value it reached
  for _ in $(seq 1 50); do
    [ "$(metric "$1")" = "$2" ] && break
    sleep 0.2
  done
  metric "$1"
}
pushes() { grep -c "post /v2/bot/message/push" "$work/api.log"; }
start_serve "$work/reload.db" "http://127.0.0.1:$api_port" "$work/reload" || exit 1
check "enrol" 200 "$(custom "{\"time\":\"$(now_z)\",\"friend\":\"$student\",\"type\":\"enroll\"}")"
check "ping" 200 "$(custom "{\"time\":\"$(now_z)\",\"friend\":\"$student\",\"type\":\"ping\",\"n\":5}")"
check "waiting at the first wait" "first/1" "$(inside)"
wait_metric okuri_outbox_depth 0 >/dev/null  # lesson 1 has reached LINE: counted in `before`
before="$(pushes)"
# The edit removes the wait the friend is at: they go on at once (lesson 2) to the next wait.
sed -i 's/^    wait 1h$//' "$work/reload/main.okuri"
check "reloads after the edit" 1 "$(wait_metric 'okuri_reloads_total{result="ok"}' 1)"
check "moved on to the next wait" "course/3" "$(inside)"
for _ in $(seq 1 25); do [ "$(pushes)" -gt "$before" ] && break; sleep 0.2; done
check "lesson 2 pushed by the reload" $((before + 1)) "$(pushes)"
grep -q "now running the new version" "$work/serve.log" || { echo "FAIL: the reload was not logged" >&2; fail=1; }
# A version with an error is not loaded: the diagnostics are logged, the old version goes on.
cp "$work/reload/main.okuri" "$work/good.okuri"
printf 'scenario broken {\n  send nowhere\n}\n' >>"$work/reload/main.okuri"
check "a broken version fails to load" 1 "$(wait_metric 'okuri_reloads_total{result="failed"}' 1)"
grep -q "the project has errors; the running version goes on" "$work/serve.log" || { echo "FAIL: no log of the refused version" >&2; fail=1; }
grep -q "nowhere" "$work/serve.log" || { echo "FAIL: the diagnostic is not in the log" >&2; fail=1; }
check "still served after the broken version" 200 "$(custom "{\"time\":\"$(now_z)\",\"friend\":\"$student\",\"type\":\"ping\",\"n\":1}")"
check "state kept" "course/3" "$(inside)"
kill -TERM "$serve_pid"
wait "$serve_pid"
# SIGHUP, with the watcher off: `on_update exit` lets the friend go.
cp "$work/good.okuri" "$work/reload/main.okuri"
sed -i 's/^  start on enroll$/  start on enroll\n  on_update exit/' "$work/reload/main.okuri"
start_serve "$work/reload.db" "http://127.0.0.1:$api_port" "$work/reload" --no-watch || exit 1
check "a new on_update policy alone moves nobody at start" "course/3" "$(inside)"
# The scenario itself changes (its last wait): only then does its `on_update` apply.
sed -i 's/^  wait 1d$/  wait 2d/' "$work/reload/main.okuri"
sleep 2.5
check "no reload without the watcher" 0 "$(metric 'okuri_reloads_total{result="ok"}')"
kill -HUP "$serve_pid"
check "reload on SIGHUP" 1 "$(wait_metric 'okuri_reloads_total{result="ok"}' 1)"
check "on_update exit: the friend left" none "$(inside)"
kill -TERM "$serve_pid"
wait "$serve_pid"
# The project changes shape while the service is down: at start the friends move to the new version.
printf '\ntag 新規タグ\n' >>"$work/reload/main.okuri"
start_serve "$work/reload.db" "http://127.0.0.1:$api_port" "$work/reload" || exit 1
grep -q "was written by another version of the project: moving its friends to this one" "$work/serve.log" ||
  { echo "FAIL: the start did not move the friends to the new version" >&2; fail=1; }
check "score kept across versions" 6 "$(score_of "$student")"
kill -TERM "$serve_pid"
wait "$serve_pid"

# ---- 2c. A reload moves only friends whose scenario changed, and compiled conditions follow a new
# layout of the friend's columns (a tag added moves the columns of scores behind it).
echo "[${SECONDS}s] part 2c" >&2
mkdir -p "$work/untouched"
cat >"$work/untouched/main.okuri" <<'OKURI'
message greeting text "こんにちは"
tag ok
score engagement
event bump
event probe
on bump { score(engagement) += 2 }
on probe when score(engagement) == 2 { tag ok }
on friend_added { send greeting }
OKURI
cat >"$work/untouched/other.okuri" <<'OKURI'
event go
message f text "first"
message e text "end"
scenario r {
  start on go
  on_update restart
  send f
  step hold { wait 1h }
  send e
}
scenario twin {
  start on go
  on_update exit
  step hold { wait 1h }
  send e
}
OKURI
export OKURI_CACHE_DIR="$work/jit-cache"
mover="U00000000000000000000000000000d0d"
position() {  # position FRIEND SCENARIO → the step, or "none"
  curl -s -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" "$url/friends/$1" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p" | grep . || echo none
}
tags_of() { curl -s -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" "$url/friends/$1" | sed -n 's/.*"tags":\[\([^]]*\)\].*/\1/p'; }
start_serve "$work/untouched.db" "http://127.0.0.1:$api_port" "$work/untouched" --no-watch || exit 1
check "go" 200 "$(custom "{\"time\":\"$(now_z)\",\"friend\":\"$mover\",\"type\":\"go\"}")"
check "bump" 200 "$(custom "{\"time\":\"$(now_z)\",\"friend\":\"$mover\",\"type\":\"bump\"}")"
check "waiting in r" hold/1 "$(position "$mover" r)"
check "waiting in twin" hold/1 "$(position "$mover" twin)"
sleep 1
before="$(pushes)"
# Only a message text of the other file changes: neither scenario changed.
sed -i 's/"こんにちは"/"こんにちは!"/' "$work/untouched/main.okuri"
kill -HUP "$serve_pid"
check "reload of an unrelated edit" 1 "$(wait_metric 'okuri_reloads_total{result="ok"}' 1)"
check "on_update restart leaves an unchanged scenario alone" hold/1 "$(position "$mover" r)"
check "on_update exit leaves an unchanged scenario alone" hold/1 "$(position "$mover" twin)"
grep -q "0 restarted, 0 left a scenario" "$work/serve.log" || { echo "FAIL: the reload moved friends: $(grep 'now running' "$work/serve.log" | tail -1)" >&2; fail=1; }
sleep 1
check "nothing re-sent by the reload" "$before" "$(pushes)"
# A tag appended moves the named score's column: the condition on it must read the new place.
printf 'tag zzz_new\n' >>"$work/untouched/main.okuri"
kill -HUP "$serve_pid"
check "reload with a new tag" 2 "$(wait_metric 'okuri_reloads_total{result="ok"}' 2)"
check "probe" 200 "$(custom "{\"time\":\"$(now_z)\",\"friend\":\"$mover\",\"type\":\"probe\"}")"
check "a condition on a named score after the layout changed" '"ok"' "$(tags_of "$mover")"
newbie="U00000000000000000000000000000e0e"
custom "{\"time\":\"$(now_z)\",\"friend\":\"$newbie\",\"type\":\"bump\"}" >/dev/null
custom "{\"time\":\"$(now_z)\",\"friend\":\"$newbie\",\"type\":\"probe\"}" >/dev/null
check "the same condition for a new friend" '"ok"' "$(tags_of "$newbie")"
kill -TERM "$serve_pid"
wait "$serve_pid"
# A tag added in front while the service is down, with the object cache warm from the old layout.
sed -i '1i tag aaa_front' "$work/untouched/main.okuri"
start_serve "$work/untouched.db" "http://127.0.0.1:$api_port" "$work/untouched" --no-watch || exit 1
late="U00000000000000000000000000000f0f"
custom "{\"time\":\"$(now_z)\",\"friend\":\"$late\",\"type\":\"bump\"}" >/dev/null
custom "{\"time\":\"$(now_z)\",\"friend\":\"$late\",\"type\":\"probe\"}" >/dev/null
check "after a restart with a changed project and a warm cache" '"ok"' "$(tags_of "$late")"
kill -TERM "$serve_pid"
wait "$serve_pid"
unset OKURI_CACHE_DIR

# ---- 3. kill -9 while 100,000 events stream in (10 rounds), the peer failing meanwhile (5xx, 429, hangs):
echo "[${SECONDS}s] part 3" >&2
# each event applied exactly once, every delivery arrives once or is reported uncertain, none twice
node "$here/mock_line.mjs" "$mock_port" "$work/mock.log" 1 &
pids+=($!)
wait_for "http://127.0.0.1:$mock_port/" || exit 1
start_serve "$work/crash.db" "http://127.0.0.1:$mock_port" || exit 1
crash_friend="U0000000000000000000000000000c0de"
# 20 events to a body (LINE batches events too), a message asked for every 5,000th.
node "$here/client.mjs" stream "$url/webhook" "$secret" 100000 "$crash_friend" 20 5000 >"$work/client.log" 2>&1 &
client=$!
mid_stream=0
for round in $(seq 1 10); do
  sleep "0.$((RANDOM % 5 + 1))"
  kill -0 "$client" 2>/dev/null && mid_stream=$((mid_stream + 1))
  kill -9 "$serve_pid"
  wait "$serve_pid" 2>/dev/null
  start_serve "$work/crash.db" "http://127.0.0.1:$mock_port" || { fail=1; break; }
done
wait "$client"
check "the streaming client's exit status" 0 "$?"
check "kills while the events were streaming in" 10 "$mid_stream"
echo "[${SECONDS}s] events posted" >&2
# Wait for the outbox to drain through the failing peer (backoff grows; bounded here).
for _ in $(seq 1 120); do
  [ "$(metric okuri_outbox_depth)" = 0 ] && break
  sleep 1
done
check "outbox drained" 0 "$(metric okuri_outbox_depth)"
echo "[${SECONDS}s] outbox drained" >&2
check "score after 10 crashes (100,000 events, each once)" 100000 \
  "$(score_of "$crash_friend")"
# One delivery per 5,000 events: each arrived once (a reply, or a push by its retry key) or, when the
# process died with its reply in flight, is reported uncertain; none arrived twice.
delivered="$(grep -cE "^/v2/bot/message/(reply|push) 200" "$work/mock.log")"
uncertain="$(metric 'okuri_deliveries{status="uncertain"}')"
# (An uncertain reply may have arrived before the process died, or not.)
if [ "$delivered" -gt 20 ] || [ "$((delivered + uncertain))" -lt 20 ]; then
  echo "FAIL: 20 deliveries: $delivered arrived, $uncertain uncertain" >&2
  fail=1
fi
check "push retry keys accepted twice" 0 "$(grep "^/v2/bot/message/push 200" "$work/mock.log" | awk '{print $3}' | sort | uniq -d | wc -l)"
# A reply token is used again only after LINE refused it for the rate (429: not processed, so
# unused); after any other answer, or none, it is never sent again.
check "reply tokens used twice" 0 "$(grep "^/v2/bot/message/reply" "$work/mock.log" |
  awk '($3 in last) && last[$3] != "429" { bad++ } { last[$3] = $2 } END { print bad + 0 }')"
echo "crash test: $(cat "$work/client.log"); $(grep -c "^/v2/bot/message/push 409" "$work/mock.log") repeated keys answered 409"
kill -TERM "$serve_pid"
wait "$serve_pid"

# ---- 4. Fuzzed bodies: 1,000 of them, signed and unsigned; the process stays up and stores nothing
echo "[${SECONDS}s] part 4" >&2
start_serve "$work/fuzz.db" "http://127.0.0.1:$api_port" || exit 1
before="$(metric okuri_events_accepted_total)"
for i in $(seq 1 1000); do
  head -c $((RANDOM % 400 + 1)) /dev/urandom >"$work/fuzz.bin"
  if [ $((i % 2)) -eq 0 ]; then
    # Valid JSON shapes with wrong types, signed: must be 400.
    printf '{"destination":%s,"events":[{"type":"message","timestamp":"%s","source":{"userId":%s}}]}' \
      "$RANDOM" "$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')" "$RANDOM" >"$work/fuzz.bin"
    code="$(post_hook "$work/fuzz.bin")"
    [ "$code" = 400 ] || { echo "FAIL: fuzzed signed body $i answered $code" >&2; fail=1; break; }
  else
    code="$(post_hook "$work/fuzz.bin" "$(head -c 32 /dev/urandom | base64)")"
    [ "$code" = 401 ] || { echo "FAIL: fuzzed unsigned body $i answered $code" >&2; fail=1; break; }
  fi
done
check "still up after fuzzing" ok "$(curl -s "$url/healthz" | tr -d '\n')"
check "nothing applied from fuzzed bodies" "$before" "$(metric okuri_events_accepted_total)"
kill -TERM "$serve_pid"
wait "$serve_pid"

# ---- 5. The disk fills up (a file size limit on the running process): requests get 503 and are not
echo "[${SECONDS}s] part 5" >&2
# applied; once space returns they go through; every event answered 200 is applied once.
if command -v prlimit >/dev/null; then
  start_serve "$work/full.db" "http://127.0.0.1:$api_port" || exit 1
  full_friend="U00000000000000000000000000000f11"
  ping() {  # → the status
    custom "$(printf '{"time":"%s","friend":"%s","type":"ping","n":1}' "$(now_z)" "$full_friend")"
  }
  check "first ping" 200 "$(ping)"
  size="$(du -b "$work"/full.db* | awk '{ if ($1 > m) m = $1 } END { print m }')"
  prlimit --pid "$serve_pid" --fsize="$((size + 8192)):unlimited"  # the soft limit only: it can be raised again
  ok=1
  refused=0
  for i in $(seq 2 100); do
    for _ in $(seq 1 50); do
      code="$(ping)"
      [ "$code" = 200 ] && break
      [ "$code" = 503 ] && refused=$((refused + 1))
      [ "$refused" = 20 ] && prlimit --pid "$serve_pid" --fsize=unlimited:unlimited  # space returns
      sleep 0.05
    done
    [ "$code" = 200 ] || { echo "FAIL: ping $i never accepted (last $code)" >&2; fail=1; break; }
  done
  [ "$refused" -gt 0 ] || { echo "FAIL: the full disk refused nothing" >&2; fail=1; }
  check "still up after the disk filled" ok "$(curl -s "$url/healthz" | tr -d '\n')"
  check "every accepted ping applied once" 100 \
    "$(score_of "$full_friend")"
  # Counted once committed: the pings refused while the disk was full are not counted as accepted.
  check "events counted in /metrics equal events committed" 100 "$(metric okuri_events_accepted_total)"
  echo "disk full: $refused requests answered 503 while the disk was full"
  kill -TERM "$serve_pid"
  wait "$serve_pid"
fi

# ---- 6. What friends receive: LINE profiles in texts, tracked links, staff notifications, and the
# same texts as `okuri simulate --render` (a recording stand-in for LINE reads every body sent).
echo "[${SECONDS}s] part 6" >&2
rec_port=$((base + 4))
fa="U5a10000000000000000000000000000a"  # a friend LINE knows
fb="U5a10000000000000000000000000000b"  # LINE answers 404 (not a friend any more)
fc="U5a10000000000000000000000000000c"
staff="U5a1000000000000000000000000000f1"
node "$here/recorder.mjs" "$rec_port" "$work/rec.log" "$fa=テスト花子" "$fc=クリック太郎" "monthly-limit:U5a1000000000000000000000000000e0" &
pids+=($!)
wait_for "http://127.0.0.1:$rec_port/" || exit 1
cp -r "$here/features" "$work/features"
export OKURI_LINK_KEY="test-link-key-0123456789abcdef"
features_serve() {
  start_serve "$work/features.db" "http://127.0.0.1:$rec_port" "$work/features" --no-watch --public-url "$url" \
    --notify-url "http://127.0.0.1:$rec_port/notify"
}
features_serve || exit 1
rec() {  # rec JQ-LIKE-NODE-EXPRESSION → prints what the expression returns for the recorder's log (one JSON per line)
  node -e '
    const fs = require("fs");
    const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const out = (0, eval)("(lines) => " + process.argv[2])(lines);
    if (out !== undefined) console.log(typeof out === "string" ? out : JSON.stringify(out));
  ' "$work/rec.log" "$1"
}
wait_rec() {  # wait_rec EXPRESSION → waits until it prints something but "0", "false" or ""
  for _ in $(seq 1 50); do
    local v
    v="$(rec "$1" 2>/dev/null)"
    [ -n "$v" ] && [ "$v" != 0 ] && [ "$v" != false ] && return 0
    sleep 0.2
  done
  return 1
}
text_to() {  # text_to FRIEND KIND → the first text of the last push or reply to the friend
  rec "lines.filter((l) => l.url === '/v2/bot/message/$2' && l.status === 200 && (('$2' === 'reply') ? true : JSON.parse(l.body).to === '$1')).map((l) => JSON.parse(l.body)).filter((b) => '$2' !== 'reply' || b.replyToken === 'tok-$1').map((b) => b.messages[0].text).pop()"
}
for who in "$fa" "$fb"; do
  hook_body "01FEAT$who" follow ",\"replyToken\":\"tok-$who\",\"follow\":{\"isUnblocked\":false}" "$who" >"$work/f.json"
  check "follow of $who" 200 "$(post_hook "$work/f.json")"
done
wait_rec "lines.filter((l) => l.url === '/v2/bot/message/reply').length === 2" || echo "FAIL: the welcome replies did not arrive" >&2
check "the profile was asked for" 1 "$(rec "lines.filter((l) => l.method === 'GET' && l.url === '/v2/bot/profile/$fa').length")"
welcome_a="$(text_to "$fa" reply)"
case "$welcome_a" in
  "テスト花子さま、ようこそ → $url/l/"*) ;;
  *) echo "FAIL: the welcome was not rendered with the LINE profile and a tracked link: $welcome_a" >&2; fail=1 ;;
esac
case "$(text_to "$fb" reply)" in
  "お客さま、ようこそ → $url/l/"*) ;;
  *) echo "FAIL: a friend without a profile got: $(text_to "$fb" reply)" >&2; fail=1 ;;
esac
link="${welcome_a##* → }"
case "$welcome_a" in *"$fa"*) echo "FAIL: the tracked link shows the LINE user id in clear" >&2; fail=1 ;; esac
browser="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/14.0.0"
click() {  # click URL [USER-AGENT] → "STATUS LOCATION"
  curl -s -o /dev/null -A "${2:-$browser}" -w "%{http_code} %{redirect_url}" "$1"
}
check "a click is redirected to the link's URL" "302 https://example.com/landing?utm_source=line" "$(click "$link")"
check "the click changed the score" 3 "$(score_of "$fa")"
check "the click added the tag" '"clicked_lp"' "$(tags_of "$fa")"
check "a second tap within 10 s counts once" "302 https://example.com/landing?utm_source=line" "$(click "$link")"
check "a link-preview fetcher is redirected" "302 https://example.com/landing?utm_source=line&from=x" "$(click "$link?from=x" "facebookexternalhit/1.1;line-poker/1.0")"
check "score after a repeat and a preview" 3 "$(score_of "$fa")"
check "clicks recorded" 1 "$(metric 'okuri_clicks_total{result="recorded"}')"
check "repeated taps" 1 "$(metric 'okuri_clicks_total{result="repeated"}')"
check "previews not counted" 1 "$(metric 'okuri_clicks_total{result="preview"}')"
# The click's rule notifies the staff: the notification URL and a push to the staff member.
wait_rec "lines.some((l) => l.url === '/notify')" || echo "FAIL: no notification was posted" >&2
check "the notification's text" "クリック: テスト花子" "$(rec "lines.filter((l) => l.url === '/notify').map((l) => JSON.parse(l.body).text).pop()")"
check "the notification names the friend" "$fa" "$(rec "lines.filter((l) => l.url === '/notify').map((l) => JSON.parse(l.body).friend).pop()")"
wait_rec "lines.some((l) => l.url === '/v2/bot/message/push' && JSON.parse(l.body).to === '$staff')" || true
check "the staff member got the notification" "クリック: テスト花子
(テスト花子)" "$(text_to "$staff" push)"
# Forged, altered and random tokens: 404, nothing stored, the process up.
accepted="$(metric okuri_events_accepted_total)"
check "a forged token" 404 "$(curl -s -o /dev/null -w "%{http_code}" "$url/l/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")"
last="${link: -1}"; [ "$last" = A ] && other=B || other=A
check "an altered token" 404 "$(curl -s -o /dev/null -w "%{http_code}" "${link%?}$other")"
fuzz_fail=0
for i in $(seq 1 1000); do
  tok="$(head -c $((RANDOM % 90 + 1)) /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
  code="$(curl -s -o /dev/null -w "%{http_code}" "$url/l/$tok")"
  [ "$code" = 404 ] || { fuzz_fail=1; echo "FAIL: fuzzed token $tok answered $code" >&2; break; }
done
check "1,000 fuzzed tokens answered 404" 0 "$fuzz_fail"
check "nothing stored from forged tokens" "$accepted" "$(metric okuri_events_accepted_total)"
check "still up after the fuzzed tokens" ok "$(curl -s "$url/healthz" | tr -d '\n')"
# A link removed from the project: its tokens answer 404.
hook_body "01FEATPROMO" postback ',"replyToken":"tok-promo","postback":{"data":"promo"}' "$fa" >"$work/p.json"
check "postback promo" 200 "$(post_hook "$work/p.json")"
wait_rec "lines.some((l) => l.url === '/v2/bot/message/reply' && l.body.includes('tok-promo'))" || true
promo="$(rec "lines.filter((l) => l.url === '/v2/bot/message/reply' && l.body.includes('tok-promo')).map((l) => JSON.parse(l.body).messages[0].text).pop()")"
old_link="${promo##* → }"
check "the old link works before the edit" "302 https://example.com/old" "$(click "$old_link")"
sed -i '/^link old /d; /^message promo /d; /^on postback when event.data == "promo"/d' "$work/features/main.okuri"
kill -HUP "$serve_pid"
check "reload without the old link" 1 "$(wait_metric 'okuri_reloads_total{result="ok"}' 1)"
check "a token for a removed link" 404 "$(curl -s -o /dev/null -w "%{http_code}" -A "$browser" "$old_link")"
# The same project and events give the same texts in `okuri simulate --render` and in what serve sends.
check "report" 200 "$(custom "{\"time\":\"$(now_z)\",\"friend\":\"$fa\",\"type\":\"report\",\"at\":\"2026-05-16T10:00:00+09:00\",\"course\":\"violin\"}")"
wait_rec "lines.some((l) => l.url === '/v2/bot/message/push' && JSON.parse(l.body).to === '$fa')" || true
served="$(text_to "$fa" push)"
printf '{"time":"2026-05-10T10:00:00+09:00","friend":"%s","type":"friend_added"}\n{"time":"2026-05-10T10:01:00+09:00","friend":"%s","type":"link_clicked","link":"lp"}\n{"time":"2026-05-10T10:02:00+09:00","friend":"%s","type":"report","at":"2026-05-16T10:00:00+09:00","course":"violin"}\n' \
  "$fa" "$fa" "$fa" >"$work/parity.jsonl"
simulated="$("$okuri" simulate "$work/features" --events "$work/parity.jsonl" --render 2>/dev/null |
  node -e 'const ls = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map(JSON.parse); console.log(ls.filter((d) => d.messages[0] === "summary")[0].rendered[0].text)')"
check "simulate --render and serve send the same text" "violin: 5月16日(土) 10:00 score 3" "$served"
check "… and simulate renders it so" "$served" "$simulated"
# The welcome reads the LINE profile and carries a link: simulate, given the same display name,
# renders the same words, and serve's tracked link leads to the URL simulate names.
printf 'id,display_name\n%s,テスト花子\n' "$fa" >"$work/parity_friends.csv"
simulated_welcome="$("$okuri" simulate "$work/features" --events "$work/parity.jsonl" --friends "$work/parity_friends.csv" --render 2>/dev/null |
  node -e 'const ls = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map(JSON.parse); console.log(ls.filter((d) => d.messages[0] === "welcome")[0].rendered[0].text)')"
check "the welcome's words in simulate --render and in serve" "${simulated_welcome%% → *}" "${welcome_a%% → *}"
check "… and serve's tracked link leads where simulate's link does" "302 ${simulated_welcome##* → }" "$(click "$link")"
kill -TERM "$serve_pid"
wait "$serve_pid"

# ---- 7. kill -9 while clicks stream in: each click answered 302 is applied once.
echo "[${SECONDS}s] part 7" >&2
features_serve || exit 1
check "100 pushes with a tracked link each" 200 "$(custom "$(for i in $(seq 1 100); do printf '{"time":"%s","friend":"%s","type":"more"}\n' "$(now_z)" "$fc"; done)")"
for _ in $(seq 1 100); do
  [ "$(rec "lines.filter((l) => l.url === '/v2/bot/message/push' && JSON.parse(l.body).to === '$fc').length")" = 100 ] && break
  sleep 0.2
done
rec "lines.filter((l) => l.url === '/v2/bot/message/push' && JSON.parse(l.body).to === '$fc').map((l) => JSON.parse(l.body).messages[0].text.split(' → ')[1]).join('\n')" >"$work/links.txt"
check "tokens to click" 100 "$(wc -l <"$work/links.txt")"
(
  while read -r l; do
    until [ "$(curl -s -o /dev/null -A "$browser" -w "%{http_code}" --max-time 5 "$l")" = 302 ]; do sleep 0.1; done
    sleep 0.02
  done <"$work/links.txt"
) &
clicker=$!
for round in 1 2 3; do
  sleep "0.$((RANDOM % 4 + 2))"
  kill -9 "$serve_pid"
  wait "$serve_pid" 2>/dev/null
  features_serve || { fail=1; break; }
done
wait "$clicker"
check "every click applied once after 3 crashes" 300 "$(score_of "$fc")"
kill -TERM "$serve_pid"
wait "$serve_pid"
unset OKURI_LINK_KEY

# ---- 8. LINE's rules: standby mode, group sources, repeated ids in one body, the monthly limit;
# test sends through the real client (to the recorder, and validated by Prism)
echo "[${SECONDS}s] part 8" >&2
fd="U5a10000000000000000000000000000d"
lim="U5a1000000000000000000000000000e0"
start_serve "$work/rules.db" "http://127.0.0.1:$rec_port" "$work/features" --no-watch --no-profiles || exit 1
hook_body "01STANDBY$fd" follow ",\"replyToken\":\"tok-standby\",\"follow\":{\"isUnblocked\":false}" "$fd" |
  sed 's/"mode":"active"/"mode":"standby"/' >"$work/standby.json"
check "a follow while on standby" 200 "$(post_hook "$work/standby.json")"
check "the standby follow changed the friend's state" '"blocked":false' "$(curl -s -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" "$url/friends/$fd" | grep -o '"blocked":false')"
check "nothing answers a standby event" 1 "$(metric okuri_standby_unsent_total)"
hook_body 01GROUP000000000000000001 message ',"replyToken":"tok-group","message":{"id":"1","type":"text","quoteToken":"q","text":"hi"}' "$fd" |
  sed "s/\"source\":{\"type\":\"user\",/\"source\":{\"type\":\"group\",\"groupId\":\"Cg1\",/" >"$work/group.json"
check "a group message" 200 "$(post_hook "$work/group.json")"
check "a group message is not a friend's event" 1 "$(metric 'okuri_events_ignored_total{why="message_from_a_group"}')"
dupes="$(metric okuri_events_duplicate_total)"
one="$(hook_body 01TWICE00000000000000000001 postback ',"replyToken":"tok-twice","postback":{"data":"x"}' "$fd")"
ev="${one#*\"events\":[}"
ev="${ev%]\}}"
printf '{"destination":"U00000000000000000000000000000000","events":[%s,%s]}' "$ev" "$ev" >"$work/twice.json"
check "one body, the same event twice" 200 "$(post_hook "$work/twice.json")"
check "the repeat within one body is counted as a duplicate" $((dupes + 1)) "$(metric okuri_events_duplicate_total)"
sleep 1
check "no reply or push went to LINE for the standby follow" 0 \
  "$(rec "lines.filter((l) => l.body.includes('tok-standby') || l.body.includes('\"to\":\"$fd\"')).length")"
# The monthly limit: pushes stop and wait, with LINE's message recorded; not retried as a rate limit.
check "a push LINE refuses for the monthly limit" 200 "$(custom "$(printf '{"time":"%s","friend":"%s","type":"more"}' "$(now_z)" "$lim")")"
wait_rec "lines.some((l) => l.url === '/v2/bot/message/push' && JSON.parse(l.body).to === '$lim')" || true
sleep 3
check "it was tried once" 1 "$(rec "lines.filter((l) => l.url === '/v2/bot/message/push' && JSON.parse(l.body).to === '$lim').length")"
check "the monthly limit is shown" 1 "$(metric okuri_monthly_limit_reached)"
check "the delivery waits" 1 "$(metric 'okuri_deliveries{status="pending"}')"
grep -q "monthly limit" "$work/serve.log" || { echo "FAIL: the log does not say the monthly limit is reached" >&2; fail=1; }
kill -TERM "$serve_pid"
wait "$serve_pid"
# Test sends: rendered for a friend of a friends file, pushed through the same client as serve.
printf 'id,display_name\nU5a10000000000000000000000000000a,テスト花子\n' >"$work/people.csv"
"$okuri" send-test "$work/features" welcome --to "$staff" --as U5a10000000000000000000000000000a --friends "$work/people.csv" \
  --line-api "http://127.0.0.1:$rec_port" >"$work/send-test.txt" 2>&1
check "send-test exit status" 0 "$?"
check "send-test pushed the rendered text to the operator" "テスト花子さま、ようこそ → https://example.com/landing?utm_source=line" \
  "$(rec "lines.filter((l) => l.url === '/v2/bot/message/push' && JSON.parse(l.body).to === '$staff').map((l) => JSON.parse(l.body).messages[0].text).pop()")"
grep -q "sent to $staff" "$work/send-test.txt" || { echo "FAIL: send-test did not say it sent: $(cat "$work/send-test.txt")" >&2; fail=1; }
"$okuri" send-test "$here/project" later --to "$staff" --line-api "http://127.0.0.1:$api_port" >"$work/send-test2.txt" 2>&1
check "send-test against Prism" 0 "$?"
check "send-test's push validates against LINE's OpenAPI" 1 \
  "$(grep -A2 "post /v2/bot/message/push.*Request received" "$work/api.log" | tail -3 | grep -c "passed the validation")"
"$okuri" send-test "$work/features" welcome --to "@staff" >/dev/null 2>"$work/send-test3.txt"
check "send-test refuses what is not a user id" 2 "$?"

# ---- 9. kill -9 while a 20,000-friend broadcast goes out as multicasts through a failing peer:
# afterwards every recipient was in exactly one accepted multicast; repeats carried their retry key.
echo "[${SECONDS}s] part 9" >&2
mkdir -p "$work/big"
big_at=$(( ($(date +%s) + 20 + 59) / 60 * 60 ))
printf 'event ping\nmessage sale text "年末セール"\nbroadcast big at %s to score >= 1 {\n  send sale\n}\non ping { score += 1 }\n' \
  "$(TZ=Asia/Tokyo date -d "@$big_at" "+%Y-%m-%d %H:%M")" >"$work/big/main.okuri"
: >"$work/mock.log.recipients"
start_serve "$work/big.db" "http://127.0.0.1:$mock_port" "$work/big" --no-watch --no-profiles || exit 1
for part in $(seq 0 49); do  # 400 friends a body: the bodies stay under this service's --max-body
  when="$(now_z)"
  for k in $(seq $((part * 400)) $((part * 400 + 399))); do
    printf '{"time":"%s","friend":"U%032x","type":"ping"}\n' "$when" "$k"
  done >"$work/big.jsonl"
  code="$(curl -s -o /dev/null -w "%{http_code}" -X POST "$url/events" \
    -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "Content-Type: application/x-ndjson" --data-binary @"$work/big.jsonl")"
  [ "$code" = 200 ] || { echo "FAIL: friends for the broadcast ($part): $code" >&2; fail=1; break; }
done
while [ "$(date +%s)" -lt "$big_at" ]; do sleep 0.2; done
for round in 1 2 3; do
  sleep "0.$((RANDOM % 4 + 1))"
  kill -9 "$serve_pid"
  wait "$serve_pid" 2>/dev/null
  start_serve "$work/big.db" "http://127.0.0.1:$mock_port" "$work/big" --no-watch --no-profiles || { fail=1; break; }
done
for _ in $(seq 1 120); do
  [ "$(wc -l <"$work/mock.log.recipients")" -ge 20000 ] && [ "$(metric okuri_outbox_depth)" = 0 ] && break
  sleep 1
done
check "recipients of accepted multicasts" 20000 "$(wc -l <"$work/mock.log.recipients" | tr -d ' ')"
check "recipients in two accepted multicasts" 0 "$(sort "$work/mock.log.recipients" | uniq -d | wc -l | tr -d ' ')"
check "accepted multicasts (500 friends each)" 40 "$(awk '$1 == "/v2/bot/message/multicast" && $2 == 200' "$work/mock.log" | wc -l | tr -d ' ')"
echo "multicast crash test: $(grep -c "^/v2/bot/message/multicast 409" "$work/mock.log") repeated keys answered 409" >&2
kill -TERM "$serve_pid"
wait "$serve_pid"

# ---- 0, checked: the broadcast went out as one multicast to three friends; the line.* one as a narrowcast.
while [ "$(date +%s)" -lt $((bcast_at + 3)) ]; do sleep 1; done
for _ in $(seq 1 50); do grep -q "post /v2/bot/message/multicast" "$work/api.log" && break; sleep 0.2; done
check "the broadcast went out as multicasts (validated)" 1 \
  "$(grep -A2 "post /v2/bot/message/multicast.*Request received" "$work/api.log" | grep -c "passed the validation")"
check "friends reached by multicast" 3 "$(curl -s "http://127.0.0.1:$bcast_port/metrics" | awk '$1 == "okuri_multicast_recipients_total" { print $2 }')"
grep -q "narrowcast of \`ladies\` (step ladies/1) was accepted by LINE" "$work/bcast.log" ||
  { echo "FAIL: the line.* broadcast did not go out as a narrowcast" >&2; fail=1; }
check "the narrowcast validated" 1 \
  "$(grep -A2 "post /v2/bot/message/narrowcast.*Request received" "$work/api.log" | grep -c "passed the validation")"
check "the quota was read (validated)" 1 \
  "$(grep -A2 "get /v2/bot/message/quota/consumption.*Request received" "$work/api.log" | grep -m1 -c "passed the validation")"
quota_metric() { curl -s "http://127.0.0.1:$quota_port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
check "LINE's quota in /metrics" "1000 998" "$(quota_metric okuri_quota_limit) $(quota_metric okuri_quota_used)"
check "the broadcast over the quota is held whole" 1 "$(quota_metric 'okuri_deliveries{status="quota"}')"
check "nothing of it was sent" 0 "$(grep -c '"url":"/v2/bot/message/\(multicast\|push\)"' "$work/quota-rec.log")"
grep -q "broadcast \`spring\` is held, not sent: it needs 3 messages and 2 remain" "$work/quota.log" ||
  { echo "FAIL: the log does not say why the broadcast is held: $(grep -i quota "$work/quota.log")" >&2; fail=1; }
kill -TERM "$bcast_pid" "$quota_pid"
wait "$bcast_pid" "$quota_pid"

[ $fail -eq 0 ] && echo "serve: all passed"
exit $fail
