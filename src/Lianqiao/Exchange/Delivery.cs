using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Loading;
using Lianqiao.Masking;
using Lianqiao.Organizations;
using Lianqiao.Reference;
using Lianqiao.Sharing;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lianqiao.Exchange;

/// <summary>A delivery that may not go on: the grant is gone, or the target table does not fit.</summary>
internal sealed class DeliveryStoppedException(string messageZh, string messageEn) : Exception(messageEn)
{
    public string MessageZh { get; } = messageZh;
}

/// <summary>
/// 分发: pushes a resource into a consumer's table under the application's grant. Rows come from the data API's own
/// query (granted fields, row filter, masking, change feed with tombstones), so delivery can show nothing the API would
/// not. Each batch is written in one target transaction together with the subscription's checkpoint row: a run killed
/// anywhere leaves either the whole batch and its checkpoint or neither, and the next run continues from that checkpoint.
/// Writes are upserts and deletes keyed on the platform's row id (one per resource key), so a repeat is harmless.
/// </summary>
internal sealed partial class DeliveryRunner(ConnectionOpener opener, ICatalogReader catalog, MaskingService masking, IAuditLog audit, TimeProvider time,
    ILogger<DeliveryRunner> logger)
{
    public const string CheckpointTable = "lianqiao_checkpoints";

    public async Task RunAsync(LianqiaoDb db, GrantService grants, ExchangeJob job, ExchangeConnection connection, ExchangeRun run,
        IProgress<LoadProgress>? progress, CancellationToken ct)
    {
        var app = await db.Set<ConsumerApp>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == job.AppId, ct)
            ?? throw new DeliveryStoppedException("应用系统不存在", "The consumer application no longer exists.");
        var caller = new Caller(PrincipalKind.Application, app.Id.ToString(), app.Name, app.DepartmentId, new HashSet<string>());
        var grant = await ActiveGrantAsync(grants, caller, job, ct);
        var resource = await catalog.FindAsync(job.ResourceId, ct)
            ?? throw new DeliveryStoppedException("资源不存在", "The resource no longer exists in the catalog.");
        var table = await db.Set<DatasetTable>().AsNoTracking().FirstOrDefaultAsync(t => t.ResourceId == job.ResourceId, ct)
            ?? throw new DeliveryStoppedException("该资源尚未汇聚数据", "No data has been loaded for this resource yet.");
        var key = masking.PseudonymKeyFor(app.DepartmentId.ToString());

        await using var target = await opener.OpenAsync(connection, ct);
        var writer = new TargetWriter(target, connection.Kind, job.TargetTable!, job.Id.ToString());
        var shape = DataQuery.Build(resource, table, grant, new DataRequest(null, null, null, 1, null, null, 0), 1, rowIds: true);
        await writer.EnsureTablesAsync(Columns(shape), ct);
        var since = await writer.CheckpointAsync(ct);
        run.CheckpointBefore = since.ToString(CultureInfo.InvariantCulture);
        await RecoverReceiptAsync(db, job, grant, since, ct);
        await writer.StartRunAsync(ct);

        var quota = new QuotaCounter(db, time);
        var bookkeeping = new System.Diagnostics.Stopwatch();
        while (true)
        {
            // Checked before every batch: a revoke stops the delivery at the next batch boundary.
            grant = await ActiveGrantAsync(grants, caller, job, ct);
            // Delivered rows count against the grant's daily row quota as data API reads do: the batch's rows are taken
            // from the quota before they are read (so it is never overshot) and what the feed did not fill is given back.
            // A run killed in between leaves the reserve taken: the quota errs on the consumer's side, never over.
            var limit = job.BatchSize;
            if (grant.QuotaPerDay is { } perDay)
            {
                limit = (int)Math.Min(job.BatchSize, await quota.RemainingAsync(grant.Id, perDay, ct) ?? 0);
                if (limit == 0 || !await quota.TryConsumeAsync(grant.Id, limit, perDay, ct))
                {
                    await db.Database.CloseConnectionAsync();
                    if (!await AnyChangeSinceAsync(db, resource, table, grant, key, since, ct)) break;
                    throw new DeliveryStoppedException($"今日数据配额（{perDay} 行）已用完，下次运行从检查点继续",
                        $"The grant's quota of {perDay} rows per day is used up; the next run continues from the checkpoint.");
                }
            }
            var query = DataQuery.Build(resource, table, grant, new DataRequest(null, null, null, limit, null, null, since), limit, rowIds: true);
            // Rows stream from the data API's query into the target's transaction: a batch is never held in memory whole.
            // A failed batch keeps its reserve taken: whether a commit whose answer was lost went through is unknown here.
            var (count, upserts, deletes, digest) = await WithRetriesAsync(() => writer.WriteBatchAsync(Columns(query), ReadAhead(Counted(query.RowsAsync(db, key, ct), run.RowsRead, progress), ct), () => query.Last, ct), ct);
            await db.Database.CloseConnectionAsync();
            if (grant.QuotaPerDay is not null && limit - count > 0) await quota.TryConsumeAsync(grant.Id, -(limit - count), null, CancellationToken.None);
            if (count == 0) break;

            bookkeeping.Start();
            var receipt = new DeliveryReceipt
            {
                JobId = job.Id, RunId = run.Id, GrantId = grant.Id, FromSeq = since, ToSeq = query.Last, Upserts = upserts, Deletes = deletes,
                Digest = digest, CommittedAt = time.GetUtcNow(),
            };
            db.Add(receipt);
            await db.SaveChangesAsync(CancellationToken.None);
            db.ChangeTracker.Clear();
            await audit.WriteAsync(new AuditEntry("data.deliver")
            {
                ActorKind = PrincipalKind.Application.ToString(), ActorId = app.Id.ToString(), ActorName = app.Name, DepartmentId = app.DepartmentId,
                TargetType = "resource", TargetId = resource.Id,
                Detail = new { jobId = job.Id, grantId = grant.Id, fields = query.Columns.Skip(3).Select(c => c.Name), fromSeq = since, toSeq = query.Last, upserts, deletes, digest },
            }, CancellationToken.None);
            // One write per batch (not per request), so straight to the row rather than through the per-node buffer.
            await CounterUpsert.AddAsync(db, new ExchangeCounter
            {
                Day = time.Today(), ProviderDepartmentId = grant.ProviderDepartmentId, ConsumerDepartmentId = grant.ConsumerDepartmentId ?? app.DepartmentId,
                ResourceId = resource.Id, Calls = 1, Rows = count,
            }, [nameof(ExchangeCounter.Calls), nameof(ExchangeCounter.Rows), nameof(ExchangeCounter.Bytes)], ceiling: null, CancellationToken.None);
            bookkeeping.Stop();
            run.RowsRead += count;
            run.RowsDelivered += upserts;
            run.RowsDeleted += deletes;
            run.Batches++;
            since = query.Last;
            run.CheckpointAfter = since.ToString(CultureInfo.InvariantCulture);
            progress?.Report(new LoadProgress(run.RowsRead, 0));
            if (count < limit) break;
        }
        run.CheckpointAfter ??= run.CheckpointBefore;
        LogPhases(job.Id, writer.StreamMs, writer.ApplyMs, writer.CommitMs, (long)bookkeeping.Elapsed.TotalMilliseconds);
    }

    [LoggerMessage(EventId = 8010, Level = LogLevel.Information,
        Message = "Delivery {JobId} phases: feed+mask+copy {StreamMs} ms, upsert {ApplyMs} ms, commit {CommitMs} ms, receipts+audit {BookkeepingMs} ms")]
    partial void LogPhases(Guid jobId, long streamMs, long applyMs, long commitMs, long bookkeepingMs);

    /// <summary>Reports rows read every 10,000 rows within a batch, so a long batch shows progress too.</summary>
    static async IAsyncEnumerable<object?[]> Counted(IAsyncEnumerable<object?[]> rows, long before, IProgress<LoadProgress>? progress)
    {
        var n = 0L;
        await foreach (var row in rows)
        {
            if (++n % 10_000 == 0) progress?.Report(new LoadProgress(before + n, 0));
            yield return row;
        }
    }

    /// <summary>
    /// The rows read (and masked) on a thread of their own, a few hundred ahead of the writer, which formats, hashes and
    /// sends them meanwhile: the two halves of a batch overlap on two cores, as the loader's read and write do. Memory
    /// stays flat (at most four chunks wait). The writer reads <see cref="DataQuery.Last"/> only after the last row, which the
    /// reader set before it completed the queue. The reader is stopped and awaited before this ends, however it ends, so the
    /// platform's connection is never used by two threads.
    /// </summary>
    static async IAsyncEnumerable<object?[]> ReadAhead(IAsyncEnumerable<object?[]> rows, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        const int ChunkRows = 256;
        var queue = Channel.CreateBounded<object?[][]>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reading = Task.Run(async () =>
        {
            try
            {
                var chunk = new List<object?[]>(ChunkRows);
                await foreach (var row in rows.WithCancellation(stop.Token))
                {
                    chunk.Add(row);
                    if (chunk.Count < ChunkRows) continue;
                    await queue.Writer.WriteAsync([.. chunk], stop.Token);
                    chunk.Clear();
                }
                if (chunk.Count > 0) await queue.Writer.WriteAsync([.. chunk], stop.Token);
                queue.Writer.Complete();
            }
            catch (Exception ex)
            {
                queue.Writer.Complete(ex);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var chunk in queue.Reader.ReadAllAsync(CancellationToken.None))
            {
                foreach (var row in chunk) yield return row;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await reading;
        }
    }

    /// <summary>Whether the feed holds anything after <paramref name="since"/>: a used-up quota stops a run only when rows wait (one row read, not delivered).</summary>
    static async Task<bool> AnyChangeSinceAsync(LianqiaoDb db, ResourceDto resource, DatasetTable table, Grant grant, byte[] key, long since, CancellationToken ct)
    {
        var probe = DataQuery.Build(resource, table, grant, new DataRequest(null, null, null, 1, null, null, since), 1, rowIds: true);
        var any = false;
        await foreach (var _ in probe.RowsAsync(db, key, ct))
        {
            any = true;
            break;
        }
        await db.Database.CloseConnectionAsync();
        return any;
    }

    static List<(string Name, string Storage)> Columns(DataQuery query) =>
        query.Columns.Skip(3).Select((c, i) => (c.Name, query.Masks[i].Masked ? "text" : query.StorageClasses[i])).ToList();

    async Task<Grant> ActiveGrantAsync(GrantService grants, Caller caller, ExchangeJob job, CancellationToken ct)
    {
        var grant = await grants.FindActiveAsync(caller, job.ResourceId, GrantKind.Table, ct);
        if (grant is null || grant.VerificationOnly)
            throw new DeliveryStoppedException("授权已撤销或过期，分发已停止", "The application holds no active table grant on the resource (revoked or expired): delivery stopped.");
        return grant;
    }

    /// <summary>A run that died after the target committed but before its receipt was written: the receipt is written now, marked recovered.</summary>
    async Task RecoverReceiptAsync(LianqiaoDb db, ExchangeJob job, Grant grant, long checkpoint, CancellationToken ct)
    {
        var last = await db.Set<DeliveryReceipt>().Where(r => r.JobId == job.Id).MaxAsync(r => (long?)r.ToSeq, ct) ?? 0;
        if (checkpoint <= last) return;
        db.Add(new DeliveryReceipt { JobId = job.Id, GrantId = grant.Id, FromSeq = last, ToSeq = checkpoint, Digest = "", CommittedAt = time.GetUtcNow(), Recovered = true });
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    /// <summary>Transient target failures (a dropped connection, a deadlock) are retried twice with back-off; the batch is all-or-nothing each time.</summary>
    static async Task<T> WithRetriesAsync<T>(Func<Task<T>> write, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write();
            }
            catch (DbException ex) when (attempt < 3 && ex.IsTransient)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt * attempt), ct);
            }
            catch (StraightCopyCollidedException)
            {
                // The batch is read again and goes the upsert way (the writer no longer copies straight); not a failed attempt.
                attempt--;
            }
        }
    }
}

