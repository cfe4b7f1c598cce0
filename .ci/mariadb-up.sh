#!/usr/bin/env bash
# Start a throwaway MariaDB (Debian's package) on 127.0.0.1:<free port>, running as the mysql user with its own
# datadir and unix socket under $MDBTEST. Idempotent. Prints and writes $MDBTEST/env (LIANQIAO_TEST_MARIADB=...).
set -euo pipefail
MDBTEST=${MDBTEST:-/tmp/mariadbtest}; DB=${MDBTEST_DB:-apptest}
if [ ! -x /usr/sbin/mariadbd ]; then   # not installed: install without starting the system server
  had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  [ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade mariadb-server mariadb-client >&2
  [ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d
fi
sock="$MDBTEST/mysqld.sock"
if [ -f "$MDBTEST/env" ] && mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1; then
  cat "$MDBTEST/env"; exit 0                                   # already running: reuse
fi
if [ -f "$MDBTEST/mysqld.pid" ]; then kill "$(cat "$MDBTEST/mysqld.pid")" 2>/dev/null || true; sleep 1; fi
rm -rf "$MDBTEST"; install -d -o mysql -g mysql -m 700 "$MDBTEST"
mariadb-install-db --no-defaults --user=mysql --datadir="$MDBTEST/data" --auth-root-authentication-method=socket \
  --skip-test-db >"$MDBTEST/install.log" 2>&1
# A free port can be taken between the probe and the start by another server starting at the same moment: try the next.
PORT=33069; started=0
for _ in $(seq 1 20); do
  while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT+1)); done
  runuser -u mysql -- /usr/sbin/mariadbd --no-defaults --datadir="$MDBTEST/data" --bind-address=127.0.0.1 --port="$PORT" \
    --socket="$sock" --pid-file="$MDBTEST/mysqld.pid" --log-error="$MDBTEST/log" --skip-name-resolve --skip-log-bin \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --max-connections=300 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 60); do
    mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 && { started=1; break; }
    kill -0 $! 2>/dev/null || break                             # exited (port taken): next port
    sleep 0.5
  done
  [ "$started" = 1 ] && break
  PORT=$((PORT+1))
done
[ "$started" = 1 ] || { echo "MariaDB did not start; see $MDBTEST/log" >&2; exit 1; }
mariadb --no-defaults --socket="$sock" -uroot <<SQL
CREATE DATABASE $DB CHARACTER SET utf8mb4;
CREATE USER 'lianqiao'@'127.0.0.1' IDENTIFIED BY 'secret';
CREATE USER 'lianqiao'@'localhost' IDENTIFIED BY 'secret';
GRANT ALL ON *.* TO 'lianqiao'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL ON *.* TO 'lianqiao'@'localhost' WITH GRANT OPTION;
SQL
cat > "$MDBTEST/env" <<E
export MDBPORT=$PORT MDBSOCKET=$sock
export LIANQIAO_TEST_MARIADB="Server=127.0.0.1;Port=$PORT;User ID=lianqiao;Password=secret;Database=$DB"
E
cat "$MDBTEST/env"
