using System.Data.Common;
using System.Text;
using System.Threading.Channels;
using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Lianqiao.Audit;

public interface IAuditLog
{
    /// <summary>Completes once the record is committed: callers may rely on it being durable.</summary>
    Task WriteAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>
    /// One item of a high-rate action (a gateway call). The items of one group (equal <paramref name="group"/> entries,
    /// which carry no detail, remote address or request id) that share a commit are stored as one record whose detail is
    /// <c>{"count":N,"items":[…]}</c> (<see cref="AuditItems"/>), each item a JSON object with its own <c>at</c>. Why: the
    /// database's cost is per row, and one row per gateway call cost as much as the rest of the call (bench/gateway/README.md).
    /// The ledger seals and verifies the record like any other.
    /// <para>
    /// Completes once the item is queued, while at most <see cref="AuditLedgerOptions.MaxUnsettledItems"/> of this node's
    /// items wait for their commit; past that, once the item is committed. Nothing is dropped: a full queue holds callers
    /// back. A node that stops writes everything queued first; a node that crashes loses at most that many items. Why not
    /// every time: the caller's answer has left by then anyway (a forwarded body is flushed as it is copied), so waiting
    /// only held the connection, and it cost a gateway call about a tenth of its throughput (bench/gateway/README.md).
    /// </para>
    /// </summary>
    Task WriteItemAsync(AuditEntry group, string itemJson);

    /// <summary>Completes once everything written before it has been committed (or has failed).</summary>
    Task SettleAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// True from a failed commit until the next one succeeds. What writes at a high rate without waiting for its
    /// commit (the gateway) refuses work meanwhile, rather than serve calls the ledger cannot hold.
    /// </summary>
    bool Failing { get; }
}