/// <summary>A batch copied straight into the target met a row id the target already holds; it is written again through the upsert.</summary>
internal sealed class StraightCopyCollidedException() : Exception("A row of the batch is already in the target table.");

/// <summary>Writes delivery batches into one target table of one database kind, with the checkpoint in the same transaction.</summary>
internal sealed class TargetWriter(DbConnection connection, string kind, string table, string subscription)
{
    /// <summary>
    /// PostgreSQL: batches COPY straight into the target table while this run's rows are new to it. True for a run that
    /// found the table empty (a first copy); the first batch that meets a row id already there (a row changed while the
    /// run went on, read again by a later batch) is rolled back and this run's batches go the upsert way from then on.
    /// </summary>
    bool copyStraight;

    /// <summary>Time spent so far, for the run's log: rows streamed into the target, set-based upserts, commits.</summary>
    public long StreamMs { get; private set; }
    public long ApplyMs { get; private set; }
    public long CommitMs { get; private set; }

    string Q(string name) => Sql.Q(kind, name);

    string SqlType(string storage) => (kind, storage) switch
    {
        (ConnectionKinds.Postgres, "double") => "double precision",
        (ConnectionKinds.Postgres, var s) => s,
        (ConnectionKinds.MySql, "text") => "LONGTEXT",
        (ConnectionKinds.MySql, "numeric") => "DECIMAL(38,10)",
        (ConnectionKinds.MySql, "double") => "DOUBLE",
        (ConnectionKinds.MySql, "bigint") => "BIGINT",
        (ConnectionKinds.MySql, "date") => "DATE",
        (ConnectionKinds.MySql, "timestamp") => "DATETIME(6)",
        (ConnectionKinds.MySql, "boolean") => "BOOLEAN",
        (ConnectionKinds.SqlServer, "text") => "NVARCHAR(MAX)",
        (ConnectionKinds.SqlServer, "numeric") => "DECIMAL(38,10)",
        (ConnectionKinds.SqlServer, "double") => "FLOAT",
        (ConnectionKinds.SqlServer, "bigint") => "BIGINT",
        (ConnectionKinds.SqlServer, "date") => "DATE",
        (ConnectionKinds.SqlServer, "timestamp") => "DATETIME2",
        (ConnectionKinds.SqlServer, "boolean") => "BIT",
        (_, "numeric") => "NUMERIC",
        (_, "double") => "REAL",
        (_, "bigint" or "boolean") => "INTEGER",
        _ => "TEXT",
    };

