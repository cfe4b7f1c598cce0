#!/usr/bin/env bash
# File-resource benchmark (issue 4, file resources): one large attachment streamed in and out through the API,
# against the same bytes moved without Lianqiao, in the same run:
#   upload anchor    sha256sum + cp of the file: the least a content-addressed store must do (hash it, write it once)
#   download anchor  python3 -m http.server serving the same file, fetched with the same curl command
# Prints seconds, MB/s, the ratios (anchor time / ours: 1.0 = as fast as the anchor) and the server's peak resident
# memory sampled while the transfers run, against its resident memory before them: streaming means it does not grow
# with the file. usage: bench/files/run.sh [SIZE_MB=1024] [RUNS=3]     needs hyperfine, curl, sqlite3, python3
set -euo pipefail
SIZE=${1:-1024}; RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
WORK=${BENCH_WORK:-/tmp/lianqiao-bench-files}; mkdir -p "$WORK"
FILE=$WORK/blob-$SIZE.bin
[ -s "$FILE" ] || head -c "${SIZE}M" /dev/urandom > "$FILE"
cat "$FILE" > /dev/null   # warm the page cache for both sides alike

echo "building Release…" >&2
dotnet build "$ROOT/src/Lianqiao" -c Release -nologo -clp:ErrorsOnly >&2
BIN=$ROOT/src/Lianqiao/bin/Release/net10.0/Lianqiao
export DOTNET_CLI_TELEMETRY_OPTOUT=1 ASPNETCORE_ENVIRONMENT=Production

rm -rf "$WORK/data"
$BIN serve --demo --urls http://127.0.0.1:0 --data "$WORK/data" > "$WORK/serve.log" 2>&1 & PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; [ -n "${HTTP_PID:-}" ] && kill "$HTTP_PID" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 300); do grep -q "listening on" "$WORK/serve.log" && break; sleep 1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" | tail -1)
KEY=$($BIN admin create-key --user admin --data "$WORK/data" 2>/dev/null | tail -1)
# The demo's file resource (it carries the seeded PDF as version 1).
SLUG=$(sqlite3 "$WORK/data/lianqiao.db" "SELECT ResourceId FROM dataset_file_versions ORDER BY Version LIMIT 1")
echo "server $URL, file resource $SLUG, file ${SIZE} MB" >&2

# The server's resident memory, sampled every 100 ms while the transfers run.
rss_now() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
RSS_BEFORE=$(rss_now)
( max=0; while kill -0 "$PID" 2>/dev/null && [ ! -e "$WORK/stop-sampling" ]; do
    r=$(rss_now); [ "${r:-0}" -gt "$max" ] && max=$r && echo "$max" > "$WORK/rss-max"; sleep 0.1; done ) & SAMPLER=$!
rm -f "$WORK/stop-sampling" "$WORK/rss-max"

python3 -m http.server 0 --bind 127.0.0.1 --directory "$WORK" > "$WORK/http.log" 2>&1 & HTTP_PID=$!
for _ in $(seq 1 50); do grep -q "port" "$WORK/http.log" && break; sleep 0.2; done
HTTP_PORT=$(grep -o 'port [0-9]*' "$WORK/http.log" | head -1 | cut -d' ' -f2)

AUTH="Authorization: Bearer $KEY"
# One upload first, so the download has a version to fetch (version 2) whatever hyperfine's order.
curl -sf -o /dev/null -H "$AUTH" -H 'Content-Type: application/octet-stream' -T "$FILE" -X POST "$URL/api/v1/datasets/$SLUG/files?fileName=blob.bin"
hyperfine --runs "$RUNS" --warmup 0 --export-json "$WORK/hyperfine.json" --style basic \
  -n upload "curl -sf -o /dev/null -H '$AUTH' -H 'Content-Type: application/octet-stream' -T '$FILE' -X POST '$URL/api/v1/datasets/$SLUG/files?fileName=blob.bin'" \
  -n upload-anchor "sh -c 'sha256sum \"$FILE\" > /dev/null && cp \"$FILE\" \"$WORK/copy.bin\"'" \
  -n download "curl -sf -o /dev/null -H '$AUTH' '$URL/api/v1/datasets/$SLUG/files/2'" \
  -n download-anchor "curl -sf -o /dev/null 'http://127.0.0.1:$HTTP_PORT/blob-$SIZE.bin'" >&2
touch "$WORK/stop-sampling"; wait "$SAMPLER" 2>/dev/null || true
RSS_MAX=$(cat "$WORK/rss-max" 2>/dev/null || echo "$RSS_BEFORE")
rm -f "$WORK/copy.bin"

python3 - "$WORK/hyperfine.json" "$SIZE" "$RSS_BEFORE" "$RSS_MAX" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2]); before, peak = int(sys.argv[3]) // 1024, int(sys.argv[4]) // 1024
print(f"{'step':<17}{'mean s':>9}{'± s':>7}{'MB/s':>9}")
for name in ("upload", "upload-anchor", "download", "download-anchor"):
    r = results[name]
    print(f"{name:<17}{r['mean']:>9.2f}{r['stddev'] or 0:>7.2f}{size / r['mean']:>9.0f}")
for kind in ("upload", "download"):
    print(f"ratio {kind}: {results[kind + '-anchor']['mean'] / results[kind]['mean']:.2f}x of the anchor's speed")
print(f"server resident memory: {before} MB before, peak {peak} MB during {size} MB transfers (growth {peak - before} MB)")
PY
