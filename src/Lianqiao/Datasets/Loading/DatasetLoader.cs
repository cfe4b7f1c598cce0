using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Lianqiao.Data;
using Lianqiao.Datasets.Storage;
using Lianqiao.Quality;
using Lianqiao.Reference;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

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

/// <param name="Rows">Rows from somewhere other than a file (the exchange module's database reader); when set, FilePath and Format are not read.</param>
internal sealed record LoadRequest(string ResourceId, string Mode, string Format, string FilePath, string? FileName, long FileBytes, string ActorId, string ActorName,
    RowSource? Rows = null);

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

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Load {LoadId} phases: read+check+stage {StageMs} ms, set checks {ChecksMs} ms, merge {MergeMs} ms")]
    partial void LogPhases(Guid loadId, long stageMs, long checksMs, long mergeMs);

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

        public async Task ExecuteAsync(CancellationToken ct)
        {
            // A delete file is checked and staged on its key columns only.
            schema = deleting ? fullSchema with { Columns = fullSchema.Columns.Where(c => c.Key).ToList(), Rules = [] } : fullSchema;
            var codeTables = await CodeTablesAsync(ct);
            var today = DateOnly.FromDateTime(owner.Time.GetLocalNow().DateTime);
            var checker = new RowChecker(schema, codeTables, today);

            await db.Database.OpenConnectionAsync(ct);
            conn = db.Database.GetDbConnection();
            await using var quarantineWriter = new QuarantineWriter(owner.Scopes, load, owner.Time.GetUtcNow());
            quarantine = quarantineWriter;
            try
            {
                var clock = Stopwatch.StartNew();
                using (var source = request.Rows ?? RowSource.Open(request.FilePath, request.Format, fullSchema))
                {
                    var map = MapHeader(source.Header);
                    await ExecAsync(StagingDdl(), ct);
                    await StageAsync(source, map, checker, ct);
                }
                await quarantine.FlushAsync(ct);
                var staged = clock.ElapsedMilliseconds;
                await SetChecksAsync(ct);
                await quarantine.FlushAsync(ct);
                var checkedAt = clock.ElapsedMilliseconds;
                await MergeAsync(ct);
                owner.LogPhases(load.Id, staged, checkedAt - staged, clock.ElapsedMilliseconds - checkedAt);
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
            var temp = sql.IsPostgres ? "CREATE TEMP TABLE" : "CREATE TEMP TABLE";
            return $"{temp} {SqlDialect.Q(stg)} (\"_line\" bigint NOT NULL{cols}); {temp} {SqlDialect.Q(rej)} (\"_line\" bigint PRIMARY KEY);";
        }

        async Task StageAsync(RowSource source, int[] map, RowChecker checker, CancellationToken ct)
        {
            var width = schema.Columns.Count;
            var raw = new string?[width];
            var typed = new object?[width];
            var issues = new List<RowIssue>();
            await using IStager stager = sql.IsPostgres
                ? new PgStager((NpgsqlConnection)conn, stg, schema)
                : new SqliteStager((Microsoft.Data.Sqlite.SqliteConnection)conn, stg, schema);
            var header = source.Header;
            long read = 0, accepted = 0, quarantined = 0, warned = 0;
            while (true)
            {
                if (!source.Read()) break;
                ct.ThrowIfCancellationRequested();
                read++;
                var error = CheckRow(source, header, map, checker, raw, typed, issues);
                if (error)
                {
                    quarantined++;
                    await quarantine.AddAsync(source.Line, issues, RawJson(source, header), kept: false, ct);
                }
                else
                {
                    accepted++;
                    stager.Add(source.Line, typed);
                    if (issues.Count > 0)
                    {
                        warned++;
                        await quarantine.AddAsync(source.Line, issues, RawJson(source, header), kept: true, ct);
                    }
                }
                if ((read & 8191) == 0) progress?.Report(new LoadProgress(read, source.Fraction));
            }
            await stager.CompleteAsync(ct);
            progress?.Report(new LoadProgress(read, 1));
            load.RowsRead = read;
            load.RowsAccepted = accepted;
            load.RowsQuarantined = quarantined;
            load.RowsWarned = warned;
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

        /// <summary>Rules over many rows, in SQL against the staging table: within-load and stored uniqueness, references.</summary>
        async Task SetChecksAsync(CancellationToken ct)
        {
            if (sql.IsPostgres) await ExecAsync($"ANALYZE {SqlDialect.Q(stg)};", ct);
            var keys = schema.KeyColumns.Select(c => c.Column).ToList();
            var T = SqlDialect.Q(table.TableName);
            var S = SqlDialect.Q(stg);
            if (keys.Count > 0)
            {
                await ExecAsync($"CREATE INDEX {SqlDialect.Q("ix_" + stg)} ON {S} ({SqlDialect.List(keys)});", ct);
                var staged = await CountStagedAsync(ct);
                var dup = await RejectAsync(
                    $"SELECT \"_line\" FROM (SELECT \"_line\", row_number() OVER (PARTITION BY {SqlDialect.List(keys)} ORDER BY \"_line\") AS rn FROM {S}) d WHERE rn > 1",
                    RuleKinds.Unique, RuleSeverity.Error, keys[0], "主键在本次导入中重复", "the key repeats an earlier row of this file", ct);
                long stored = 0;
                if (request.Mode == LoadModes.Append)
                {
                    stored = await RejectAsync(
                        $"SELECT s.\"_line\" FROM {S} s WHERE EXISTS (SELECT 1 FROM {T} t WHERE {Match(keys, "t", "s")} AND NOT t.\"_deleted\")",
                        RuleKinds.Unique, RuleSeverity.Error, keys[0], "主键与已有数据重复（追加模式）", "the key already exists (append mode); use upsert to update", ct);
                }
                tally.CheckMany(Dimension.Accuracy, staged, dup + stored);
            }
            if (deleting) return;

            var uniques = schema.Columns.SelectMany(c => c.Rules.Where(r => r.Kind == RuleKinds.Unique).Select(r => (Rule: r, Columns: (IReadOnlyList<string>)[c.Column])))
                .Concat(schema.Rules.Where(r => r.Kind == RuleKinds.Unique).Select(r => (Rule: r, Columns: r.Columns ?? (IReadOnlyList<string>)[r.Column!])));
            foreach (var (rule, columns) in uniques)
            {
                if (columns.SequenceEqual(keys)) continue;
                var notNull = string.Join(" AND ", columns.Select(c => $"{SqlDialect.Q(c)} IS NOT NULL"));
                var staged = await CountStagedAsync(ct);
                var n = await RejectAsync(
                    $"SELECT \"_line\" FROM (SELECT \"_line\", row_number() OVER (PARTITION BY {SqlDialect.List(columns)} ORDER BY \"_line\") AS rn FROM {S} WHERE {notNull}) d WHERE rn > 1",
                    RuleKinds.Unique, rule.Severity, columns[0], rule.Message ?? "值在本次导入中重复", "the value repeats an earlier row of this file", ct);
                if (request.Mode != LoadModes.Replace)
                {
                    var otherRow = keys.Count > 0 ? $" AND NOT ({Match(keys, "t", "s")})" : "";
                    n += await RejectAsync(
                        $"SELECT s.\"_line\" FROM {S} s WHERE {string.Join(" AND ", columns.Select(c => $"s.{SqlDialect.Q(c)} IS NOT NULL"))} AND EXISTS (SELECT 1 FROM {T} t WHERE {Match(columns, "t", "s")} AND NOT t.\"_deleted\"{otherRow})",
                        RuleKinds.Unique, rule.Severity, columns[0], rule.Message ?? "值与已有数据重复", "the value already exists in stored rows", ct);
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
                var staged = await CountStagedAsync(ct);
                var R = SqlDialect.Q(target.TableName);
                var c = SqlDialect.Q(column);
                var n = await RejectAsync(
                    $"SELECT s.\"_line\" FROM {S} s WHERE s.{c} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {R} r WHERE r.{SqlDialect.Q(rule.RefColumn!)} = s.{c} AND NOT r.\"_deleted\")",
                    RuleKinds.Reference, rule.Severity, column, rule.Message ?? $"在资源 {rule.Resource} 中找不到该值", $"no row of {rule.Resource} has this {rule.RefColumn}", ct);
                tally.CheckMany(Dimension.Consistency, staged, n);
            }
        }

        static string Match(IEnumerable<string> columns, string a, string b) =>
            string.Join(" AND ", columns.Select(c => $"{a}.{SqlDialect.Q(c)} = {b}.{SqlDialect.Q(c)}"));

        async Task<long> CountStagedAsync(CancellationToken ct) => await ScalarAsync($"SELECT count(*) FROM {SqlDialect.Q(stg)}", ct);

        /// <summary>Moves the staged rows the query selects to quarantine (errors) or flags them (warnings).</summary>
        async Task<long> RejectAsync(string selectLines, string rule, string severity, string? column, string zh, string en, CancellationToken ct)
        {
            var R = SqlDialect.Q(rej);
            var S = SqlDialect.Q(stg);
            await ExecAsync($"DELETE FROM {R};", ct);
            var n = await ExecAsync($"INSERT INTO {R} (\"_line\") {selectLines};", ct);
            if (n <= 0) return 0;
            tally.Fail(rule, severity, n);
            var issue = new RowIssue(rule, column, severity, zh, en);
            var cols = schema.Columns;
            await using (var cmd = Command($"SELECT s.* FROM {S} s WHERE s.\"_line\" IN (SELECT \"_line\" FROM {R}) ORDER BY s.\"_line\""))
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
                await ExecAsync($"DELETE FROM {S} WHERE \"_line\" IN (SELECT \"_line\" FROM {R});", ct);
                load.RowsAccepted -= n;
                load.RowsQuarantined += n;
            }
            else
            {
                load.RowsWarned += n;
            }
            return n;
        }

        /// <summary>The one transaction that makes the load visible: tombstones, inserts, updates, the load's status, the lock.</summary>
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
                        insert += $" ON CONFLICT ({SqlDialect.List(keys)}) DO UPDATE SET {set}\"_seq\" = excluded.\"_seq\", \"_deleted\" = FALSE, \"_load_id\" = excluded.\"_load_id\" WHERE {T}.\"_deleted\"{changed}";
                        var affected = await ExecAsync(insert + ";", ct, ("base", seqBase), ("load", load.Id.ToString()));
                        load.RowsInserted = load.RowsAccepted - existing;
                        load.RowsUpdated = affected - load.RowsInserted;
                    }
                    else
                    {
                        load.RowsInserted = await ExecAsync(insert + ";", ct, ("base", seqBase), ("load", load.Id.ToString()));
                    }
                }

                var live = await ScalarAsync($"SELECT count(*) FROM {T} WHERE NOT \"_deleted\"", ct);
                var now = owner.Time.GetUtcNow();
                tally.CheckMany(Dimension.Timeliness, 1, OnTime(table.LastSuccessAt, now) ? 0 : 1);
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

        /// <summary>时效性: on time when the previous successful load is within the declared cycle (or there was none).</summary>
        bool OnTime(DateTimeOffset? last, DateTimeOffset now) =>
            last is null || Timeliness.CycleDays(fullSchema.UpdateCycle) is not { } days || (now - last.Value).TotalDays <= days;

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

        async Task<long> ScalarAsync(string text, CancellationToken ct, params (string Name, object? Value)[] parameters)
        {
            await using var cmd = Command(text, parameters);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>Writes staged rows into the load's temporary table.</summary>
internal interface IStager : IAsyncDisposable
{
    void Add(long line, object?[] values);
    Task CompleteAsync(CancellationToken ct);
}

/// <summary>Binary COPY: the fastest way into PostgreSQL, and it streams.</summary>
internal sealed class PgStager : IStager
{
    readonly NpgsqlBinaryImporter importer;
    readonly NpgsqlDbType[] types;

    public PgStager(NpgsqlConnection conn, string table, TableSchema schema)
    {
        types = schema.Columns.Select(c => SqlDialect.StorageClass(c.Type) switch
        {
            "text" => NpgsqlDbType.Text,
            "numeric" => NpgsqlDbType.Numeric,
            "double" => NpgsqlDbType.Double,
            "bigint" => NpgsqlDbType.Bigint,
            "date" => NpgsqlDbType.Date,
            "timestamp" => NpgsqlDbType.Timestamp,
            "boolean" => NpgsqlDbType.Boolean,
            var t => throw new InvalidOperationException(t),
        }).ToArray();
        var cols = SqlDialect.List(schema.Columns.Select(c => c.Column));
        importer = conn.BeginBinaryImport($"COPY {SqlDialect.Q(table)} (\"_line\", {cols}) FROM STDIN (FORMAT BINARY)");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(long line, object?[] values)
    {
        importer.StartRow();
        importer.Write(line, NpgsqlDbType.Bigint);
        for (var i = 0; i < types.Length; i++)
        {
            if (values[i] is null) importer.WriteNull();
            else importer.Write(values[i], types[i]);
        }
    }

    public async Task CompleteAsync(CancellationToken ct)
    {
        await importer.CompleteAsync(ct);
        await importer.CloseAsync(ct);
    }

    public ValueTask DisposeAsync() => importer.DisposeAsync();
}

/// <summary>One prepared insert, reused for every row, in a deferred transaction that only touches the temp database.</summary>
internal sealed class SqliteStager : IStager
{
    readonly Microsoft.Data.Sqlite.SqliteTransaction transaction;
    readonly Microsoft.Data.Sqlite.SqliteCommand insert;
    readonly Microsoft.Data.Sqlite.SqliteParameter[] parameters;
    bool done;

    public SqliteStager(Microsoft.Data.Sqlite.SqliteConnection conn, string table, TableSchema schema)
    {
        // Deferred: staging writes only the temp database, so other writers of the main file are not held up.
        transaction = conn.BeginTransaction(deferred: true);
        insert = conn.CreateCommand();
        insert.Transaction = transaction;
        var names = schema.Columns.Select((_, i) => "@p" + i).ToList();
        insert.CommandText = $"INSERT INTO temp.{SqlDialect.Q(table)} (\"_line\", {SqlDialect.List(schema.Columns.Select(c => c.Column))}) VALUES (@line, {string.Join(", ", names)})";
        parameters = new Microsoft.Data.Sqlite.SqliteParameter[names.Count + 1];
        parameters[0] = insert.Parameters.Add("@line", Microsoft.Data.Sqlite.SqliteType.Integer);
        for (var i = 0; i < names.Count; i++) parameters[i + 1] = insert.Parameters.Add(names[i], Microsoft.Data.Sqlite.SqliteType.Text);
        // Types per value: the Text default above is only a placeholder.
        foreach (var p in parameters.Skip(1)) p.ResetSqliteType();
        insert.Prepare();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(long line, object?[] values)
    {
        parameters[0].Value = line;
        for (var i = 0; i < values.Length; i++)
        {
            parameters[i + 1].Value = values[i] switch
            {
                null => DBNull.Value,
                bool b => b ? 1L : 0L,
                DateOnly d => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                DateTime t => ValueParser.Format(t),
                decimal m => m.ToString(System.Globalization.CultureInfo.InvariantCulture),
                var v => v,
            };
        }
        insert.ExecuteNonQuery();
    }

    public Task CompleteAsync(CancellationToken ct)
    {
        transaction.Commit();
        done = true;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (!done) transaction.Rollback();
        insert.Dispose();
        transaction.Dispose();
        return ValueTask.CompletedTask;
    }
}