    string CreateIfMissing(string name, string body) => kind == ConnectionKinds.SqlServer
        ? $"IF OBJECT_ID(N'{name}', N'U') IS NULL CREATE TABLE {Q(name)} ({body});"
        : $"CREATE TABLE IF NOT EXISTS {Q(name)} ({body});";

    /// <summary>Creates the target table and the checkpoint table when missing; an existing target table must have every delivered column.</summary>
    public async Task EnsureTablesAsync(IReadOnlyList<(string Name, string Storage)> columns, CancellationToken ct)
    {
        var key = kind == ConnectionKinds.MySql || kind == ConnectionKinds.SqlServer ? "VARCHAR(64)" : "TEXT";
        var body = $"{Q("lq_row_id")} BIGINT NOT NULL PRIMARY KEY, {Q("lq_seq")} BIGINT NOT NULL"
            + string.Concat(columns.Select(c => $", {Q(c.Name)} {SqlType(c.Storage)} NULL"));
        await ExecAsync(CreateIfMissing(table, body) + "\n"
            + CreateIfMissing(DeliveryRunner.CheckpointTable, $"{Q("subscription")} {key} NOT NULL PRIMARY KEY, {Q("last_seq")} BIGINT NOT NULL, {Q("updated_at")} VARCHAR(40) NOT NULL"), null, ct);
        try
        {
            var probe = kind == ConnectionKinds.SqlServer
                ? $"SELECT TOP (0) {Q("lq_row_id")}, {Q("lq_seq")}{string.Concat(columns.Select(c => ", " + Q(c.Name)))} FROM {Q(table)}"
                : $"SELECT {Q("lq_row_id")}, {Q("lq_seq")}{string.Concat(columns.Select(c => ", " + Q(c.Name)))} FROM {Q(table)} WHERE 1 = 0";
            await ExecAsync(probe, null, ct);
        }
        catch (DbException ex)
        {
            throw new DeliveryStoppedException("目标表缺少授权字段对应的列", $"The target table {table} exists without every delivered column: {ex.Message}");
        }
    }

