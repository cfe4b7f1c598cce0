#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 on 127.0.0.1:<free port>. Idempotent. Prints and writes $PGTEST/env.
set -euo pipefail
PGTEST=${PGTEST:-/tmp/pgtest}; PGBIN=/usr/lib/postgresql/15/bin; DB=${PGTEST_DB:-apptest}
if [ ! -x "$PGBIN/initdb" ]; then   # not preinstalled: install without starting the system cluster
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade postgresql-15 >&2
  rm -f /usr/sbin/policy-rc.d
fi
as_pg() { runuser -u postgres -- "$@"; }
if [ -f "$PGTEST/env" ] && (. "$PGTEST/env"; "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"); then
  cat "$PGTEST/env"; exit 0                                  # already running: reuse
fi
[ -f "$PGTEST/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$PGTEST/data" stop -m immediate >/dev/null 2>&1 || true
rm -rf "$PGTEST"; install -d -o postgres -g postgres -m 700 "$PGTEST"
echo secret > "$PGTEST/pw"; chown postgres "$PGTEST/pw"
as_pg "$PGBIN/initdb" -D "$PGTEST/data" -U postgres --pwfile="$PGTEST/pw" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 -N >/dev/null
# A free port can be taken between the probe and the start by another server starting at the same moment: try the next.
PORT=54329
for _ in $(seq 1 20); do
  while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT+1)); done
  as_pg "$PGBIN/pg_ctl" -D "$PGTEST/data" -l "$PGTEST/log" -w -t 30 start -o \
    "-h 127.0.0.1 -p $PORT -k $PGTEST -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null && break
  PORT=$((PORT+1))
done
PGPASSWORD=secret psql -h 127.0.0.1 -p "$PORT" -U postgres -qAt -c "CREATE DATABASE $DB" postgres
cat > "$PGTEST/env" <<E
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGPASSWORD=secret PGDATABASE=$DB
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PORT;Username=postgres;Password=secret;Database=$DB"
E
cat "$PGTEST/env"
