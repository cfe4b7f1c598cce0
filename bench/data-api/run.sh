#!/usr/bin/env bash
# Data API benchmark (issue 5): household-id lookups and 100-row pages on the population table through the full
# path (app key → grant → masking → audit → exchange counters) with wrk at 32 connections, against the bare
# minimal-API anchor of ../shared/bench/cs/api (`SELECT * FROM population WHERE household_id = $1` via Npgsql) on
# the same rows in the same PostgreSQL, in the same run. Pages are keyset pages walked as a client walks them
# (nextCursor followed from random starting rows, pages.lua), and — secondary — $offset=0…5000 pages; each against its
# own anchor in ../open-api/anchor.cs (/page?cursor=, /page?offset=) running the data API's statement (captured from
# PostgreSQL's log and compared) on the same stored table.
# Prints req/s, p99, server CPU per 1,000 requests and the ratios.
# usage: bench/data-api/run.sh [ROWS=1000000] [DURATION=10s]   needs python3, psql, wrk, curl; starts its own PostgreSQL.
set -euo pipefail
ROWS=${1:-1000000}; DURATION=${2:-10s}
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd); SHARED=$ROOT/../shared/bench
WORK=${BENCH_WORK:-/tmp/lianqiao-bench-data-api}; rm -rf "$WORK/data"; mkdir -p "$WORK"
source "$ROOT/bench/lib/population-journey.sh"
trap 'kill ${SERVER:-} ${ANCHOR:-} ${PAGE_ANCHOR:-} 2>/dev/null || true; PGTEST=$WORK/pg bash "$ROOT/.ci/pg-down.sh"' EXIT
# ../shared is read-only: build the anchor from a copy.
rm -rf "$WORK/anchor-src"; cp -r "$SHARED/cs/api" "$WORK/anchor-src"
dotnet build "$WORK/anchor-src" -c Release -nologo -clp:ErrorsOnly -o "$WORK/anchor" >&2
# The page anchor: the open API bench's bare-query program (anchor.cs) in a copy of the same csproj.
rm -rf "$WORK/page-anchor-src"; mkdir -p "$WORK/page-anchor-src"
cp "$SHARED/cs/api/Api.csproj" "$WORK/page-anchor-src/"; cp "$ROOT/bench/open-api/anchor.cs" "$WORK/page-anchor-src/Program.cs"
dotnet build "$WORK/page-anchor-src" -c Release -nologo -clp:ErrorsOnly -o "$WORK/page-anchor" >&2
start_population_journey lqdataapi '["id_number","name","gender","birth_date","phone","address","household_id","updated_at"]'
# Both sides look rows up by household id: an index on the stored table, and the anchor's own table of the same rows.
psql -Xq lqdataapi -c "CREATE INDEX IF NOT EXISTS bench_household ON \"$TABLE\" (household_id)" \
  -c "DROP TABLE IF EXISTS population" -c "CREATE TABLE population AS SELECT id_number, name, gender, birth_date, phone, address, household_id, updated_at FROM \"$TABLE\" WHERE NOT \"_deleted\"" \
  -c "CREATE INDEX ON population (household_id)" -c "ANALYZE"

PG_CONN="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=lqdataapi;Pooling=true;Maximum Pool Size=64" \
  ASPNETCORE_URLS=http://127.0.0.1:5199 dotnet "$WORK/anchor/Api.dll" > "$WORK/anchor.log" 2>&1 & ANCHOR=$!
COLUMNS=id_number,name,gender,birth_date,phone,address,household_id,updated_at
PG_CONN="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=lqdataapi;Pooling=true;Maximum Pool Size=64" \
  TABLE="$TABLE" COLUMNS="$COLUMNS" LIMIT=100 ASPNETCORE_URLS=http://127.0.0.1:5198 dotnet "$WORK/page-anchor/Api.dll" > "$WORK/page-anchor.log" 2>&1 & PAGE_ANCHOR=$!
sleep 3
HH=$CSV.households.txt
# Where the page walks start: 10,000 real row ids across the whole table, as the data API's cursors (URL-encoded).
CURSORS=$WORK/cursors.txt
psql -XAtq lqdataapi -c "SELECT \"_id\" FROM \"$TABLE\" WHERE NOT \"_deleted\" ORDER BY random() LIMIT 10000" \
  | python3 -c 'import base64, sys, urllib.parse
for line in sys.stdin: print(urllib.parse.quote(base64.b64encode(b"id:" + line.strip().encode()).decode(), safe=""))' > "$CURSORS"
CURSOR=$(head -1 "$CURSORS")

