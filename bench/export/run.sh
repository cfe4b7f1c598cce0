#!/usr/bin/env bash
# Export benchmark (issue 5): stream the population table through the data API (full path: app key, grant, masking,
# audit) as CSV and as Parquet, against PostgreSQL's own `COPY (SELECT the same columns) TO STDOUT (FORMAT csv)`
# on the same table in the same run. Prints MB/s, the server's peak RSS and the ratios.
# usage: bench/export/run.sh [ROWS=1000000]     needs python3, psql, curl, /usr/bin/time; starts its own PostgreSQL.
set -euo pipefail
ROWS=${1:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
WORK=${BENCH_WORK:-/tmp/lianqiao-bench-export}; rm -rf "$WORK/data"; mkdir -p "$WORK"
source "$ROOT/bench/lib/population-journey.sh"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; PGTEST=$WORK/pg bash "$ROOT/.ci/pg-down.sh"' EXIT
start_population_journey lqexport '["id_number","name","birth_date","phone"]'

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
