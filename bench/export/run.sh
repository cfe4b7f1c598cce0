#!/usr/bin/env bash
# Export benchmark (issue 5): stream the population table through the data API (full path: app key, grant, masking,
# audit) as CSV and as Parquet, against PostgreSQL's own `COPY (SELECT the same columns) TO STDOUT (FORMAT csv)`
# on the same table in the same run. Prints MB/s, the server's peak RSS and the ratios.
# usage: bench/export/run.sh [ROWS=1000000]     needs python3, psql, curl, /usr/bin/time; starts its own PostgreSQL.
set -euo pipefail
ROWS=${1:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
WORK=${BENCH_WORK:-/tmp/lianqiao-bench-export}; rm -rf "$WORK/data"; mkdir -p "$WORK"
GEN=${GEN:-$ROOT/../shared/bench/gen_population.py}
CSV=$WORK/population-$ROWS.csv
[ -s "$CSV" ] || python3 "$GEN" --rows "$ROWS" --out "$CSV" >&2

export PGTEST=$WORK/pg
eval "$(bash "$ROOT/.ci/pg-up.sh")"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; PGTEST=$WORK/pg bash "$ROOT/.ci/pg-down.sh"' EXIT
psql -Xq -c "DROP DATABASE IF EXISTS lqexport" -c "CREATE DATABASE lqexport" postgres
export LIANQIAO_DB="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=lqexport"

echo "building Release…" >&2
dotnet build "$ROOT/src/Lianqiao" -c Release -nologo -clp:ErrorsOnly >&2
BIN=$ROOT/src/Lianqiao/bin/Release/net10.0/Lianqiao
export DOTNET_CLI_TELEMETRY_OPTOUT=1 ASPNETCORE_ENVIRONMENT=Production

$BIN serve --demo --data "$WORK/data" --urls http://127.0.0.1:0 > "$WORK/serve.log" 2>&1 & SERVER=$!
for _ in $(seq 1 180); do grep -q "listening on" "$WORK/serve.log" && break; sleep 1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" | tail -1)
echo "loading $ROWS rows into population-basic…" >&2
$BIN load population-basic "$CSV" --mode replace --data "$WORK/data" >&2

# The journey: 人社 applies for four fields, the police approver approves; the app's key comes from the demo accounts.
HRSS=$($BIN admin create-key --user hrss-consumer --data "$WORK/data" 2>/dev/null | tail -1)
APPROVER=$($BIN admin create-key --user police-approver --data "$WORK/data" 2>/dev/null | tail -1)
APP=$(awk -F'\t' '$1=="app-key" && $2=="人社业务系统" {print $3}' "$WORK/data/demo-accounts.txt")
ADMIN=$($BIN admin create-key --user admin --data "$WORK/data" 2>/dev/null | tail -1)
DEPT=$(curl -sf -H "Authorization: Bearer $ADMIN" "$URL/api/v1/departments" | python3 -c 'import json,sys; print(next(d["id"] for d in json.load(sys.stdin) if d["name"]=="市人社局"))')
APP_ID=$(curl -sf -H "Authorization: Bearer $ADMIN" "$URL/api/v1/departments/$DEPT/apps" | python3 -c 'import json,sys; print(next(a["id"] for a in json.load(sys.stdin) if a["name"]=="人社业务系统"))')
REQ=$(curl -sf -H "Authorization: Bearer $HRSS" -H 'Content-Type: application/json' "$URL/api/v1/share-requests" \
  -d "{\"resourceId\":\"population-basic\",\"appId\":\"$APP_ID\",\"fields\":[\"id_number\",\"name\",\"birth_date\",\"phone\"],\"purpose\":\"bench\",\"legalBasis\":\"bench\"}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -X POST -H "Authorization: Bearer $APPROVER" "$URL/api/v1/share-requests/$REQ/approve" > /dev/null

TABLE=$(psql -XAtq lqexport -c "SELECT \"TableName\" FROM dataset_tables WHERE \"ResourceId\" = 'population-basic'")
measure() {  # label, command… → "label seconds bytes"
  local label=$1; shift
  local start end; start=$(date +%s.%N); "$@" > "$WORK/$label.out"; end=$(date +%s.%N)
  echo "$label $(python3 -c "print($end - $start)") $(stat -c %s "$WORK/$label.out")"
}
{
  measure copy-csv psql -Xq lqexport -c "COPY (SELECT id_number, name, birth_date, phone FROM \"$TABLE\" WHERE NOT \"_deleted\" ORDER BY \"_id\") TO STDOUT (FORMAT csv)"
  measure api-csv curl -sf -H "Authorization: Bearer $APP" "$URL/api/v1/data/population-basic?format=csv"
  measure api-parquet curl -sf -H "Authorization: Bearer $APP" "$URL/api/v1/data/population-basic?format=parquet"
} > "$WORK/results.txt"
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
python3 - "$WORK/results.txt" "$ROWS" "$RSS" <<'PY'
import sys
rows = {l.split()[0]: (float(l.split()[1]), int(l.split()[2])) for l in open(sys.argv[1])}
anchor = rows["copy-csv"][1] / rows["copy-csv"][0] / 1e6
print(f"export of {sys.argv[2]} rows, server peak RSS {int(sys.argv[3]) / 1024:.0f} MB (the whole server process; the load ran in its own CLI process)")
for label, (secs, size) in rows.items():
    mbps = size / secs / 1e6
    print(f"  {label:12} {secs:7.2f} s  {size / 1e6:8.1f} MB  {mbps:7.1f} MB/s  rows/s {int(sys.argv[2]) / secs:10.0f}  ratio to COPY (rows/s) {rows['copy-csv'][0] / secs:5.2f}x")
PY
