#!/usr/bin/env python3
"""Drives bench/catalog-search: generate, serve, measure the API with wrk and the same SQL in the database, write README.md."""
import argparse, datetime, json, os, platform, re, sqlite3, statistics, subprocess, sys, time, urllib.parse, urllib.request

BIN = os.environ["LIANQIAO_BIN"]
WORK = os.environ["LIANQIAO_BENCH_WORK"]
SECONDS = int(os.environ.get("LIANQIAO_BENCH_SECONDS", "5"))
DB_RUNS = int(os.environ.get("LIANQIAO_BENCH_DB_RUNS", "30"))
FACETS = ["ClassCode", "ShareType", "OpenType", "FormatCategory", "UpdateCycle", "Grade", "Library"]
FILTER_COLUMNS = {"shareType": "ShareType", "format": "FormatCategory", "openType": "OpenType", "updateCycle": "UpdateCycle", "department": "DepartmentId"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def queries(top_department):
    # Typical searches: two-character words, a four-character phrase (three bigrams), facet filters with and without words.
    return [
        ("人口", {"q": "人口"}),
        ("公交", {"q": "公交"}),
        ("信用", {"q": "信用"}),
        ("公交线路 (3 bigrams)", {"q": "公交线路"}),
        ("人口 + shareType=1", {"q": "人口", "shareType": "1"}),
        ("信用 + format=3 + openType=1", {"q": "信用", "format": "3", "openType": "1"}),
        ("department + updateCycle=2 (no words)", {"department": top_department, "updateCycle": "2"}),
    ]


def tokens(q):
    """Query tokens as CjkTokenizer.TokenizeQuery makes them for Han runs: bigrams of runs longer than one character."""
    out = []
    for run in re.findall(r"[\u4e00-\u9fff]+", q):
        grams = [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]
        for g in grams:
            if g not in out:
                out.append(g)
    return out


def statements(params, pg):
    """The statements one API search issues (count, page, departments, code tables, eight facets), as hand-written SQL."""
    def lit(v):
        return "'" + v.replace("'", "''") + "'"
    where = ['r."RevisionOf" IS NULL', "r.\"Status\" = 'Published'"]
    for t in tokens(params.get("q", "")):
        where.append(f'r."Id" IN (SELECT t."ResourceId" FROM catalog_search_tokens AS t WHERE t."Token" = {lit(t)})')
    for name, column in FILTER_COLUMNS.items():
        if name in params:
            value = params[name] if pg or name != "department" else params[name].upper()
            where.append(f'r."{column}" IN ({lit(value)})')
    base = "FROM catalog_resources AS r WHERE " + " AND ".join(where)
    sql = [f"SELECT COUNT(*) {base}",
           f'SELECT r.* {base} ORDER BY r."UpdatedAt" DESC, r."Id" LIMIT 20 OFFSET 0',
           'SELECT d."Id", d."Name" FROM departments AS d',
           'SELECT c."TableCode", c."Code", c."Label", c."LabelEn" FROM code_entries AS c WHERE c."RetiredInVersion" IS NULL ORDER BY c."SortOrder"',
           f'SELECT r."DepartmentId", COUNT(*) {base} GROUP BY r."DepartmentId"']
    sql += [f'SELECT r."{c}", COUNT(*) {base} GROUP BY r."{c}"' for c in FACETS]
    return sql


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run(cmd, **kw):
    log("$", " ".join(cmd if isinstance(cmd, list) else [cmd]))
    done = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if done.returncode != 0:
        log(done.stderr[-4000:])
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}")
    return done


def prepare(name, data, db):
    extra = ["--db", db] if db else []
    t0 = time.time()
    gen = run([BIN, "dev", "generate-catalog", "--count", str(ARGS.count), "--data", data] + extra)
    log(gen.stdout.strip())
    generated = time.time() - t0
    key = run([BIN, "admin", "create-key", "--user", "admin", "--data", data] + extra).stdout.strip().splitlines()[-1]
    return key, generated, gen.stdout.strip()


