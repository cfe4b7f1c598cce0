using Lianqiao.Data;
using Lianqiao.Datasets.Loading;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets;

/// <summary>
/// Writes a running load's progress to its status row (a dataset load's, or an exchange run's), at most once a second
/// and one write at a time, so the pages and GET …/loads/{id} or …/runs/{id} show progress from any node. Each write
/// touches only a row still running: a late write never overwrites the final counts. On SQLite a load writing straight
/// into an empty table holds the one write lock until it commits, so its progress shows only at the end there.
/// </summary>
internal sealed class LoadProgressWriter(IServiceScopeFactory scopes, TimeProvider time, Func<LianqiaoDb, LoadProgress, Task> write)
    : IProgress<LoadProgress>
{
    static readonly TimeSpan Every = TimeSpan.FromSeconds(1);
    long lastWrite = long.MinValue;
    int writing;

    /// <summary>Progress of a dataset load: rows read and the share of the file.</summary>
    public static LoadProgressWriter ForLoad(IServiceScopeFactory scopes, TimeProvider time, Guid loadId) =>
        new(scopes, time, (db, value) => db.Set<DatasetLoad>().Where(l => l.Id == loadId && l.Status == LoadStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.RowsRead, value.Rows).SetProperty(l => l.Progress, Math.Clamp(value.Fraction, 0, 1))));

    public void Report(LoadProgress value)
    {
        var now = time.GetTimestamp();
        if (lastWrite != long.MinValue && time.GetElapsedTime(lastWrite, now) < Every) return;
        if (Interlocked.CompareExchange(ref writing, 1, 0) != 0) return;
        lastWrite = now;
        // Off the loader's thread: Microsoft.Data.Sqlite waits for a busy database synchronously, and on SQLite a first
        // load into an empty table holds the write lock for its whole run, so the write would stall the row checks.
        _ = Task.Run(() => WriteAsync(value));
    }

    async Task WriteAsync(LoadProgress value)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
            // A beat that cannot be written within a second is skipped rather than queued behind the load's own lock.
            db.Database.SetCommandTimeout(1);
            await write(db, value);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or ObjectDisposedException)
        {
            // Progress is a courtesy: a busy database or a stopping host skips a beat, the load goes on.
        }
        finally
        {
            Volatile.Write(ref writing, 0);
        }
    }
}
