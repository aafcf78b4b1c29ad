#!/usr/bin/env bash
# A damaged database: 4,000 friends with known scores are saved, then copies of the database get
# 4 KiB of random bytes at random offsets. Each damaged copy must be either refused at start
# (with the message that says how to restore) or served whole: every friend there, with their
# score. Never part of it, and the copy is never written when refused.
#   corruption_test.sh OKURI [ROUNDS]     (needs tests/serve/node_modules)
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
rounds="${2:-12}"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
base=$((12000 + ($$ * 11) % 18000))
rec_port=$base; port=$((base + 1))
start_recorder "$rec_port" "$work/rec.log" || exit 1
cat >"$work/main.okuri" <<'EOF2'
event ping
on ping { score += 1 }
EOF2
serve() {  # serve DB: in the background, its pid in serve_pid
  "$okuri" serve "$work/main.okuri" --db "$1" --listen "127.0.0.1:$port" --line-api "http://127.0.0.1:$rec_port" \
    --no-watch --no-profiles --max-body 16777216 >"$work/serve.log" 2>&1 &
  serve_pid=$!
}
# Friend k gets k % 7 + 1 pings.
now_iso="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for k in $(seq 1 4000); do
  for _ in $(seq 0 $((k % 7))); do printf '{"time":"%s","friend":"U%032x","type":"ping"}\n' "$now_iso" "$k"; done
done >"$work/pings.jsonl"
serve "$work/good.db"
wait_for "http://127.0.0.1:$port/healthz" || exit 1
check "pings posted" 200 "$(curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$port/events" \
  -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "Content-Type: application/x-ndjson" --data-binary @"$work/pings.jsonl")"
kill "$serve_pid"
wait "$serve_pid"
size=$(stat -c %s "$work/good.db")
refused=0 served=0
for round in $(seq 1 "$rounds"); do
  cp "$work/good.db" "$work/bad.db"
  rm -f "$work/bad.db-wal" "$work/bad.db-shm"
  offset=$(( (RANDOM * 32768 + RANDOM) % (size > 4096 ? size - 4096 : 1) ))
  head -c 4096 /dev/urandom | dd of="$work/bad.db" bs=1 seek="$offset" conv=notrunc status=none
  damaged_sum="$(sha256sum "$work/bad.db" | cut -d' ' -f1)"
  serve "$work/bad.db"
  up=0
  for _ in $(seq 1 100); do
    if ! kill -0 "$serve_pid" 2>/dev/null; then break; fi
    if curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$port/healthz"; then up=1; break; fi
    sleep 0.1
  done
  if [ "$up" = 0 ]; then
    wait "$serve_pid"
    code=$?
    refused=$((refused + 1))
    check "round $round (offset $offset): a refused start exits 2" 2 "$code"
    check "round $round (offset $offset): it says the database is damaged and how to restore it" 1 \
      "$(grep -c "is damaged: .*Restore it from the last backup" "$work/serve.log")" || cat "$work/serve.log" >&2
    check "round $round (offset $offset): the refused copy is not written" "$damaged_sum" "$(sha256sum "$work/bad.db" | cut -d' ' -f1)"
  else
    served=$((served + 1))
    check "round $round (offset $offset): served whole: every friend loaded" 1 "$(grep -c "4000 friends loaded" "$work/serve.log")"
    wrong=0
    for k in 1 2 3 500 1234 2345 3000 3999 4000 $((offset % 4000 + 1)); do
      want=$((k % 7 + 1))
      got="$(curl -s -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" "http://127.0.0.1:$port/friends/$(printf 'U%032x' "$k")" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).score)}catch{console.log("none")}})')"
      [ "$got" = "$want" ] || wrong=$((wrong + 1))
    done
    check "round $round (offset $offset): served whole: sampled scores are right" 0 "$wrong"
    kill "$serve_pid"
    wait "$serve_pid"
  fi
done
echo "corruption: $refused refused, $served served whole, of $rounds damaged copies"
if [ "$fail" != 0 ]; then tail -5 "$work/serve.log" >&2; exit 1; fi
echo "corruption: ok"
