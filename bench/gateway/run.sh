#!/usr/bin/env bash
# Gateway benchmark, one command, three ways in the same run (wrk -c64, 10 s each in turn, 3 rounds, after a warm-up):
#   direct   the anchor upstream (shared/bench/cs/api, GET /json: 1,024-byte JSON)
#   yarp     a bare YARP forwarder in front of it (shared/bench/cs/yarp)
#   gateway  Lianqiao: /gateway/bus-arrivals/json with an application key -> grant -> quota (DB, in blocks) -> forward -> audit (DB)
# Prints req/s, p99 and the server process's CPU per 1,000 calls of each run, and the ratios by round with their median; writes $W/results.md. Database: PostgreSQL (DB=postgres, default,
# started by .ci/pg-up.sh) or SQLite (DB=sqlite). Everything shares the box's cores: compare ratios, not absolutes.
# Database CPU (PostgreSQL's processes for the bench database) per 1,000 calls is printed too: it shares the cores.
# Env: LQ_ENV= SETUP_SQL= DUR=10s WARM=10s CONN=64 THREADS=2 ROUNDS=3 UP_PORT=5190 YARP_PORT=5191 LQ_PORT=5192 ANCHORS=<shared/bench> W=/tmp/lq-gw-bench
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=${ANCHORS:-/work/shared/bench}
W=${W:-/tmp/lq-gw-bench}; DUR=${DUR:-10s}; WARM=${WARM:-10s}; CONN=${CONN:-64}; THREADS=${THREADS:-2}; ROUNDS=${ROUNDS:-3}; DB=${DB:-postgres}
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
# One measured run of one path: wrk for DUR, the server's and the database's CPU around it. Sets RPS, P99, CPU, DBCPU, BAD
# under "label,round".
measure() {  # label round pid url [wrk args]
  local label=$1 r=$2 pid=$3 url=$4; shift 4
  local t0 g0; t0=$(cpu_ticks "$pid"); g0=$(pg_ticks)
  local o; o=$(wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency "$@" "$url")
  local t1 g1; t1=$(cpu_ticks "$pid"); g1=$(pg_ticks)
  echo "$o" > "$W/wrk_${label}_r$r.txt"
  local rps p99 b n cpu dbcpu
  rps=$(echo "$o" | awk '/^Requests\/sec/ {print $2}'); p99=$(echo "$o" | awk '$1=="99%" {print $2}' | to_ms)
  b=$(echo "$o" | awk '/Non-2xx/ {n+=$NF} /Socket errors/ {gsub(/,/,""); n+=$4+$6+$8+$10} END {print n+0}')
  n=$(echo "$o" | awk '/requests in/ {print $1}')
  cpu=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN {printf "%.0f", t / hz * 1000 * 1000 / n}')
  echo "== $label round $r: PostgreSQL CPU ticks by process" >> "$W/pg-cpu.txt"
  dbcpu=$(awk -v t="$(pg_delta "$g0" "$g1")" -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN {printf "%.0f", t / hz * 1000 * 1000 / n}')
  echo "  round $r $label: $rps req/s, p99 $p99 ms, server CPU $cpu ms per 1,000 calls (database $dbcpu), non-2xx/errors $b" >&2
  RPS[$label,$r]=$rps; P99[$label,$r]=$p99; CPU[$label,$r]=$cpu; DBCPU[$label,$r]=$dbcpu; BAD[$label,$r]=$b
}
# The three paths take turns, ROUNDS times, each after one warm-up (WARM, the same for all three: Lianqiao's call path
# keeps the tiering JIT busy for seconds after start, far longer than bare YARP's; bench/gateway/README.md). Turns, not one
# run each: this box's speed drifts by ±10 % within a minute (other VMs on the host), and a path measured a minute after
# another was measured on a different machine. Each round's ratios compare neighbours; the headline is their median.
paths=(direct yarp gateway)
pid_of() { case $1 in direct) echo "${PIDS[0]}";; yarp) echo "${PIDS[1]}";; gateway) echo "${PIDS[2]}";; esac; }
url_of() { case $1 in direct) echo "http://127.0.0.1:$UP_PORT/json";; yarp) echo "http://127.0.0.1:$YARP_PORT/json";; gateway) echo "$GW_URL";; esac; }
run_path() {  # measure-or-warm label [round]
  local label=$1 r=${2:-}
  if [ "$label" = gateway ]; then set -- -H "Authorization: Bearer $APP_KEY"; else set --; fi
  if [ -z "$r" ]; then wrk -t"$THREADS" -c"$CONN" -d"$WARM" "$@" "$(url_of "$label")" > /dev/null
  else measure "$label" "$r" "$(pid_of "$label")" "$(url_of "$label")" "$@"; fi
}
echo "== wrk -t$THREADS -c$CONN: a $WARM warm-up of each, then $ROUNDS rounds of -d$DUR on each in turn" >&2
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
for l in "${paths[@]}"; do run_path "$l"; done
for r in $(seq 1 "$ROUNDS"); do for l in "${paths[@]}"; do run_path "$l" "$r"; done; done
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# Calls that share a commit are one record holding them as items ({"count":N,"items":[…]}): count the items, and the records.
AUDITED=$( [ "$DB" = postgres ] && psql -qAt -F' ' -d "$PGDB" -c "SELECT coalesce(sum((\"Detail\"::json->>'count')::int), 0), count(*) FROM audit_records WHERE \"Action\"='gateway.calls'" \
  || sqlite3 -separator ' ' "$W/data/lianqiao.db" "SELECT coalesce(sum(json_extract(Detail, '\$.count')), 0), count(*) FROM audit_records WHERE Action='gateway.calls'")
{
  echo "# Gateway benchmark $(date -u +%F) — $DB, wrk -t$THREADS -c$CONN, $ROUNDS rounds of -d$DUR on each path in turn after a $WARM warm-up of each, $(nproc) cores shared by all processes, load average $LOAD_START → $(cut -d' ' -f1 /proc/loadavg)"
  echo
  echo "| round | path | req/s | p99 ms | server CPU ms / 1,000 calls | database CPU ms / 1,000 calls | non-2xx/errors |"
  echo "|---:|---|---:|---:|---:|---:|---:|"
  for r in $(seq 1 "$ROUNDS"); do for l in "${paths[@]}"; do
    echo "| $r | $l | ${RPS[$l,$r]} | ${P99[$l,$r]} | ${CPU[$l,$r]} | ${DBCPU[$l,$r]} | ${BAD[$l,$r]} |"
  done; done
  echo
  ratios=(); p99s=(); cpus=(); yd=(); bad=0
  for r in $(seq 1 "$ROUNDS"); do
    ratios+=("$(awk -v g="${RPS[gateway,$r]}" -v y="${RPS[yarp,$r]}" 'BEGIN {printf "%.2f", g / y}')")
    p99s+=("$(awk -v g="${P99[gateway,$r]}" -v y="${P99[yarp,$r]}" 'BEGIN {printf "%+.2f", g - y}')")
    cpus+=("$(awk -v g="${CPU[gateway,$r]}" -v d="${DBCPU[gateway,$r]:-0}" -v y="${CPU[yarp,$r]}" 'BEGIN {printf "%.2f/%.2f", g / y, (g + d) / y}')")
    yd+=("$(awk -v y="${RPS[yarp,$r]}" -v d="${RPS[direct,$r]}" 'BEGIN {printf "%.2f", y / d}')")
    for l in "${paths[@]}"; do bad=$((bad + BAD[$l,$r])); done
  done
  echo "- yarp / direct by round: ${yd[*]}"
  echo "- **gateway / bare YARP: $(printf '%s\n' "${ratios[@]}" | median | awk '{printf "%.2f", $1}')x median** of the rounds' ${ratios[*]} (target >= 0.75x)"
  echo "- **gateway p99 - YARP p99: $(printf '%s\n' "${p99s[@]}" | median | awk '{printf "%+.2f", $1}') ms median** of the rounds' ${p99s[*]} ms (target <= +2 ms)"
  echo "- server CPU per call by round, gateway / YARP and (gateway + database) / YARP: ${cpus[*]}"
  echo "- non-2xx responses and socket errors, all runs: $bad"
  read -r CALLS_AUDITED CALL_RECORDS <<<"$AUDITED"
  echo "- gateway calls in the audit ledger: $CALLS_AUDITED, in $CALL_RECORDS records"
} | tee "$W/results.md"
