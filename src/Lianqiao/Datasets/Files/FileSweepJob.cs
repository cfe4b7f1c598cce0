using Lianqiao.Data;
using Lianqiao.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Datasets.Files;

/// <summary>Reclaims disk the file store holds for nothing: unreferenced content and uploads a killed process left behind.</summary>
internal sealed class FileSweepJob(FileStore store, TimeProvider time) : IScheduledJob
{
    /// <summary>Older than this, an unreferenced content file or an unfinished upload is not in flight any more.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    public string Name => "datasets.file-sweep";
    public TimeSpan Interval => TimeSpan.FromHours(6);

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<LianqiaoDb>();
        var referenced = (await db.Set<FileVersion>().AsNoTracking().Select(v => v.Sha256).Distinct().ToListAsync(cancellationToken))
            .ToHashSet(StringComparer.Ordinal);
        var (orphans, abandoned) = store.Sweep(referenced, time.GetUtcNow() - Grace);
        return $"deleted {orphans} unreferenced content files and {abandoned} abandoned uploads";
    }
}
