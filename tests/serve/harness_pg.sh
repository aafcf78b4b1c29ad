# What the service tests on PostgreSQL share: harness.sh (node, the work folder, `check`), then a
# throwaway PostgreSQL cluster (tests/pg/cluster.sh: PG_URL, pg_psql, pg_restart), stopped at exit
# with everything else. Sourced after `here` is set.
# shellcheck source=tests/serve/harness.sh
source "$here/harness.sh"
# shellcheck source=tests/pg/cluster.sh
source "$here/../pg/cluster.sh"
trap 'pg_stop; cleanup' EXIT
pg_start || exit 1
