#!/usr/bin/env bash
# Load benchmark (issue 4): a population CSV through `lianqiao load` with all its rules on, into SQLite and
# PostgreSQL, against the anchors on the same file in the same run:
#   SQLite      sqlite3 .import into a table of the same columns with PRIMARY KEY(id_number)
#   PostgreSQL  psql COPY … FROM STDIN (FORMAT csv, HEADER) into the same columns, same key, no checks
# Prints rows/s, peak RSS (ours: the lianqiao process), CPU seconds (user+sys of the measured process; the
# PostgreSQL server's work is not in it) and the ratios; `uptime` before and after, since the machine is shared.
# usage: bench/load/run.sh [ROWS=1000000] [RUNS=1]     needs python3, sqlite3, psql, /usr/bin/time;
# SKIP_SQLITE=1 runs the PostgreSQL pair only, SKIP_PG=1 the SQLite pair only; KEEP=1 keeps the PostgreSQL template
# database (lqbench_tmpl) and the SQLite template folder for repeated single loads while iterating.
# PostgreSQL from $ConnectionStrings__Postgres / PG* (e.g. eval "$(bash .ci/pg-up.sh)"), else PostgreSQL is skipped.
set -euo pipefail
ROWS=${1:-1000000}; RUNS=${2:-1}
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
WORK=${BENCH_WORK:-/tmp/lianqiao-bench-load}; mkdir -p "$WORK"
GEN=${GEN:-$ROOT/../shared/bench/gen_population.py}
CSV=$WORK/population-$ROWS.csv
[ -s "$CSV" ] || python3 "$GEN" --rows "$ROWS" --out "$CSV" >&2
cat "$CSV" > /dev/null   # warm the page cache for everyone alike

# Measured as it is deployed: published for this platform, which makes it ReadyToRun (Lianqiao.csproj).
RID=linux-$(case "$(uname -m)" in aarch64|arm64) echo arm64 ;; *) echo x64 ;; esac)
echo "publishing Release ($RID, ReadyToRun)…" >&2
dotnet publish "$ROOT/src/Lianqiao" -c Release -r "$RID" --self-contained false -o "$WORK/bin" -nologo -v q -clp:ErrorsOnly >&2
BIN=$WORK/bin/Lianqiao
export DOTNET_CLI_TELEMETRY_OPTOUT=1 ASPNETCORE_ENVIRONMENT=Production

# A data folder (or PostgreSQL database) with the demo city and an empty bench-population resource that has
# the demo population schema: serve --demo once, copy the schema through the API, stop.
prepare_template() {  # $1 = extra args for lianqiao (--data DIR or --data DIR --db CONN)
  local log=$WORK/serve.log
  $BIN serve --demo --urls http://127.0.0.1:0 "$@" > "$log" 2>&1 & local pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  # Seeding the demo city can take minutes on a busy machine.
  for _ in $(seq 1 600); do grep -q "listening on" "$log" && break; sleep 1; done
  local url; url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | tail -1)
  local key; key=$($BIN admin create-key --user admin "$@" 2>/dev/null | tail -1)
  curl -sf -H "Authorization: Bearer $key" "$url/api/v1/datasets/population-basic/schema" \
    | python3 -c 'import json,sys; s=json.load(sys.stdin)["schema"]; [s.pop(k,None) for k in ("resourceId",)]; print(json.dumps(s))' \
    | curl -sf -X PUT -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data-binary @- "$url/api/v1/datasets/bench-population/schema" > /dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true
  trap - EXIT
}

measure() {  # label, command…  → appends "label seconds rss_kb cpu_seconds" to $WORK/results.tsv
  local label=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; return 1; }
  read -r secs rss user sys < "$WORK/time.txt"
  printf '%s\t%s\t%s\t%s\n' "$label" "$secs" "$rss" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" >> "$WORK/results.tsv"
  echo "$label: ${secs}s, peak RSS $((rss/1024)) MB, CPU ${user}+${sys}s" >&2
}

echo "before: $(uptime)"
: > "$WORK/results.tsv"
COLS="id_number text PRIMARY KEY, name text, gender text, birth_date text, phone text, address text, household_id text, updated_at text"

