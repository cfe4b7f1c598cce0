using System.Data.Common;
using System.Text;
using System.Threading.Channels;
using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Lianqiao.Audit;

public interface IAuditLog
{
    /// <summary>Completes once the record is committed: callers may rely on it being durable.</summary>
    Task WriteAsync(AuditEntry entry, CancellationToken cancellationToken = default);
}

/// <summary>
/// Group commit: records from concurrent requests share one transaction, and each caller awaits
/// that commit. Auditing stays durable without turning every request into its own fsync.
/// The writer loop starts on first use, so start-up work (seeding, the CLI) is audited before the host runs.
/// </summary>
internal sealed partial class GroupCommitAuditLog(IServiceScopeFactory scopes, TimeProvider time, ILogger<GroupCommitAuditLog> logger)
    : IAuditLog, IHostedService, IAsyncDisposable
{
    const int MaxBatch = 1000;
    readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    readonly Lock startLock = new();
    Task? loop;

    sealed record Pending(AuditRecord Record, TaskCompletionSource Committed);

    public Task WriteAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        var pending = new Pending(entry.ToRecord(time.GetUtcNow()), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!queue.Writer.TryWrite(pending)) throw new InvalidOperationException("The audit log is shut down.");
        return pending.Committed.Task.WaitAsync(cancellationToken);
    }

    void EnsureStarted()
    {
        if (loop is not null) return;
        lock (startLock) loop ??= Task.Run(RunAsync);
    }

    async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        // Ends when the writer is completed and everything queued has been written.
        while (await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item)) batch.Add(item);
            await CommitAsync(batch);
        }
    }

    async Task CommitAsync(List<Pending> batch)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await InsertAsync(scope.ServiceProvider.GetRequiredService<LianqiaoDb>(), batch);
            foreach (var p in batch) p.Committed.TrySetResult();
        }
        catch (Exception ex)
        {
            LogBatchFailed(ex, batch.Count);
            foreach (var p in batch) p.Committed.TrySetException(ex);
        }
    }

    /// <summary>
    /// The batch in one statement, ids assigned in batch order: binary COPY on PostgreSQL, one multi-row INSERT on SQLite.
    /// Not EF change tracking with one statement per record: at a gateway's call rate, tracking and per-row statements
    /// cost more than the rest of a call (bench/gateway/README.md). Column names and value conversions come from the
    /// EF model, so both providers agree.
    /// </summary>
    static async Task InsertAsync(LianqiaoDb db, List<Pending> batch)
    {
        var entity = db.Model.FindEntityType(typeof(AuditRecord))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        // Every column but the database-generated id.
        var columns = entity.GetProperties().Where(p => p.ValueGenerated == ValueGenerated.Never).ToList();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        try
        {
            if (connection is NpgsqlConnection pg) await CopyAsync(pg, table, columns, batch);
            else await InsertValuesAsync(db, connection, table, columns, batch);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// COPY fills the identity column row by row in the order sent, so ids follow the batch as with INSERT; it skips
    /// parsing and planning a statement with thousands of parameters, which cost more than the rows themselves.
    /// </summary>
    static async Task CopyAsync(NpgsqlConnection pg, StoreObjectIdentifier table, List<IProperty> columns, List<Pending> batch)
    {
        var names = string.Join(", ", columns.Select(c => $"\"{c.GetColumnName(table)}\""));
        await using var copy = await pg.BeginBinaryImportAsync($"COPY \"{table.Name}\" ({names}) FROM STDIN (FORMAT BINARY)");
        var getters = columns.Select(c => c.GetGetter()).ToArray();
        foreach (var pending in batch)
        {
            await copy.StartRowAsync();
            foreach (var getter in getters)
            {
                switch (getter.GetClrValue(pending.Record))
                {
                    case null: await copy.WriteNullAsync(); break;
                    case string text: await copy.WriteAsync(text, NpgsqlDbType.Text); break;
                    case DateTimeOffset at: await copy.WriteAsync(at, NpgsqlDbType.TimestampTz); break;
                    case Guid id: await copy.WriteAsync(id, NpgsqlDbType.Uuid); break;
                    case byte[] bytes: await copy.WriteAsync(bytes, NpgsqlDbType.Bytea); break;
                    case var other: throw new InvalidOperationException($"No COPY mapping for an audit column of type {other.GetType()}.");
                }
            }
        }
        await copy.CompleteAsync();
    }

    static async Task InsertValuesAsync(LianqiaoDb db, DbConnection connection, StoreObjectIdentifier table, List<IProperty> columns, List<Pending> batch)
    {
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder($"INSERT INTO \"{table.Name}\" (")
            .AppendJoin(", ", columns.Select(c => $"\"{c.GetColumnName(table)}\"")).Append(") VALUES ");
        for (var row = 0; row < batch.Count; row++)
        {
            sql.Append(row == 0 ? "(" : ", (");
            for (var col = 0; col < columns.Count; col++)
            {
                var name = $"@p{row * columns.Count + col}";
                sql.Append(col == 0 ? name : ", " + name);
                var value = columns[col].GetGetter().GetClrValue(batch[row].Record);
                // CreateParameter applies the column's value converter (e.g. instants as ticks on SQLite).
                command.Parameters.Add(columns[col].GetRelationalTypeMapping().CreateParameter(command, name, value, nullable: true));
            }
            sql.Append(')');
        }
        command.CommandText = sql.ToString();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        await command.ExecuteNonQueryAsync();
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
