using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Loading;
using Lianqiao.Quality;
using Lianqiao.Reference;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Exchange;

/// <summary>A mapping or source the job cannot use; every problem at once, keyed like the job's JSON.</summary>
internal sealed class JobInvalidException(string code, string titleZh, string detailEn, IReadOnlyDictionary<string, string[]>? errors = null) : Exception(detailEn)
{
    public string Code { get; } = code;
    public string TitleZh { get; } = titleZh;
    public IReadOnlyDictionary<string, string[]>? Errors { get; } = errors;
}

/// <summary>
/// 汇聚 from a database: the query a job runs against its source, the type check of its mapping, and the rows as a
/// <see cref="RowSource"/> so they go through the one load path (rules, quarantine, atomic batch, report) like an upload.
/// </summary>
internal static class Collection
{
    /// <summary>The SELECT of a job: mapped source columns (plus the change column), the incremental condition, an optional row limit.</summary>
    public static (string Sql, List<(string, object?)> Parameters) Query(string kind, ExchangeJob job, IReadOnlyList<ColumnMap> mapping, int? limit)
    {
        var select = mapping.Select(m => Sql.Q(kind, m.Source)).ToList();
        var change = job.Mode == CollectModes.Incremental ? job.ChangeColumn : null;
        if (change is not null && !mapping.Any(m => m.Source == change)) select.Add(Sql.Q(kind, change));
        var from = job.SourceTable is not null ? Sql.Table(kind, job.SourceTable) : $"({job.SourceQuery}) src";
        var top = limit is not null && kind == ConnectionKinds.SqlServer ? $"TOP ({limit.Value}) " : "";
        var sql = $"SELECT {top}{string.Join(", ", select)} FROM {from}";
        var parameters = new List<(string, object?)>();
        if (change is not null && job.Checkpoint is not null)
        {
            if (job.ChangeKind == ChangeKinds.Id)
            {
                sql += $" WHERE {Sql.Q(kind, change)} > @from";
                parameters.Add(("from", long.Parse(job.Checkpoint, CultureInfo.InvariantCulture)));
            }
            else
            {
                // >= and an overlap window: rows sharing the checkpoint's timestamp, rows committed late and rows stamped by a
                // clock running behind are read again; the upsert by key makes the re-read harmless (unchanged rows keep their sequence).
                var since = DateTime.Parse(job.Checkpoint, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).AddSeconds(-job.OverlapSeconds);
                sql += $" WHERE {Sql.Q(kind, change)} >= @from";
                parameters.Add(("from", kind == ConnectionKinds.Sqlite ? ValueParser.Format(DateTime.SpecifyKind(since, DateTimeKind.Unspecified)) : since));
            }
        }
        if (limit is not null && kind != ConnectionKinds.SqlServer) sql += $" LIMIT {limit.Value}";
        return (sql, parameters);
    }

