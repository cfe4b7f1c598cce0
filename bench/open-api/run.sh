#!/usr/bin/env bash
# Open API benchmark, one command (wrk -c64, after a warm-up), in the same run and the same PostgreSQL:
#   bare      the bare query: a minimal API (anchor.cs, built into a copy of ../shared/bench/cs/api) running the records
#             call's own SQL on the same stored table (ds_bus_routes_vN) — SELECT "_id", <open columns> … WHERE
#             ("fare" > $1) AND NOT "_deleted" ORDER BY "_id" LIMIT $2 — and writing the rows as JSON
#   records   GET /open/api/v1/datasets/bus-routes/records?$limit=20&$where=fare>1 (anonymous: open set check,
#             synthetic scope, DataQuery, masking, JSON streaming; the call and exchange counted in memory, written once a second)
#   page      GET /open/datasets/bus-routes (server-rendered dataset page with the masked preview; the view counted the same way)
#   healthz   GET /healthz on Lianqiao: the host's floor (routing, middleware, one database round trip), for reference
# Results and history: README.md next to this script.
# Prints req/s and p99 of each and the ratios to the bare query; writes $W/results.md. PostgreSQL only (the anchor is
# Npgsql): a throwaway one is started by .ci/pg-up.sh under $W/pg and stopped at the end. Everything shares the box's
# cores: compare ratios, not absolutes.
# Env: DUR=10s CONN=64 THREADS=2 LQ_PORT=5193 ANCHOR_PORT=5194 W=/tmp/lq-open-bench
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd); SHARED=$ROOT/../shared/bench
W=${W:-/tmp/lq-open-bench}; DUR=${DUR:-10s}; CONN=${CONN:-64}; THREADS=${THREADS:-2}
LQ_PORT=${LQ_PORT:-5193}; ANCHOR_PORT=${ANCHOR_PORT:-5194}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

PID=""; ANCHOR=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  [ -n "$ANCHOR" ] && kill "$ANCHOR" 2>/dev/null || true
  wait 2>/dev/null || true
  PGTEST="$W/pg" bash "$ROOT/.ci/pg-down.sh"
}
trap cleanup EXIT
wait_http() { for _ in $(seq 1 600); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }

echo "== build (Release)" >&2
rm -rf "$W/data" "$W"/wrk_* "$W/anchor-src"; mkdir -p "$W/bin" "$W/data" "$W/anchor-src"
dotnet publish "$ROOT/src/Lianqiao" -c Release -o "$W/bin/lianqiao" --nologo -v q >&2
# ../shared is read-only: the anchor is built from a copy of its csproj (Npgsql) with anchor.cs as the program.
cp "$SHARED/cs/api/Api.csproj" "$W/anchor-src/"; cp "$HERE/anchor.cs" "$W/anchor-src/Program.cs"
dotnet build "$W/anchor-src" -c Release -nologo -clp:ErrorsOnly -o "$W/bin/anchor" >&2

eval "$(PGTEST="$W/pg" bash "$ROOT/.ci/pg-up.sh")"
PGDB=lq_open_bench
psql -qAt -d postgres -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB" >/dev/null
CONN_STR="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$PGDB"

echo "== start Lianqiao :$LQ_PORT (postgres, --demo)" >&2
# The per-address limit would throttle one load generator: lifted for the run.
Logging__LogLevel__Default=Warning Lianqiao__OpenData__AnonymousPerMinute=1000000000 \
  dotnet "$W/bin/lianqiao/Lianqiao.dll" serve --demo --urls "http://127.0.0.1:$LQ_PORT" --data "$W/data" --db "$CONN_STR" > "$W/lianqiao.log" 2>&1 & PID=$!
BASE="http://127.0.0.1:$LQ_PORT"
wait_http "$BASE/healthz"
RECORDS="$BASE/open/api/v1/datasets/bus-routes/records?\$limit=20&\$where=fare%3E1"
PAGE="$BASE/open/datasets/bus-routes"
for u in "$RECORDS" "$PAGE"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$u"); [ "$code" = 200 ] || { echo "$u answered $code" >&2; exit 1; }
done

# The anchor reads the same stored table, with the columns the open API returns, in their order.
TABLE=$(psql -XAtq -d "$PGDB" -c "SELECT \"TableName\" FROM dataset_tables WHERE \"ResourceId\" = 'bus-routes'")
curl -fs "$RECORDS" > "$W/records.json"
COLUMNS=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); rows=d["rows"] if isinstance(d,dict) else d; print(",".join(rows[0].keys()))' "$W/records.json")
echo "== anchor :$ANCHOR_PORT on $TABLE ($COLUMNS)" >&2
PG_CONN="$CONN_STR;Pooling=true;Maximum Pool Size=64" TABLE="$TABLE" COLUMNS="$COLUMNS" FARE=1 LIMIT=20 \
  ASPNETCORE_URLS="http://127.0.0.1:$ANCHOR_PORT" dotnet "$W/bin/anchor/Api.dll" > "$W/anchor.log" 2>&1 & ANCHOR=$!
BARE="http://127.0.0.1:$ANCHOR_PORT/records"
wait_http "$BARE"
echo "   bare SQL: $(curl -fs "http://127.0.0.1:$ANCHOR_PORT/sql")" >&2
curl -fs "$BARE" > "$W/bare.json"
# Both must answer the same rows, or the comparison means nothing.
python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
rows = lambda d: d["rows"] if isinstance(d, dict) else d
norm = lambda d: [[str(v) for v in r.values()] for r in rows(d)]
if norm(a) != norm(b): sys.exit("the anchor answers other rows than the open API:\n%s\n%s" % (rows(a)[:2], rows(b)[:2]))
print("   same %d rows from both" % len(rows(a)), file=sys.stderr)
' "$W/records.json" "$W/bare.json"

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
START_LOAD=$(uptime | sed 's/.*load average: //')
measure bare "$BARE"
measure records "$RECORDS"
measure page "$PAGE"
measure healthz "$BASE/healthz"
END_LOAD=$(uptime | sed 's/.*load average: //')

ratio() { awk "BEGIN{printf \"%.2f\", ${RPS[$1]} / ${RPS[bare]}}"; }
{
  echo "# Open API benchmark ($(date -u '+%F %H:%MZ'), postgres, wrk -t$THREADS -c$CONN -d$DUR; load average $START_LOAD → $END_LOAD)"
  echo
  echo "| url | req/s | p99 ms | non-2xx | ratio to the bare query |"
  echo "|---|---|---|---|---|"
  for l in bare records page healthz; do echo "| $l | ${RPS[$l]} | ${P99[$l]} | ${BAD[$l]} | $(ratio $l)× |"; done
} | tee "$W/results.md"
