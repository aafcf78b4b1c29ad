#!/usr/bin/env bash
# Broadcasts LINE sends itself: an untargeted broadcast through LINE's broadcast endpoint, and
# broadcasts narrowed by LINE's estimates as narrowcasts (a demographic filter, an audience
# uploaded from the account's own data, progress read until LINE finishes). Three instances of
# `okuri serve` share one broadcast minute:
#   A. against a recording stand-in for LINE (recorder.mjs): what is sent, and what is not;
#   B. against Prism mocks of messaging-api.yml and manage-audience.yml behind one address
#      (line_router.mjs): every request shape validates against LINE's OpenAPI files;
#   C. kill -9 while LINE is answering a narrowcast: after the restart the same retry key is
#      answered 409, and LINE accepted the narrowcast once;
#   D. 100 messages left of the month's quota and --when-quota-short up-to-remaining: what the
#      quota covers goes, and LINE is asked to stop at the quota.
#   line_wide_test.sh OKURI        (needs tests/serve/node_modules: `npm install` there)
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
openapi="$here/openapi"
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
base=$((12000 + $$ % 18000))
rec_port=$base; msg_port=$((base + 1)); aud_port=$((base + 2)); router_port=$((base + 3))
a_port=$((base + 4)); b_port=$((base + 5)); c_port=$((base + 6)); crec_port=$((base + 7))
d_port=$((base + 8)); drec_port=$((base + 9))
export LINE_CHANNEL_SECRET="test-channel-secret" LINE_CHANNEL_ACCESS_TOKEN="test-access-token" OKURI_EVENTS_TOKEN="test-events-token"

node "$here/recorder.mjs" "$rec_port" "$work/rec.log" &
pids+=($!)
node "$here/recorder.mjs" "$crec_port" "$work/crec.log" "slow-narrowcast:4000" &
pids+=($!)
node "$here/recorder.mjs" "$drec_port" "$work/drec.log" "quota:1000:900" "followers:2500" &
pids+=($!)
prism="$here/node_modules/.bin/prism"
"$prism" mock -h 127.0.0.1 -p "$msg_port" --errors "$openapi/messaging-api.yml" >"$work/msg.log" 2>&1 &
pids+=($!)
"$prism" mock -h 127.0.0.1 -p "$aud_port" --errors "$openapi/manage-audience.yml" >"$work/aud.log" 2>&1 &
pids+=($!)
node "$here/line_router.mjs" "$router_port" "$msg_port" "$aud_port" &
pids+=($!)
wait_for "http://127.0.0.1:$rec_port/" || exit 1
wait_for "http://127.0.0.1:$crec_port/" || exit 1
wait_for "http://127.0.0.1:$drec_port/" || exit 1
wait_for "http://127.0.0.1:$msg_port/v2/bot/info" || exit 1
wait_for "http://127.0.0.1:$aud_port/v2/bot/audienceGroup/list" || exit 1
wait_for "http://127.0.0.1:$router_port/v2/bot/info" || exit 1

# The broadcasts start on the minute, at least 40 s from now (time for the friends to arrive).
at=$(( ($(date +%s) + 40 + 59) / 60 * 60 ))
when="$(TZ=Asia/Tokyo date -d "@$at" "+%Y-%m-%d %H:%M")"
mkdir -p "$work/p" "$work/c"
cat >"$work/p/main.okuri" <<EOF
event join_vip
event join_rare
event hello
tag vip
tag rare
message news text "お知らせです"
message women text "レディースデー"
message vipsale text "VIPセール {today}"
message limited text "限定のご案内"
message named text "{display_name|お客}さま、こんにちは"
on join_vip { tag vip }
on join_rare { tag rare }
broadcast everyone at $when {
  send news
}
broadcast ladies at $when to line.gender == female and line.age in 20..39 {
  send women
}
broadcast vip_ladies at $when to tagged(vip) and line.region in [tokyo, kanagawa] and line.os == ios {
  send vipsale
}
broadcast few at $when to tagged(rare) and line.gender == male {
  send limited
}
broadcast greet at $when {
  send named
}
EOF
cat >"$work/c/main.okuri" <<EOF
event hello
message women text "レディースデー"
broadcast ladies at $when to line.gender == female {
  send women
}
EOF
serve() {  # serve NAME PORT LINE_API PROJECT [OPTION…]
  "$okuri" serve "$4" --db "$work/$1.db" --listen "127.0.0.1:$2" --line-api "$3" --no-watch --no-profiles \
    --narrowcast-rate 3600 --progress-every 1 --line-timeout 10 "${@:5}" >>"$work/$1.log" 2>&1 &
  pids+=($!)
  eval "${1}_pid=$!"
}
serve a "$a_port" "http://127.0.0.1:$rec_port" "$work/p"
serve b "$b_port" "http://127.0.0.1:$router_port" "$work/p"
serve c "$c_port" "http://127.0.0.1:$crec_port" "$work/c"
serve d "$d_port" "http://127.0.0.1:$drec_port" "$work/p" --when-quota-short up-to-remaining --quota-every 3600
for port in "$a_port" "$b_port" "$c_port" "$d_port"; do wait_for "http://127.0.0.1:$port/healthz" || exit 1; done

