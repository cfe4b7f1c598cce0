using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Lianqiao.Data;
using Lianqiao.Datasets.Storage;
using Lianqiao.Quality;
using Lianqiao.Reference;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Lianqiao.Datasets.Loading;

public static class LoadModes
{
    public const string Append = "append";
    public const string Upsert = "upsert";
    public const string Replace = "replace";
    /// <summary>The file lists keys; their rows become tombstones.</summary>
    public const string Delete = "delete";
    public static readonly string[] All = [Append, Upsert, Replace, Delete];
}

/// <summary>What to load where. A file by default; <see cref="Rows"/> instead for rows that do not come from a file.</summary>
/// <param name="ColumnMap">File header → schema column chosen in the load wizard; an empty value ignores that file column.</param>
/// <param name="LoadId">The id the load will have, when the caller must know it before the load starts (the wizard's progress page).</param>
internal sealed record LoadRequest(string ResourceId, string Mode, string Format, string FilePath, string? FileName, long FileBytes, string ActorId, string ActorName,
    IReadOnlyDictionary<string, string>? ColumnMap = null, Guid? LoadId = null)
{
    /// <summary>When set, the rows to load (and <see cref="FilePath"/> is not read).</summary>
    public RowStream? Rows { get; init; }

    /// <summary>
    /// A load of rows from anywhere (e.g. an exchange connector reading a database): the same checks, quarantine,
    /// report and atomic commit as a file. <paramref name="sourceName"/> is shown where a file name would be.
    /// </summary>
    public static LoadRequest FromRows(string resourceId, string mode, RowStream rows, string sourceName, string actorId, string actorName) =>
        new(resourceId, mode, LoadFormats.Rows, "", sourceName, 0, actorId, actorName) { Rows = rows };

    /// <summary>When set, the open source to read the rows from; the load disposes it when done (a second dispose must be harmless).</summary>
    public RowSource? Source { get; init; }

    /// <summary>
    /// As <see cref="FromRows"/>, from a source the caller opened (an exchange connector's database reader): the loader
    /// reads its cells where they are, with no row array copied and handed over per row.
    /// </summary>
    public static LoadRequest FromSource(string resourceId, string mode, RowSource source, string sourceName, string actorId, string actorName) =>
        new(resourceId, mode, LoadFormats.Rows, "", sourceName, 0, actorId, actorName) { Source = source };
}

internal sealed record LoadProgress(long Rows, double Fraction);

/// <summary>A load refused before or while reading the file; maps to a problem response.</summary>
internal sealed class LoadRefusedException(int status, string code, string titleZh, string detailEn, IReadOnlyDictionary<string, string[]>? errors = null)
    : Exception(detailEn)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string TitleZh { get; } = titleZh;
    public IReadOnlyDictionary<string, string[]>? Errors { get; } = errors;
    public Guid? LoadId { get; set; }
}

