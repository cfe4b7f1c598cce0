#!/usr/bin/env bash
# Open API benchmark, one command (wrk -c64, after a warm-up), three URLs on one Lianqiao in the same run:
#   bare      GET /healthz: the host's floor (routing, middleware, one database round trip)
#   records   GET /open/api/v1/datasets/bus-routes/records?$limit=20&$where=fare>1 (anonymous: open set check,
#             synthetic scope, DataQuery, masking, JSON streaming; the call and exchange counted in memory, written once a second)
#   page      GET /open/datasets/bus-routes (server-rendered dataset page with the masked preview; the view counted the same way)
# Results and history: README.md next to this script.
# Prints req/s and p99 of each and the ratios to bare; writes $W/results.md. DB=sqlite (default) or postgres
# (started by .ci/pg-up.sh). Everything shares the box's cores: compare ratios, not absolutes.
# Env: DUR=10s CONN=64 THREADS=2 LQ_PORT=5193 W=/tmp/lq-open-bench
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=${W:-/tmp/lq-open-bench}; DUR=${DUR:-10s}; CONN=${CONN:-64}; THREADS=${THREADS:-2}; DB=${DB:-sqlite}; LQ_PORT=${LQ_PORT:-5193}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

PID=""; PGDB=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; wait 2>/dev/null || true
  if [ -n "$PGDB" ]; then psql -qAt -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
wait_http() { for _ in $(seq 1 600); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }

echo "== build (Release)" >&2
rm -rf "$W/data" "$W"/wrk_*; mkdir -p "$W/bin" "$W/data"
dotnet publish "$ROOT/src/Lianqiao" -c Release -o "$W/bin/lianqiao" --nologo -v q >&2

DBARGS=()
if [ "$DB" = postgres ]; then
  eval "$(bash "$ROOT/.ci/pg-up.sh")"
  PGDB="lq_open_bench_$$"
  psql -qAt -d postgres -c "CREATE DATABASE $PGDB" >/dev/null
  DBARGS=(--db "Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$PGDB")
fi

echo "== start Lianqiao :$LQ_PORT ($DB, --demo)" >&2
# The per-address limit would throttle one load generator: lifted for the run.
Logging__LogLevel__Default=Warning Lianqiao__OpenData__AnonymousPerMinute=1000000000 \
  dotnet "$W/bin/lianqiao/Lianqiao.dll" serve --demo --urls "http://127.0.0.1:$LQ_PORT" --data "$W/data" "${DBARGS[@]}" > "$W/lianqiao.log" 2>&1 & PID=$!
BASE="http://127.0.0.1:$LQ_PORT"
wait_http "$BASE/healthz"
RECORDS="$BASE/open/api/v1/datasets/bus-routes/records?\$limit=20&\$where=fare%3E1"
PAGE="$BASE/open/datasets/bus-routes"
for u in "$RECORDS" "$PAGE"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$u"); [ "$code" = 200 ] || { echo "$u answered $code" >&2; exit 1; }
done

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
declare -A RPS P99 BAD
measure() {  # label url
  local label=$1 url=$2
  wrk -t"$THREADS" -c"$CONN" -d3s "$url" > /dev/null
  local o; o=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "$url")
  echo "$o" > "$W/wrk_${label}.txt"
  RPS[$label]=$(echo "$o" | awk '/^Requests\/sec/ {print $2}')
  P99[$label]=$(echo "$o" | awk '$1=="99%" {print $2}' | to_ms)
  BAD[$label]=$(echo "$o" | awk '/Non-2xx/ {n+=$NF} /Socket errors/ {gsub(/,/,""); n+=$4+$6+$8+$10} END {print n+0}')
  echo "  $label: ${RPS[$label]} req/s, p99 ${P99[$label]} ms, non-2xx/errors ${BAD[$label]}" >&2
}
echo "== measure (c$CONN, $DUR)" >&2
measure bare "$BASE/healthz"
measure records "$RECORDS"
measure page "$PAGE"

ratio() { awk "BEGIN{printf \"%.2f\", ${RPS[$1]} / ${RPS[bare]}}"; }
{
  echo "# Open API benchmark ($(date -u +%F), $DB, wrk -t$THREADS -c$CONN -d$DUR)"
  echo
  echo "| url | req/s | p99 ms | non-2xx | ratio to bare |"
  echo "|---|---|---|---|---|"
  for l in bare records page; do echo "| $l | ${RPS[$l]} | ${P99[$l]} | ${BAD[$l]} | $(ratio $l)× |"; done
} | tee "$W/results.md"
