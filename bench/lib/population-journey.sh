# Shared setup for the benchmarks that use the demo city's population-basic (sourced, not run). Needs ROOT, WORK and ROWS.
#
# start_population_server DATABASE: the generated population file, its own PostgreSQL, and a demo server on DATABASE.
#   Sets: PGHOST… (from .ci/pg-up.sh), LIANQIAO_DB, BIN, URL, SERVER, CSV.
# apply_for_population FIELDS: 人社 applies for the fields in FIELDS (JSON array) for 人社业务系统 and the police approver approves.
#   Sets: ADMIN (an admin key), HRSS_DEPT, APP_ID (人社业务系统), APP (its key).
# start_population_journey DATABASE FIELDS: both, with the population file loaded into population-basic in between.
#   Sets also TABLE (population-basic's dataset table).
start_population_server() {
  local database=$1
  CSV=$WORK/population-$ROWS.csv
  [ -s "$CSV" ] || python3 "$ROOT/../shared/bench/gen_population.py" --rows "$ROWS" --out "$CSV" >&2
  export PGTEST=$WORK/pg
  eval "$(bash "$ROOT/.ci/pg-up.sh")"
  psql -Xq -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database" postgres
  export LIANQIAO_DB="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$database;Maximum Pool Size=64${PG_EXTRA:-}"

  echo "building Release…" >&2
  dotnet build "$ROOT/src/Lianqiao" -c Release -nologo -clp:ErrorsOnly >&2
  BIN=$ROOT/src/Lianqiao/bin/Release/net10.0/Lianqiao
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 ASPNETCORE_ENVIRONMENT=Production

  $BIN serve --demo --data "$WORK/data" --urls http://127.0.0.1:0 > "$WORK/serve.log" 2>&1 & SERVER=$!
  for _ in $(seq 1 180); do grep -q "listening on" "$WORK/serve.log" && break; sleep 1; done
  URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" | tail -1)
}

apply_for_population() {
  local fields=$1 hrss approver request
  hrss=$($BIN admin create-key --user hrss-consumer --data "$WORK/data" 2>/dev/null | tail -1)
  approver=$($BIN admin create-key --user police-approver --data "$WORK/data" 2>/dev/null | tail -1)
  ADMIN=$($BIN admin create-key --user admin --data "$WORK/data" 2>/dev/null | tail -1)
  APP=$(awk -F'\t' '$1=="app-key" && $2=="人社业务系统" {print $3}' "$WORK/data/demo-accounts.txt")
  HRSS_DEPT=$(curl -sf -H "Authorization: Bearer $ADMIN" "$URL/api/v1/departments" | python3 -c 'import json,sys; print(next(d["id"] for d in json.load(sys.stdin) if d["name"]=="市人社局"))')
  APP_ID=$(curl -sf -H "Authorization: Bearer $ADMIN" "$URL/api/v1/departments/$HRSS_DEPT/apps" | python3 -c 'import json,sys; print(next(a["id"] for a in json.load(sys.stdin) if a["name"]=="人社业务系统"))')
  request=$(curl -sf -H "Authorization: Bearer $hrss" -H 'Content-Type: application/json' "$URL/api/v1/share-requests" \
    -d "{\"resourceId\":\"population-basic\",\"appId\":\"$APP_ID\",\"fields\":$fields,\"purpose\":\"bench\",\"legalBasis\":\"bench\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -X POST -H "Authorization: Bearer $approver" "$URL/api/v1/share-requests/$request/approve" > /dev/null
}

start_population_journey() {
  local database=$1 fields=$2
  start_population_server "$database"
  echo "loading $ROWS rows into population-basic…" >&2
  $BIN load population-basic "$CSV" --mode replace --data "$WORK/data" >&2
  apply_for_population "$fields"
  TABLE=$(psql -XAtq "$database" -c "SELECT \"TableName\" FROM dataset_tables WHERE \"ResourceId\" = 'population-basic'")
}
