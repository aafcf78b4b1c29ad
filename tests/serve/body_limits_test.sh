#!/usr/bin/env bash
# Request bodies are limited (--max-body) whatever their transfer encoding, before the signature
# is checked: a 50 MB chunked body and a gzip body that inflates to 100 MB are answered 413, 8 MB
# of chunk extensions or trailers are refused, and the process does not grow by what they would
# have taken; a signed webhook still goes through.
#   body_limits_test.sh OKURI     (needs tests/serve/node_modules)
set -uo pipefail
okuri="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
base=$((12000 + ($$ * 17) % 18000))
rec_port=$base; port=$((base + 1))
start_recorder "$rec_port" "$work/rec.log" || exit 1
printf 'event hello\n' >"$work/main.okuri"
"$okuri" serve "$work/main.okuri" --db "$work/a.db" --listen "127.0.0.1:$port" --line-api "http://127.0.0.1:$rec_port" \
  --no-watch --no-profiles >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=($serve_pid)
wait_for "http://127.0.0.1:$port/healthz" || exit 1
rss() { ps -o rss= -p "$serve_pid" | tr -d ' '; }
before=$(rss)
for path in webhook events; do
  code="$(head -c 50000000 /dev/zero | curl -s -o /dev/null -w "%{http_code}" -X POST -H "Transfer-Encoding: chunked" \
    -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "X-Line-Signature: x" --data-binary @- "http://127.0.0.1:$port/$path")"
  check "a 50 MB chunked body to /$path is refused" 413 "$code"
done
head -c 100000000 /dev/zero | gzip -c >"$work/bomb.gz"
for path in webhook events; do
  code="$(curl -s -o /dev/null -w "%{http_code}" -X POST -H "Content-Encoding: gzip" -H "Content-Type: application/json" \
    -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" -H "X-Line-Signature: x" --data-binary @"$work/bomb.gz" "http://127.0.0.1:$port/$path")"
  check "a gzip body inflating to 100 MB to /$path is refused" 413 "$code"
done
# A chunk header line (its extensions) or a trailer section that never ends is not buffered
# without bound: the request is refused once either passes what a request may hold.
for where in extension trailer; do
  got="$(node "$here/chunk_flood.mjs" "$port" "$where" 8)"
  case "$got" in
    "HTTP/1.1 400"* | "HTTP/1.1 413"* | "HTTP/1.1 431"* | closed) ;;
    *) echo "FAIL: 8 MB of a chunk's $where: answered '$got', wanted a refusal" >&2; fail=1 ;;
  esac
done
after=$(rss)
grown=$(( (after - before) / 1024 ))
if [ "$grown" -gt 40 ]; then echo "FAIL: the process grew by $grown MB reading refused bodies" >&2; fail=1; fi
# A small gzip body of events still goes through.
printf '{"time":"%s","friend":"U%032x","type":"hello"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" 1 | gzip -c >"$work/ok.gz"
check "a small gzip body of events is accepted" 200 "$(curl -s -o /dev/null -w "%{http_code}" -X POST -H "Content-Encoding: gzip" \
  -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" --data-binary @"$work/ok.gz" "http://127.0.0.1:$port/events")"
reason="$(printf '{"time":"2026-03-02T12:00:00Z","friend":"U00000000000000000000000000000001","type":"\xc0\xaf"}\n' | curl -s -w " %{http_code}" -X POST \
  -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" --data-binary @- "http://127.0.0.1:$port/events")"
check "invalid UTF-8 in a body is a 400 with its reason" 400 "${reason##* }"
check "the reason is there" 1 "$(printf '%s' "$reason" | grep -c '"message":')"
for id in all ../all "U1?x" "U0000000000000000000000000000000g"; do
  got="$(printf '{"time":"%s","friend":"%s","type":"hello"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$id" | curl -s -w " %{http_code}" \
    -X POST -H "Authorization: Bearer $OKURI_EVENTS_TOKEN" --data-binary @- "http://127.0.0.1:$port/events")"
  check "friend id \`$id\` is refused at /events" 400 "${got##* }"
done
check "the service still answers" ok "$(curl -s "http://127.0.0.1:$port/healthz")"
if [ "$fail" != 0 ]; then tail -5 "$work/serve.log" >&2; exit 1; fi
echo "body limits: ok (grew ${grown} MB)"