# 150 VIP friends, 3 rare ones, 7 others: 160 friends the service knows.
now_iso="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
{
  for k in $(seq 1 150); do printf '{"time":"%s","friend":"U%032x","type":"join_vip"}\n' "$now_iso" "$k"; done
  for k in $(seq 151 153); do printf '{"time":"%s","friend":"U%032x","type":"join_rare"}\n' "$now_iso" "$k"; done
  for k in $(seq 154 160); do printf '{"time":"%s","friend":"U%032x","type":"hello"}\n' "$now_iso" "$k"; done
} >"$work/friends.jsonl"
# D reads the quota before the broadcasts: LINE has answered once it shows in /metrics.
for _ in $(seq 1 40); do
  [ -n "$(curl -s "http://127.0.0.1:$d_port/metrics" | awk '$1 == "okuri_quota_used" { print $2 }')" ] && break
  sleep 0.25
done
for port in "$a_port" "$b_port" "$c_port" "$d_port"; do
  check "friends posted to :$port" 200 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$port/events" \
    -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "Content-Type: application/x-ndjson" --data-binary @"$work/friends.jsonl")"
done

# C: kill -9 while the recorder holds its answer to the narrowcast it accepted; then restart.
while [ "$(date +%s)" -lt $((at + 1)) ]; do sleep 0.5; done
for _ in $(seq 1 40); do
  grep -q '"url":"/v2/bot/message/narrowcast"' "$work/crec.log" 2>/dev/null && break
  sleep 0.25
done
kill -9 "$c_pid"
wait "$c_pid" 2>/dev/null
serve c "$c_port" "http://127.0.0.1:$crec_port" "$work/c"
wait_for "http://127.0.0.1:$c_port/healthz" || exit 1

# Give LINE's side time: audiences become ready and progress is read every second.
metric() {  # metric PORT NAME
  curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}
for _ in $(seq 1 60); do
  [ "$(metric "$a_port" 'okuri_narrowcasts_total{phase="succeeded"}')" = 2 ] &&
    [ "$(metric "$c_port" 'okuri_narrowcasts_total{phase="succeeded"}')" = 1 ] && break
  sleep 0.5
done

# ---- A. What the recorder saw.
req() {  # req URL [LOG] → the JSON bodies sent to it, one a line
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
    for (const l of lines) if (l.url === process.argv[2] && l.method === "POST") console.log(l.body);
  ' "$work/${2:-rec.log}" "$1"
}
check "one request to LINE's broadcast endpoint" 1 "$(req /v2/bot/message/broadcast | wc -l)"
check "the broadcast's text" '[{"text":"お知らせです","type":"text"}]' \
  "$(req /v2/bot/message/broadcast | node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(0)).messages))')"
check "two narrowcasts (the third reaches too few)" 2 "$(req /v2/bot/message/narrowcast | wc -l)"
nc_of() {  # nc_of TEXT → that narrowcast's body without its messages
  req /v2/bot/message/narrowcast | node -e '
    for (const l of require("fs").readFileSync(0, "utf8").trim().split("\n")) {
      const b = JSON.parse(l);
      if (b.messages[0].text.startsWith(process.argv[1])) { delete b.messages; console.log(JSON.stringify(b)); }
    }' "$1"
}
check "line.* alone: a demographic filter, no audience" \
  '{"filter":{"demographic":{"and":[{"oneOf":["female"],"type":"gender"},{"gte":"age_20","lt":"age_40","type":"age"}],"type":"operator"}},"limit":{"forbidPartialDelivery":true,"upToRemainingQuota":true}}' \
  "$(nc_of レディースデー)"
check "own data and line.*: the audience and the filter" \
  '{"filter":{"demographic":{"and":[{"oneOf":["jp_13","jp_14"],"type":"area"},{"oneOf":["ios"],"type":"appType"}],"type":"operator"}},"limit":{"forbidPartialDelivery":true,"upToRemainingQuota":true},"recipient":{"audienceGroupId":4000,"type":"audience"}}' \
  "$(nc_of VIPセール)"
check "the audience holds the 150 VIP friends" 150 \
  "$(req /v2/bot/audienceGroup/upload | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).audiences.length)')"
check "the audience is deleted once LINE has finished the narrowcast" 1 \
  "$(grep -c '"method":"DELETE","url":"/v2/bot/audienceGroup/4000","status":200' "$work/rec.log")"
check "a narrowcast text is rendered for no one in particular" 1 "$(req /v2/bot/message/narrowcast | grep -c "VIPセール $(TZ=Asia/Tokyo date -d "@$at" +%Y-%m-%d)")"
check "the untargeted broadcast that reads {display_name} goes to the friends known, as multicasts" 1 \
  "$(req /v2/bot/message/multicast | grep -c 'お客さま、こんにちは')"
check "nothing is pushed one by one" 0 "$(req /v2/bot/message/push | wc -l)"
check "the broadcast day's count LINE gave" 480 "$(metric "$a_port" "okuri_broadcast_day_messages{date=\"$(TZ=Asia/Tokyo date -d "@$at" +%Y%m%d)\"}")"
check "narrowcasts LINE finished" 2 "$(metric "$a_port" 'okuri_narrowcasts_total{phase="succeeded"}')"
check "recipients LINE counted" "240 236 4" "$(metric "$a_port" 'okuri_narrowcast_recipients_total{count="target"}') $(metric "$a_port" 'okuri_narrowcast_recipients_total{count="success"}') $(metric "$a_port" 'okuri_narrowcast_recipients_total{count="failure"}')"
check "each friend's part is recorded, not sent alone (160 + 160 + 150)" 470 "$(metric "$a_port" 'okuri_deliveries{status="via_line"}')"
check "the narrowcast that reaches too few is kept unsent (3 parts and its request)" 4 "$(metric "$a_port" 'okuri_deliveries{status="unsent"}')"
for line in "narrowcast \`few\` is not sent: its own-data part reaches 3 friends" \
  "broadcast \`greet\` has no target, but its text" \
  "broadcast \`everyone\` (step" \
  "narrowcast of \`vip_ladies\` (step" \
  "narrowcast of \`ladies\` (step ladies/1) is done: LINE targeted 120 friends, 118 received it, 2 failed" \
  "broadcast \`everyone\` (step everyone/1): LINE counts 480 messages sent by broadcasts on $(TZ=Asia/Tokyo date -d "@$at" +%Y%m%d) (UTC+9)"; do
  grep -qF "$line" "$work/a.log" || { echo "FAIL: the log does not say: $line" >&2; fail=1; }
done

# ---- B. Every request validated against LINE's OpenAPI files.
validated() {  # validated LOG METHOD PATH → 1 when Prism received it and it passed the validation
  grep -A2 "$2 $3.*Request received" "$work/$1" | grep -m1 -c "passed the validation"
}
check "broadcast validates" 1 "$(validated msg.log post /v2/bot/message/broadcast)"
check "narrowcast validates" 1 "$(validated msg.log post /v2/bot/message/narrowcast)"
check "the day's broadcast count validates" 1 "$(validated msg.log get '/v2/bot/message/delivery/broadcast')"
check "narrowcast progress validates" 1 "$(validated msg.log get '/v2/bot/message/progress/narrowcast')"
check "audience upload validates" 1 "$(validated aud.log post /v2/bot/audienceGroup/upload)"
check "audience status validates" 1 "$(validated aud.log get /v2/bot/audienceGroup/1234567890123)"
check "Prism accepted both narrowcasts" 2 "$(grep -c "narrowcast of .* was accepted by LINE" "$work/b.log")"
if grep -q "violation\|failed:" "$work/b.log"; then
  echo "FAIL: a request to Prism was refused: $(grep -m3 "violation\|failed:" "$work/b.log")" >&2
  fail=1
fi

# ---- C. One narrowcast, whatever the crash.
check "the narrowcast was accepted once" 1 "$(grep '"url":"/v2/bot/message/narrowcast"' "$work/crec.log" | grep -c '"status":202')"
check "its repeat after the restart was answered 409" 1 "$(grep '"url":"/v2/bot/message/narrowcast"' "$work/crec.log" | grep -c '"status":409')"
check "the same retry key" 1 "$(grep '"url":"/v2/bot/message/narrowcast"' "$work/crec.log" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p' | sort -u | wc -l)"
check "its progress was followed to the end" 1 "$(metric "$c_port" 'okuri_narrowcasts_total{phase="succeeded"}')"

# ---- D. 100 messages left: the multicast broadcast goes to the first 100 friends; the one to
# every friend and the narrowcasts ask LINE to stop at the quota, not to cancel.
check "the multicast broadcast reaches what the quota covers" 100 \
  "$(req /v2/bot/message/multicast drec.log | node -e 'let n = 0; for (const l of require("fs").readFileSync(0, "utf8").trim().split("\n")) n += JSON.parse(l).to.length; console.log(n)')"
# Unsent: the multicast's other 60 (one row), and the narrowcast that reaches too few (3 parts, 1 request).
check "the others are recorded as not sent" 5 "$(metric "$d_port" 'okuri_deliveries{status="unsent"}')"
# Read at start and again before the broadcasts went out (the periodic read is an hour away).
reads="$(grep -c '"url":"/v2/bot/message/quota"' "$work/drec.log")"
[ "$reads" -ge 2 ] || { echo "FAIL: the quota was read $reads time(s); wanted at start and before the broadcasts" >&2; fail=1; }
grep -qF "broadcast \`greet\` needs 160 messages and 100 remain of this month's quota: it goes to the first 100 friends, and not to the other 60" "$work/d.log" ||
  { echo "FAIL: the log does not say how far the quota reached: $(grep -i quota "$work/d.log")" >&2; fail=1; }
check "the broadcast to every friend goes as a narrowcast up to the quota" '{"limit":{"upToRemainingQuota":true}}' \
  "$(req /v2/bot/message/narrowcast drec.log | node -e '
    for (const l of require("fs").readFileSync(0, "utf8").trim().split("\n")) {
      const b = JSON.parse(l);
      if (b.messages[0].text === "お知らせです") { delete b.messages; console.log(JSON.stringify(b)); }
    }')"
check "nothing went to LINE's broadcast endpoint" 0 "$(req /v2/bot/message/broadcast drec.log | wc -l)"
grep -qF "LINE lists 2500 friends of the account" "$work/d.log" ||
  { echo "FAIL: D did not count the friends LINE lists: $(grep -i lists "$work/d.log")" >&2; fail=1; }
grep -qF "broadcast \`everyone\` needs at least 2500 messages (the friends LINE lists) and" "$work/d.log" ||
  { echo "FAIL: the broadcast to every friend was not weighed by LINE's list: $(grep -i everyone "$work/d.log")" >&2; fail=1; }
grep -qF "LINE does not list this account's friends" "$work/a.log" ||
  { echo "FAIL: A did not say LINE refused to list its friends" >&2; fail=1; }

if [ "$fail" != 0 ]; then
  for f in a b c d; do echo "--- $f.log" >&2; tail -20 "$work/$f.log" >&2; done
  exit 1
fi
echo "line-wide sends: ok"