    /// <summary>Decides, once per run, whether its batches may copy straight into the target (see <see cref="copyStraight"/>).</summary>
    public async Task StartRunAsync(CancellationToken ct) =>
        copyStraight = kind == ConnectionKinds.Postgres && await ScalarAsync($"SELECT NOT EXISTS (SELECT 1 FROM {Q(table)})", ct) is true;

    public async Task<long> CheckpointAsync(CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {Q("last_seq")} FROM {Q(DeliveryRunner.CheckpointTable)} WHERE {Q("subscription")} = @s";
        Sql.Add(cmd, "s", subscription);
        return await cmd.ExecuteScalarAsync(ct) is { } v and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>
    /// One batch and the checkpoint, committed together; nothing when the feed has no rows. Rows are [_seq, _deleted, _id,
    /// granted columns…]; <paramref name="last"/> gives the feed's last sequence once the rows are read.
    /// </summary>
    public async Task<(int Rows, int Upserts, int Deletes, string Digest)> WriteBatchAsync(IReadOnlyList<(string Name, string Storage)> columns,
        IAsyncEnumerable<object?[]> rows, Func<long> last, CancellationToken ct)
    {
        using var digest = new BatchDigest();
        var normalised = Normalised(rows, columns, digest);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var straight = copyStraight;
        int count, upserts, deletes;
        try
        {
            (count, upserts, deletes) = kind == ConnectionKinds.Postgres
                ? await PgBatchAsync((NpgsqlConnection)connection, columns, normalised, straight, ct)
                : await TimedAsync(RowByRowAsync(tx, columns, normalised, ct));
        }
        catch (PostgresException ex) when (straight && ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            copyStraight = false;
            throw new StraightCopyCollidedException();
        }
        if (count == 0) return (0, 0, 0, "");
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = Upsert(DeliveryRunner.CheckpointTable, "subscription", ["last_seq", "updated_at"]);
            Sql.Add(cmd, "p0", subscription);
            Sql.Add(cmd, "p1", last());
            Sql.Add(cmd, "p2", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            await cmd.ExecuteNonQueryAsync(ct);
        }
        var commit = System.Diagnostics.Stopwatch.StartNew();
        await tx.CommitAsync(ct);
        CommitMs += commit.ElapsedMilliseconds;
        return (count, upserts, deletes, digest.Finish());
    }

    async Task<T> TimedAsync<T>(Task<T> write)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = await write;
        StreamMs += clock.ElapsedMilliseconds;
        return result;
    }

