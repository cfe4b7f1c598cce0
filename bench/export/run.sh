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
# The server's RSS includes the demo seeding; what must stay flat is the growth during an export. Before each export
# the peak (VmHWM) is reset (clear_refs 5), so the peak read after it is the export's own.
rss_kb() { awk -v f="$1:" '$1==f {print $2}' "/proc/$SERVER/status"; }
measure_rss() {  # label, command… → appends "label rss-before-kB peak-during-kB" to rss.txt
  local label=$1; shift
  local before; before=$(rss_kb VmRSS); echo 5 > "/proc/$SERVER/clear_refs"
  measure "$label" "$@"
  echo "$label $before $(rss_kb VmHWM)" >> "$WORK/rss.txt"
}
RSS=$(rss_kb VmHWM)
: > "$WORK/rss.txt"
{
  measure copy-csv psql -Xq lqexport -c "COPY (SELECT id_number, name, birth_date, phone FROM \"$TABLE\" WHERE NOT \"_deleted\" ORDER BY \"_id\") TO STDOUT (FORMAT csv)"
  measure_rss api-csv curl -sf -H "Authorization: Bearer $APP" "$URL/api/v1/data/population-basic?format=csv"
  measure_rss api-parquet curl -sf -H "Authorization: Bearer $APP" "$URL/api/v1/data/population-basic?format=parquet"
} > "$WORK/results.txt"
awk '{printf "  %-12s RSS before %4.0f MB, peak during the export %4.0f MB, growth %+4.0f MB\n", $1, $2/1024, $3/1024, ($3-$2)/1024}' "$WORK/rss.txt"
python3 - "$WORK/results.txt" "$ROWS" "$RSS" <<'PY'
import sys
rows = {l.split()[0]: (float(l.split()[1]), int(l.split()[2])) for l in open(sys.argv[1])}
anchor = rows["copy-csv"][1] / rows["copy-csv"][0] / 1e6
print(f"export of {sys.argv[2]} rows, server peak RSS before the exports {int(sys.argv[3]) / 1024:.0f} MB (seeding included; the load ran in its own CLI process)")
for label, (secs, size) in rows.items():
    mbps = size / secs / 1e6
    print(f"  {label:12} {secs:7.2f} s  {size / 1e6:8.1f} MB  {mbps:7.1f} MB/s  rows/s {int(sys.argv[2]) / secs:10.0f}  ratio to COPY (rows/s) {rows['copy-csv'][0] / secs:5.2f}x")
PY