# The statements the data API sends for a keyset page and an $offset page, from PostgreSQL's statement log, and the
# anchor's (one per line: keyset, offset): they must be the same.
psql -XqAt lqdataapi -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" > /dev/null
sleep 0.5
curl -sf -H "Authorization: Bearer $APP" "$URL/api/v1/data/population-basic?\$limit=100&cursor=$CURSOR" > "$WORK/api-page.json"
curl -sf -H "Authorization: Bearer $APP" "$URL/api/v1/data/population-basic?\$limit=100&\$offset=37" > "$WORK/api-offset.json"
psql -XqAt lqdataapi -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" > /dev/null
API_KEYSET_SQL=$(grep -o 'execute [^:]*: SELECT "_id".* "_id" > \$1 ORDER BY "_id" LIMIT \$2' "$WORK/pg/log" | tail -1 | sed 's/^execute [^:]*: //')
API_OFFSET_SQL=$(grep -o 'execute [^:]*: SELECT "_id".* OFFSET \$[0-9]*' "$WORK/pg/log" | tail -1 | sed 's/^execute [^:]*: //')
ANCHOR_KEYSET_SQL=$(curl -sf http://127.0.0.1:5198/sql | sed -n 1p)
ANCHOR_OFFSET_SQL=$(curl -sf http://127.0.0.1:5198/sql | sed -n 2p)
echo "data API keyset page SQL: $API_KEYSET_SQL" >&2
echo "page anchor keyset SQL:   $ANCHOR_KEYSET_SQL" >&2
echo "data API offset page SQL: $API_OFFSET_SQL" >&2
echo "page anchor offset SQL:   $ANCHOR_OFFSET_SQL" >&2
[ -n "$API_KEYSET_SQL" ] && [ "$API_KEYSET_SQL" = "$ANCHOR_KEYSET_SQL" ] || { echo "the page anchor does not run the data API's keyset statement" >&2; exit 1; }
[ -n "$API_OFFSET_SQL" ] && [ "$API_OFFSET_SQL" = "$ANCHOR_OFFSET_SQL" ] || { echo "the page anchor does not run the data API's offset statement" >&2; exit 1; }
curl -sf "http://127.0.0.1:5198/page?cursor=$CURSOR" > "$WORK/anchor-page.json"
curl -sf "http://127.0.0.1:5198/page?offset=37" > "$WORK/anchor-offset.json"
# Same rows: the same count, the same values in the columns the grant leaves unmasked, the same next cursor.
python3 - "$WORK/api-page.json" "$WORK/anchor-page.json" "$WORK/api-offset.json" "$WORK/anchor-offset.json" <<'PY' >&2
import json, sys
for kind, (api, anchor) in (("keyset", sys.argv[1:3]), ("offset", sys.argv[3:5])):
    api, anchor = json.load(open(api)), json.load(open(anchor))
    if api["nextCursor"] != anchor["nextCursor"]: sys.exit(f"{kind}: next cursors differ: {api['nextCursor']} vs {anchor['nextCursor']}")
    api, anchor = api["rows"], anchor["rows"]
    if len(api) != len(anchor) or not api: sys.exit(f"{kind}: row counts differ: data API {len(api)}, anchor {len(anchor)}")
    same = [c for c in api[0] if all(str(a[c]) == str(b[c]) for a, b in zip(api, anchor))]
    if not same: sys.exit(f"{kind}: no column agrees between the data API's page and the anchor's")
    print(f"{kind}: same {len(api)} rows from both (columns equal in every row: {', '.join(same)})")
PY
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # user+sys CPU of a process: the box is shared, wall time is not
run() {  # label url mode pid → "label req/s p99(ms) non-2xx requests cpu-ticks"
  local before; before=$(cpu_ticks "$4")
  case $3 in
    page|anchor-page) wrk -t2 -c32 -d"$DURATION" --latency -s "$HERE/pages.lua" "$2" -- "$CURSORS" "$APP" "$3" > "$WORK/$1.wrk" ;;
    *) wrk -t2 -c32 -d"$DURATION" --latency -s "$HERE/lookup.lua" "$2" -- "$HH" "$APP" "$3" > "$WORK/$1.wrk" ;;
  esac
  python3 - "$1" "$WORK/$1.wrk" "$(( $(cpu_ticks "$4") - before ))" <<'PY'
import re, sys
text = open(sys.argv[2]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
requests = int(re.search(r"(\d+) requests in", text).group(1))
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(sys.argv[1], rps, ms, errors.group(1) if errors else 0, requests, sys.argv[3])
PY
}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)   $(date -u +%FT%TZ)"
{
  # Both API paths are warmed (JIT tiers, caches) before anything is measured; the anchor has served the same queries.
  run warmup "$URL" lookup "$SERVER" > /dev/null
  run warmup-page "$URL" page "$SERVER" > /dev/null
  run warmup-offset "$URL" offset "$SERVER" > /dev/null
  run warmup-anchor-page http://127.0.0.1:5198 anchor-page "$PAGE_ANCHOR" > /dev/null
  run anchor-lookup http://127.0.0.1:5199 anchor "$ANCHOR"
  run api-lookup "$URL" lookup "$SERVER"
  run anchor-page http://127.0.0.1:5198 anchor-page "$PAGE_ANCHOR"
  run api-page "$URL" page "$SERVER"
  # Secondary: $offset pages (PostgreSQL walks and skips up to 5,000 rows per page), against the same statement.
  run anchor-offset http://127.0.0.1:5198 anchor-offset "$PAGE_ANCHOR"
  run api-offset "$URL" offset "$SERVER"
} > "$WORK/results.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   $(date -u +%FT%TZ)"
python3 - "$WORK/results.txt" "$(getconf CLK_TCK)" <<'PY'
import sys
r = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1])}
# Lookups against the lookup anchor, keyset pages and $offset pages each against the anchor running the same statement.
anchor = {"anchor-lookup": "anchor-lookup", "api-lookup": "anchor-lookup", "anchor-page": "anchor-page", "api-page": "anchor-page",
          "anchor-offset": "anchor-offset", "api-offset": "anchor-offset"}
for k, (rps, p99, err, n, ticks) in r.items():
    cpu = int(ticks) / int(sys.argv[2]) / int(n) * 1e6
    ratio = float(rps) / float(r[anchor[k]][0])
    print(f"  {k:14} {float(rps):9.0f} req/s  p99 {float(p99):7.1f} ms  non-2xx {err}  ratio to {anchor[k]} {ratio:5.2f}x  server CPU {cpu:4.0f} ms per 1,000 requests")
PY
