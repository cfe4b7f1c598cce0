#!/usr/bin/env bash
# Gateway benchmark, one command, three ways in the same run (wrk -c64, 10 s each, after a warm-up):
#   direct   the anchor upstream (shared/bench/cs/api, GET /json: 1,024-byte JSON)
#   yarp     a bare YARP forwarder in front of it (shared/bench/cs/yarp)
#   gateway  Lianqiao: /gateway/bus-arrivals/json with an application key -> grant -> quota (DB, in blocks) -> forward -> audit (DB)
# Prints req/s, p99 and the server process's CPU per 1,000 calls of each, and the ratios; writes $W/results.md. Database: PostgreSQL (DB=postgres, default,
# started by .ci/pg-up.sh) or SQLite (DB=sqlite). Everything shares the box's cores: compare ratios, not absolutes.
# Database CPU (PostgreSQL's processes for the bench database) per 1,000 calls is printed too: it shares the cores.
# Env: LQ_ENV= SETUP_SQL= DUR=10s WARM=10s CONN=64 THREADS=2 RUNS=1 UP_PORT=5190 YARP_PORT=5191 LQ_PORT=5192 ANCHORS=<shared/bench> W=/tmp/lq-gw-bench
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=${ANCHORS:-/work/shared/bench}
W=${W:-/tmp/lq-gw-bench}; DUR=${DUR:-10s}; WARM=${WARM:-10s}; CONN=${CONN:-64}; THREADS=${THREADS:-2}; RUNS=${RUNS:-1}; DB=${DB:-postgres}
UP_PORT=${UP_PORT:-5190}; YARP_PORT=${YARP_PORT:-5191}; LQ_PORT=${LQ_PORT:-5192}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

PIDS=(); PGDB=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  if [ -n "$PGDB" ]; then psql -qAt -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
wait_http() { for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }

echo "== build (Release)" >&2
rm -rf "$W/build" "$W/data" "$W"/wrk_* "$W/pg-cpu.txt"; mkdir -p "$W/build" "$W/bin" "$W/data"
if [ -z "${NO_BUILD:-}" ]; then   # NO_BUILD=1 reuses the last build in $W/bin
  for app in api yarp; do
    cp -r "$ANCHORS/cs/$app" "$W/build/$app"
    dotnet publish "$W/build/$app" -c Release -o "$W/bin/$app" --nologo -v q >&2
  done
  dotnet publish "$ROOT/src/Lianqiao" -c Release -o "$W/bin/lianqiao" --nologo -v q >&2
fi

DBARGS=()
if [ "$DB" = postgres ]; then
  eval "$(bash "$ROOT/.ci/pg-up.sh")"
  PGDB="lq_gw_bench_$$"
  psql -qAt -d postgres -c "CREATE DATABASE $PGDB" >/dev/null
  # PG_EXTRA tunes Npgsql for the run, e.g. PG_EXTRA=";Max Auto Prepare=32" (prepared statements for the hot queries).
  DBARGS=(--db "Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$PGDB${PG_EXTRA:-}")
fi

echo "== start upstream :$UP_PORT, YARP :$YARP_PORT, Lianqiao :$LQ_PORT ($DB)" >&2
ASPNETCORE_URLS=http://127.0.0.1:$UP_PORT dotnet "$W/bin/api/Api.dll" > "$W/api.log" 2>&1 & PIDS+=($!)
ASPNETCORE_URLS=http://127.0.0.1:$YARP_PORT BACKEND=http://127.0.0.1:$UP_PORT dotnet "$W/bin/yarp/YarpProxy.dll" > "$W/yarp.log" 2>&1 & PIDS+=($!)
# LQ_ENV: extra environment for the Lianqiao process only (experiments), e.g. LQ_ENV="DOTNET_TieredPGO=0".
env ${LQ_ENV:-} Logging__LogLevel__Default=Warning dotnet "$W/bin/lianqiao/Lianqiao.dll" serve --demo --urls "http://127.0.0.1:$LQ_PORT" --data "$W/data" "${DBARGS[@]}" > "$W/lianqiao.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$UP_PORT/json"; wait_http "http://127.0.0.1:$YARP_PORT/json"; wait_http "http://127.0.0.1:$LQ_PORT/healthz"

