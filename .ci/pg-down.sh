#!/usr/bin/env bash
PGTEST=${PGTEST:-/tmp/pgtest}
[ -d "$PGTEST/data" ] && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PGTEST/data" stop -m fast >/dev/null 2>&1 || true
rm -rf "$PGTEST"