    /// <summary>The source's columns and their .NET types, from a query that returns no rows.</summary>
    public static async Task<List<(string Name, Type Type)>> DescribeAsync(DbConnection connection, string kind, ExchangeJob job, CancellationToken ct)
    {
        var from = job.SourceTable is not null ? Sql.Table(kind, job.SourceTable) : $"({job.SourceQuery}) src";
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = kind == ConnectionKinds.SqlServer ? $"SELECT TOP (0) * FROM {from}" : $"SELECT * FROM {from} WHERE 1 = 0";
        await using var reader = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SchemaOnly, ct);
        var columns = new List<(string, Type)>();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            Type type;
            try { type = reader.GetFieldType(i); }
            catch (InvalidOperationException) { type = typeof(object); }   // SQLite with no declared type: decided per value
            columns.Add((reader.GetName(i), type));
        }
        return columns;
    }

    /// <summary>
    /// Completes and checks a mapping against the source and the resource: an empty mapping maps columns of the same name;
    /// every source column must exist, every target column must be a resource column, key and required columns must be
    /// mapped, and a source type that can never hold the target type (a date into a number, a number into a date) is refused.
    /// </summary>
    public static List<ColumnMap> CheckMapping(IReadOnlyList<(string Name, Type Type)> source, TableSchema schema, IReadOnlyList<ColumnMap> requested, ExchangeJob job)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string key, string message) { if (!errors.TryGetValue(key, out var l)) errors[key] = l = []; l.Add(message); }
        var bySource = source.GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        var mapping = requested.Count > 0
            ? requested.ToList()
            : schema.Columns.Where(c => bySource.ContainsKey(c.Column)).Select(c => new ColumnMap(bySource[c.Column].Name, c.Column)).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in mapping)
        {
            var key = "mapping." + m.Column;
            var target = schema.Columns.FirstOrDefault(c => c.Column == m.Column);
            if (target is null) { Add(key, "资源没有该信息项 / the resource has no such column"); continue; }
            if (!seen.Add(m.Column)) Add(key, "信息项被映射了两次 / the column is mapped twice");
            if (!Sql.IsIdentifier(m.Source)) { Add(key, "源列名无效 / the source column name is not a plain identifier"); continue; }
            if (!bySource.TryGetValue(m.Source, out var src)) { Add(key, $"源中没有列 {m.Source} / the source has no column {m.Source}"); continue; }
            if (!Compatible(target.Type[0], src.Type))
                Add(key, $"类型不匹配：源列 {src.Name} 为 {src.Type.Name}，信息项类型为 {target.Type} / type mismatch: source {src.Name} is {src.Type.Name}, the column is type {target.Type}");
        }
        foreach (var c in schema.Columns.Where(c => (c.Key || c.Required) && !seen.Contains(c.Column)))
            Add("mapping." + c.Column, "主键或必填信息项未映射 / a key or required column is not mapped");
        if (job.Mode == CollectModes.Incremental)
        {
            if (!Sql.IsIdentifier(job.ChangeColumn) || !bySource.TryGetValue(job.ChangeColumn!, out var change))
                Add("changeColumn", "源中没有该变更列 / the source has no such change column");
            else if (job.ChangeKind == ChangeKinds.Id ? !IsInteger(change.Type) && change.Type != typeof(object) : !IsTime(change.Type) && change.Type != typeof(string) && change.Type != typeof(object))
                Add("changeColumn", $"变更列类型 {change.Type.Name} 不适用于 {job.ChangeKind} / the change column's type does not fit {job.ChangeKind}");
            if (!schema.KeyColumns.Any()) Add("mode", "增量汇聚需要资源有主键 / incremental collection needs a resource with key columns");
        }
        if (errors.Count > 0)
            throw new JobInvalidException("mapping-invalid", "字段映射有误", "The column mapping does not fit the source or the resource; see errors.",
                errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
        return mapping;
    }

    static bool IsInteger(Type t) => t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(byte) || t == typeof(sbyte)
        || t == typeof(ulong) || t == typeof(uint) || t == typeof(ushort);

    static bool IsNumber(Type t) => IsInteger(t) || t == typeof(decimal) || t == typeof(double) || t == typeof(float);

    static bool IsTime(Type t) => t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(DateOnly);

    /// <summary>Could a value of <paramref name="source"/> ever be valid for the data item type? Text may hold anything; the row rules decide per value.</summary>
    public static bool Compatible(char target, Type source)
    {
        if (source == typeof(string) || source == typeof(object)) return true;
        return target switch
        {
            'C' or 'M' or 'G' => source != typeof(byte[]),
            'N' or 'Y' or 'F' or 'B' or 'I' => IsNumber(source),
            'D' or 'T' => IsTime(source),
            'L' => source == typeof(bool) || IsInteger(source),
            _ => false,
        };
    }

    /// <summary>One value as the text the row checker parses.</summary>
    public static string? Text(object? value, char target) => value switch
    {
        null or DBNull => null,
        string s => s,
        DateTime d => Text(d, target),
        DateTimeOffset o => ValueParser.Format(o.ToOffset(ChinaTime.Offset).DateTime),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly t => t.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        double f => f.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>A date-time as the text the row checker parses; typed, so a reader's typed getter needs no boxed value.</summary>
    public static string Text(DateTime value, char target)
    {
        if (target == 'D') return value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        // timestamptz arrives as UTC; the platform stores China's wall-clock time, as people enter it.
        if (value.Kind == DateTimeKind.Utc) value = DateTime.SpecifyKind(value + ChinaTime.Offset, DateTimeKind.Unspecified);
        return ValueParser.Format(value)!;
    }
}