def serve(data, db, port):
    extra = ["--db", db] if db else []
    proc = subprocess.Popen([BIN, "serve", "--data", data, "--urls", f"http://127.0.0.1:{port}"] + extra,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start")


def api(port, key, params):
    url = f"http://127.0.0.1:{port}/api/v1/catalog/?" + urllib.parse.urlencode(params)
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + key})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        total = json.load(r)["total"]
    # Long enough for at least ~30 requests however slow the search is on this machine.
    seconds = max(SECONDS, min(120, int(30 * (time.perf_counter() - t0)) + 1))
    lua = os.path.join(WORK, "report.lua")
    with open(lua, "w") as f:
        f.write('wrk.headers["Authorization"] = "Bearer ' + key + '"\n'
                'done = function(s, latency, requests)\n'
                '  local e = s.errors.connect + s.errors.read + s.errors.write + s.errors.status + s.errors.timeout\n'
                '  io.write(string.format("WRK {\\"p50\\": %f, \\"p95\\": %f, \\"n\\": %d, \\"errors\\": %d}\\n",'
                ' latency:percentile(50) / 1000, latency:percentile(95) / 1000, s.requests, e))\nend\n')
    out = run(["wrk", "-t1", "-c1", f"-d{seconds}s", "--timeout", "60s", "-s", lua, url]).stdout
    result = json.loads(out.split("WRK ", 1)[1].splitlines()[0])
    if result["errors"] or result["n"] == 0:
        raise SystemExit(f"wrk saw {result['errors']} errors for {url}")
    return total, result


def db_sqlite(path, params):
    con = sqlite3.connect(path)
    sql = statements(params, pg=False)
    times = []
    for i in range(DB_RUNS + 3):
        t0 = time.perf_counter()
        for s in sql:
            con.execute(s).fetchall()
        if i >= 3:  # warm-up runs are dropped, as wrk's first requests warm the server
            times.append((time.perf_counter() - t0) * 1000)
    count = con.execute(sql[0]).fetchone()[0]
    con.close()
    return count, {"p50": pct(times, 50), "p95": pct(times, 95), "n": len(times)}