echo "== register the upstream behind the demo service bus-arrivals" >&2
ADMIN_KEY=$(dotnet "$W/bin/lianqiao/Lianqiao.dll" admin create-key --user admin --data "$W/data" "${DBARGS[@]}" 2>/dev/null | tail -1)
APP_KEY=$(grep -P '^app-key\t人社业务系统\t' "$W/data/demo-accounts.txt" | cut -f3)
api() { curl -fsS -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' "$@"; }
api -X POST "http://127.0.0.1:$LQ_PORT/api/v1/gateway/allow-list/" -d "{\"pattern\":\"127.0.0.1:$UP_PORT\",\"note\":\"bench upstream\"}" >/dev/null
api -X PUT "http://127.0.0.1:$LQ_PORT/api/v1/gateway/services/bus-arrivals" \
  -d "{\"upstreams\":[\"http://127.0.0.1:$UP_PORT\"],\"pathPrefixes\":[\"/\"],\"authKind\":\"None\",\"healthPath\":\"\",\"masking\":[]}" >/dev/null
# The demo grant covers /arrivals with 20 calls a day; the bench widens it to / and a quota it never reaches (still counted per call).
# The demo's exchange jobs (a collection and a delivery every minute) are paused: they are not the gateway's work, and a run
# that lands in one window but not another skews the comparison (they showed in a profile of the gateway, 2026-11-28).
if [ "$DB" = postgres ]; then
  psql -qAt -d "$PGDB" -c "UPDATE grants SET \"Paths\" = ARRAY['/'], \"QuotaPerDay\" = 1000000000 WHERE \"ResourceId\" = 'bus-arrivals'" >/dev/null
  psql -qAt -d "$PGDB" -c "UPDATE exchange_jobs SET \"Enabled\" = false" >/dev/null
  # SETUP_SQL: one more statement on the bench database before the runs, for experiments (e.g. dropping an index).
  if [ -n "${SETUP_SQL:-}" ]; then psql -qAt -d "$PGDB" -c "$SETUP_SQL" >/dev/null; fi
else
  sqlite3 "$W/data/lianqiao.db" "UPDATE grants SET Paths = '[\"/\"]', QuotaPerDay = 1000000000 WHERE ResourceId = 'bus-arrivals'; UPDATE exchange_jobs SET Enabled = 0"
fi
GW_URL="http://127.0.0.1:$LQ_PORT/gateway/bus-arrivals/json"
code=$(curl -s -o "$W/gw-body" -w '%{http_code}' -H "Authorization: Bearer $APP_KEY" "$GW_URL")
[ "$code" = 200 ] || { echo "gateway answered $code: $(cat "$W/gw-body")" >&2; exit 1; }
echo "body bytes: direct $(curl -s "http://127.0.0.1:$UP_PORT/json" | wc -c), gateway $(wc -c < "$W/gw-body")" >&2

# SETUP_ONLY=1 leaves the three servers running for manual probing (stop with Ctrl-C / kill).
if [ -n "${SETUP_ONLY:-}" ]; then echo "APP_KEY=$APP_KEY ADMIN_KEY=$ADMIN_KEY GW_URL=$GW_URL PGDB=$PGDB" > "$W/env"; echo ready >&2; sleep infinity; fi
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
declare -A RPS P99 BAD CPU DBCPU
# CPU seconds (user + system) a process has used so far: the server's CPU per 1,000 calls is a second, load-proof
# figure next to req/s, which on a box shared with other work mostly measures the other work.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The database server's CPU: on 2 cores it competes with the proxy for every call, so it belongs in the cost of a call.
# PostgreSQL's processes serving the bench database plus its own background processes (WAL writer, checkpointer, ...),
# not other databases' backends on a shared server: "pid ticks" lines, read before and after a run. A backend that
# starts during the run counts whole; one that ends during it is lost (the pool keeps them, so none is expected).
pg_ticks() {
  [ "$DB" = postgres ] || return 0
  local pid
  local pid what
  psql -qAt -F' ' -d postgres -c "SELECT pid, replace(backend_type || ':' || left(coalesce(query, ''), 40), ' ', '_') FROM pg_stat_activity
      WHERE datname = '$PGDB' OR backend_type <> 'client backend'" | while read -r pid what; do
    [ -r "/proc/$pid/stat" ] && echo "$pid $(cpu_ticks "$pid") $what"
  done
}
pg_delta() {  # before-lines after-lines -> ticks used in between; each process's share (and its last statement) in $W/pg-cpu.txt
  awk 'NR == FNR {before[$1] = $2; next} {t = $2 - ($1 in before ? before[$1] : 0); d += t; if (t > 0) print t, $3 >> "'"$W"'/pg-cpu.txt"} END {print d + 0}' \
    <(echo "$1") <(echo "$2")
}
measure() {  # label pid url [wrk args]
  local label=$1 pid=$2 url=$3; shift 3
  # WARM, the same for all three: Lianqiao's call path keeps the tiering JIT busy for seconds after start, far longer than
  # bare YARP's, and a production gateway runs warm; 10 s by default (3 s before 2026-11-28 16:00; bench/gateway/README.md).
  wrk -t"$THREADS" -c"$CONN" -d"$WARM" "$@" "$url" > /dev/null
  local best_rps=0 best_p99="" bad=0 best_cpu="" best_db=""
  for r in $(seq 1 "$RUNS"); do
    local t0 g0; t0=$(cpu_ticks "$pid"); g0=$(pg_ticks)
    local o; o=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "$@" "$url")
    local t1 g1; t1=$(cpu_ticks "$pid"); g1=$(pg_ticks)
    echo "$o" > "$W/wrk_${label}_r$r.txt"
    local rps p99 b
    rps=$(echo "$o" | awk '/^Requests\/sec/ {print $2}'); p99=$(echo "$o" | awk '$1=="99%" {print $2}' | to_ms)
    b=$(echo "$o" | awk '/Non-2xx/ {n+=$NF} /Socket errors/ {gsub(/,/,""); n+=$4+$6+$8+$10} END {print n+0}')
    local n; n=$(echo "$o" | awk '/requests in/ {print $1}')
    local cpu; cpu=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN {printf "%.0f", t / hz * 1000 * 1000 / n}')
    echo "== $label run $r: PostgreSQL CPU ticks by process" >> "$W/pg-cpu.txt"
    local dbcpu; dbcpu=$(awk -v t="$(pg_delta "$g0" "$g1")" -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN {printf "%.0f", t / hz * 1000 * 1000 / n}')
    echo "  $label run $r: $rps req/s, p99 $p99 ms, server CPU $cpu ms per 1,000 calls (database $dbcpu), non-2xx/errors $b" >&2
    if awk "BEGIN{exit !($rps > $best_rps)}"; then best_rps=$rps; best_p99=$p99; best_cpu=$cpu; best_db=$dbcpu; fi
    bad=$((bad + b))
  done
  RPS[$label]=$best_rps; P99[$label]=$best_p99; BAD[$label]=$bad; CPU[$label]=$best_cpu; DBCPU[$label]=$best_db
}
echo "== wrk -t$THREADS -c$CONN -d$DUR after -d$WARM (best of $RUNS)" >&2
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
measure direct "${PIDS[0]}" "http://127.0.0.1:$UP_PORT/json"
measure yarp "${PIDS[1]}" "http://127.0.0.1:$YARP_PORT/json"
measure gateway "${PIDS[2]}" "$GW_URL" -H "Authorization: Bearer $APP_KEY"

# Calls that share a commit are one record holding them as items ({"count":N,"items":[…]}): count the items, and the records.
AUDITED=$( [ "$DB" = postgres ] && psql -qAt -F' ' -d "$PGDB" -c "SELECT coalesce(sum((\"Detail\"::json->>'count')::int), 0), count(*) FROM audit_records WHERE \"Action\"='gateway.calls'" \
  || sqlite3 -separator ' ' "$W/data/lianqiao.db" "SELECT coalesce(sum(json_extract(Detail, '\$.count')), 0), count(*) FROM audit_records WHERE Action='gateway.calls'")
{
  echo "# Gateway benchmark $(date -u +%F) — $DB, wrk -t$THREADS -c$CONN -d$DUR after a $WARM warm-up of each, $(nproc) cores shared by all processes, load average $LOAD_START → $(cut -d' ' -f1 /proc/loadavg)"
  echo
  echo "| path | req/s | p99 ms | server CPU ms / 1,000 calls | database CPU ms / 1,000 calls | non-2xx/errors |"
  echo "|---|---:|---:|---:|---:|---:|"
  for l in direct yarp gateway; do echo "| $l | ${RPS[$l]} | ${P99[$l]} | ${CPU[$l]} | ${DBCPU[$l]} | ${BAD[$l]} |"; done
  echo
  awk -v d="${RPS[direct]}" -v y="${RPS[yarp]}" -v g="${RPS[gateway]}" -v py="${P99[yarp]}" -v pg="${P99[gateway]}" -v cy="${CPU[yarp]}" -v cg="${CPU[gateway]}" -v dg="${DBCPU[gateway]:-0}" 'BEGIN {
    printf "- yarp / direct: %.2fx\n- gateway / direct: %.2fx\n- **gateway / bare YARP: %.2fx** (target >= 0.75x)\n- **gateway p99 - YARP p99: %+.2f ms** (target <= +2 ms)\n- server CPU per call, gateway / YARP: %.2fx; gateway + database / YARP: %.2fx\n", y/d, g/d, g/y, pg-py, cg/cy, (cg+dg)/cy }'
  read -r CALLS_AUDITED CALL_RECORDS <<<"$AUDITED"
  echo "- gateway calls in the audit ledger: $CALLS_AUDITED, in $CALL_RECORDS records"
} | tee "$W/results.md"
