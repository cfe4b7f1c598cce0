#!/usr/bin/env bash
# Stop the throwaway MariaDB of .ci/mariadb-up.sh and remove its files.
MDBTEST=${MDBTEST:-/tmp/mariadbtest}
if [ -f "$MDBTEST/mysqld.pid" ]; then
  pid=$(cat "$MDBTEST/mysqld.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
fi
rm -rf "$MDBTEST"
