#!/usr/bin/env bash
# The throwaway cluster of cluster.sh: it starts, answers, survives a restart on the same port,
# and leaves nothing behind. Exit 125 (skipped) without PostgreSQL 15.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/pg/cluster.sh
source "$here/cluster.sh"
trap pg_stop EXIT
fail=0
check() {  # check DESCRIPTION WANT GOT
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: wanted $2, got $3" >&2
    fail=1
  fi
}

pg_start || exit 1
check "PG_URL" "postgresql://okuri@127.0.0.1:$PG_PORT/okuri" "$PG_URL"
check "an answer" 2 "$(pg_psql -c 'SELECT 1+1')"
check "fsync" on "$(pg_psql -c 'SHOW fsync')"
check "max_connections" 200 "$(pg_psql -c 'SHOW max_connections')"
check "encoding" UTF8 "$(pg_psql -c 'SHOW server_encoding')"
pg_psql -c 'CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$予約$$)' || fail=1
if pg_psql -c 'SELECT no_such_column FROM kept' 2>/dev/null; then
  echo "FAIL: pg_psql did not fail on an error" >&2
  fail=1
fi

port="$PG_PORT" dir="$PG_DIR"
pg_restart || exit 1
check "port after restart" "$port" "$PG_PORT"
check "an answer after restart" 2 "$(pg_psql -c 'SELECT 1+1')"
check "a row after restart" "予約" "$(pg_psql -c 'SELECT v FROM kept')"

pg_stop
check "folder removed" gone "$([ -e "$dir" ] && echo there || echo gone)"
if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "FAIL: the server still answers on port $port" >&2
  fail=1
fi
exit $fail