    /// <summary>Values as the target column wants them (the data API hands timestamps over as text on SQLite), each row added to the digest.</summary>
    static async IAsyncEnumerable<object?[]> Normalised(IAsyncEnumerable<object?[]> rows, IReadOnlyList<(string Name, string Storage)> columns, BatchDigest digest)
    {
        await foreach (var row in rows)
        {
            // The feed hands out a fresh array per row, so it is changed in place.
            for (var i = 0; i < columns.Count; i++)
            {
                if (columns[i].Storage == "timestamp" && row[i + 3] is string s)
                    row[i + 3] = DateTime.Parse(s, CultureInfo.InvariantCulture);
            }
            digest.Add(row);
            yield return row;
        }
    }

    /// <summary>The receipt's digest: SHA-256 of the rows' values as text, unit-separated, one line per row; the first 16 hex digits.</summary>
    sealed class BatchDigest : IDisposable
    {
        readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        readonly ValueText text = new();
        byte[] buffer = new byte[1024];

        /// <summary>A row's bytes are gathered and hashed in one call rather than one per value (the same bytes, so the same digest).</summary>
        public void Add(object?[] row)
        {
            var n = 0;
            foreach (var v in row)
            {
                var chars = v is null ? "\u2400" : text.Of(v);
                var max = n + Encoding.UTF8.GetMaxByteCount(chars.Length) + 4;
                if (max > buffer.Length) Array.Resize(ref buffer, Math.Max(max, buffer.Length * 2));
                n += Encoding.UTF8.GetBytes(chars, buffer.AsSpan(n));
                buffer[n++] = 0x1f;   // U+001F, the unit separator
            }
            buffer[n++] = (byte)'\n';
            hash.AppendData(buffer, 0, n);
        }

        public string Finish() => Convert.ToHexStringLower(hash.GetHashAndReset())[..16];

        public void Dispose() => hash.Dispose();
    }