def db_pg(dsn, params):
    sql = statements(params, pg=True)
    script = "\\timing on\n\\o /dev/null\n" + "".join(";\n".join(sql) + ";\n" for _ in range(DB_RUNS + 3))
    out = run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn], input=script).stdout
    ms = [float(x) for x in re.findall(r"^Time: ([0-9.]+) ms", out, re.M)]
    per = len(sql)
    times = [sum(ms[i * per:(i + 1) * per]) for i in range(3, len(ms) // per)]
    count = int(run(["psql", "-X", "-qAt", dsn, "-c", sql[0]]).stdout.strip())
    return count, {"p50": pct(times, 50), "p95": pct(times, 95), "n": len(times)}


def provider(name, port, data, db, direct):
    log(f"== {name}: generating {ARGS.count} resources")
    key, generated, line = prepare(name, data, db)
    if name == "SQLite":
        path = os.path.join(data, "lianqiao.db")
        top = sqlite3.connect(path).execute("SELECT \"DepartmentId\" FROM catalog_resources GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0].lower()
    else:
        top = run(["psql", "-X", "-qAt", db_dsn(db), "-c", "SELECT \"DepartmentId\" FROM catalog_resources GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1"]).stdout.strip()
    proc = serve(data, db, port)
    rows = []
    try:
        for label, params in queries(top):
            total, a = api(port, key, params)
            count, d = direct(params)
            if count != total:
                raise SystemExit(f"{name} {label}: API total {total} but SQL count {count}")
            rows.append({"query": label, "matches": total, "api": a, "db": d})
            log(f"{name:10} {label:40} matches {total:6}  API p50 {a['p50']:8.2f} p95 {a['p95']:8.2f} ms ({a['n']} req)"
                f"  DB p50 {d['p50']:8.2f} p95 {d['p95']:8.2f} ms  ratio p50 {a['p50'] / d['p50']:5.2f} p95 {a['p95'] / d['p95']:5.2f}")
    finally:
        proc.terminate()
        proc.wait(30)
    return {"provider": name, "generate_seconds": generated, "generate": line, "rows": rows}


def db_dsn(conn):
    parts = dict(p.split("=", 1) for p in conn.split(";") if p)
    return f"postgresql://{parts['Username']}:{parts['Password']}@{parts['Host']}:{parts['Port']}/{parts['Database']}"


def machine():
    cpu = "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = next((int(l.split()[1]) // 1024 // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    load = open("/proc/loadavg").read().split()[:3]
    return f"{cpu}, {os.cpu_count()} cores, {mem} GiB RAM, {platform.system()} {platform.release()}; load average at start {' '.join(load)}"


def readme(results, started, host):
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], text=True, capture_output=True).stdout.strip()
    sqlite_version = subprocess.run(["sqlite3", "--version"], text=True, capture_output=True).stdout.split()[0]
    pg_version = subprocess.run(["psql", "--version"], text=True, capture_output=True).stdout.strip()
    lines = [
        "# Catalog search benchmark",
        "",
        "`bench/catalog-search/run.sh [count]` — one command. It builds the host (Release), generates the resources into a fresh",
        "SQLite data folder and a fresh PostgreSQL database (`lianqiao dev generate-catalog`, a hidden command: resource rows through",
        "EF in batches, search tokens from `CatalogRules.Tokens` written in bulk), starts `lianqiao serve` on each, and measures",
        "typical searches two ways in the same run:",
        "",
        "- **API**: `GET /api/v1/catalog/?q=…` with an admin API key, `wrk -t1 -c1` for "
        f"at least {SECONDS} s per query (long enough for ~30 requests; latency of each request, end to end: auth, count, page,",
        "  eight facets, JSON).",
        "- **DB**: the same token-table SQL the search issues (count, page of 20, departments, code tables, eight facet",
        "  GROUP BYs; one `\"Id\" IN (SELECT … FROM catalog_search_tokens WHERE \"Token\" = …)` per query token) run directly in",
        "  the database: in-process with",
        "  Python's `sqlite3` module for SQLite (its CLI timer has millisecond resolution) and by `psql` with `\\timing` for PostgreSQL",
        f"  (server time per statement, summed per search); {DB_RUNS} runs after 3 warm-up runs.",
        "",
        "The ratio is API ÷ DB: what the HTTP host, authentication, EF and serialisation add on top of the database work.",
        "The search's total and the SQL `COUNT(*)` are checked to be equal for every query.",
        "",
        f"## Results — {started:%Y-%m-%d %H:%M} UTC, commit `{commit}`",
        "",
        f"Machine: {host}. SQLite CLI {sqlite_version}; {pg_version} (fsync off, as the test server).",
        "",
    ]
    for r in results:
        lines += [f"### {r['provider']} — {ARGS.count:,} generated resources (+ the demo catalog); {r['generate']}", "",
                  "| query | matches | API p50 ms | API p95 ms | DB p50 ms | DB p95 ms | ratio p50 | ratio p95 |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in r["rows"]:
            a, d = row["api"], row["db"]
            lines.append(f"| {row['query']} | {row['matches']:,} | {a['p50']:.1f} | {a['p95']:.1f} | {d['p50']:.1f} | {d['p95']:.1f} | "
                         f"{a['p50'] / d['p50']:.2f} | {a['p95'] / d['p95']:.2f} |")
        lines.append("")
    lines += [
        "## Reading the figures",
        "",
        "- The machine is a shared 2-core box; the load average above says how busy it was. Absolute times move with it; the",
        "  ratios move less because both sides ran in the same minutes.",
        "- Most of the time, on both sides, is the facets: eight GROUP BYs over every match. A word that matches a large share of",
        "  the catalog costs in proportion to its matches, not to the catalog's size; the token lookup itself is an index seek.",
        "- Generated resources carry no data items (their item names are in the tokens); 90 % are published. The generator runs",
        "  `ANALYZE` at the end: without statistics SQLite drives the search from the 90,000 published rows instead of the token",
        "  index, and a common word took about 1.3 s per statement (4 s per search) on this machine.",
        "",
    ]
    with open(ARGS.readme, "w") as f:
        f.write("\n".join(lines))


def main():
    started = datetime.datetime.now(datetime.timezone.utc)
    host = machine()
    results = []
    sqlite_data = os.path.join(WORK, "sqlite")
    results.append(provider("SQLite", 5181, sqlite_data, None, lambda p: db_sqlite(os.path.join(sqlite_data, "lianqiao.db"), p)))
    server = os.environ.get("ConnectionStrings__Postgres")
    if server:
        name = "lq_bench_" + str(os.getpid())
        run(["psql", "-X", "-qAt", db_dsn(server), "-c", f"CREATE DATABASE {name}"])
        conn = re.sub(r"Database=[^;]*", "Database=" + name, server)
        results.append(provider("PostgreSQL", 5182, os.path.join(WORK, "pg-data"), conn, lambda p: db_pg(db_dsn(conn), p)))
    readme(results, started, host)
    print(open(ARGS.readme).read())


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--readme", required=True)
    ARGS = ap.parse_args()
    main()