/// <summary>
/// One load, start to end: read the file a row at a time, check each row, stage good rows in a temporary
/// table (binary COPY on PostgreSQL, prepared inserts on SQLite) and bad ones in quarantine, run the
/// set-based checks (uniqueness, references) in SQL, then merge into the resource table in one short
/// transaction. Until that commit the resource table is untouched, so a failure or a killed process
/// leaves the previous rows exactly as they were.
/// </summary>
internal sealed partial class DatasetLoader(
    IServiceScopeFactory scopes, ITableSchemaSource schemas, DatasetStore store, TimeProvider time, ILogger<DatasetLoader> logger)
{
    /// <summary>This process, as recorded on its loads: machine:pid:instance.</summary>
    public static readonly string Node = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(10);
    TimeProvider Time => time;
    IServiceScopeFactory Scopes => scopes;

    public async Task<DatasetLoad> RunAsync(LoadRequest request, IProgress<LoadProgress>? progress, CancellationToken ct)
    {
        if (!LoadModes.All.Contains(request.Mode))
            throw new LoadRefusedException(400, "validation", "导入方式无效", "mode must be append, upsert, replace or delete.");
        var schema = await schemas.FindAsync(request.ResourceId, ct)
            ?? throw new LoadRefusedException(404, "not-found", "资源不存在", "The resource does not exist or has no table schema.");
        var keyed = schema.KeyColumns.Any();
        if (!keyed && request.Mode is LoadModes.Upsert or LoadModes.Delete)
            throw new LoadRefusedException(400, "no-key", "该资源没有主键信息项，不能按主键更新或删除", $"mode={request.Mode} needs key columns; this resource has none.");

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        DatasetTable table;
        try
        {
            (table, _) = await store.EnsureTableAsync(db, schema, ct);
        }
        catch (DatasetBusyException)
        {
            throw Busy();
        }

        var now = time.GetUtcNow();
        var load = new DatasetLoad
        {
            Id = request.LoadId ?? Guid.CreateVersion7(),
            ResourceId = schema.ResourceId, DepartmentId = schema.DepartmentId, TableName = table.TableName,
            Mode = request.Mode, Format = request.Format, FileName = request.FileName, FileBytes = request.FileBytes,
            StartedAt = now, HeartbeatAt = now, Node = Node, StartedBy = request.ActorId, StartedByName = request.ActorName,
        };
        // One load per resource at a time: the registry row is the lock, taken by a conditional update.
        var won = await db.Set<DatasetTable>().Where(t => t.ResourceId == schema.ResourceId && t.RunningLoadId == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RunningLoadId, load.Id), ct);
        if (won == 0) throw Busy();
        db.Add(load);
        await db.SaveChangesAsync(CancellationToken.None);
        LogStarted(load.Id, schema.ResourceId, request.Mode);

        using var heartbeat = new CancellationTokenSource();
        var beating = HeartbeatAsync(load.Id, heartbeat.Token);
        try
        {
            var run = new Run(this, db, schema, table, load, request, progress);
            await run.ExecuteAsync(ct);
            LogFinished(load.Id, load.RowsRead, load.RowsAccepted, load.RowsQuarantined);
            return load;
        }
        catch (Exception ex)
        {
            var message = ex switch
            {
                LoadRefusedException r => $"{r.TitleZh} / {r.Message}" + (r.Errors is null ? "" : " " + string.Join("; ", r.Errors.SelectMany(e => e.Value.Select(v => $"{e.Key}: {v}")))),
                LoadFileException f => $"{f.MessageZh} / {f.Message}",
                OperationCanceledException => "导入已取消 / the load was cancelled",
                _ => "导入失败 / " + ex.Message,
            };
            await FailAsync(load.Id, schema.ResourceId, message);
            if (ex is LoadRefusedException refused) { refused.LoadId = load.Id; throw; }
            if (ex is LoadFileException file) throw new LoadRefusedException(400, file.Code, file.MessageZh, file.Message) { LoadId = load.Id };
            LogFailed(ex, load.Id);
            throw;
        }
        finally
        {
            await heartbeat.CancelAsync();
            await beating;
        }
    }

    static LoadRefusedException Busy() =>
        new(409, "load-in-progress", "该资源正在导入，请稍后再试", "Another load is running for this resource; retry when it has finished.");

    async Task HeartbeatAsync(Guid loadId, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(HeartbeatEvery, time);
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
                    var at = time.GetUtcNow();
                    await db.Set<DatasetLoad>().Where(l => l.Id == loadId && l.Status == LoadStatus.Running)
                        .ExecuteUpdateAsync(s => s.SetProperty(l => l.HeartbeatAt, at), ct);
                }
                catch (Exception ex) when (ex is DbException or InvalidOperationException)
                {
                    // A busy database delays a heartbeat; the stale-load check allows for several missed beats.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The load ended.
        }
    }

    async Task FailAsync(Guid loadId, string resourceId, string message)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        var at = time.GetUtcNow();
        var error = message.Length > 4000 ? message[..4000] : message;
        await db.Set<DatasetLoad>().Where(l => l.Id == loadId && l.Status == LoadStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Status, LoadStatus.Failed).SetProperty(l => l.Error, error).SetProperty(l => l.FinishedAt, at));
        await db.Set<DatasetTable>().Where(t => t.ResourceId == resourceId && t.RunningLoadId == loadId)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RunningLoadId, (Guid?)null));
    }

    /// <summary>
    /// Marks loads whose process is gone as failed and frees their resources: a load of a dead process on
    /// this machine at once, any other after two minutes without a heartbeat.
    /// </summary>
    public static async Task<int> RecoverAsync(LianqiaoDb db, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var running = await db.Set<DatasetLoad>().Where(l => l.Status == LoadStatus.Running).ToListAsync(ct);
        var count = 0;
        foreach (var load in running)
        {
            if (load.Node == Node || (!IsDeadLocalProcess(load.Node) && now - load.HeartbeatAt < TimeSpan.FromMinutes(2))) continue;
            var failed = await db.Set<DatasetLoad>().Where(l => l.Id == load.Id && l.Status == LoadStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.Status, LoadStatus.Failed)
                    .SetProperty(l => l.Error, "导入进程中断，数据未改变 / the loading process stopped before committing; the previous data is unchanged")
                    .SetProperty(l => l.FinishedAt, now), ct);
            await db.Set<DatasetTable>().Where(t => t.RunningLoadId == load.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.RunningLoadId, (Guid?)null), ct);
            count += failed;
        }
        return count;
    }

    static bool IsDeadLocalProcess(string node)
    {
        var parts = node.Split(':');
        if (parts.Length < 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid)) return false;
        if (pid == Environment.ProcessId) return true; // same pid, other instance: an earlier process
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Load {LoadId} of {ResourceId} started ({Mode})")]
    partial void LogStarted(Guid loadId, string resourceId, string mode);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Load {LoadId} finished: {Read} read, {Accepted} accepted, {Quarantined} quarantined")]
    partial void LogFinished(Guid loadId, long read, long accepted, long quarantined);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Load {LoadId} phases ({Path}): read+check+write {WriteMs} ms, set checks {ChecksMs} ms, merge+commit {MergeMs} ms")]
    partial void LogPhases(Guid loadId, string path, long writeMs, long checksMs, long mergeMs);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Load {LoadId} failed")]
    partial void LogFailed(Exception ex, Guid loadId);

    /// <summary>The state of one running load.</summary>
    sealed class Run(DatasetLoader owner, LianqiaoDb db, TableSchema fullSchema, DatasetTable table, DatasetLoad load, LoadRequest request, IProgress<LoadProgress>? progress)
    {
        readonly SqlDialect sql = new(db.IsPostgres);
        readonly QualityTally tally = new();
        readonly string stg = "stg_" + load.Id.ToString("N")[..24];
        readonly string rej = "rej_" + load.Id.ToString("N")[..24];
        readonly bool deleting = request.Mode == LoadModes.Delete;
        TableSchema schema = null!;
        DbConnection conn = default!;
        DbTransaction? tx;
        QuarantineWriter quarantine = default!;
        // Where the accepted rows wait for the set-based checks: the staging table (rows keyed by "_line"),
        // or, when writing directly, the resource table itself (rows keyed by "_seq" = seqBase + line).
        bool direct;
        // A replace into a small table on the direct path: its rows wait in a temporary table meanwhile (see SetAsideAsync).
        bool settingAside;
        long seqBase;
        string Aside => "old_" + load.Id.ToString("N")[..24];
        string Rows => SqlDialect.Q(direct ? table.TableName : stg);
        string LineColumn => direct ? "\"_seq\"" : "\"_line\"";
        long LineOffset => direct ? seqBase : 0;
        /// <summary>The file line of a row of <see cref="Rows"/> aliased <paramref name="alias"/>.</summary>
        string Line(string alias) => direct ? $"({alias}.\"_seq\" - {seqBase})" : $"{alias}.\"_line\"";

        public async Task ExecuteAsync(CancellationToken ct)
        {
            // A delete file is checked and staged on its key columns only.
            schema = deleting ? fullSchema with { Columns = fullSchema.Columns.Where(c => c.Key).ToList(), Rules = [] } : fullSchema;
            var codeTables = await CodeTablesAsync(ct);
            var today = DateOnly.FromDateTime(owner.Time.GetLocalNow().DateTime);
            var checker = new RowChecker(schema, codeTables, today);

            await db.Database.OpenConnectionAsync(ct);
            conn = db.Database.GetDbConnection();
            try
            {
                var clock = Stopwatch.StartNew();
                using var source = RowSource.Open(request, fullSchema);
                var map = MapHeader(source.Header);
                if (source.MaxLine is not null)
                {
                    direct = await TargetIsEmptyAsync(ct);
                    settingAside = !direct && await ReplacesSmallTableAsync(ct);
                    direct |= settingAside;
                }
                // On SQLite the direct load holds the database's one write lock until it commits, so its rejects are
                // written inside its transaction; otherwise on a connection of their own (PostgreSQL: beside the COPY).
                await using var quarantineWriter = new QuarantineWriter(owner.Scopes, load, owner.Time.GetUtcNow(), direct && !sql.IsPostgres ? db : null);
                quarantine = quarantineWriter;
                if (direct) await LoadDirectlyAsync(source, map, checker, source.MaxLine!.Value, clock, ct);
                else await StageAndMergeAsync(source, map, checker, clock, ct);
            }
            finally
            {
                tx = null;
                try
                {
                    await ExecAsync($"DROP TABLE IF EXISTS {SqlDialect.Q(stg)}; DROP TABLE IF EXISTS {SqlDialect.Q(rej)};", CancellationToken.None);
                }
                catch (DbException)
                {
                    // The connection may be broken; temporary tables die with it.
                }
                await db.Database.CloseConnectionAsync();
            }
        }

        /// <summary>
        /// The direct path applies when the resource table has no rows at all (not even tombstones): nothing can be
        /// overwritten or deleted, so the rows can go straight into it. Delete files always stage.
        /// Nobody else writes the table meanwhile: loads hold the resource's lock, and corrections need stored rows.
        /// </summary>
        async Task<bool> TargetIsEmptyAsync(CancellationToken ct) =>
            !deleting && await ScalarAsync($"SELECT CASE WHEN EXISTS (SELECT 1 FROM {SqlDialect.Q(table.TableName)}) THEN 1 ELSE 0 END", ct) == 0;

        /// <summary>The most rows (tombstones included) a table may hold for a replace to set them aside and load directly.</summary>
        const int SetAsideLimit = 10_000;

        /// <summary>
        /// A replace on PostgreSQL into a table with few rows (a first big snapshot over a few demo or test rows): staging
        /// would write every new row twice, for a merge that touches only the few. So the few rows are set aside and the load
        /// takes the direct path (see <see cref="SetAsideAsync"/>). Only with key columns (rows are matched on them) and when the
        /// table's columns are the schema's (the rows set aside come back whole).
        /// </summary>
        async Task<bool> ReplacesSmallTableAsync(CancellationToken ct) =>
            sql.IsPostgres && request.Mode == LoadModes.Replace && schema.KeyColumns.Any()
            && DatasetStore.ColumnsOf(table).Select(c => c.Column).Order().SequenceEqual(schema.Columns.Select(c => c.Column).Order())
            && await ScalarAsync($"SELECT count(*) FROM (SELECT 1 FROM {SqlDialect.Q(table.TableName)} LIMIT {SetAsideLimit + 1}) x", ct) <= SetAsideLimit;

        /// <summary>
        /// Into an empty table: rows are written once, straight into the resource table, inside the one transaction
        /// that also runs the set checks and commits the load. The random-order key index is dropped first and built
        /// by one sort at the end (several times faster than inserting 1M keys one by one); building it is also the
        /// within-file uniqueness check. Readers see the empty table until the commit (on PostgreSQL they wait for it,
        /// because the index is dropped under an exclusive lock); a failure or a killed process rolls everything back.
        /// </summary>
        async Task LoadDirectlyAsync(RowSource source, int[] map, RowChecker checker, long maxLine, Stopwatch clock, CancellationToken ct)
        {
            // The change numbers are taken up front, one per possible line, in a short transaction of their own, so the
            // counter row is not locked for the whole load. Safe for since= readers: nobody else can write this table
            // before we commit, so no reader can see a later number of it first. Unused numbers are only gaps.
            seqBase = await ReserveAsync(maxLine, ct);
            await ExecAsync(RejectsDdl(), ct);
            var keys = schema.KeyColumns.Select(c => c.Column).ToList();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            tx = transaction.GetDbTransaction();
            try
            {
                if (keys.Count > 0) await ExecAsync($"DROP INDEX IF EXISTS {SqlDialect.Q(SqlDialect.KeyIndex(table.TableName))};", ct);
                if (settingAside) await SetAsideAsync(ct);
                await using (IStager writer = sql.IsPostgres
                    ? new PgStager((NpgsqlConnection)conn, table.TableName, schema, "_seq", seqBase, load.Id.ToString())
                    : new SqliteStager((Microsoft.Data.Sqlite.SqliteConnection)conn, (Microsoft.Data.Sqlite.SqliteTransaction)tx, "main." + SqlDialect.Q(table.TableName), schema, "_seq", seqBase, load.Id.ToString()))
                {
                    await ReadAsync(source, map, checker, writer, maxLine, ct);
                }
                await quarantine.FlushAsync(ct);
                var written = clock.ElapsedMilliseconds;
                await SetChecksAsync(ct);
                await quarantine.FlushAsync(ct);
                var checkedAt = clock.ElapsedMilliseconds;
                if (settingAside) await BringBackAsync(ct);
                else load.RowsInserted = load.RowsAccepted;
                await FinishAsync(transaction, load.RowsAccepted, ct);
                owner.LogPhases(load.Id, settingAside ? "direct, small table set aside" : "direct", written, checkedAt - written, clock.ElapsedMilliseconds - checkedAt);
            }
            catch
            {
                // Reset the tracked load so the failure path's update is not mixed with half-applied counts.
                db.Entry(load).State = EntityState.Unchanged;
                throw;
            }
            finally
            {
                tx = null;
            }
        }

        /// <summary>
        /// Moves the table's few rows into a temporary table, inside the load's transaction and after the key index went (so
        /// under the exclusive lock): the table is then empty for the direct path. Readers see the old rows until the commit.
        /// </summary>
        async Task SetAsideAsync(CancellationToken ct)
        {
            var T = SqlDialect.Q(table.TableName);
            await ExecAsync($"CREATE TEMP TABLE {SqlDialect.Q(Aside)} ON COMMIT DROP AS SELECT * FROM {T}; DELETE FROM {T};", ct);
        }

        /// <summary>
        /// The end of a replace with rows set aside, with the same rows, counts and change numbers as the staged merge: a
        /// loaded row whose key was there before takes that row's id (delivery targets key on it), and, when its values are
        /// the same, also its change number and load (incremental readers see no false change); rows set aside that the new
        /// data no longer holds come back as tombstones with new change numbers, tombstones as they were.
        /// </summary>
        async Task BringBackAsync(CancellationToken ct)
        {
            var T = SqlDialect.Q(table.TableName);
            var O = SqlDialect.Q(Aside);
            var M = SqlDialect.Q("m" + Aside);
            var keys = schema.KeyColumns.Select(c => c.Column).ToList();
            var cols = schema.Columns.Select(c => c.Column).ToList();
            var changed = string.Concat(cols.Except(keys).Select(c => $" OR o.{SqlDialect.Q(c)} IS DISTINCT FROM t.{SqlDialect.Q(c)}"));
            await ExecAsync(
                $"CREATE TEMP TABLE {M} ON COMMIT DROP AS SELECT o.\"_id\" AS old_id, o.\"_seq\" AS old_seq, o.\"_load_id\" AS old_load, o.\"_deleted\" AS old_deleted, "
                + $"(o.\"_deleted\"{changed}) AS changed, t.* FROM {O} o JOIN {T} t ON {Match(keys, "o", "t")};", ct);
            var existing = await ScalarAsync($"SELECT count(*) FROM {M} WHERE NOT old_deleted", ct);
            var updated = await ScalarAsync($"SELECT count(*) FROM {M} WHERE NOT old_deleted AND changed", ct);
            var list = SqlDialect.List(cols);
            await ExecAsync($"DELETE FROM {T} t USING {M} m WHERE t.\"_id\" = m.\"_id\";", ct);
            await ExecAsync(
                $"INSERT INTO {T} (\"_id\", {list}, \"_seq\", \"_deleted\", \"_load_id\") OVERRIDING SYSTEM VALUE "
                + $"SELECT old_id, {list}, CASE WHEN changed THEN \"_seq\" ELSE old_seq END, FALSE, CASE WHEN changed THEN \"_load_id\" ELSE old_load END FROM {M};", ct);
            var gone = $"FROM {O} o WHERE NOT EXISTS (SELECT 1 FROM {M} m WHERE m.old_id = o.\"_id\")";
            var doomed = await ScalarAsync($"SELECT count(*) {gone} AND NOT o.\"_deleted\"", ct);
            var tombstoneBase = doomed > 0 ? await ReserveAsync(doomed, ct) : 0;
            await ExecAsync(
                $"INSERT INTO {T} (\"_id\", {list}, \"_seq\", \"_deleted\", \"_load_id\") OVERRIDING SYSTEM VALUE "
                + $"SELECT o.\"_id\", {SqlDialect.List(cols, "o.")}, CASE WHEN o.\"_deleted\" THEN o.\"_seq\" ELSE @base + row_number() OVER (PARTITION BY o.\"_deleted\" ORDER BY o.\"_id\") END, "
                + $"TRUE, CASE WHEN o.\"_deleted\" THEN o.\"_load_id\" ELSE @load END {gone};",
                ct, ("base", tombstoneBase), ("load", load.Id.ToString()));
            load.RowsDeleted = doomed;
            load.RowsInserted = load.RowsAccepted - existing;
            load.RowsUpdated = updated;
        }

        /// <summary>
        /// Into a table with rows: stage the good rows in a temporary table (binary COPY on PostgreSQL, a prepared
        /// insert on SQLite), run the set checks there, then merge in one short transaction. Until that commit the
        /// resource table is untouched.
        /// </summary>
        async Task StageAndMergeAsync(RowSource source, int[] map, RowChecker checker, Stopwatch clock, CancellationToken ct)
        {
            await ExecAsync(StagingDdl() + RejectsDdl(), ct);
            await using (IStager stager = sql.IsPostgres
                ? new PgStager((NpgsqlConnection)conn, stg, schema, "_line", 0, null)
                : new SqliteStager((Microsoft.Data.Sqlite.SqliteConnection)conn, null, "temp." + SqlDialect.Q(stg), schema, "_line", 0, null))
            {
                await ReadAsync(source, map, checker, stager, long.MaxValue, ct);
            }
            await quarantine.FlushAsync(ct);
            var staged = clock.ElapsedMilliseconds;
            await SetChecksAsync(ct);
            await quarantine.FlushAsync(ct);
            var checkedAt = clock.ElapsedMilliseconds;
            await MergeAsync(ct);
            owner.LogPhases(load.Id, "staged", staged, checkedAt - staged, clock.ElapsedMilliseconds - checkedAt);
        }

        async Task<Dictionary<string, IReadOnlySet<string>>> CodeTablesAsync(CancellationToken ct)
        {
            var names = schema.Columns.Select(c => c.CodeTable).OfType<string>().Distinct().ToList();
            var entries = await db.Set<CodeEntry>().AsNoTracking().Where(e => names.Contains(e.TableCode) && e.RetiredInVersion == null)
                .Select(e => new { e.TableCode, e.Code }).ToListAsync(ct);
            var present = await db.Set<CodeTable>().Where(t => names.Contains(t.Code)).Select(t => t.Code).ToListAsync(ct);
            var missing = names.Except(present).ToList();
            if (missing.Count > 0)
                throw new LoadRefusedException(400, "unknown-code-table", "信息项引用的代码表不存在", "Code tables not found: " + string.Join(", ", missing));
            return present.ToDictionary(n => n, n => (IReadOnlySet<string>)entries.Where(e => e.TableCode == n).Select(e => e.Code).ToHashSet(StringComparer.Ordinal));
        }

        /// <summary>File column → schema column; every problem of the header at once.</summary>
        int[] MapHeader(IReadOnlyList<string> header)
        {
            var map = new int[header.Count];
            var seen = new HashSet<int>();
            var errors = new Dictionary<string, string[]>();
            var unknown = new List<string>();
            var duplicate = new List<string>();
            for (var i = 0; i < header.Count; i++)
            {
                var h = header[i].Trim().TrimStart('\uFEFF');
                if (request.ColumnMap is { } chosen && chosen.TryGetValue(h, out var mapped))
                {
                    if (mapped.Length == 0) { map[i] = -1; continue; }
                    h = mapped;
                }
                var found = -1;
                for (var j = 0; j < schema.Columns.Count; j++)
                {
                    var c = schema.Columns[j];
                    if (string.Equals(c.Column, h, StringComparison.OrdinalIgnoreCase) || string.Equals(c.Name, h, StringComparison.Ordinal)) { found = j; break; }
                }
                // A delete file may carry the whole row; only the keys matter.
                if (found < 0 && deleting && fullSchema.Columns.Any(c => string.Equals(c.Column, h, StringComparison.OrdinalIgnoreCase) || c.Name == h)) { map[i] = -1; continue; }
                if (found < 0) unknown.Add(h.Length == 0 ? $"(第{i + 1}列为空 / column {i + 1} is blank)" : h);
                else if (!seen.Add(found)) duplicate.Add(h);
                map[i] = found;
            }
            var missing = schema.Columns.Where((c, j) => !seen.Contains(j) && (c.Required || c.Key)).Select(c => $"{c.Column}（{c.Name}）").ToList();
            if (unknown.Count > 0) errors["unknownColumns"] = [.. unknown];
            if (duplicate.Count > 0) errors["duplicateColumns"] = [.. duplicate];
            if (missing.Count > 0) errors["missingColumns"] = [.. missing];
            if (errors.Count > 0)
                throw new LoadRefusedException(400, "header-mismatch", "表头与资源信息项不一致", "The header does not match the resource's columns; see errors.", errors);
            return map;
        }

        string StagingDdl()
        {
            var cols = string.Concat(schema.Columns.Select(c => ", " + SqlDialect.Q(c.Column) + " " + sql.SqlType(SqlDialect.StorageClass(c.Type))));
            return $"CREATE TEMP TABLE {SqlDialect.Q(stg)} (\"_line\" bigint NOT NULL{cols});";
        }

        /// <summary>The lines a set check rejects, collected before they are moved to quarantine.</summary>
        string RejectsDdl() => $"CREATE TEMP TABLE {SqlDialect.Q(rej)} (\"_line\" bigint PRIMARY KEY);";

        /// <summary>A checked record on its way to the writer: accepted values, quarantine entry, or both (a warning).</summary>
        readonly record struct Checked(long Line, object?[]? Values, RowIssue[]? Issues, string? Raw);

        /// <summary>
        /// Reads, checks and writes every record; rejects go to quarantine as they are found. Two stages on two threads:
        /// reading and checking (CPU only, no database) feed the writer (the only one using the connection) through a
        /// short queue of batches, so the two overlap and memory stays flat whatever the file's size.
        /// </summary>
        async Task ReadAsync(RowSource source, int[] map, RowChecker checker, IStager writer, long maxLine, CancellationToken ct)
        {
            var queue = Channel.CreateBounded<List<Checked>>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var reading = Task.Run(() => CheckAllAsync(source, map, checker, queue.Writer, maxLine, stop.Token), CancellationToken.None);
            try
            {
                await foreach (var batch in queue.Reader.ReadAllAsync(ct))
                {
                    foreach (var row in batch)
                    {
                        if (row.Values is not null) writer.Add(row.Line, row.Values);
                        if (row.Issues is not null) await quarantine.AddAsync(row.Line, row.Issues, row.Raw!, kept: row.Values is not null, ct);
                    }
                }
            }
            catch
            {
                await stop.CancelAsync();
                try
                {
                    await reading;
                }
                catch (Exception)
                {
                    // The writer's error is the one to report; the reader was only stopped because of it.
                }
                throw;
            }
            // The reader's own error (a malformed file), if any; the counts are set here, on the writer's side, so
            // the load entity is only ever touched by one thread.
            (load.RowsRead, load.RowsAccepted, load.RowsQuarantined, load.RowsWarned) = await reading;
            await writer.CompleteAsync(ct);
        }

        async Task<(long Read, long Accepted, long Quarantined, long Warned)> CheckAllAsync(RowSource source, int[] map, RowChecker checker, ChannelWriter<List<Checked>> queue, long maxLine, CancellationToken ct)
        {
            // Small batches in a short queue: about a thousand rows in flight, so they rarely outlive a young-generation GC.
            const int BatchRows = 256;
            try
            {
                var width = schema.Columns.Count;
                var raw = new string?[width];
                var issues = new List<RowIssue>();
                var header = source.Header;
                long read = 0, accepted = 0, quarantined = 0, warned = 0;
                var batch = new List<Checked>(BatchRows);
                while (source.Read())
                {
                    // The change numbers were reserved for maxLine lines; a source that lied about its size must not reuse others'.
                    if (source.Line > maxLine) throw new InvalidOperationException($"The source has more than the {maxLine} lines it announced.");
                    read++;
                    var typed = new object?[width];
                    var error = CheckRow(source, header, map, checker, raw, typed, issues);
                    if (error) quarantined++;
                    else accepted++;
                    if (!error && issues.Count > 0) warned++;
                    batch.Add(new Checked(source.Line, error ? null : typed,
                        issues.Count > 0 ? [.. issues] : null, issues.Count > 0 ? RawJson(source, header) : null));
                    if (batch.Count == BatchRows)
                    {
                        await queue.WriteAsync(batch, ct);
                        batch = new List<Checked>(BatchRows);
                        progress?.Report(new LoadProgress(read, source.Fraction));
                    }
                }
                if (batch.Count > 0) await queue.WriteAsync(batch, ct);
                progress?.Report(new LoadProgress(read, 1));
                return (read, accepted, quarantined, warned);
            }
            finally
            {
                queue.TryComplete();
            }
        }

        /// <summary>One record: cells into schema order, structure check, then the row rules. Synchronous and optimised at once: it runs per row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        bool CheckRow(RowSource source, IReadOnlyList<string> header, int[] map, RowChecker checker, string?[] raw, object?[] typed, List<RowIssue> issues)
        {
            issues.Clear();
            Array.Clear(raw);
            var fields = source.FieldCount;
            for (var i = 0; i < map.Length && i < fields; i++)
            {
                if (map[i] >= 0) raw[map[i]] = source.Get(i);
            }
            if (fields != header.Count)
            {
                // A ragged row cannot be trusted cell by cell: its values may have shifted columns.
                tally.Check(Dimension.Conformity, false);
                tally.Fail(RuleKinds.Structure, RuleSeverity.Error);
                issues.Add(new RowIssue(RuleKinds.Structure, null, RuleSeverity.Error,
                    $"列数为 {fields}，表头为 {header.Count} 列", $"the row has {fields} fields, the header {header.Count}"));
                return true;
            }
            tally.Check(Dimension.Conformity, true);
            return checker.Check(raw, typed, issues, tally);
        }

        static string RawJson(RowSource source, IReadOnlyList<string> header)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartObject();
                var fields = source.FieldCount;
                var names = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < fields; i++)
                {
                    var name = i < header.Count && header[i].Length > 0 ? header[i] : $"_{i + 1}";
                    if (!names.Add(name)) name = $"{name}_{i + 1}";
                    var v = source.Get(i);
                    // Keep the quarantine row bounded: a 10 MB cell is reported, not stored whole.
                    if (v is { Length: > 4096 }) v = v[..4096] + $"…（共 {v.Length} 字符 / {v.Length} chars）";
                    if (v is null) w.WriteNull(name); else w.WriteString(name, v.Replace('\0', '\uFFFD'));
                }
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }


        /// <summary>
        /// Rules over many rows, in SQL against <see cref="Rows"/>: within-load and stored uniqueness, references.
        /// On the direct path the table held nothing before, so there is nothing stored to compare with.
        /// </summary>
        async Task SetChecksAsync(CancellationToken ct)
        {
            if (sql.IsPostgres && !direct) await ExecAsync($"ANALYZE {SqlDialect.Q(stg)};", ct);
            var keys = schema.KeyColumns.Select(c => c.Column).ToList();
            var T = SqlDialect.Q(table.TableName);
            var S = Rows;
            if (keys.Count > 0)
            {
                var staged = load.RowsAccepted;
                long dup = 0, stored = 0;
                var keyDuplicate = (RuleKinds.Unique, RuleSeverity.Error, keys[0], "主键在本次导入中重复", "the key repeats an earlier row of this file");
                if (direct)
                {
                    // Building the unique index is the check; only when it fails are the repeats looked for and removed.
                    var create = SqlDialect.CreateKeyIndex(table.TableName, keys);
                    if (!await TryExecAsync(create, ct))
                    {
                        dup = await RejectAsync(Repeats(keys, null), keyDuplicate, ct);
                        await ExecAsync(create, ct);
                    }
                }
                else
                {
                    // As on the direct path, building a unique index is the check (one sort); the repeats are looked for
                    // (a second sort, by line) only when it fails.
                    var create = $"CREATE UNIQUE INDEX {SqlDialect.Q("ix_" + stg)} ON {S} ({SqlDialect.List(keys)});";
                    if (!await TryExecAsync(create, ct))
                    {
                        dup = await RejectAsync(Repeats(keys, null), keyDuplicate, ct);
                        await ExecAsync(create, ct);
                    }
                    if (request.Mode == LoadModes.Append)
                    {
                        stored = await RejectAsync(
                            $"SELECT {Line("s")} FROM {S} s WHERE EXISTS (SELECT 1 FROM {T} t WHERE {Match(keys, "t", "s")} AND NOT t.\"_deleted\")",
                            (RuleKinds.Unique, RuleSeverity.Error, keys[0], "主键与已有数据重复（追加模式）", "the key already exists (append mode); use upsert to update"), ct);
                    }
                }
                tally.CheckMany(Dimension.Accuracy, staged, dup + stored);
            }
            if (deleting) return;

            var uniques = schema.Columns.SelectMany(c => c.Rules.Where(r => r.Kind == RuleKinds.Unique).Select(r => (Rule: r, Columns: (IReadOnlyList<string>)[c.Column])))
                .Concat(schema.Rules.Where(r => r.Kind == RuleKinds.Unique).Select(r => (Rule: r, Columns: r.Columns ?? (IReadOnlyList<string>)[r.Column!])));
            foreach (var (rule, columns) in uniques)
            {
                if (columns.SequenceEqual(keys)) continue;
                var notNull = string.Join(" AND ", columns.Select(c => $"x.{SqlDialect.Q(c)} IS NOT NULL"));
                var staged = load.RowsAccepted;
                var n = await RejectAsync(Repeats(columns, notNull),
                    (RuleKinds.Unique, rule.Severity, columns[0], rule.Message ?? "值在本次导入中重复", "the value repeats an earlier row of this file"), ct);
                if (request.Mode != LoadModes.Replace && !direct)
                {
                    var otherRow = keys.Count > 0 ? $" AND NOT ({Match(keys, "t", "s")})" : "";
                    n += await RejectAsync(
                        $"SELECT {Line("s")} FROM {S} s WHERE {string.Join(" AND ", columns.Select(c => $"s.{SqlDialect.Q(c)} IS NOT NULL"))} AND EXISTS (SELECT 1 FROM {T} t WHERE {Match(columns, "t", "s")} AND NOT t.\"_deleted\"{otherRow})",
                        (RuleKinds.Unique, rule.Severity, columns[0], rule.Message ?? "值与已有数据重复", "the value already exists in stored rows"), ct);
                }
                tally.CheckMany(Dimension.Accuracy, staged, n);
            }

            var references = schema.Columns.SelectMany(c => c.Rules.Where(r => r.Kind == RuleKinds.Reference).Select(r => (Rule: r, Column: c.Column)))
                .Concat(schema.Rules.Where(r => r.Kind == RuleKinds.Reference).Select(r => (Rule: r, Column: r.Column!)));
            foreach (var (rule, column) in references)
            {
                var target = await db.Set<DatasetTable>().AsNoTracking().SingleOrDefaultAsync(t => t.ResourceId == rule.Resource, ct);
                if (target is null || !DatasetStore.ColumnsOf(target).Any(c => c.Column == rule.RefColumn))
                    throw new LoadRefusedException(400, "reference-target-missing", "引用的资源尚无数据表或没有该列",
                        $"The reference target {rule.Resource}.{rule.RefColumn} has no table or no such column.");
                var staged = load.RowsAccepted;
                var R = SqlDialect.Q(target.TableName);
                var c = SqlDialect.Q(column);
                var n = await RejectAsync(
                    $"SELECT {Line("s")} FROM {S} s WHERE s.{c} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {R} r WHERE r.{SqlDialect.Q(rule.RefColumn!)} = s.{c} AND NOT r.\"_deleted\")",
                    (RuleKinds.Reference, rule.Severity, column, rule.Message ?? $"在资源 {rule.Resource} 中找不到该值", $"no row of {rule.Resource} has this {rule.RefColumn}"), ct);
                tally.CheckMany(Dimension.Consistency, staged, n);
            }
        }

        /// <summary>Lines of <see cref="Rows"/> whose <paramref name="columns"/> repeat an earlier line's (the first one stays).</summary>
        string Repeats(IReadOnlyList<string> columns, string? where) =>
            $"SELECT d.l FROM (SELECT {Line("x")} AS l, row_number() OVER (PARTITION BY {SqlDialect.List(columns, "x.")} ORDER BY x.{LineColumn}) AS rn FROM {Rows} x{(where is null ? "" : " WHERE " + where)}) d WHERE d.rn > 1";

        static string Match(IEnumerable<string> columns, string a, string b) =>
            string.Join(" AND ", columns.Select(c => $"{a}.{SqlDialect.Q(c)} = {b}.{SqlDialect.Q(c)}"));

        /// <summary>Moves the rows of <see cref="Rows"/> the query selects to quarantine (errors) or flags them (warnings).</summary>
        async Task<long> RejectAsync(string selectLines, (string Rule, string Severity, string? Column, string Zh, string En) why, CancellationToken ct)
        {
            var R = SqlDialect.Q(rej);
            var S = Rows;
            var (rule, severity, column, zh, en) = why;
            await ExecAsync($"DELETE FROM {R};", ct);
            var n = await ExecAsync($"INSERT INTO {R} (\"_line\") {selectLines};", ct);
            if (n <= 0) return 0;
            tally.Fail(rule, severity, n);
            var issue = new RowIssue(rule, column, severity, zh, en);
            var cols = schema.Columns;
            var picked = $"{LineColumn} IN (SELECT \"_line\" + {LineOffset} FROM {R})";
            await using (var cmd = Command($"SELECT {Line("s")}, {SqlDialect.List(cols.Select(c => c.Column), "s.")} FROM {S} s WHERE s.{picked} ORDER BY 1"))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var json = new Dictionary<string, string?>(StringComparer.Ordinal);
                    for (var i = 0; i < cols.Count; i++) json[cols[i].Column] = reader.IsDBNull(i + 1) ? null : ValueParser.Format(reader.GetValue(i + 1));
                    await quarantine.AddAsync(reader.GetInt64(0), [issue], JsonSerializer.Serialize(json, QuarantineWriter.Json), kept: severity != RuleSeverity.Error, ct);
                }
            }
            if (severity == RuleSeverity.Error)
            {
                // On the direct path these rows were never visible to anyone, so they simply go (no tombstones).
                await ExecAsync($"DELETE FROM {S} WHERE {picked};", ct);
                load.RowsAccepted -= n;
                load.RowsQuarantined += n;
            }
            else
            {
                load.RowsWarned += n;
            }
            return n;
        }

        /// <summary>The one transaction that makes a staged load visible: tombstones, inserts, updates, the load's status, the lock.</summary>
        async Task MergeAsync(CancellationToken ct)
        {
            var T = SqlDialect.Q(table.TableName);
            var S = SqlDialect.Q(stg);
            var keys = schema.KeyColumns.Select(c => c.Column).ToList();
            var cols = schema.Columns.Select(c => c.Column).ToList();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            tx = transaction.GetDbTransaction();
            try
            {
                // More rows come than the table holds (a first big snapshot over a few demo rows, a bulk refresh): on
                // PostgreSQL inserting them into the random-order key index one by one costs several times what one sort
                // does, so as on the direct path the index goes and is built again at the end of this transaction.
                // Dropped first, so the transaction takes its exclusive lock before any row lock (no lock upgrade to
                // deadlock on); readers wait for the commit, as they do for the direct path.
                var rebuildKeyIndex = sql.IsPostgres && keys.Count > 0 && request.Mode != LoadModes.Delete && load.RowsAccepted > 0
                    && load.RowsAccepted >= await ScalarAsync($"SELECT count(*) FROM {T}", ct);
                if (rebuildKeyIndex) await ExecAsync($"DROP INDEX IF EXISTS {SqlDialect.Q(SqlDialect.KeyIndex(table.TableName))};", ct);
                if (request.Mode is LoadModes.Replace or LoadModes.Delete)
                {
                    var which = request.Mode == LoadModes.Delete
                        ? $"NOT t.\"_deleted\" AND EXISTS (SELECT 1 FROM {S} s WHERE {Match(keys, "s", "t")})"
                        : keys.Count > 0
                            ? $"NOT t.\"_deleted\" AND NOT EXISTS (SELECT 1 FROM {S} s WHERE {Match(keys, "s", "t")})"
                            : "NOT t.\"_deleted\"";
                    var doomed = await ScalarAsync($"SELECT count(*) FROM {T} t WHERE {which}", ct);
                    if (doomed > 0)
                    {
                        var seqBase = await ReserveAsync(doomed, ct);
                        await ExecAsync(
                            $"UPDATE {T} SET \"_deleted\" = TRUE, \"_seq\" = @base + x.rn, \"_load_id\" = @load FROM (SELECT t.\"_id\" AS id, row_number() OVER (ORDER BY t.\"_id\") AS rn FROM {T} t WHERE {which}) x WHERE {T}.\"_id\" = x.id;",
                            ct, ("base", seqBase), ("load", load.Id.ToString()));
                    }
                    load.RowsDeleted = doomed;
                }
                if (request.Mode != LoadModes.Delete && load.RowsAccepted > 0)
                {
                    var maxLine = await ScalarAsync($"SELECT COALESCE(MAX(\"_line\"), 0) FROM {S}", ct);
                    var seqBase = await ReserveAsync(maxLine, ct);
                    var insert = $"INSERT INTO {T} ({SqlDialect.List(cols)}, \"_seq\", \"_deleted\", \"_load_id\") SELECT {SqlDialect.List(cols)}, @base + \"_line\", FALSE, @load FROM {S} WHERE TRUE";
                    if (keys.Count > 0)
                    {
                        // Reviving a tombstoned key counts as an insert: for readers the row reappears.
                        var existing = await ScalarAsync($"SELECT count(*) FROM {S} s WHERE EXISTS (SELECT 1 FROM {T} t WHERE {Match(keys, "t", "s")} AND NOT t.\"_deleted\")", ct);
                        var values = cols.Except(keys).ToList();
                        var set = string.Concat(values.Select(c => $"{SqlDialect.Q(c)} = excluded.{SqlDialect.Q(c)}, "));
                        // Unchanged rows keep their sequence number, so incremental readers do not see false changes.
                        var changed = string.Concat(values.Select(c => $" OR {T}.{SqlDialect.Q(c)} IS DISTINCT FROM excluded.{SqlDialect.Q(c)}"));
                        int affected;
                        if (rebuildKeyIndex)
                        {
                            // Without the index there is no ON CONFLICT: the upsert becomes two statements joined on the
                            // staging table's key index, changed or revived rows, then new keys. Same rows, counts and
                            // sequence numbers as the upsert.
                            var fromStaged = string.Concat(values.Select(c => $"{SqlDialect.Q(c)} = s.{SqlDialect.Q(c)}, "));
                            var differs = string.Concat(values.Select(c => $" OR {T}.{SqlDialect.Q(c)} IS DISTINCT FROM s.{SqlDialect.Q(c)}"));
                            affected = await ExecAsync(
                                $"UPDATE {T} SET {fromStaged}\"_seq\" = @base + s.\"_line\", \"_deleted\" = FALSE, \"_load_id\" = @load FROM {S} s WHERE {Match(keys, "s", T)} AND ({T}.\"_deleted\"{differs});",
                                ct, ("base", seqBase), ("load", load.Id.ToString()));
                            affected += await ExecAsync(
                                $"INSERT INTO {T} ({SqlDialect.List(cols)}, \"_seq\", \"_deleted\", \"_load_id\") SELECT {SqlDialect.List(cols, "s.")}, @base + s.\"_line\", FALSE, @load FROM {S} s WHERE NOT EXISTS (SELECT 1 FROM {T} t WHERE {Match(keys, "t", "s")});",
                                ct, ("base", seqBase), ("load", load.Id.ToString()));
                            await ExecAsync(SqlDialect.CreateKeyIndex(table.TableName, keys), ct);
                        }
                        else
                        {
                            insert += $" ON CONFLICT ({SqlDialect.List(keys)}) DO UPDATE SET {set}\"_seq\" = excluded.\"_seq\", \"_deleted\" = FALSE, \"_load_id\" = excluded.\"_load_id\" WHERE {T}.\"_deleted\"{changed}";
                            affected = await ExecAsync(insert + ";", ct, ("base", seqBase), ("load", load.Id.ToString()));
                        }
                        load.RowsInserted = load.RowsAccepted - existing;
                        load.RowsUpdated = affected - load.RowsInserted;
                    }
                    else
                    {
                        load.RowsInserted = await ExecAsync(insert + ";", ct, ("base", seqBase), ("load", load.Id.ToString()));
                    }
                }

                var live = await ScalarAsync($"SELECT count(*) FROM {T} WHERE NOT \"_deleted\"", ct);
                await FinishAsync(transaction, live, ct);
            }
            catch
            {
                // Reset the tracked load so the failure path's update is not mixed with half-applied counts.
                db.Entry(load).State = EntityState.Unchanged;
                throw;
            }
            finally
            {
                tx = null;
            }
        }

        /// <summary>The end of both paths, inside their transaction: the report, the load's status, the registry, the commit.</summary>
        async Task FinishAsync(Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction, long live, CancellationToken ct)
        {
            var now = owner.Time.GetUtcNow();
            tally.CheckMany(Dimension.Timeliness, 1, OnTime(table.LastSuccessAt, now) ? 0 : 1);
            await VolumeCheck.ApplyAsync(db, fullSchema, load, tally, ct);
            load.Report = JsonSerializer.Serialize(tally.Report(), QuarantineWriter.Json);
            load.Status = LoadStatus.Succeeded;
            load.FinishedAt = now;
            load.HeartbeatAt = now;
            await db.SaveChangesAsync(ct);
            await db.Set<DatasetTable>().Where(t => t.ResourceId == table.ResourceId)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.RunningLoadId, (Guid?)null).SetProperty(t => t.LastSuccessAt, now)
                    .SetProperty(t => t.LiveRows, live).SetProperty(t => t.OverdueDays, 0), ct);
            await transaction.CommitAsync(ct);
        }

        /// <summary>时效性: on time when the previous successful load is within the declared cycle (or there was none).</summary>
        bool OnTime(DateTimeOffset? last, DateTimeOffset now) =>
            last is null || Timeliness.CycleDays(fullSchema.UpdateCycle) is not { } days || (now - last.Value).TotalDays <= days;

        /// <summary>Takes <paramref name="count"/> change numbers; returns the one before the first, so row n gets base + n.</summary>
        async Task<long> ReserveAsync(long count, CancellationToken ct) =>
            await DatasetStore.ReserveSequenceAsync(conn, tx, count, ct) - count;

        DbCommand Command(string text, params (string Name, object? Value)[] parameters)
        {
            var cmd = conn.CreateCommand();
            cmd.CommandText = text;
            cmd.Transaction = tx;
            cmd.CommandTimeout = 0;
            foreach (var (name, value) in parameters) DatasetStore.AddParameter(cmd, name, value);
            return cmd;
        }

        async Task<int> ExecAsync(string text, CancellationToken ct, params (string Name, object? Value)[] parameters)
        {
            await using var cmd = Command(text, parameters);
            return await cmd.ExecuteNonQueryAsync(ct);
        }

        /// <summary>Runs a statement that may break a unique constraint; false (and the transaction still usable) if it did.</summary>
        async Task<bool> TryExecAsync(string text, CancellationToken ct)
        {
            // PostgreSQL aborts the whole transaction on an error, so the attempt runs in a savepoint; SQLite undoes the
            // statement only. Outside a transaction (the staging table's checks) the failed statement simply did nothing.
            var savepoint = sql.IsPostgres && tx is not null;
            if (savepoint) await ExecAsync("SAVEPOINT try_unique;", ct);
            try
            {
                await ExecAsync(text, ct);
                if (savepoint) await ExecAsync("RELEASE SAVEPOINT try_unique;", ct);
                return true;
            }
            catch (DbException ex) when (ex is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }
                || ex is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 19 /* SQLITE_CONSTRAINT */ })
            {
                if (savepoint) await ExecAsync("ROLLBACK TO SAVEPOINT try_unique;", ct);
                return false;
            }
        }

        async Task<long> ScalarAsync(string text, CancellationToken ct, params (string Name, object? Value)[] parameters)
        {
            await using var cmd = Command(text, parameters);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>Writes accepted rows into a table: the load's staging table, or the resource table on the direct path.</summary>
internal interface IStager : IAsyncDisposable
{
    void Add(long line, object?[] values);
    Task CompleteAsync(CancellationToken ct);
}

/// <summary>
/// COPY in text format, written straight to the connection: each value is formatted into the stream as it is added
/// (no per-value parameter or converter lookup, which is most of what binary COPY through Npgsql's importer costs per
/// cell); PostgreSQL's own input functions parse it, as for the anchor's COPY. Each row gets
/// <c>lineColumn = offset + line</c> ("_line" when staging, "_seq" when writing the resource table) and, when given, the load id.
/// </summary>
internal sealed class PgStager : IStager
{
    // Text format: tab-separated, \N for null; a backslash, tab, newline or carriage return in a value is escaped.
    static readonly System.Buffers.SearchValues<char> Special = System.Buffers.SearchValues.Create("\\\t\n\r");
    readonly NpgsqlCopyTextWriter copy;
    readonly long offset;
    readonly string lead;
    readonly char[] text = new char[64];
    bool done;

    public PgStager(NpgsqlConnection conn, string table, TableSchema schema, string lineColumn, long offset, string? loadId)
    {
        this.offset = offset;
        // The load id is the same on every row (a GUID: nothing to escape).
        lead = loadId is null ? "\t" : "\t" + loadId + "\t";
        var cols = SqlDialect.List(schema.Columns.Select(c => c.Column));
        var first = SqlDialect.Q(lineColumn) + (loadId is null ? "" : ", \"_load_id\"");
        copy = (NpgsqlCopyTextWriter)conn.BeginTextImport($"COPY {SqlDialect.Q(table)} ({first}, {cols}) FROM STDIN");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(long line, object?[] values)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        Write(offset + line);
        copy.Write(lead);
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0) copy.Write('\t');
            int n;
            switch (values[i])
            {
                case null: copy.Write("\\N"); break;
                case string s: WriteEscaped(s); break;
                case long l: Write(l); break;
                case bool b: copy.Write(b ? 't' : 'f'); break;
                case DateOnly d: copy.Write(text, 0, WriteDate(d)); break;
                case DateTime t: copy.Write(text, 0, WriteTimestamp(t)); break;
                case double f when f.TryFormat(text, out n, "R", inv): copy.Write(text, 0, n); break;
                case decimal m when m.TryFormat(text, out n, default, inv): copy.Write(text, 0, n); break;
                case var v: throw new InvalidOperationException($"Unexpected value type {v.GetType()}.");
            }
        }
        copy.Write('\n');
    }

    // Dates and timestamps digit by digit: the general formatter is a large share of this writer's time.
    int WriteDate(DateOnly d)
    {
        Put(0, 4, d.Year);
        text[4] = '-';
        Put(5, 2, d.Month);
        text[7] = '-';
        Put(8, 2, d.Day);
        return 10;
    }

    /// <summary>yyyy-MM-dd HH:mm:ss[.ffffff]: microseconds, cut rather than rounded, as a binary write stores them.</summary>
    int WriteTimestamp(DateTime t)
    {
        WriteDate(DateOnly.FromDateTime(t));
        text[10] = ' ';
        Put(11, 2, t.Hour);
        text[13] = ':';
        Put(14, 2, t.Minute);
        text[16] = ':';
        Put(17, 2, t.Second);
        var micro = (int)(t.Ticks % TimeSpan.TicksPerSecond / 10);
        if (micro == 0) return 19;
        text[19] = '.';
        Put(20, 6, micro);
        return 26;
    }

    void Put(int at, int width, int value)
    {
        for (var i = at + width - 1; i >= at; i--, value /= 10) text[i] = (char)('0' + value % 10);
    }

    void Write(long value)
    {
        value.TryFormat(text, out var n, default, System.Globalization.CultureInfo.InvariantCulture);
        copy.Write(text, 0, n);
    }

    void WriteEscaped(string s)
    {
        var rest = s.AsSpan();
        int at;
        while ((at = rest.IndexOfAny(Special)) >= 0)
        {
            copy.Write(rest[..at]);
            copy.Write(rest[at] switch { '\\' => "\\\\", '\t' => "\\t", '\n' => "\\n", _ => "\\r" });
            rest = rest[(at + 1)..];
        }
        copy.Write(rest);
    }

    public async Task CompleteAsync(CancellationToken ct)
    {
        await copy.FlushAsync(ct);
        done = true;
        // Disposing the writer ends the COPY and reports the server's error, if any, as an exception.
        await copy.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (done) return;
        // An unfinished COPY is cancelled, never ended: ending it would write the rows so far.
        try
        {
            await copy.CancelAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
        {
            // The connection is already broken or the COPY already failed; the transaction is rolled back either way.
        }
        try
        {
            await copy.DisposeAsync();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or NpgsqlException or IOException)
        {
            // Text still buffered in the writer has no COPY left to go to.
        }
    }
}