/// <summary>A source query's rows as the loader reads files: text cells under the resource's column names. Tracks the change column's largest value.</summary>
internal sealed class DatabaseRowSource : RowSource
{
    readonly DbConnection connection;
    readonly DbCommand command;
    readonly DbDataReader reader;
    readonly char[] types;
    readonly int[] ordinals;
    readonly Type[] fieldTypes;
    readonly int changeOrdinal;
    readonly string? changeKind;
    readonly string?[] cells;
    long rows;

    public DatabaseRowSource(DbConnection connection, DbCommand command, DbDataReader reader, IReadOnlyList<ColumnMap> mapping, TableSchema schema,
        string? changeColumn, string? changeKind)
    {
        this.connection = connection;
        this.command = command;
        this.reader = reader;
        Header = mapping.Select(m => m.Column).ToList();
        types = mapping.Select(m => schema.Columns.First(c => c.Column == m.Column).Type[0]).ToArray();
        ordinals = mapping.Select(m => reader.GetOrdinal(m.Source)).ToArray();
        fieldTypes = ordinals.Select(o => FieldType(reader, o)).ToArray();
        changeOrdinal = changeColumn is null ? -1 : reader.GetOrdinal(changeColumn);
        this.changeKind = changeKind;
        cells = new string?[mapping.Count];
    }

    public override IReadOnlyList<string> Header { get; }
    public override int FieldCount => cells.Length;
    public override long Line => rows + 1;
    public override double Fraction => RowCount is > 0 and var total ? Math.Min(1, (double)rows / total) : 0;
    // Counted in the read's own snapshot, so the read cannot return more rows (see CollectionRunner.OpenAsync).
    public override long? MaxLine => RowCount + 1;
    /// <summary>The largest change value read so far, as checkpoint text.</summary>
    public string? MaxChange { get; private set; }
    DateTime maxTime = DateTime.MinValue;
    long maxId = long.MinValue;

    public override bool Read()
    {
        if (!reader.Read()) return false;
        rows++;
        for (var i = 0; i < ordinals.Length; i++) cells[i] = Cell(i);
        if (changeOrdinal >= 0 && !reader.IsDBNull(changeOrdinal)) Track(reader.GetValue(changeOrdinal));
        return true;
    }

    /// <summary>Text, date and timestamp columns read typed: no boxed value per cell on the hot path; other types through <see cref="Collection.Text"/>.</summary>
    string? Cell(int i)
    {
        var ordinal = ordinals[i];
        if (reader.IsDBNull(ordinal)) return null;
        var type = fieldTypes[i];
        if (type == typeof(string)) return reader.GetString(ordinal);
        if (type == typeof(DateTime)) return Collection.Text(reader.GetDateTime(ordinal), types[i]);
        return Collection.Text(reader.GetValue(ordinal), types[i]);
    }

    static Type FieldType(DbDataReader reader, int ordinal)
    {
        // A SQLite column's declared type does not bind the values stored in it: those are read as they come.
        if (reader is Microsoft.Data.Sqlite.SqliteDataReader) return typeof(object);
        try { return reader.GetFieldType(ordinal); }
        catch (InvalidOperationException) { return typeof(object); }   // a driver that cannot tell before reading: decided per value
    }

    void Track(object value)
    {
        if (changeKind == ChangeKinds.Id)
        {
            var id = Convert.ToInt64(value, CultureInfo.InvariantCulture);
            if (id > maxId) { maxId = id; MaxChange = id.ToString(CultureInfo.InvariantCulture); }
            return;
        }
        DateTime t;
        switch (value)
        {
            case DateTime d: t = d; break;
            case DateTimeOffset o: t = o.UtcDateTime; break;
            case string s when DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed): t = parsed; break;
            default: return;
        }
        if (t > maxTime) { maxTime = t; MaxChange = DateTime.SpecifyKind(t, DateTimeKind.Unspecified).ToString("O", CultureInfo.InvariantCulture); }
    }

    public override string? Get(int index) => cells[index];

    /// <summary>How many rows the query returns, when counted in the same snapshot as the read (see <see cref="CollectionRunner.OpenAsync"/>).</summary>
    public long? RowCount { get; init; }

    /// <summary>The read-only snapshot transaction the count and the read share, if any.</summary>
    public DbTransaction? Snapshot { get; init; }

    bool disposed;

    /// <summary>Both the loader (when it has read the rows) and the collection (on every path) dispose the source: the second does nothing.</summary>
    public override void Dispose()
    {
        if (disposed) return;
        disposed = true;
        reader.Dispose();
        command.Dispose();
        Snapshot?.Dispose();
        connection.Dispose();
    }
}

