#!/usr/bin/env bash
# Fencing on a throwaway PostgreSQL cluster, step by step (tests/unit/postgres_fencing_test.cpp):
# a worker that stops renewing past its lease, before or inside a batch, cannot commit once
# another worker took its partitions, and its sender holds back. Exit 125 (skipped) without
# PostgreSQL 15.
#   fencing_test.sh UNIT_TESTS
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/pg/cluster.sh
source "$here/cluster.sh"
trap pg_stop EXIT
pg_start || exit 1
OKURI_TEST_PG_URL="$PG_URL" "$1" "[postgres]"
