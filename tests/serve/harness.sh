# What the service tests share: sourced by serve_test.sh and line_wide_test.sh after they set
# `here`. Skips (exit 125) without node and the npm packages; makes `work`, a temporary folder
# removed at exit with every process in `pids`; `check` records a failure in `fail`.
if [ ! -x "$here/node_modules/.bin/prism" ] || ! command -v node >/dev/null; then
  echo "skipped: node and tests/serve/node_modules are needed (scripts/test.sh installs them)" >&2
  exit 125
fi
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail=0
check() {  # check DESCRIPTION WANT GOT
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: wanted $2, got $3" >&2
    fail=1
  fi
}
wait_for() {  # wait_for URL: until anything answers there (20 s at most)
  for _ in $(seq 1 100); do
    curl -s --max-time 2 -o /dev/null -H "Authorization: Bearer probe" "$1" && return 0
    sleep 0.2
  done
  echo "FAIL: nothing answers at $1" >&2
  return 1
}
# The channel's test secrets and the events token every script serves with.
export LINE_CHANNEL_SECRET="test-channel-secret" LINE_CHANNEL_ACCESS_TOKEN="test-access-token" OKURI_EVENTS_TOKEN="test-events-token"
start_recorder() {  # start_recorder PORT LOG [OPTION…]: a recording stand-in for LINE, answering
  node "$here/recorder.mjs" "$@" &
  pids+=($!)
  wait_for "http://127.0.0.1:$1/"
}
