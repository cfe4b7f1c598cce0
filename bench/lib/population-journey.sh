# Shared setup for the benchmarks that read population rows through the data API (sourced, not run).
# Needs ROOT, WORK and ROWS. Starts its own PostgreSQL, a demo server on database $1, loads the generated population
# file into population-basic and lets 人社 apply for the fields in $2 (JSON array) with the police approver approving.
# Sets: PGHOST… (from .ci/pg-up.sh), LIANQIAO_DB, BIN, URL, SERVER, CSV, APP (the 人社业务系统 key), TABLE.
start_population_journey() {
  local database=$1 fields=$2
  CSV=$WORK/population-$ROWS.csv
  [ -s "$CSV" ] || python3 "$ROOT/../shared/bench/gen_population.py" --rows "$ROWS" --out "$CSV" >&2
  export PGTEST=$WORK/pg
  eval "$(bash "$ROOT/.ci/pg-up.sh")"
  psql -Xq -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database" postgres
  export LIANQIAO_DB="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$database;Maximum Pool Size=64"

  echo "building Release…" >&2
  dotnet build "$ROOT/src/Lianqiao" -c Release -nologo -clp:ErrorsOnly >&2
  BIN=$ROOT/src/Lianqiao/bin/Release/net10.0/Lianqiao
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 ASPNETCORE_ENVIRONMENT=Production

  $BIN serve --demo --data "$WORK/data" --urls http://127.0.0.1:0 > "$WORK/serve.log" 2>&1 & SERVER=$!
  for _ in $(seq 1 180); do grep -q "listening on" "$WORK/serve.log" && break; sleep 1; done
  URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" | tail -1)
  echo "loading $ROWS rows into population-basic…" >&2
  $BIN load population-basic "$CSV" --mode replace --data "$WORK/data" >&2

  local hrss approver admin dept app_id request
  hrss=$($BIN admin create-key --user hrss-consumer --data "$WORK/data" 2>/dev/null | tail -1)
  approver=$($BIN admin create-key --user police-approver --data "$WORK/data" 2>/dev/null | tail -1)
  admin=$($BIN admin create-key --user admin --data "$WORK/data" 2>/dev/null | tail -1)
  APP=$(awk -F'\t' '$1=="app-key" && $2=="人社业务系统" {print $3}' "$WORK/data/demo-accounts.txt")
  dept=$(curl -sf -H "Authorization: Bearer $admin" "$URL/api/v1/departments" | python3 -c 'import json,sys; print(next(d["id"] for d in json.load(sys.stdin) if d["name"]=="市人社局"))')
  app_id=$(curl -sf -H "Authorization: Bearer $admin" "$URL/api/v1/departments/$dept/apps" | python3 -c 'import json,sys; print(next(a["id"] for a in json.load(sys.stdin) if a["name"]=="人社业务系统"))')
  request=$(curl -sf -H "Authorization: Bearer $hrss" -H 'Content-Type: application/json' "$URL/api/v1/share-requests" \
    -d "{\"resourceId\":\"population-basic\",\"appId\":\"$app_id\",\"fields\":$fields,\"purpose\":\"bench\",\"legalBasis\":\"bench\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -X POST -H "Authorization: Bearer $approver" "$URL/api/v1/share-requests/$request/approve" > /dev/null
  TABLE=$(psql -XAtq "$database" -c "SELECT \"TableName\" FROM dataset_tables WHERE \"ResourceId\" = 'population-basic'")
}
