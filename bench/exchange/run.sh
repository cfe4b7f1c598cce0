#!/usr/bin/env bash
# Exchange benchmark (issue 8): ROWS population rows in a source PostgreSQL table go through a collection job (a snapshot
# into population-basic, the catalog's quality rules on) and a delivery job (人社's grant, masked, into a table of a target
# PostgreSQL database), each run with `lianqiao exchange run`. End-to-end rows/s against the anchor measured in the same
# run: `psql -c "COPY population TO STDOUT" | psql -c "COPY population FROM STDIN"` between two databases of the same server.
# Prints the figures and the ratio, and adds them to README.md (newest first) with the date and the machine load.
# usage: bench/exchange/run.sh [ROWS=1000000]   needs python3, psql, curl, /usr/bin/time; starts its own PostgreSQL.
# The timed runs use the platform's deployed form, published for this machine (ReadyToRun, as bench/load does);
# BUILD=plain times the plain `dotnet build` output instead (the runs before 15:30 UTC on 2026-11-28 did).
# PUBLISHED=DIR takes that folder's published CLI (the same `dotnet publish -r linux-x64` done beforehand, so the
# locked run does not spend its time publishing). CLI_ENV="NAME=VALUE …" sets runtime variables for the two timed
# runs only (e.g. to try a runtime setting).
set -euo pipefail
ROWS=${1:-1000000}
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
WORK=${BENCH_WORK:-/tmp/lianqiao-bench-exchange}; rm -rf "$WORK/data"; mkdir -p "$WORK"; chmod 755 "$WORK"
for tool in python3 psql curl /usr/bin/time; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
trap 'kill ${SERVER:-} 2>/dev/null || true; PGTEST=$WORK/pg bash "$ROOT/.ci/pg-down.sh"' EXIT

. "$ROOT/bench/lib/population-journey.sh"
# The demo city (departments, the catalog with population-basic and its rules, 人社's application), served to set the jobs up.
start_population_server lqexchange
for db in exsrc exdst exanchor; do psql -Xq -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" postgres; done
TABLE_DDL="CREATE TABLE population (id_number text, name text, gender text, birth_date date, phone text, address text, household_id text, updated_at timestamp)"
psql -Xq exsrc -c "$TABLE_DDL" -c "\\copy population FROM '$CSV' WITH (FORMAT csv, HEADER true)" -c "ANALYZE population"
psql -Xq exanchor -c "$TABLE_DDL"
apply_for_population '["id_number","name","gender","birth_date","phone","address","household_id","updated_at"]'
api() { curl -sf -H "Authorization: Bearer $1" -H 'Content-Type: application/json' "${@:2}"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
POLICE=$(api "$ADMIN" "$URL/api/v1/departments" | json 'next(x["id"] for x in d if x["name"]=="市公安局")')
api "$ADMIN" "$URL/api/v1/gateway/allow-list/" -d '{"pattern":"127.0.0.1","note":"bench"}' > /dev/null
SRC=$(api "$ADMIN" "$URL/api/v1/exchange/connections" -d "{\"name\":\"bench source\",\"kind\":\"postgres\",\"departmentId\":\"$POLICE\",\"host\":\"127.0.0.1\",\"port\":$PGPORT,\"database\":\"exsrc\",\"userName\":\"$PGUSER\",\"secret\":\"$PGPASSWORD\"}" | json 'd["id"]')
DST=$(api "$ADMIN" "$URL/api/v1/exchange/connections" -d "{\"name\":\"bench target\",\"kind\":\"postgres\",\"departmentId\":\"$HRSS_DEPT\",\"host\":\"127.0.0.1\",\"port\":$PGPORT,\"database\":\"exdst\",\"userName\":\"$PGUSER\",\"secret\":\"$PGPASSWORD\"}" | json 'd["id"]')
COLLECT=$(api "$ADMIN" "$URL/api/v1/exchange/jobs" -d "{\"name\":\"bench collect\",\"kind\":\"collect\",\"connectionId\":\"$SRC\",\"resourceId\":\"population-basic\",\"sourceTable\":\"population\",\"mode\":\"snapshot\"}" | json 'd["id"]')
DELIVER=$(api "$ADMIN" "$URL/api/v1/exchange/jobs" -d "{\"name\":\"bench deliver\",\"kind\":\"deliver\",\"connectionId\":\"$DST\",\"resourceId\":\"population-basic\",\"appId\":\"$APP_ID\",\"targetTable\":\"population_copy\",\"batchSize\":100000}" | json 'd["id"]')
# The timed runs are the CLI's, alone on the machine's share of CPU: the server is not needed for them.
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
if [ -n "${PUBLISHED:-}" ]; then
  BIN=$PUBLISHED/Lianqiao   # published beforehand, outside the lock
elif [ "${BUILD:-r2r}" != plain ]; then
  RID=linux-$(case "$(uname -m)" in aarch64|arm64) echo arm64 ;; *) echo x64 ;; esac)
  echo "publishing Release ($RID, ReadyToRun)…" >&2
  dotnet publish "$ROOT/src/Lianqiao" -c Release -r "$RID" --self-contained false -o "$WORK/bin" -nologo -v q -clp:ErrorsOnly >&2
  BIN=$WORK/bin/Lianqiao
