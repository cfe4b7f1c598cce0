using Lianqiao.Data;
using Lianqiao.Datasets.Loading;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets;

/// <summary>
/// Writes a running load's rows read and share of the file to its status row, at most once a second and one
/// write at a time, so the load page (and GET …/loads/{id}) can show progress from any node. The update only
/// touches a row still running: a late write never overwrites the final counts.
/// </summary>
internal sealed class LoadProgressWriter(IServiceScopeFactory scopes, TimeProvider time, Guid loadId) : IProgress<LoadProgress>
{
    static readonly TimeSpan Every = TimeSpan.FromSeconds(1);
    long lastWrite = long.MinValue;
    int writing;

    public void Report(LoadProgress value)
    {
        var now = time.GetTimestamp();
        if (lastWrite != long.MinValue && time.GetElapsedTime(lastWrite, now) < Every) return;
        if (Interlocked.CompareExchange(ref writing, 1, 0) != 0) return;
        lastWrite = now;
        _ = WriteAsync(value);
    }

    async Task WriteAsync(LoadProgress value)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
            var fraction = Math.Clamp(value.Fraction, 0, 1);
            await db.Set<DatasetLoad>().Where(l => l.Id == loadId && l.Status == LoadStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.RowsRead, value.Rows).SetProperty(l => l.Progress, fraction));
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