    string Upsert(string name, string key, IReadOnlyList<string> others)
    {
        var all = new[] { key }.Concat(others).ToList();
        var cols = string.Join(", ", all.Select(Q));
        var ps = string.Join(", ", all.Select((_, i) => "@p" + i));
        return kind switch
        {
            ConnectionKinds.MySql => $"INSERT INTO {Q(name)} ({cols}) VALUES ({ps}) ON DUPLICATE KEY UPDATE {string.Join(", ", others.Select(c => $"{Q(c)} = VALUES({Q(c)})"))}",
            ConnectionKinds.SqlServer => $"MERGE {Q(name)} AS d USING (SELECT {string.Join(", ", all.Select((c, i) => $"@p{i} AS {Q(c)}"))}) AS s ON d.{Q(key)} = s.{Q(key)} "
                + $"WHEN MATCHED THEN UPDATE SET {string.Join(", ", others.Select(c => $"{Q(c)} = s.{Q(c)}"))} WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({string.Join(", ", all.Select(c => "s." + Q(c)))});",
            _ => $"INSERT INTO {Q(name)} ({cols}) VALUES ({ps}) ON CONFLICT ({Q(key)}) DO UPDATE SET {string.Join(", ", others.Select(c => $"{Q(c)} = excluded.{Q(c)}"))}",
        };
    }

    async Task<(int Rows, int Upserts, int Deletes)> RowByRowAsync(DbTransaction tx, IReadOnlyList<(string Name, string Storage)> columns, IAsyncEnumerable<object?[]> rows, CancellationToken ct)
    {
        await using var upsert = connection.CreateCommand();
        upsert.Transaction = tx;
        upsert.CommandText = Upsert(table, "lq_row_id", ["lq_seq", .. columns.Select(c => c.Name)]);
        var ps = Enumerable.Range(0, columns.Count + 2).Select(i =>
        {
            var p = upsert.CreateParameter();
            p.ParameterName = "p" + i;
            upsert.Parameters.Add(p);
            return p;
        }).ToArray();
        await using var delete = connection.CreateCommand();
        delete.Transaction = tx;
        delete.CommandText = $"DELETE FROM {Q(table)} WHERE {Q("lq_row_id")} = @id";
        var id = delete.CreateParameter();
        id.ParameterName = "id";
        delete.Parameters.Add(id);
        int upserts = 0, deletes = 0;
        await foreach (var row in rows.WithCancellation(ct))
        {
            if (row[1] is true)
            {
                id.Value = row[2];
                await delete.ExecuteNonQueryAsync(ct);
                deletes++;
                continue;
            }
            ps[0].Value = row[2];
            ps[1].Value = row[0];
            for (var i = 0; i < columns.Count; i++) ps[i + 2].Value = row[i + 3] ?? DBNull.Value;
            await upsert.ExecuteNonQueryAsync(ct);
            upserts++;
        }
        return (upserts + deletes, upserts, deletes);
    }