# --- SQLite ---
[ -n "${SKIP_SQLITE:-}" ] || rm -rf "$WORK/sqlite-template"
[ -n "${SKIP_SQLITE:-}" ] || prepare_template --data "$WORK/sqlite-template"
for r in $( [ -n "${SKIP_SQLITE:-}" ] || seq 1 "$RUNS"); do
  rm -rf "$WORK/sqlite-run"; cp -r "$WORK/sqlite-template" "$WORK/sqlite-run"
  measure "lianqiao-sqlite" "$BIN" load bench-population "$CSV" --data "$WORK/sqlite-run"
  grep -o '"rowsRead":[0-9]*,"rowsAccepted":[0-9]*,"rowsQuarantined":[0-9]*' "$WORK/out.txt" >&2
  rm -f "$WORK/anchor.db"*
  measure "sqlite3-import" sh -c "sqlite3 '$WORK/anchor.db' \"PRAGMA journal_mode=WAL;\" \"CREATE TABLE population($COLS);\" \".mode csv\" \".import --skip 1 '$CSV' population\""
done

# --- PostgreSQL ---
if [ -z "${SKIP_PG:-}" ] && [ -n "${PGHOST:-}" ] && command -v psql > /dev/null && psql -Xqc 'select 1' postgres > /dev/null 2>&1; then
  base="Host=$PGHOST;Port=${PGPORT:-5432};Username=${PGUSER:-postgres};Password=${PGPASSWORD:-}"
  psql -Xq postgres -c "DROP DATABASE IF EXISTS lqbench_tmpl" -c "CREATE DATABASE lqbench_tmpl"
  prepare_template --data "$WORK/pg-data" --db "$base;Database=lqbench_tmpl"
  for r in $(seq 1 "$RUNS"); do
    psql -Xq postgres -c "DROP DATABASE IF EXISTS lqbench_run" -c "CREATE DATABASE lqbench_run TEMPLATE lqbench_tmpl" -c CHECKPOINT
    measure "lianqiao-postgres" "$BIN" load bench-population "$CSV" --data "$WORK/pg-data" --db "$base;Database=lqbench_run"
    psql -Xq lqbench_run -c "DROP TABLE IF EXISTS anchor_population" -c "CREATE TABLE anchor_population (id_number text PRIMARY KEY, name text, gender text, birth_date date, phone text, address text, household_id text, updated_at timestamp)" -c CHECKPOINT
    measure "postgres-copy" sh -c "psql -Xq lqbench_run -c \"COPY anchor_population FROM STDIN (FORMAT csv, HEADER)\" < '$CSV'"
  done
  [ -n "${KEEP:-}" ] || psql -Xq postgres -c "DROP DATABASE IF EXISTS lqbench_run" -c "DROP DATABASE IF EXISTS lqbench_tmpl"
else
  echo "PostgreSQL not reachable (set PG* / run .ci/pg-up.sh): skipping the PostgreSQL pair" >&2
fi

echo "after:  $(uptime)"
python3 - "$WORK/results.tsv" "$ROWS" <<'PY'
import sys, statistics, collections
rows = int(sys.argv[2]); data = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, secs, rss, cpu = line.split('\t'); data[label].append((float(secs), int(rss), float(cpu)))
med = {k: (statistics.median(s for s, _, _ in v), max(r for _, r, _ in v), statistics.median(c for _, _, c in v)) for k, v in data.items()}
print(f"{'step':<20}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}{'CPU s':>8}")
for k, (s, r, c) in med.items(): print(f"{k:<20}{s:>9.2f}{rows / s:>12,.0f}{r / 1024:>13.0f}{c:>8.1f}")
for ours, anchor, target in (("lianqiao-sqlite", "sqlite3-import", 1.0), ("lianqiao-postgres", "postgres-copy", 0.8)):
    if ours in med and anchor in med:
        ratio = med[anchor][0] / med[ours][0]
        print(f"ratio {ours} / {anchor}: {ratio:.2f}x of the anchor's rows/s (target >= {target}x)")
PY