/// <summary>
/// One insert statement prepared once and stepped per row through SQLite's own API: binding by position, straight
/// from the values, costs a fraction of a command execution (which looks every parameter up by name each time).
/// Staging runs in a deferred transaction of its own that only touches the temp database (other writers of the
/// main file are not held up); the direct path passes the load's transaction, which the statement joins because it
/// runs on the same connection.
/// </summary>
internal sealed class SqliteStager : IStager
{
    readonly Microsoft.Data.Sqlite.SqliteConnection conn;
    readonly Microsoft.Data.Sqlite.SqliteTransaction transaction;
    readonly bool ownTransaction;
    readonly SQLitePCL.sqlite3_stmt insert;
    readonly long offset;
    readonly int first;
    readonly char[] text = new char[64];
    bool done;

    /// <param name="table">Qualified and quoted: temp."stg_…" or main."ds_…".</param>
    public SqliteStager(Microsoft.Data.Sqlite.SqliteConnection conn, Microsoft.Data.Sqlite.SqliteTransaction? transaction, string table,
        TableSchema schema, string lineColumn, long offset, string? loadId)
    {
        this.conn = conn;
        this.offset = offset;
        ownTransaction = transaction is null;
        this.transaction = transaction ?? conn.BeginTransaction(deferred: true);
        var lead = SqlDialect.Q(lineColumn) + (loadId is null ? "" : ", \"_load_id\"");
        var marks = string.Join(", ", Enumerable.Repeat("?", schema.Columns.Count + (loadId is null ? 1 : 2)));
        var sql = $"INSERT INTO {table} ({lead}, {SqlDialect.List(schema.Columns.Select(c => c.Column))}) VALUES ({marks})";
        Check(SQLitePCL.raw.sqlite3_prepare_v2(conn.Handle, sql, out insert));
        first = 2;
        if (loadId is not null)
        {
            // The load id is the same on every row: bound once, kept across resets.
            Check(SQLitePCL.raw.sqlite3_bind_text(insert, 2, loadId));
            first = 3;
        }
    }