fi
BUILT=$([ "${BUILD:-r2r}" = plain ] && echo "plain build" || echo "ReadyToRun publish")${CLI_ENV:+, $CLI_ENV}

now() { date +%s.%N; }
# CPU seconds the PostgreSQL server has used so far: the postmaster and its live children (backends, background
# workers), plus what its exited children used (cutime/cstime, added to the postmaster when it reaps them). A stage's
# difference is the server's side of the work, which the client's own CPU does not show.
pg_cpu() {
  sleep 0.3   # the postmaster reaps the backends of the connections just closed
  python3 - "$(head -1 "$PGTEST/data/postmaster.pid")" <<'PY2'
import os, sys
def stat(pid):
    try: f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError: return None
    return int(f[1]), [int(x) for x in f[11:15]]   # ppid; utime, stime, cutime, cstime
master = int(sys.argv[1]); ticks = sum(stat(master)[1])
for pid in filter(str.isdigit, os.listdir("/proc")):
    s = stat(pid)
    if s and s[0] == master: ticks += sum(s[1][:2])
print(ticks / os.sysconf("SC_CLK_TCK"))
PY2
}
# watch STAGE / unwatch: the server's CPU by database during a stage, into $WORK/STAGE.pg.json (bench/exchange/pg_watch.py).
watch() { rm -f "$WORK/stop"; python3 "$HERE/pg_watch.py" "$(head -1 "$PGTEST/data/postmaster.pid")" "$WORK/stop" > "$WORK/$1.pg.json" & WATCH=$!; sleep 0.3; }
unwatch() { sleep 0.3; touch "$WORK/stop"; wait $WATCH; }
c0=$(pg_cpu)
watch anchor
t0=$(now)
/usr/bin/time -f "%U %S" -o "$WORK/anchor-out.time" psql -Xq exsrc -c "COPY population TO STDOUT" \
  | /usr/bin/time -f "%U %S" -o "$WORK/anchor-in.time" psql -Xq exanchor -c "COPY population FROM STDIN"
ta=$(now)
unwatch
c1=$(pg_cpu)
# PERF=DIR: each run under `perf record` instead (DIR/collect.perf.data, DIR/deliver.perf.data; JIT frames named through
# the runtime's perf map, W^X off so perf sees the JIT code). dotnet-trace's thread-time sampling was tried first: it
# piles samples on P/Invoke returns. The figures are then skewed by the profiler and not written to README.md.
run_cli() {
  if [ -n "${PERF:-}" ]; then
    mkdir -p "$PERF"
    DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -F 499 -g -o "$PERF/$1.perf.data" -- \
      "$BIN" exchange run "$2" --data "$WORK/data" > "$WORK/$1.json" 2> "$WORK/$1.log"
  else
    /usr/bin/time -v -o "$WORK/$1.time" env ${CLI_ENV:-} "$BIN" exchange run "$2" --data "$WORK/data" > "$WORK/$1.json" 2> "$WORK/$1.log"
  fi
}
c1b=$(pg_cpu)
watch collect
# The wall times are taken right around each run: the CPU probes and their pauses stay outside them.
t1=$(now)
run_cli collect "$COLLECT"
t2=$(now)
unwatch
c2=$(pg_cpu)
watch deliver
t2b=$(now)
run_cli deliver "$DELIVER"
t3=$(now)
unwatch
c3=$(pg_cpu)

ANCHORED=$(psql -XAtq exanchor -c "SELECT count(*) FROM population")
DELIVERED=$(psql -XAtq exdst -c "SELECT count(*) FROM population_copy")
if [ -n "${PERF:-}" ]; then
  echo "profiled into $PERF (figures not recorded): anchor $(echo "$ta - $t0" | bc) s, collect $(echo "$t2 - $t1" | bc) s, deliver $(echo "$t3 - $t2b" | bc) s"
  echo "anchor psql clients CPU: $(cat "$WORK/anchor-out.time" "$WORK/anchor-in.time" | tr '\n' ' ')"
  echo "PostgreSQL server CPU: anchor $(echo "$c1 - $c0" | bc) s, collect $(echo "$c2 - $c1b" | bc) s, deliver $(echo "$c3 - $c2" | bc) s"
  for stage in anchor collect deliver; do echo "  $stage by database: $(cat "$WORK/$stage.pg.json")"; done
  grep -h "phases" "$WORK/collect.log" "$WORK/deliver.log"; exit 0
