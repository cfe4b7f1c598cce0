using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lianqiao.Jobs;

public sealed class JobOptions
{
    /// <summary>How often each node looks for due jobs.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>A lease longer than any run; a node that dies mid-run frees its job after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(10);
    public bool Enabled { get; set; } = true;
}

internal sealed partial class JobScheduler(
    IEnumerable<IScheduledJob> jobs, IServiceScopeFactory scopes, TimeProvider time, IOptions<JobOptions> options, ILogger<JobScheduler> logger)
    : BackgroundService
{
    /// <summary>Identifies this node in the lease table.</summary>
    public string NodeId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled) return;
        await EnsureRowsAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        do
        {
            foreach (var job in jobs) await TryRunAsync(job, stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    async Task EnsureRowsAsync(CancellationToken ct)
    {
        foreach (var job in jobs)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
            if (await db.Set<JobLease>().AnyAsync(j => j.JobName == job.Name, ct)) continue;
            db.Add(new JobLease { JobName = job.Name, NextRunAt = time.GetUtcNow(), LeaseUntil = DateTimeOffset.UnixEpoch });
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateException) { /* another node inserted it first */ }
        }
    }

    /// <summary>Takes the lease if the job is due and nobody holds it, runs it, then frees it.</summary>
    internal async Task<bool> TryRunAsync(IScheduledJob job, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        var now = time.GetUtcNow();
        var until = now + options.Value.LeaseDuration;
        var won = await db.Set<JobLease>()
            .Where(j => j.JobName == job.Name && j.NextRunAt <= now && j.LeaseUntil < now)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Holder, NodeId).SetProperty(j => j.LeaseUntil, until), ct);
        if (won == 0) return false;

        string result;
        try
        {
            result = await job.RunAsync(scope.ServiceProvider, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogJobFailed(ex, job.Name);
            result = "failed: " + ex.Message;
        }
        var finished = time.GetUtcNow();
        var next = finished + job.Interval;
        var summary = result.Length > 2000 ? result[..2000] : result;
        await db.Set<JobLease>().Where(j => j.JobName == job.Name && j.Holder == NodeId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Holder, (string?)null)
                .SetProperty(j => j.LeaseUntil, DateTimeOffset.UnixEpoch)
                .SetProperty(j => j.NextRunAt, next)
                .SetProperty(j => j.LastRunAt, finished)
                .SetProperty(j => j.LastRunBy, NodeId)
                .SetProperty(j => j.LastResult, summary)
                .SetProperty(j => j.Runs, j => j.Runs + 1), CancellationToken.None);
        return true;
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Scheduled job {Job} failed")]
    partial void LogJobFailed(Exception ex, string job);
}