    void Check(int rc)
    {
        if (rc is not (SQLitePCL.raw.SQLITE_OK or SQLitePCL.raw.SQLITE_DONE))
            Microsoft.Data.Sqlite.SqliteException.ThrowExceptionForRC(rc, conn.Handle);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(long line, object?[] values)
    {
        var stmt = insert;
        SQLitePCL.raw.sqlite3_bind_int64(stmt, 1, offset + line);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        for (var i = 0; i < values.Length; i++)
        {
            var at = first + i;
            int n;
            // Stored as the staged rows always were: dates and numbers as text, booleans as 0/1.
            var rc = values[i] switch
            {
                null => SQLitePCL.raw.sqlite3_bind_null(stmt, at),
                string s => SQLitePCL.raw.sqlite3_bind_text16(stmt, at, s.AsSpan()),
                long l => SQLitePCL.raw.sqlite3_bind_int64(stmt, at, l),
                bool b => SQLitePCL.raw.sqlite3_bind_int64(stmt, at, b ? 1 : 0),
                double d => SQLitePCL.raw.sqlite3_bind_double(stmt, at, d),
                DateOnly d when d.TryFormat(text, out n, "yyyy-MM-dd", inv) => SQLitePCL.raw.sqlite3_bind_text16(stmt, at, text.AsSpan(0, n)),
                DateTime t when t.TryFormat(text, out n, ValueParser.DateTimeFormat(t), inv)
                    => SQLitePCL.raw.sqlite3_bind_text16(stmt, at, text.AsSpan(0, n)),
                decimal m when m.TryFormat(text, out n, default, inv) => SQLitePCL.raw.sqlite3_bind_text16(stmt, at, text.AsSpan(0, n)),
                var v => throw new InvalidOperationException($"Unexpected value type {v.GetType()}."),
            };
            Check(rc);
        }
        var stepped = SQLitePCL.raw.sqlite3_step(stmt);
        SQLitePCL.raw.sqlite3_reset(stmt);
        Check(stepped);
    }

    public Task CompleteAsync(CancellationToken ct)
    {
        if (ownTransaction) transaction.Commit();
        done = true;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        insert.Dispose();
        if (ownTransaction)
        {
            if (!done) transaction.Rollback();
            transaction.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