    /// <summary>
    /// PostgreSQL, COPY in text format. Into an empty target table, or straight on in a run that began with it empty, the
    /// rows go straight in (the feed holds each row id once per batch; the table's primary key refuses a row id an earlier
    /// batch wrote, see <see cref="copyStraight"/>), and the batch's tombstones delete by row id afterwards. Otherwise into
    /// a temporary table, then one set-based delete and one upsert. Text rather than Npgsql's binary importer: the
    /// importer binds a parameter for every value it writes, which cost more of a delivery's CPU than masking and reading
    /// together (perf, 1M rows); the text of a value is the one <see cref="ValueText"/> gives the receipt's digest.
    /// </summary>
    async Task<(int Rows, int Upserts, int Deletes)> PgBatchAsync(NpgsqlConnection pg, IReadOnlyList<(string Name, string Storage)> columns, IAsyncEnumerable<object?[]> rows,
        bool straight, CancellationToken ct)
    {
        var names = string.Concat(columns.Select(c => ", " + Q(c.Name)));
        var T = Q(table);
        var empty = straight || await ScalarAsync($"SELECT NOT EXISTS (SELECT 1 FROM {T})", ct) is true;
        var tombstones = new List<long>();
        if (!empty)
            await ExecAsync($"CREATE TEMP TABLE lq_batch (lq_row_id bigint, lq_seq bigint, lq_deleted boolean{string.Concat(columns.Select(c => $", {Q(c.Name)} {SqlType(c.Storage)}"))}) ON COMMIT DROP", null, ct);
        int count = 0, deletes = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var copy = (NpgsqlCopyTextWriter)await pg.BeginTextImportAsync(empty
            ? $"COPY {T} (lq_row_id, lq_seq{names}) FROM STDIN"
            : $"COPY lq_batch (lq_row_id, lq_seq, lq_deleted{names}) FROM STDIN", ct);
        try
        {
            var text = new ValueText();
            await foreach (var row in rows.WithCancellation(ct))
            {
                count++;
                var deleted = (bool)row[1]!;
                if (deleted) deletes++;
                if (deleted && empty)
                {
                    tombstones.Add((long)row[2]!);
                    continue;
                }
                // Synchronous writes: the writer buffers, and an await per value costs more than the value.
                copy.Write(text.Of(row[2]!));
                copy.Write('\t');
                copy.Write(text.Of(row[0]!));
                if (!empty) copy.Write(deleted ? "\tt" : "\tf");
                for (var i = 0; i < columns.Count; i++)
                {
                    copy.Write('\t');
                    if (row[i + 3] is { } value) WriteEscaped(copy, text.Of(value));
                    else copy.Write("\\N");
                }
                copy.Write('\n');
            }
        }
        catch
        {
            // Disposing the writer would end the COPY with the rows so far; they must not count as a batch.
            await copy.CancelAsync();
            throw;
        }
        // Ends the COPY: a row id the table already holds (see copyStraight) fails here.
        await copy.DisposeAsync();
        StreamMs += clock.ElapsedMilliseconds;
        if (empty)
        {
            // Rows an earlier batch of this run wrote and the provider deleted since; none when the table was empty.
            if (tombstones.Count > 0)
            {
                await using var delete = new NpgsqlCommand($"DELETE FROM {T} WHERE lq_row_id = ANY(@ids)", pg);
                delete.Parameters.AddWithValue("ids", tombstones.ToArray());
                await delete.ExecuteNonQueryAsync(ct);
            }
            return (count, count - deletes, deletes);
        }
        clock.Restart();
        await ExecAsync($"DELETE FROM {T} t USING lq_batch b WHERE b.lq_deleted AND t.lq_row_id = b.lq_row_id", null, ct);
        var set = string.Join(", ", new[] { "lq_seq" }.Concat(columns.Select(c => c.Name)).Select(c => $"{Q(c)} = excluded.{Q(c)}"));
        var upserts = await ExecAsync($"INSERT INTO {T} (lq_row_id, lq_seq{names}) SELECT lq_row_id, lq_seq{names} FROM lq_batch WHERE NOT lq_deleted ON CONFLICT (lq_row_id) DO UPDATE SET {set}", null, ct);
        ApplyMs += clock.ElapsedMilliseconds;
        return (count, upserts, deletes);
    }

    static readonly System.Buffers.SearchValues<char> CopyEscaped = System.Buffers.SearchValues.Create("\\\t\n\r");

    /// <summary>A value in COPY's text format: backslash, tab, newline and carriage return escaped with a backslash.</summary>
    static void WriteEscaped(TextWriter copy, ReadOnlySpan<char> value)
    {
        while (true)
        {
            var at = value.IndexOfAny(CopyEscaped);
            if (at < 0)
            {
                copy.Write(value);
                return;
            }
            copy.Write(value[..at]);
            copy.Write(value[at] switch { '\t' => "\\t", '\n' => "\\n", '\r' => "\\r", _ => "\\\\" });
            value = value[(at + 1)..];
        }
    }

    async Task<object?> ScalarAsync(string sql, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return await cmd.ExecuteScalarAsync(ct);
    }

    async Task<int> ExecAsync(string sql, DbTransaction? tx, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.CommandTimeout = 0;
        return await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>
/// A delivered value's text, exactly as <see cref="Quality.ValueParser.Format"/> writes it, into a reused buffer rather than
/// a new string: the receipt's digest and the text COPY format every value of every row. The text is valid until the next call.
/// </summary>
internal sealed class ValueText
{
    char[] buffer = new char[64];

    public ReadOnlySpan<char> Of(object value)
    {
        switch (value)
        {
            case string s: return s;
            case bool b: return b ? "true" : "false";
            case DateOnly or DateTime or ISpanFormattable: break;
            default: return Quality.ValueParser.Format(value);
        }
        int n;
        while (!TryFormat(value, buffer, out n)) buffer = new char[buffer.Length * 2];
        return buffer.AsSpan(0, n);
    }

    static bool TryFormat(object value, Span<char> into, out int n) => value switch
    {
        DateOnly d => d.TryFormat(into, out n, "yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.TryFormat(into, out n, Quality.ValueParser.DateTimeFormat(t), CultureInfo.InvariantCulture),
        // What ToString(null, InvariantCulture) writes, for the numbers.
        _ => ((ISpanFormattable)value).TryFormat(into, out n, default, CultureInfo.InvariantCulture),
    };
}