fi
python3 - "$ROWS" "$t0" "$ta" "$t1" "$t2" "$t2b" "$t3" "$ANCHORED" "$DELIVERED" "$WORK" "$HERE/README.md" "$(uptime)" "$BUILT" "$c0" "$c1" "$c1b" "$c2" "$c3" <<'PY'
import json, re, sys, datetime
rows, t0, ta, t1, t2, t2b, t3 = int(sys.argv[1]), *map(float, sys.argv[2:8])
anchored, delivered, work, readme, load, built = int(sys.argv[8]), int(sys.argv[9]), sys.argv[10], sys.argv[11], sys.argv[12], sys.argv[13]
c0, c1, c1b, c2, c3 = map(float, sys.argv[14:19])
collect = json.load(open(f"{work}/collect.json")); deliver = json.load(open(f"{work}/deliver.json"))
rss = lambda f: int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f).read()).group(1)) // 1024
cpu = lambda f: sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", open(f).read()).group(1)) for k in ("User", "System"))
phases = lambda f: "; ".join(m.strip() for m in re.findall(r"(phases[^:\n]*: [^\n]*)", open(f).read())) or "not logged"
anchor_s, collect_s, deliver_s = ta - t0, t2 - t1, t3 - t2b
clients = sum(float(x) for f in ("anchor-out", "anchor-in") for x in open(f"{work}/{f}.time").read().split()[-2:])
e2e = rows / (collect_s + deliver_s); anchor = rows / anchor_s
lines = [
    f"## {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {rows:,} rows ({built})",
    f"- load: `{load.strip()}`",
    f"- anchor `COPY TO STDOUT | COPY FROM STDIN`: {anchor_s:.1f} s, {anchor:,.0f} rows/s ({anchored:,} rows)",
    f"- collection (`lianqiao exchange run`, snapshot, rules on): {collect_s:.1f} s wall, status {collect['status']}, read {collect['rowsRead']:,}, accepted {collect['rowsAccepted']:,}, quarantined {collect['rowsQuarantined']:,}; peak RSS {rss(work + '/collect.time')} MB, process CPU {cpu(work + '/collect.time'):.1f} s ({cpu(work + '/collect.time') / rows * 1e6:.1f} s per 1M rows)",
    f"  - phases (the loader's log): {phases(work + '/collect.log')}",
    f"- delivery (`lianqiao exchange run`, masked, PostgreSQL target): {deliver_s:.1f} s wall, status {deliver['status']}, {deliver['batches']} batches, {delivered:,} rows in the target; peak RSS {rss(work + '/deliver.time')} MB, process CPU {cpu(work + '/deliver.time'):.1f} s ({cpu(work + '/deliver.time') / rows * 1e6:.1f} s per 1M rows)",
    f"  - phases (the delivery's log): {phases(work + '/deliver.log')}",
    f"- CPU by side (user+sys s): anchor psql clients {clients:.1f} + PostgreSQL server {c1 - c0:.1f}; "
    f"collection ours {cpu(work + '/collect.time'):.1f} + server {c2 - c1b:.1f}; delivery ours {cpu(work + '/deliver.time'):.1f} + server {c3 - c2:.1f}",
    "  - the server's CPU by database (a backend's database, or the background process): "
    + "; ".join(f"{stage} {open(f'{work}/{stage}.pg.json').read().strip()}" for stage in ("anchor", "collect", "deliver")),
    f"- end to end: {e2e:,.0f} rows/s (source rows / (collection + delivery wall time, each including process start))",
    f"- **ratio to the anchor: {e2e / anchor:.2f}×** (target ≥ 0.5×)",
    f"- the runs alone (their recorded durations, without process start): {collect['durationMs'] / 1000:.1f} s + {deliver['durationMs'] / 1000:.1f} s, "
    f"{rows / ((collect['durationMs'] + deliver['durationMs']) / 1000):,.0f} rows/s, {rows / ((collect['durationMs'] + deliver['durationMs']) / 1000) / anchor:.2f}× the anchor",
    "",
]
print("\n".join(lines))
# Newest first: the run goes above the earlier ones, which stay.
text = open(readme).read(); at = text.find("\n## ") + 1 or len(text)
with open(readme, "w") as f: f.write(text[:at] + "\n".join(lines) + "\n" + text[at:])
PY
