#!/usr/bin/env bash
# Several workers on PostgreSQL, measured on a throwaway cluster (tests/pg/cluster.sh):
#   1. okuri_bench_pg: webhook ingest with 1 and 2 workers beside a bare libpq loop;
#   2. the takeover time after kill -9 (two `okuri serve` workers, lease 10 s, renewal every
#      2 s: the defaults), three times.
#   bash bench/pg_bench.sh [BUILD_DIR] [okuri_bench_pg options…]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
shift || true
# shellcheck source=tests/pg/cluster.sh
source "$root/tests/pg/cluster.sh"
work="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; pg_stop; rm -rf "$work"' EXIT
pg_start || exit 1

"$build/bench/okuri_bench_pg" --url "$PG_URL" "$@" || exit 1

printf 'message hello text "hello"\non postback { score += 1 }\n' >"$work/bench.okuri"
pg_psql -c "CREATE DATABASE takeover" >/dev/null
url="${PG_URL%/*}/takeover"
held() { curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk '$1 == "okuri_partitions_held" { print $2 }'; }
start() {  # start PORT
  LINE_CHANNEL_SECRET=x LINE_CHANNEL_ACCESS_TOKEN=x "$build/okuri" serve "$work/bench.okuri" --store "$url" \
    --listen "127.0.0.1:$1" --line-api http://127.0.0.1:1 --no-watch --no-profiles --quiet &
  pids+=($!)
  for _ in $(seq 1 100); do [ -n "$(held "$1")" ] && return 0; sleep 0.1; done
  echo "worker on port $1 did not start" >&2
  exit 1
}
a=18701 b=18702
start "$a"
times=()
for round in 1 2 3; do
  start "$b"
  for _ in $(seq 1 200); do [ "$(held "$a")" = 32 ] && [ "$(held "$b")" = 32 ] && break; sleep 0.1; done
  kill -9 "${pids[-1]}"
  wait "${pids[-1]}" 2>/dev/null
  t0=$(date +%s%N)
  for _ in $(seq 1 300); do [ "$(held "$a")" = 64 ] && break; sleep 0.05; done
  times+=($((($(date +%s%N) - t0) / 1000000)))
done
echo "takeover after kill -9 (lease 10 s, renewal every 2 s): ${times[*]} ms (the lease lapses, then the next renewal takes the partitions and catches them up)"
