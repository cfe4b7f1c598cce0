using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Jobs;
using Lianqiao.Organizations;
using Lianqiao.Reference;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Quality;

/// <summary>
/// 时效性 (基于时间点的及时性): a resource is overdue when its update cycle has passed since its last
/// successful load (or since it was registered, if it never had one). Daily cycles count working days.
/// </summary>
internal sealed class TimelinessService(LianqiaoDb db, WorkingCalendar calendar, ITableSchemaSource source, TimeProvider time)
{
    public async Task<List<OverdueDto>> OverdueAsync(CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(time.GetLocalNow().DateTime);
        var registered = await db.Set<DatasetSchemaRecord>().AsNoTracking().ToDictionaryAsync(s => s.ResourceId, s => s.UpdatedAt, ct);
        var tables = await db.Set<DatasetTable>().AsNoTracking().ToDictionaryAsync(t => t.ResourceId, ct);
        var departments = await db.Set<Department>().AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.Name, ct);
        var result = new List<OverdueDto>();
        foreach (var id in registered.Keys.Union(tables.Keys).Order(StringComparer.Ordinal))
        {
            if (await source.FindAsync(id, ct) is not { } s || Timeliness.CycleDays(s.UpdateCycle) is not { } cycle) continue;
            var last = tables.GetValueOrDefault(id)?.LastSuccessAt;
            // Never loaded: the clock runs from the registration.
            var start = last ?? (registered.TryGetValue(id, out var at) ? at : time.GetUtcNow());
            var since = DateOnly.FromDateTime(start.ToLocalTime().DateTime);
            var working = Timeliness.InWorkingDays(s.UpdateCycle);
            int elapsed = working ? await calendar.CountWorkingDaysAsync(since, today, ct) : today.DayNumber - since.DayNumber;
            var overdue = elapsed - cycle;
            if (overdue > 0)
                result.Add(new OverdueDto(s.ResourceId, s.Name, s.DepartmentId, departments.GetValueOrDefault(s.DepartmentId), s.UpdateCycle, last, overdue, working));
        }
        return result.OrderByDescending(o => o.OverdueDays).ThenBy(o => o.ResourceId).ToList();
    }

    /// <summary>Writes the overdue days onto each resource's registry row, for lists and the cockpit.</summary>
    public async Task<int> RefreshAsync(CancellationToken ct)
    {
        var overdue = (await OverdueAsync(ct)).ToDictionary(o => o.ResourceId, o => o.OverdueDays);
        var now = time.GetUtcNow();
        foreach (var table in await db.Set<DatasetTable>().ToListAsync(ct))
        {
            table.OverdueDays = overdue.GetValueOrDefault(table.ResourceId);
            table.OverdueCheckedAt = now;
        }
        await db.SaveChangesAsync(ct);
        return overdue.Count;
    }
}

internal sealed class TimelinessJob : IScheduledJob
{
    public string Name => "datasets.timeliness";
    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var n = await services.GetRequiredService<TimelinessService>().RefreshAsync(cancellationToken);
        return $"{n} overdue";
    }
}

public sealed class QuarantineOptions
{
    /// <summary>Days a rejected row (raw personal data) is kept before the purge job deletes it.</summary>
    public int RetentionDays { get; set; } = 90;
}

internal sealed class QuarantinePurgeJob(Microsoft.Extensions.Options.IOptions<QuarantineOptions> options, TimeProvider time) : IScheduledJob
{
    public string Name => "datasets.quarantine-purge";
    public TimeSpan Interval => TimeSpan.FromHours(6);

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<LianqiaoDb>();
        var cutoff = time.GetUtcNow().AddDays(-options.Value.RetentionDays);
        var n = await db.Set<QuarantineRow>().Where(q => q.CreatedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        return $"purged {n} quarantine rows older than {options.Value.RetentionDays} days";
    }
}

/// <summary>Fails loads whose process died (their data was never committed) and frees their resources.</summary>
internal sealed class StaleLoadsJob(TimeProvider time) : IScheduledJob
{
    public string Name => "datasets.stale-loads";
    public TimeSpan Interval => TimeSpan.FromMinutes(1);

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var n = await Datasets.Loading.DatasetLoader.RecoverAsync(services.GetRequiredService<LianqiaoDb>(), time, cancellationToken);
        return $"{n} interrupted loads marked failed";
    }
}