/// <summary>Runs one collection: database sources through <see cref="DatabaseRowSource"/>, HTTP JSON and drop-folder files through the file path.</summary>
internal sealed class CollectionRunner(ConnectionOpener opener, DatasetLoader loader, ITableSchemaSource schemas)
{
    public async Task RunAsync(LianqiaoDb db, ExchangeJob job, ExchangeConnection connection, ExchangeRun run, IProgress<LoadProgress>? progress, string actor, CancellationToken ct)
    {
        var schema = await schemas.FindAsync(job.ResourceId, ct)
            ?? throw new JobInvalidException("no-schema", "资源不存在或没有信息项", "The resource does not exist or has no table schema.");
        var mode = job.Mode == CollectModes.Incremental ? LoadModes.Upsert : LoadModes.Replace;
        run.CheckpointBefore = job.Checkpoint;
        switch (connection.Kind)
        {
            case ConnectionKinds.HttpJson:
                await FromHttpAsync(job, connection, run, mode, progress, actor, ct);
                return;
            case ConnectionKinds.DropFolder:
                await FromFolderAsync(job, connection, run, mode, progress, actor, ct);
                return;
        }

        // Into a resource with no rows yet, or replacing one with few rows (a snapshot), the loader can write the rows once,
        // straight into the table, and build the key index by one sort (as for a first upload), but only with an upper
        // bound on the row count: counted in the snapshot the read then uses, so a source that changes meanwhile cannot
        // yield more rows than counted. The loader decides whether the resource is small enough.
        var counted = mode == LoadModes.Replace || await ResourceIsEmptyAsync(db, job.ResourceId, ct);
        using var source = await OpenAsync(connection, job, schema, null, ct, counted);
        DatasetLoad load;
        try
        {
            load = await loader.RunAsync(LoadRequest.FromSource(job.ResourceId, mode, source, $"exchange:{job.Name}", actor, actor), progress, ct);
        }
        catch (LoadRefusedException refused)
        {
            run.LoadId = refused.LoadId;
            throw;
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // The source failed mid-read (a dropped connection, a dropped table): the loader failed its load; name it on the run.
            var recent = await db.Set<DatasetLoad>().AsNoTracking().Where(l => l.ResourceId == job.ResourceId && l.FileName == $"exchange:{job.Name}")
                .OrderByDescending(l => l.Id).Take(1).Select(l => new { l.Id, l.StartedAt }).ToListAsync(CancellationToken.None);
            if (recent is [var l] && l.StartedAt >= run.StartedAt) run.LoadId = l.Id;
            throw;
        }
        Record(run, load);
        // The checkpoint moves only after the load committed; a run killed in between re-reads rows the upsert makes harmless.
        if (source.MaxChange is not null && IsLater(job, source.MaxChange))
        {
            job.Checkpoint = source.MaxChange;
            await db.Set<ExchangeJob>().Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Checkpoint, source.MaxChange), CancellationToken.None);
        }
        run.CheckpointAfter = job.Checkpoint;
    }

    static bool IsLater(ExchangeJob job, string candidate) => job.Checkpoint is null || (job.ChangeKind == ChangeKinds.Id
        ? long.Parse(candidate, CultureInfo.InvariantCulture) > long.Parse(job.Checkpoint, CultureInfo.InvariantCulture)
        : DateTime.Parse(candidate, CultureInfo.InvariantCulture) > DateTime.Parse(job.Checkpoint, CultureInfo.InvariantCulture));

    static void Record(ExchangeRun run, DatasetLoad load)
    {
        run.LoadId = load.Id;
        run.RowsRead += load.RowsRead;
        run.RowsAccepted += load.RowsAccepted;
        run.RowsQuarantined += load.RowsQuarantined;
        run.RowsDeleted += load.RowsDeleted;
        run.Batches++;
    }

    /// <summary>
    /// The source rows of a job (or the first <paramref name="limit"/>), read through a checked mapping. With
    /// <paramref name="countRows"/> on a source that has snapshot reads (PostgreSQL, MySQL/MariaDB: repeatable read;
    /// SQLite: a read transaction), the rows are first counted in the same read-only transaction as the read, so the
    /// count is exact (<see cref="DatabaseRowSource.RowCount"/>); elsewhere nothing is counted.
    /// </summary>
    public async Task<DatabaseRowSource> OpenAsync(ExchangeConnection connection, ExchangeJob job, TableSchema schema, int? limit, CancellationToken ct, bool countRows = false)
    {
        var conn = await opener.OpenAsync(connection, ct);
        DbCommand? cmd = null;
        DbTransaction? snapshot = null;
        try
        {
            var mapping = job.Columns();
            var (sql, parameters) = Collection.Query(connection.Kind, job, mapping, limit);
            long? count = null;
            if (countRows && connection.Kind is ConnectionKinds.Postgres or ConnectionKinds.MySql or ConnectionKinds.Sqlite)
            {
                // SQLite's default BEGIN IMMEDIATE would take the source's write lock: a deferred transaction only reads.
                snapshot = conn is Microsoft.Data.Sqlite.SqliteConnection sqlite
                    ? sqlite.BeginTransaction(deferred: true)
                    : await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
                await using var counter = conn.CreateCommand();
                counter.Transaction = snapshot;
                counter.CommandText = $"SELECT count(*) FROM ({sql}) counted";
                counter.CommandTimeout = 0;
                foreach (var (name, value) in parameters) Sql.Add(counter, name, value);
                count = Convert.ToInt64(await counter.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            }
            cmd = conn.CreateCommand();
            cmd.Transaction = snapshot;
            cmd.CommandText = sql;
            cmd.CommandTimeout = 0;
            foreach (var (name, value) in parameters) Sql.Add(cmd, name, value);
            var reader = await cmd.ExecuteReaderAsync(ct);
            return new DatabaseRowSource(conn, cmd, reader, mapping, schema, job.Mode == CollectModes.Incremental ? job.ChangeColumn : null, job.ChangeKind)
            {
                RowCount = count, Snapshot = snapshot,
            };
        }
        catch
        {
            if (cmd is not null) await cmd.DisposeAsync();
            if (snapshot is not null) await snapshot.DisposeAsync();
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether the resource's table holds no rows at all, not even tombstones (or has no table yet): the loader's direct path.</summary>
    static async Task<bool> ResourceIsEmptyAsync(LianqiaoDb db, string resourceId, CancellationToken ct)
    {
        var table = await db.Set<DatasetTable>().AsNoTracking().Where(t => t.ResourceId == resourceId).Select(t => t.TableName).FirstOrDefaultAsync(ct);
        if (table is null) return true;
        // The table name is ours (from the registry), quoted as an identifier: not user input.
        var sql = "SELECT CASE WHEN EXISTS (SELECT 1 FROM " + Lianqiao.Datasets.Storage.SqlDialect.Q(table) + ") THEN 1 ELSE 0 END AS \"Value\"";
        var any = await db.Database.SqlQueryRaw<int>(sql).SingleAsync(ct);
        return any == 0;
    }

    /// <summary>Dry run: the first rows mapped and checked by the row rules, nothing written.</summary>
    public async Task<PreviewDto> PreviewAsync(LianqiaoDb db, ExchangeJob job, ExchangeConnection connection, TimeProvider time, int limit, CancellationToken ct)
    {
        var schema = await schemas.FindAsync(job.ResourceId, ct)
            ?? throw new JobInvalidException("no-schema", "资源不存在或没有信息项", "The resource does not exist or has no table schema.");
        if (!ConnectionKinds.Databases.Contains(connection.Kind))
            throw new JobInvalidException("preview-unsupported", "仅数据库来源支持预览", "Preview reads database sources; files and APIs are checked when they load.");
        var mapping = job.Columns();
        var mapped = schema with { Columns = mapping.Select(m => schema.Columns.First(c => c.Column == m.Column)).ToList(), Rules = [] };
        var names = mapped.Columns.Select(c => c.CodeTable).OfType<string>().Distinct().ToList();
        var entries = await db.Set<CodeEntry>().AsNoTracking().Where(e => names.Contains(e.TableCode) && e.RetiredInVersion == null)
            .Select(e => new { e.TableCode, e.Code }).ToListAsync(ct);
        var codeTables = names.ToDictionary(n => n, n => (IReadOnlySet<string>)entries.Where(e => e.TableCode == n).Select(e => e.Code).ToHashSet(StringComparer.Ordinal));
        var checker = new RowChecker(mapped, codeTables, time.Today());
        var tally = new QualityTally();
        var rows = new List<PreviewRow>();
        using var source = await OpenAsync(connection, job, schema, limit, ct);
        var raw = new string?[mapping.Count];
        var typed = new object?[mapping.Count];
        var issues = new List<RowIssue>();
        while (source.Read())
        {
            for (var i = 0; i < raw.Length; i++) raw[i] = source.Get(i);
            issues.Clear();
            checker.Check(raw, typed, issues, tally);
            rows.Add(new PreviewRow(raw.ToArray(), issues.Select(x => $"{x.Column}: {x.MessageZh} / {x.MessageEn} ({x.Rule}, {x.Severity})").ToList()));
        }
        return new PreviewDto(source.Header, rows);
    }

    /// <summary>Properties under which a page envelope ({"data": [...], "next": "..."}) carries its rows.</summary>
    static readonly string[] RowArrays = ["data", "items", "rows", "records"];
    const int MaxPages = 100_000;

    /// <summary>
    /// An HTTP JSON source, page by page: a body is an array of rows, NDJSON, or an envelope with its rows under data/items/
    /// rows/records; the next page is the Link header's rel="next" or the envelope's "next". Every page's rows go to one
    /// NDJSON file and then through the upload path as one load, so a snapshot replaces the resource once with all pages.
    /// </summary>
    async Task FromHttpAsync(ExchangeJob job, ExchangeConnection connection, ExchangeRun run, string mode, IProgress<LoadProgress>? progress, string actor, CancellationToken ct)
    {
        var (client, url, token) = await opener.HttpAsync(connection, ct);
        using var _ = client;
        var file = Path.GetTempFileName();
        var page = Path.GetTempFileName();
        try
        {
            long rows = 0;
            await using (var output = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (Uri? next = url; next is not null;)
                {
                    if (!seen.Add(next.AbsoluteUri) || seen.Count > MaxPages)
                        throw new JobInvalidException("source-paging-loop", "接口分页没有结束", $"The source API's pages do not end (page {seen.Count}: {next.AbsolutePath}).");
                    using var request = new HttpRequestMessage(HttpMethod.Get, next);
                    if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
                    using var response = await client.SendAsync(request, ct);
                    if (!response.IsSuccessStatusCode)
                        throw new JobInvalidException("source-http-error", "接口返回错误", $"The source API answered HTTP {(int)response.StatusCode} for {next.PathAndQuery}.");
                    await using (var body = File.Create(page)) await response.Content.CopyToAsync(body, ct);
                    var (count, nextLink) = await CopyRowsAsync(page, output, ct);
                    rows += count;
                    nextLink ??= NextLink(response);
                    next = nextLink is null ? null : SameOrigin(url, new Uri(next, nextLink));
                }
                // No rows at all is an empty array: the load decides what an empty source means for the mode.
                if (rows == 0) await output.WriteAsync("[]"u8.ToArray(), ct);
            }
            var load = await loader.RunAsync(new LoadRequest(job.ResourceId, mode, LoadFormats.Json, file, url.AbsolutePath, new FileInfo(file).Length, actor, actor), progress, ct);
            Record(run, load);
        }
        catch (JsonException ex)
        {
            throw new JobInvalidException("source-malformed-json", "接口返回的 JSON 格式错误", "The source API's answer is not JSON: " + ex.Message);
        }
        finally
        {
            File.Delete(file);
            File.Delete(page);
        }
    }

    /// <summary>A page's rows appended to the NDJSON output, one per line; an array streams element by element. Returns the envelope's next link, if any.</summary>
    static async Task<(long Rows, string? Next)> CopyRowsAsync(string page, Stream output, CancellationToken ct)
    {
        await using var input = new FileStream(page, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        int first;
        while ((first = input.ReadByte()) is 0xEF or 0xBB or 0xBF or ' ' or '\t' or '\r' or '\n') { }
        if (first < 0) return (0, null);
        input.Position = 0;
        long rows = 0;
        string? next = null;
        await using var writer = new Utf8JsonWriter(output);
        void Write(JsonElement row)
        {
            row.WriteTo(writer);
            writer.Flush();
            writer.Reset();
            output.WriteByte((byte)'\n');
            rows++;
        }
        var values = first == '['
            ? JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(input, cancellationToken: ct)
            : JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(input, topLevelValues: true, cancellationToken: ct);
        await foreach (var value in values)
        {
            if (value.ValueKind == JsonValueKind.Object && RowArrays.Select(p => value.TryGetProperty(p, out var a) ? a : default).FirstOrDefault(a => a.ValueKind == JsonValueKind.Array) is { ValueKind: JsonValueKind.Array } items)
            {
                foreach (var row in items.EnumerateArray()) Write(row);
                if (value.TryGetProperty("next", out var link) && link.ValueKind == JsonValueKind.String && link.GetString() is { Length: > 0 } n) next = n;
            }
            else
            {
                Write(value);
            }
        }
        return (rows, next);
    }

    /// <summary>The Link header's rel="next" target (RFC 8288), if any.</summary>
    static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var part in links.SelectMany(l => l.Split(',')))
        {
            var pieces = part.Split(';');
            if (pieces.Length > 1 && pieces.Skip(1).Any(p => p.Trim().Replace(" ", "", StringComparison.Ordinal) is "rel=next" or "rel=\"next\""))
                return pieces[0].Trim().TrimStart('<').TrimEnd('>');
        }
        return null;
    }

    /// <summary>The connection's token goes with every page, so a next page must stay on the connection's own scheme, host and port.</summary>
    static Uri SameOrigin(Uri origin, Uri next) =>
        Uri.Compare(origin, next, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
            ? next
            : throw new JobInvalidException("source-next-off-origin", "接口下一页指向其他站点", $"The source API's next page is on another host ({next.Host}); only the connection's own host is called.");

    /// <summary>Each file dropped in the folder loads once, in name order; loaded files move to done/, refused ones to failed/.</summary>
    async Task FromFolderAsync(ExchangeJob job, ExchangeConnection connection, ExchangeRun run, string mode, IProgress<LoadProgress>? progress, string actor, CancellationToken ct)
    {
        var folder = opener.CheckPath(connection.Path);
        var files = Directory.GetFiles(folder).Where(f => Path.GetExtension(f).ToLowerInvariant() is ".csv" or ".xlsx" or ".json" or ".ndjson" or ".jsonl")
            .Order(StringComparer.Ordinal).ToList();
        var failures = new List<string>();
        foreach (var file in files)
        {
            var format = LoadFormats.Detect(null, null, file, []);
            try
            {
                var load = await loader.RunAsync(new LoadRequest(job.ResourceId, mode, format, file, Path.GetFileName(file), new FileInfo(file).Length, actor, actor), progress, ct);
                Record(run, load);
                MoveTo(folder, "done", file);
            }
            catch (LoadRefusedException refused)
            {
                failures.Add($"{Path.GetFileName(file)}: {refused.TitleZh} / {refused.Message}");
                MoveTo(folder, "failed", file);
            }
        }
        run.CheckpointAfter = files.Count > 0 ? Path.GetFileName(files[^1]) : run.CheckpointBefore;
        if (failures.Count > 0) throw new JobInvalidException("files-refused", "部分文件未能导入", string.Join("; ", failures));
    }

    static void MoveTo(string folder, string sub, string file)
    {
        var dir = Directory.CreateDirectory(Path.Combine(folder, sub)).FullName;
        File.Move(file, Path.Combine(dir, Path.GetFileName(file)), overwrite: true);
    }
}
