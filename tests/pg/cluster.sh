# shellcheck shell=bash
# A throwaway PostgreSQL 15 cluster for the service tests that need one: sourced, then
#   pg_start || exit 1     initdb in a temporary folder, start on a free loopback port, create
#                          database `okuri`; exports PG_URL, PG_BIN, PG_DIR, PG_PORT. Skips the
#                          test (exit 125) when PostgreSQL 15 is not installed.
#   pg_psql ARG…           psql against it, unaligned and tuples only, stopping at the first error
#   pg_restart             a clean stop (-m fast) and a start on the same port
#   pg_stop                stops it at once and removes the folder; for the caller's EXIT trap
# Durability is what the tests check, so fsync stays on.

PG_BIN="" PG_DIR="" PG_PORT="" PG_URL=""
# The command prefix that runs the server's programs as the owner of the data directory: empty,
# or setpriv/runuser to `nobody` when running as root (PostgreSQL refuses to run as root).
_pg_runas=()

_pg_find_bin() {
  local bindir
  # Debian's postgresql-15 keeps initdb and pg_ctl out of PATH: pg_config knows where they are.
  for bindir in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/15/bin; do
    if [ -n "$bindir" ] && [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] && [ -x "$bindir/psql" ]; then
      PG_BIN="$bindir"
      return 0
    fi
  done
  return 1
}

# Runs a server program as the data directory's owner, from inside the folder: initdb and pg_ctl
# fail when they cannot read the current directory, which `nobody` usually cannot.
_pg_as_owner() {
  (cd "$PG_DIR" && HOME="$PG_DIR" "${_pg_runas[@]}" "$@")
}

# Quiet: a start that fails on a taken port is retried, and the log says more than pg_ctl.
_pg_ctl_start() {
  _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o "-p $PG_PORT" start >/dev/null 2>&1
}

pg_start() {
  if ! _pg_find_bin; then
    echo "skipped: PostgreSQL 15 (Debian's postgresql-15) is needed: scripts/setup.sh installs it" >&2
    exit 125
  fi
  PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/okuri-pg.XXXXXX")" || return 1
  _pg_runas=()
  if [ "$(id -u)" -eq 0 ]; then
    # setpriv goes through no PAM session (which some containers refuse); runuser does.
    if command -v setpriv >/dev/null; then
      _pg_runas=(setpriv "--reuid=$(id -u nobody)" "--regid=$(id -g nobody)" --clear-groups --)
    elif command -v runuser >/dev/null; then
      _pg_runas=(runuser -u nobody --)
    else
      echo "FAIL: running as root, PostgreSQL needs setpriv or runuser (util-linux) to run as nobody" >&2
      pg_stop
      return 1
    fi
    chown nobody: "$PG_DIR"
    if ! _pg_as_owner test -w "$PG_DIR" 2>/dev/null; then
      echo "FAIL: nobody cannot reach $PG_DIR (set TMPDIR to a folder every user can enter)" >&2
      pg_stop
      return 1
    fi
  fi
  chmod 0700 "$PG_DIR"

  # --no-sync only skips flushing the new cluster's files at the end of initdb: nothing the tests
  # kill (the server, okuri) can lose what is already in the page cache.
  if ! _pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" --auth=trust -U okuri --encoding=UTF8 --locale=C \
    --no-sync --no-instructions >"$PG_DIR/initdb.log" 2>&1; then
    echo "FAIL: initdb failed:" >&2
    cat "$PG_DIR/initdb.log" >&2
    pg_stop
    return 1
  fi
  # Appended after the defaults, so these win; the port goes on the command line instead, as a
  # retry on a taken port changes it.
  cat >>"$PG_DIR/data/postgresql.conf" <<EOF

# okuri tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
fsync = on
max_connections = 200
shared_buffers = 128MB
EOF

  local started=0
  for _ in 1 2 3 4 5; do
    # A random port rather than a probed one: probing and binding would race with other tests.
    PG_PORT="$(shuf -i 20000-60000 -n 1)"
    if _pg_ctl_start; then
      started=1
      break
    fi
  done
  if ((!started)); then
    echo "FAIL: PostgreSQL did not start on any of 5 ports; its log:" >&2
    tail -n 30 "$PG_DIR/server.log" >&2
    pg_stop
    return 1
  fi
  if ! "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U okuri okuri; then
    echo "FAIL: createdb okuri failed" >&2
    pg_stop
    return 1
  fi
  PG_URL="postgresql://okuri@127.0.0.1:$PG_PORT/okuri"
  export PG_BIN PG_DIR PG_PORT PG_URL
}

pg_psql() {
  "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URL" "$@"
}

pg_restart() {
  _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || return 1
  if ! _pg_ctl_start; then
    echo "FAIL: PostgreSQL did not start again on port $PG_PORT; its log:" >&2
    tail -n 30 "$PG_DIR/server.log" >&2
    return 1
  fi
}

# Safe to call twice, and after a pg_start that failed half way.
pg_stop() {
  [ -n "$PG_DIR" ] || return 0
  if [ -n "$PG_BIN" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
  fi
  rm -rf "$PG_DIR"
  PG_DIR=""
}
