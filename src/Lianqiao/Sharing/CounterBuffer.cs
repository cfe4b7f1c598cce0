using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Sharing;

/// <summary>
/// Statistics counters summed in memory and written once a second in one transaction, and once more when the host
/// stops: a database write per request made the counter row's lock (SQLite's write lock; a hot PostgreSQL row) the
/// ceiling of every read path that counts (bench/open-api measured 0.04× of /healthz).
/// <para>
/// Only for statistics, never for limits: quotas stay counted in the database per call (<see cref="QuotaCounter"/>),
/// exact across nodes, and the audit ledger stays the exact record of what left. Worst case: a crash (kill -9, power
/// loss) loses at most the last <see cref="FlushInterval"/> of counts on that node; while the database is unreachable,
/// failed flushes keep their sums for the next try, so a crash then loses everything since the outage began. A clean
/// stop loses nothing: the server drains its requests before hosted services stop, then <see cref="StopAsync"/> writes.
/// </para>
/// <para>
/// Memory is bounded without a cap: sums are keyed by day × resource (× departments), so they grow with the catalog,
/// not with traffic, even while the database is down. The flush never awaits under the in-memory lock: it swaps the
/// dictionary under the lock and writes outside it; one flush runs at a time.
/// </para>
/// </summary>
internal abstract partial class CounterBuffer<TKey>(IServiceScopeFactory scopes, TimeProvider time, ILogger logger) : IHostedService
    where TKey : notnull
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    readonly Lock gate = new();
    Dictionary<TKey, long[]> pending = [];
    readonly SemaphoreSlim flushing = new(1, 1);
    CancellationTokenSource? stopping;
    Task? loop;

    protected TimeProvider Time => time;

    /// <summary>Adds to a key's sums (a fixed number of them per buffer kind).</summary>
    protected void Add(TKey key, params ReadOnlySpan<long> values)
    {
        lock (gate)
        {
            if (!pending.TryGetValue(key, out var sums)) pending[key] = sums = new long[values.Length];
            for (var i = 0; i < values.Length; i++) sums[i] += values[i];
        }
    }

    /// <summary>Writes the taken sums inside the flush's transaction: one <see cref="CounterUpsert"/> per key, so no failed insert aborts it.</summary>
    protected abstract Task WriteAsync(LianqiaoDb db, IReadOnlyDictionary<TKey, long[]> sums);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        stopping = new CancellationTokenSource();
        loop = RunAsync(stopping.Token);
        return Task.CompletedTask;
    }

    async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop)) await FlushAsync();
        }
        catch (OperationCanceledException)
        {
            // Stopping: StopAsync writes what is left once this loop has ended.
        }
    }

    /// <summary>
    /// Ends the timer loop (waiting for a flush in progress), then writes what is left. The final flush ignores the host's
    /// shutdown token on purpose: abandoning it would lose the counts, and it is one short transaction.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (stopping is null || loop is null) return;
        await stopping.CancelAsync();
        await loop;
        await FlushAsync();
        stopping.Dispose();
        stopping = null;
    }

    /// <summary>Writes everything summed so far in one transaction; on failure the sums go back for the next flush.</summary>
    public async Task FlushAsync()
    {
        await flushing.WaitAsync();
        try
        {
            Dictionary<TKey, long[]> taken;
            lock (gate)
            {
                if (pending.Count == 0) return;
                taken = pending;
                pending = [];
            }
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
                await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
                await WriteAsync(db, taken);
                await tx.CommitAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                LogFlushFailed(logger, ex, GetType().Name, taken.Count);
                foreach (var (key, sums) in taken) Add(key, sums);
            }
        }
        finally
        {
            flushing.Release();
        }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "{Buffer}: counters for {Keys} keys could not be written; kept for the next flush")]
    static partial void LogFlushFailed(ILogger logger, Exception ex, string buffer, int keys);
}

/// <summary>Exchange volume (<see cref="ExchangeCounter"/>: calls, rows, bytes per day × provider × consumer × resource), buffered.</summary>
internal sealed class ExchangeCounterBuffer(IServiceScopeFactory scopes, TimeProvider time, ILogger<ExchangeCounterBuffer> logger)
    : CounterBuffer<(DateOnly Day, Guid Provider, Guid Consumer, string ResourceId)>(scopes, time, logger)
{
    /// <summary>One exchange today; <paramref name="consumer"/> is the consuming department, or Guid.Empty for the public.</summary>
    public void Add(Guid provider, Guid consumer, string resourceId, long rows, long bytes) =>
        Add((Reference.ChinaTime.Today(Time), provider, consumer, resourceId), 1, rows, bytes);

    protected override async Task WriteAsync(LianqiaoDb db, IReadOnlyDictionary<(DateOnly Day, Guid Provider, Guid Consumer, string ResourceId), long[]> sums)
    {
        foreach (var ((day, provider, consumer, resourceId), s) in sums)
            await CounterUpsert.AddAsync(db,
                new ExchangeCounter { Day = day, ProviderDepartmentId = provider, ConsumerDepartmentId = consumer, ResourceId = resourceId, Calls = s[0], Rows = s[1], Bytes = s[2] },
                [nameof(ExchangeCounter.Calls), nameof(ExchangeCounter.Rows), nameof(ExchangeCounter.Bytes)], ceiling: null, CancellationToken.None);
    }
}
