#!/usr/bin/env bash
# Export benchmark (issue 5): stream the population table through the data API (full path: app key, grant, masking,
# audit) as CSV and as Parquet, against PostgreSQL's own `COPY (SELECT the same columns) TO STDOUT (FORMAT csv)`
# on the same table in the same run. Prints MB/s, the server's peak RSS and the ratios, at two sizes (SMALL rows with
# $limit, then all ROWS), so that flat memory shows as the same growth at both.
# usage: bench/export/run.sh [ROWS=1000000] [SMALL=ROWS/5]     needs python3, psql, curl; starts its own PostgreSQL.
set -euo pipefail
ROWS=${1:-1000000}; SMALL=${2:-$((ROWS / 5))}
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
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }   # the server's user+sys CPU: the box is shared, wall time is not
measure_rss() {  # label, command… → appends "label rss-before-kB peak-during-kB" to rss.txt
  local label=$1; shift
  local before cpu; before=$(rss_kb VmRSS); echo 5 > "/proc/$SERVER/clear_refs"; cpu=$(cpu_ticks)
  measure "$label" "$@"
  echo "$label $before $(rss_kb VmHWM) $(( $(cpu_ticks) - cpu ))" >> "$WORK/rss.txt"
}
RSS=$(rss_kb VmHWM)
: > "$WORK/rss.txt"
copy() {  # rows → COPY of the first rows, in the API's order
  psql -Xq lqexport -c "COPY (SELECT id_number, name, birth_date, phone FROM \"$TABLE\" WHERE NOT \"_deleted\" ORDER BY \"_id\" LIMIT $1) TO STDOUT (FORMAT csv)"
}
{
  for n in "$SMALL" "$ROWS"; do
    measure "copy-csv@$n" copy "$n"
    measure_rss "api-csv@$n" curl -sf -H "Authorization: Bearer $APP" "$URL/api/v1/data/population-basic?format=csv&\$limit=$n"
    measure_rss "api-parquet@$n" curl -sf -H "Authorization: Bearer $APP" "$URL/api/v1/data/population-basic?format=parquet&\$limit=$n"
  done
} > "$WORK/results.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   $(date -u +%FT%TZ)"
awk -v hz="$(getconf CLK_TCK)" '{split($1, l, "@"); printf "  %-20s RSS before %4.0f MB, peak during the export %4.0f MB, growth %+4.0f MB; server CPU %5.2f s, %5.2f s per 1M rows\n", $1, $2/1024, $3/1024, ($3-$2)/1024, $4/hz, $4/hz/l[2]*1e6}' "$WORK/rss.txt"
python3 - "$WORK/results.txt" "$RSS" <<'PY'
import sys
rows = {l.split()[0]: (float(l.split()[1]), int(l.split()[2])) for l in open(sys.argv[1])}
print(f"server peak RSS before the exports {int(sys.argv[2]) / 1024:.0f} MB (seeding included; the load ran in its own CLI process)")
for label, (secs, size) in rows.items():
    n = int(label.split("@")[1])
    anchor = rows[f"copy-csv@{n}"][0]
    print(f"  {label:20} {secs:7.2f} s  {size / 1e6:8.1f} MB  {size / secs / 1e6:7.1f} MB/s  rows/s {n / secs:10.0f}  ratio to COPY (rows/s) {anchor / secs:5.2f}x")
PY
