using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.OpenData;

/// <summary>
/// The portal's statistics — views, downloads and API calls per dataset and day (<c>open_counters</c>), and the
/// public's exchange volume (<c>exchange_counters</c> with the empty consumer) — summed in memory and written once a
/// second in one transaction, and once more when the host stops. One counter write per anonymous request made SQLite's
/// write lock the open API's ceiling (bench/open-api measured 0.04× of /healthz).
/// <para>
/// Why losing some is acceptable: these are statistics, not quotas. A developer's daily quota stays counted in the
/// database per call (<see cref="Sharing.QuotaCounter"/>), exact across nodes. Worst case here: a crash (kill -9,
/// power loss) loses at most the last <see cref="FlushInterval"/> of counts on that node, plus, while the database
/// is unreachable, everything since it became unreachable (failed flushes keep their sums for the next try).
/// A clean stop loses nothing: the server drains its requests first, then <see cref="StopAsync"/> writes the rest.
/// </para>
/// <para>
/// Memory is bounded without a cap: sums are keyed by dataset × day × provider, so they grow with the open set, not
/// with traffic, even while the database is down. Counts appear in the database (and on every node's pages) within a
/// second. The flush never runs under the in-memory lock: it swaps the dictionary under the lock and writes outside it.
/// </para>
/// </summary>
internal sealed partial class OpenCounterBuffer(IServiceScopeFactory scopes, TimeProvider time, ILogger<OpenCounterBuffer> logger)
    : IHostedService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    readonly record struct Key(string ResourceId, DateOnly Day, Guid ProviderDepartmentId);

    sealed class Sums
    {
        public long Views, Downloads, Calls, Exchanges, Rows, Bytes;

        public void Add(Sums other)
        {
            Views += other.Views; Downloads += other.Downloads; Calls += other.Calls;
            Exchanges += other.Exchanges; Rows += other.Rows; Bytes += other.Bytes;
        }
    }

    readonly Lock gate = new();
    Dictionary<Key, Sums> pending = [];
    /// <summary>One flush at a time: the timer's and the final one.</summary>
    readonly SemaphoreSlim flushing = new(1, 1);
    CancellationTokenSource? stopping;
    Task? loop;

    /// <summary>A page view or a metadata read of an open dataset.</summary>
    public void View(string resourceId, Guid providerDepartmentId) =>
        Add(new Key(resourceId, Reference.ChinaTime.Today(time), providerDepartmentId), new Sums { Views = 1 });

    /// <summary>Rows that left through the open API or a download: counted as a call or a download and as one public exchange.</summary>
    public void Read(string resourceId, Guid providerDepartmentId, bool download, long rows, long bytes) =>
        Add(new Key(resourceId, Reference.ChinaTime.Today(time), providerDepartmentId), new Sums
        {
            Downloads = download ? 1 : 0, Calls = download ? 0 : 1, Exchanges = 1, Rows = rows, Bytes = bytes,
        });

    void Add(Key key, Sums sums)
    {
        lock (gate)
        {
            if (pending.TryGetValue(key, out var existing)) existing.Add(sums);
            else pending[key] = sums;
        }
    }

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
    /// Called after the server has drained its requests (hosted services stop after the server): ends the timer loop,
    /// waiting for a flush in progress, then writes what is left. The flush ignores the host's shutdown token on
    /// purpose — abandoning it would lose the counts — and is one short transaction.
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
            Dictionary<Key, Sums> taken;
            lock (gate)
            {
                if (pending.Count == 0) return;
                taken = pending;
                pending = [];
            }
            try
            {
                await WriteAsync(taken);
            }
            catch (Exception ex) when (ex is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                LogFlushFailed(ex, taken.Count);
                lock (gate)
                {
                    foreach (var (key, sums) in taken)
                    {
                        if (pending.TryGetValue(key, out var newer)) newer.Add(sums);
                        else pending[key] = sums;
                    }
                }
            }
        }
        finally
        {
            flushing.Release();
        }
    }

    async Task WriteAsync(Dictionary<Key, Sums> taken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
        foreach (var ((resourceId, day, provider), s) in taken)
        {
            // One upsert per row (SQLite and PostgreSQL share the syntax): no read, and no failed insert to abort the
            // transaction when another node created the row first.
            if (s.Views + s.Downloads + s.Calls > 0)
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO open_counters ("ResourceId", "Day", "Views", "Downloads", "ApiCalls")
                    VALUES ({resourceId}, {day}, {s.Views}, {s.Downloads}, {s.Calls})
                    ON CONFLICT ("ResourceId", "Day") DO UPDATE SET "Views" = open_counters."Views" + excluded."Views",
                      "Downloads" = open_counters."Downloads" + excluded."Downloads", "ApiCalls" = open_counters."ApiCalls" + excluded."ApiCalls"
                    """);
            if (s.Exchanges > 0)
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO exchange_counters ("Day", "ProviderDepartmentId", "ConsumerDepartmentId", "ResourceId", "Calls", "Rows", "Bytes")
                    VALUES ({day}, {provider}, {Guid.Empty}, {resourceId}, {s.Exchanges}, {s.Rows}, {s.Bytes})
                    ON CONFLICT ("Day", "ProviderDepartmentId", "ConsumerDepartmentId", "ResourceId") DO UPDATE SET
                      "Calls" = exchange_counters."Calls" + excluded."Calls", "Rows" = exchange_counters."Rows" + excluded."Rows",
                      "Bytes" = exchange_counters."Bytes" + excluded."Bytes"
                    """);
        }
        await tx.CommitAsync(CancellationToken.None);
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "Open-data counters for {Keys} datasets could not be written; kept for the next flush")]
    partial void LogFlushFailed(Exception ex, int keys);
}
