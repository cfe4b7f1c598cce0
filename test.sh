#!/usr/bin/env bash
# Runs every test: installs what the tests need (Debian's PostgreSQL 15, MariaDB and Chromium, the pinned dotnet tools),
# starts a throwaway PostgreSQL and MariaDB, then runs the whole suite on SQLite and again on PostgreSQL.
# MariaDB serves as a source and target database of the exchange tests (LIANQIAO_TEST_MARIADB).
# With CI=true, a PostgreSQL or MariaDB that cannot start fails the run instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v python3 >/dev/null && python3 -c 'import rdflib' 2>/dev/null || need+=(python3-rdflib)
if [ ${#need[@]} -gt 0 ] || [ ! -x /usr/lib/postgresql/15/bin/initdb ] || [ ! -x /usr/sbin/mariadbd ]; then
  apt-get update -qq
  [ ${#need[@]} -gt 0 ] && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

export PGTEST=${PGTEST:-/tmp/lianqiao-pgtest-$$}
if pg_env=$(bash .ci/pg-up.sh); then
  eval "$pg_env"
  trap 'bash .ci/pg-down.sh' EXIT
  have_pg=1
else
  have_pg=0
  if [ "${CI:-}" = "true" ]; then echo "PostgreSQL did not start; CI requires it" >&2; exit 1; fi
  echo "warning: PostgreSQL did not start; running the SQLite suite only" >&2
fi

export MDBTEST=${MDBTEST:-/tmp/lianqiao-mariadbtest-$$}
if mdb_env=$(bash .ci/mariadb-up.sh); then
  eval "$mdb_env"
  trap 'bash .ci/pg-down.sh; bash .ci/mariadb-down.sh' EXIT
else
  if [ "${CI:-}" = "true" ]; then echo "MariaDB did not start; CI requires it" >&2; exit 1; fi
  echo "warning: MariaDB did not start; the exchange tests that need it are skipped" >&2
fi

dotnet tool restore >/dev/null
dotnet build Lianqiao.slnx -c Release -nologo -clp:ErrorsOnly
# The model and the checked-in migrations must agree, for both providers.
(cd src/Lianqiao && dotnet ef migrations has-pending-model-changes --context SqliteLianqiaoDb --no-build --configuration Release >/dev/null \
  && dotnet ef migrations has-pending-model-changes --context PgLianqiaoDb --no-build --configuration Release >/dev/null) \
  || { echo "a model change has no migration: run dotnet ef migrations add for both contexts" >&2; exit 1; }

status=0
log=$(mktemp)
echo "== tests on SQLite =="
LIANQIAO_TEST_DB=sqlite dotnet test Lianqiao.slnx -c Release --no-build --logger "console;verbosity=minimal" 2>&1 | tee -a "$log" || status=1
if [ "$have_pg" = 1 ]; then
  echo "== tests on PostgreSQL =="
  LIANQIAO_TEST_DB=postgres dotnet test tests/Lianqiao.Tests -c Release --no-build --logger "console;verbosity=minimal" 2>&1 | tee -a "$log" || status=1
fi
# One closing line over both runs, in the form CI reads.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
[ "$failed" -gt 0 ] && status=1
[ "$passed" -eq 0 ] && status=1
echo "tests: $passed passed, $failed failed"
exit $status