/// <summary>
/// Group commit: records from concurrent requests share one transaction, and each caller awaits
/// that commit (a gateway call's item only past a bound, <see cref="IAuditLog.WriteItemAsync"/>). Auditing stays durable
/// without turning every request into its own fsync.
/// The writer loop starts on first use, so start-up work (seeding, the CLI) is audited before the host runs.
/// <para>
/// A batch of nothing but items nobody waits for lingers up to <see cref="AuditLedgerOptions.ItemLinger"/> for more before it
/// commits, unless something that waits is queued: under a busy gateway a commit then carries a few hundred calls rather
/// than a few dozen, and the database and the writer wake far less often (bench/gateway/README.md).
/// </para>
/// <para>
/// The loop runs on a thread of its own with blocking database calls: when the database answers, the kernel wakes this
/// thread directly, where an async loop waited in the thread pool's queue behind the requests it holds up. Under a
/// busy gateway that queue is where a commit's latency went (bench/gateway/README.md).
/// </para>
/// </summary>
internal sealed partial class GroupCommitAuditLog(IServiceScopeFactory scopes, TimeProvider time, IOptions<AuditLedgerOptions> options,
    ILogger<GroupCommitAuditLog> logger) : IAuditLog, IHostedService, IAsyncDisposable
{
    const int MaxBatch = 1000;
    readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    readonly Lock startLock = new();
    readonly int maxUnsettledItems = options.Value.MaxUnsettledItems;
    readonly TimeSpan itemLinger = options.Value.ItemLinger;
    // Set when something that waits for its commit is queued (a record, an item past the bound, a settle marker): it ends a linger.
    readonly ManualResetEventSlim waiterQueued = new(false, spinCount: 0);
    Task? loop;
    // Items queued and not yet committed or failed (IAuditLog.WriteItemAsync); the writer takes a batch's items off after its commit.
    int unsettledItems;
    volatile bool failing;

    /// <summary>
    /// A record to write as it is, one item of a group (<see cref="IAuditLog.WriteItemAsync"/>), or neither: a marker
    /// that completes when what came before it is settled (<see cref="SettleAsync"/>).
    /// </summary>
    internal sealed class Pending
    {
        public AuditRecord? Record { get; init; }
        public AuditEntry? Group { get; init; }
        public string? Item { get; init; }
        public DateTimeOffset At { get; init; }
        /// <summary>Null for an item nobody waits for: most gateway calls.</summary>
        public TaskCompletionSource? Committed { get; init; }
    }

    static TaskCompletionSource Waiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Failing => failing;

    public Task WriteAsync(AuditEntry entry, CancellationToken cancellationToken = default) =>
        Enqueue(new Pending { Record = entry.ToRecord(time.GetUtcNow()), Committed = Waiter() }).WaitAsync(cancellationToken);

    public Task WriteItemAsync(AuditEntry group, string itemJson)
    {
        if (group.Detail is not null || group.RemoteIp is not null || group.RequestId is not null)
            throw new ArgumentException("A group entry carries no detail, remote address or request id: each item does.", nameof(group));
        var wait = Interlocked.Increment(ref unsettledItems) > maxUnsettledItems;
        return Enqueue(new Pending { Group = group, Item = itemJson, At = LedgerFormat.ToStoredPrecision(time.GetUtcNow()), Committed = wait ? Waiter() : null });
    }

    public Task SettleAsync(CancellationToken cancellationToken = default) => Enqueue(new Pending { Committed = Waiter() }).WaitAsync(cancellationToken);

    Task Enqueue(Pending pending)
    {
        EnsureStarted();
        if (!queue.Writer.TryWrite(pending))
        {
            if (pending.Group is not null) Interlocked.Decrement(ref unsettledItems);
            throw new InvalidOperationException("The audit log is shut down.");
        }
        if (pending.Committed is null) return Task.CompletedTask;
        waiterQueued.Set();
        return pending.Committed.Task;
    }

    void EnsureStarted()
    {
        if (loop is not null) return;
        lock (startLock)
        {
            if (loop is not null) return;
            var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            new Thread(() =>
            {
                try
                {
                    Run();
                    ended.SetResult();
                }
                catch (Exception ex)
                {
                    ended.SetException(ex);
                }
            }) { IsBackground = true, Name = "Lianqiao audit writer" }.Start();
            loop = ended.Task;
        }
    }

    void Run()
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            // Ends when the writer is completed and everything queued has been written.
            while (queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                batch.Clear();
                // Reset before draining: a waiter queued after the drain sets it again and cuts the linger short.
                waiterQueued.Reset();
                Drain(batch);
                if (itemLinger > TimeSpan.Zero && batch.Count < MaxBatch && !batch.Exists(p => p.Committed is not null))
                {
                    waiterQueued.Wait(itemLinger);
                    Drain(batch);
                }
                Commit(batch);
            }
        }
        finally
        {
            pgWriter?.Dispose();
            pgWriter = null;
        }
    }

    void Drain(List<Pending> batch)
    {
        while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item)) batch.Add(item);
    }

    void Commit(List<Pending> batch)
    {
        try
        {
            var records = Pack(batch);
            if (records.Count > 0)
            {
                if (PostgresWriter() is { } pg)
                {
                    InsertBatch(pg, target!, records);
                }
                else
                {
                    using var scope = scopes.CreateScope();
                    InsertValues(scope.ServiceProvider.GetRequiredService<LianqiaoDb>(), target!, records);
                }
                failing = false;
            }
            Settle(batch, null);
        }
        catch (Exception ex)
        {
            failing = true;
            LogBatchFailed(ex, batch.Count);
            Settle(batch, ex);
            // A connection that failed mid-batch is not reused; the next batch opens a fresh one.
            pgWriter?.Dispose();
            pgWriter = null;
        }
    }

    /// <summary>
    /// Counts the batch's items off, then completes its waiters: a record's or a waiting item's with the commit's
    /// outcome, a settle marker's always (settled means committed or failed).
    /// </summary>
    void Settle(List<Pending> batch, Exception? failure)
    {
        var items = 0;
        foreach (var p in batch)
        {
            if (p.Group is not null) items++;
        }
        Interlocked.Add(ref unsettledItems, -items);
        foreach (var p in batch)
        {
            if (failure is null || p.Record is null && p.Group is null) p.Committed?.TrySetResult();
            else p.Committed?.TrySetException(failure);
        }
    }

    /// <summary>Where records go, read once from the EF model: the table and every column but the database-generated id.</summary>
    internal sealed record Target(StoreObjectIdentifier Table, IProperty[] Columns, string? PostgresConnectionString)
    {
        public string ColumnList { get; } = ColumnListOf(Table, Columns);
        public IClrPropertyGetter[] Getters { get; } = Columns.Select(c => c.GetGetter()).ToArray();

        /// <summary>One record's INSERT with positional parameters: the same text for every record, so prepared once.</summary>
        public string PostgresInsert { get; } = $"INSERT INTO \"{Table.Name}\" ({ColumnListOf(Table, Columns)}) "
            + $"VALUES ({string.Join(", ", Columns.Select((_, i) => $"${i + 1}"))})";

        static string ColumnListOf(StoreObjectIdentifier table, IProperty[] columns) =>
            string.Join(", ", columns.Select(c => $"\"{c.GetColumnName(table)}\""));

        /// <summary>Each column's parameter type, so a null binds to the same prepared statement as a value.</summary>
        public NpgsqlDbType[] PostgresTypes { get; } = Columns.Select(c => (Nullable.GetUnderlyingType(c.ClrType) ?? c.ClrType) switch
        {
            var t when t == typeof(string) => NpgsqlDbType.Text,
            var t when t == typeof(DateTimeOffset) => NpgsqlDbType.TimestampTz,
            var t when t == typeof(Guid) => NpgsqlDbType.Uuid,
            var t when t == typeof(byte[]) => NpgsqlDbType.Bytea,
            var t => throw new InvalidOperationException($"No PostgreSQL mapping for an audit column of type {t}."),
        }).ToArray();
    }

    Target? target;
    NpgsqlConnection? pgWriter;

    /// <summary>
    /// On PostgreSQL the writer loop holds one connection of its own. From the pool each batch got the least recently used
    /// connection, so every commit woke a different, cold backend: about 0.3 ms of PostgreSQL's CPU per commit, most of its
    /// cost at a gateway's call rate (bench/gateway/README.md). Null on SQLite, whose writes go through a context as before.
    /// </summary>
    NpgsqlConnection? PostgresWriter()
    {
        if (target is null)
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
            var entity = db.Model.FindEntityType(typeof(AuditRecord))!;
            target = new Target(StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema()),
                entity.GetProperties().Where(p => p.ValueGenerated == ValueGenerated.Never).ToArray(),
                db.Database.GetDbConnection() is NpgsqlConnection ? db.Database.GetConnectionString() : null);
        }
        if (target.PostgresConnectionString is null) return null;
        if (pgWriter is null)
        {
            var connection = new NpgsqlConnection(target.PostgresConnectionString);
            connection.Open();
            pgWriter = connection;
        }
        return pgWriter;
    }

    /// <summary>
    /// The batch's records in the order they came; the items of each group in one record, placed where its first item came.
    /// </summary>
    internal static List<AuditRecord> Pack(IReadOnlyList<Pending> batch)
    {
        var records = new List<AuditRecord>(batch.Count);
        Dictionary<AuditEntry, (int Index, List<string> Items, DateTimeOffset At)>? groups = null;
        foreach (var pending in batch)
        {
            if (pending.Record is { } record)
            {
                records.Add(record);
                continue;
            }
            if (pending.Group is null) continue; // a settle marker
            groups ??= [];
            if (!groups.TryGetValue(pending.Group!, out var group))
            {
                group = (records.Count, [], pending.At);
                groups.Add(pending.Group!, group);
                records.Add(null!); // filled below, once the group has all its items
            }
            group.Items.Add(pending.Item!);
        }
        if (groups is null) return records;
        foreach (var (entry, (index, items, at)) in groups) records[index] = entry.ToRecord(at, AuditItems.Detail(items));
        return records;
    }

    // The batch in one transaction and one round trip, ids assigned in batch order: on PostgreSQL a batch of one prepared
    // INSERT per record, on SQLite one multi-row INSERT. Not EF change tracking: at a gateway's call rate, tracking cost
    // more than the rest of a call (bench/gateway/README.md). Column names and value conversions come from the EF model,
    // so both providers agree.

    /// <summary>
    /// The commands of a batch run in order in one implicit transaction (one Sync), so ids follow the batch. Not binary COPY
    /// any more: with a gateway's calls grouped, a batch holds one or a few records, and a COPY (parsed and set up each time,
    /// two round trips) cost PostgreSQL about four times the CPU of a prepared INSERT (bench/gateway/README.md).
    /// The statement is prepared automatically after a few uses (`Max Auto Prepare`, <see cref="Data.DataExtensions"/>).
    /// </summary>
    static void InsertBatch(NpgsqlConnection pg, Target target, List<AuditRecord> batch)
    {
        using var command = new NpgsqlBatch(pg);
        var sql = target.PostgresInsert;
        foreach (var record in batch)
        {
            var insert = new NpgsqlBatchCommand(sql);
            for (var i = 0; i < target.Getters.Length; i++)
                insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = target.PostgresTypes[i], Value = target.Getters[i].GetClrValue(record) ?? DBNull.Value });
            command.BatchCommands.Add(insert);
        }
        command.ExecuteNonQuery();
    }

    static void InsertValues(LianqiaoDb db, Target target, List<AuditRecord> batch)
    {
        var columns = target.Columns;
        db.Database.OpenConnection();
        try
        {
            using var command = db.Database.GetDbConnection().CreateCommand();
            var sql = new StringBuilder($"INSERT INTO \"{target.Table.Name}\" (").Append(target.ColumnList).Append(") VALUES ");
            for (var row = 0; row < batch.Count; row++)
            {
                sql.Append(row == 0 ? "(" : ", (");
                for (var col = 0; col < columns.Length; col++)
                {
                    var name = $"@p{row * columns.Length + col}";
                    sql.Append(col == 0 ? name : ", " + name);
                    var value = target.Getters[col].GetClrValue(batch[row]);
                    // CreateParameter applies the column's value converter (e.g. instants as ticks on SQLite).
                    command.Parameters.Add(columns[col].GetRelationalTypeMapping().CreateParameter(command, name, value, nullable: true));
                }
                sql.Append(')');
            }
            command.CommandText = sql.ToString();
            command.ExecuteNonQuery();
        }
        finally
        {
            db.Database.CloseConnection();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureStarted();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        if (loop is not null) await loop.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Audit batch of {Count} records failed to commit")]
    partial void LogBatchFailed(Exception ex, int count);
}
