#!/usr/bin/env bash
# Catalog search benchmark: 100,000 generated resources in a fresh SQLite data folder and a fresh PostgreSQL database,
# p50/p95 of typical searches through GET /api/v1/catalog (wrk, one connection) and of the same token-table SQL run
# directly in the database, in the same run; prints the figures and ratios and rewrites README.md.
# Usage: bench/catalog-search/run.sh [count]   (LIANQIAO_BENCH_SECONDS=5 per query and provider; LIANQIAO_BENCH_SKIP_PG=1)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
count=${1:-100000}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for tool in wrk python3 psql; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done

echo "== build (Release)" >&2
dotnet build "$root/src/Lianqiao" -c Release -nologo -clp:ErrorsOnly -v q >&2
export LIANQIAO_BIN="$root/src/Lianqiao/bin/Release/net10.0/Lianqiao"

work=$(mktemp -d /tmp/lianqiao-bench-XXXXXX)
export LIANQIAO_BENCH_WORK=$work
cleanup() {
  if [ -n "${PGTEST:-}" ]; then bash "$root/.ci/pg-down.sh" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "${LIANQIAO_BENCH_SKIP_PG:-}" != "1" ]; then
  # Outside $work: the postgres user cannot enter a mktemp folder.
  export PGTEST=/tmp/lianqiao-bench-pg-$$
  eval "$(bash "$root/.ci/pg-up.sh")"
fi

python3 "$here/bench.py" --count "$count" --readme "$here/README.md"
