using Cronos;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Loading;
using Lianqiao.Jobs;
using Lianqiao.Reference;
using Lianqiao.Sharing;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Exchange;

/// <summary>Another node (or another run on this one) holds the job's lease.</summary>
internal sealed class JobBusyException() : Exception("The job is running elsewhere.");

/// <summary>Who asked for a run, for the run record and the audit ledger.</summary>
internal sealed record RunActor(string Trigger, string Kind, string Id, string Name);

/// <summary>
/// Runs exchange jobs, one node per job at a time: a run first wins the job's row with a conditional UPDATE (the lease),
/// renews it while it works and frees it at the end, like <see cref="JobScheduler"/> does for its rows. Every run is
/// recorded (rows, duration, lag, failure reason) and written to the audit ledger.
/// </summary>
internal sealed partial class ExchangeRunner(IServiceScopeFactory scopes, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<ExchangeRunner> logger)
{
    public static readonly string Node = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    static readonly TimeSpan Renew = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs the job now (or, for the scheduler, only when it is due). Throws <see cref="JobBusyException"/> when another run
    /// holds it and <see cref="KeyNotFoundException"/> when there is no such job.
    /// </summary>
    public async Task<ExchangeRun> RunAsync(Guid jobId, RunActor actor, IProgress<LoadProgress>? progress, CancellationToken ct, bool onlyIfDue = false)
    {
        var (job, run) = await BeginAsync(jobId, actor, onlyIfDue, ct);
        return await WorkAsync(job, run, actor, progress, ct);
    }

    /// <summary>
    /// Wins the lease and records the run, then lets it work in the background (until the host stops) and returns it at
    /// once: the API answers 202 with the run to poll, its rows so far written to the run's row about once a second.
    /// Throws like <see cref="RunAsync"/> when the run cannot start.
    /// </summary>
    public async Task<ExchangeRun> StartAsync(Guid jobId, RunActor actor, CancellationToken ct)
    {
        var (job, run) = await BeginAsync(jobId, actor, onlyIfDue: false, ct);
        _ = Task.Run(async () =>
        {
            try
            {
                await WorkAsync(job, run, actor, RunProgress.For(scopes, time, run.Id), lifetime.ApplicationStopping);
            }
            catch (Exception ex)
            {
                // The run's own failures are recorded on it; this is the record itself failing (a database gone): keep the process alive.
                LogFailed(ex, jobId, run.Id);
            }
        }, CancellationToken.None);
        return run;
    }

    /// <summary>The lease won and the run's row written (status running): from here the run is on record whatever happens.</summary>
    async Task<(ExchangeJob Job, ExchangeRun Run)> BeginAsync(Guid jobId, RunActor actor, bool onlyIfDue, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        var now = time.GetUtcNow();
        // A lease held by a process of this machine that no longer exists is free at once (a killed CLI run, a crashed node).
        var current = await db.Set<ExchangeJob>().Where(j => j.Id == jobId).Select(j => new { j.LeaseHolder }).FirstOrDefaultAsync(ct)
            ?? throw new KeyNotFoundException($"No exchange job {jobId}.");
        var holder = current.LeaseHolder;
        var orphaned = holder is not null && IsDeadLocalProcess(holder) ? holder : null;
        var leased = db.Set<ExchangeJob>().Where(j => j.Id == jobId && (j.LeaseUntil < now || (orphaned != null && j.LeaseHolder == orphaned)));
        if (onlyIfDue) leased = leased.Where(j => j.Enabled && j.NextRunAt <= now);
        var won = await leased.ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseHolder, Node).SetProperty(j => j.LeaseUntil, now + Lease), ct);
        if (won == 0) throw new JobBusyException();

        var job = await db.Set<ExchangeJob>().AsNoTracking().SingleAsync(j => j.Id == jobId, ct);
        // Runs left "running" by a process that died: its lease expired, so they are over.
        await db.Set<ExchangeRun>().Where(r => r.JobId == jobId && r.Status == RunStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RunStatus.Interrupted).SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, "运行进程中断，下次运行从检查点继续 / the run's process stopped; the next run resumes from the checkpoint"), ct);
        var run = new ExchangeRun
        {
            JobId = jobId, Trigger = actor.Trigger, Node = Node, StartedAt = now,
            ScheduleLagSeconds = actor.Trigger == "schedule" ? Math.Max(0, (now - job.NextRunAt).TotalSeconds) : null,
        };
        db.Add(run);
        await db.SaveChangesAsync(ct);
        LogStarted(jobId, run.Id, actor.Trigger);
        return (job, run);
    }

    async Task<ExchangeRun> WorkAsync(ExchangeJob job, ExchangeRun run, RunActor actor, IProgress<LoadProgress>? progress, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<LianqiaoDb>();
        var jobId = job.Id;
        using var renewing = new CancellationTokenSource();
        var renewal = RenewAsync(jobId, renewing.Token);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var connection = await db.Set<ExchangeConnection>().AsNoTracking().SingleAsync(c => c.Id == job.ConnectionId, ct);
            if (job.Kind == JobKinds.Collect)
                await sp.GetRequiredService<CollectionRunner>().RunAsync(db, job, connection, run, progress, $"exchange:{job.Name}", ct);
            else
                await sp.GetRequiredService<DeliveryRunner>().RunAsync(db, sp.GetRequiredService<GrantService>(), job, connection, run, progress, ct);
            run.Status = RunStatus.Succeeded;
        }
        catch (Exception ex)
        {
            (run.Status, run.Error) = ex switch
            {
                DeliveryStoppedException s => (RunStatus.Stopped, $"{s.MessageZh} / {s.Message}"),
                LoadRefusedException r => (RunStatus.Failed, $"{r.TitleZh} / {r.Message}" + (r.Errors is null ? "" : " " + string.Join("; ", r.Errors.SelectMany(e => e.Value.Select(v => $"{e.Key}: {v}"))))),
                JobInvalidException j => (RunStatus.Failed, $"{j.TitleZh} / {j.Message}"),
                ConnectionRefusedException c => (RunStatus.Failed, $"{c.MessageZh} / {c.Message}"),
                OperationCanceledException => (RunStatus.Interrupted, "运行被中止，下次运行从检查点继续 / the run was cancelled; the next run resumes from the checkpoint"),
                _ => (RunStatus.Failed, "运行失败 / " + ex.Message),
            };
            if (run.Status == RunStatus.Failed) LogFailed(ex, jobId, run.Id);
        }
        finally
        {
            await renewing.CancelAsync();
            await renewal;
            await FinishAsync(job, run, actor, clock.ElapsedMilliseconds);
        }
        return run;
    }

    static bool IsDeadLocalProcess(string node)
    {
        var parts = node.Split('/');
        if (parts.Length < 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid)) return false;
        if (pid == Environment.ProcessId) return node != Node;   // same pid, other instance: an earlier process
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    async Task RenewAsync(Guid jobId, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(Renew, time);
            while (await timer.WaitForNextTickAsync(ct))
            {
                await using var scope = scopes.CreateAsyncScope();
                var until = time.GetUtcNow() + Lease;
                await scope.ServiceProvider.GetRequiredService<LianqiaoDb>().Set<ExchangeJob>().Where(j => j.Id == jobId && j.LeaseHolder == Node)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseUntil, until), ct);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            // A busy database delays a renewal; the lease outlasts several.
        }
    }

    /// <summary>Records the run, moves the schedule on (sooner after a failure: back-off), frees the lease, audits.</summary>
    async Task FinishAsync(ExchangeJob job, ExchangeRun run, RunActor actor, long elapsedMs)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        var now = time.GetUtcNow();
        run.FinishedAt = now;
        run.DurationMs = elapsedMs;
        if (run.Error is { Length: > 4000 }) run.Error = run.Error[..4000];
        db.Update(run);
        await db.SaveChangesAsync(CancellationToken.None);

        var ok = run.Status == RunStatus.Succeeded;
        var failures = ok ? 0 : job.Failures + 1;
        var next = NextRun(job, now, ok ? 0 : failures);
        await db.Set<ExchangeJob>().Where(j => j.Id == job.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseHolder, (string?)null).SetProperty(j => j.LeaseUntil, DateTimeOffset.UnixEpoch)
                .SetProperty(j => j.NextRunAt, next).SetProperty(j => j.LastRunAt, now).SetProperty(j => j.LastStatus, run.Status)
                .SetProperty(j => j.LastError, run.Error).SetProperty(j => j.Failures, failures)
                .SetProperty(j => j.LastSuccessAt, j => ok ? now : j.LastSuccessAt), CancellationToken.None);
        await scope.ServiceProvider.GetRequiredService<IAuditLog>().WriteAsync(new AuditEntry("exchange.run", ok ? AuditOutcome.Success : AuditOutcome.Failure)
        {
            ActorKind = actor.Kind, ActorId = actor.Id, ActorName = actor.Name, DepartmentId = job.DepartmentId,
            TargetType = "exchange-job", TargetId = job.Id.ToString(),
            Detail = new
            {
                runId = run.Id, job = job.Name, kind = job.Kind, resourceId = job.ResourceId, trigger = run.Trigger, status = run.Status,
                run.RowsRead, run.RowsAccepted, run.RowsQuarantined, run.RowsDeleted, run.RowsDelivered, run.Batches, run.LoadId,
                run.CheckpointBefore, run.CheckpointAfter, run.DurationMs, error = run.Error,
            },
        }, CancellationToken.None);
    }

    /// <summary>The next due time: cron (China time) or interval; after failures, a back-off of 15 s doubling up to an hour, if that comes sooner.</summary>
    public static DateTimeOffset NextRun(ExchangeJob job, DateTimeOffset now, int failures)
    {
        DateTimeOffset scheduled;
        if (job.Cron is { Length: > 0 } cron)
            scheduled = CronExpression.Parse(cron).GetNextOccurrence(now, ChinaZone) ?? now.AddYears(100);
        else if (job.IntervalSeconds is { } seconds)
            scheduled = now.AddSeconds(seconds);
        else
            scheduled = now.AddYears(100);   // on demand only
        if (failures == 0) return scheduled;
        var backoff = now + TimeSpan.FromSeconds(Math.Min(3600, 15 * Math.Pow(2, Math.Min(failures - 1, 10))));
        return backoff < scheduled ? backoff : scheduled;
    }

    static readonly TimeZoneInfo ChinaZone = TimeZoneInfo.CreateCustomTimeZone("China Standard Time (fixed)", ChinaTime.Offset, "CST", "CST");

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Exchange job {JobId} run {RunId} started ({Trigger})")]
    partial void LogStarted(Guid jobId, Guid runId, string trigger);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Exchange job {JobId} run {RunId} failed")]
    partial void LogFailed(Exception ex, Guid jobId, Guid runId);
}

/// <summary>A background run's rows so far, written to its row for GET …/runs/{id} and the job page (see <see cref="LoadProgressWriter"/>).</summary>
internal static class RunProgress
{
    public static LoadProgressWriter For(IServiceScopeFactory scopes, TimeProvider time, Guid runId) =>
        new(scopes, time, (db, value) => db.Set<ExchangeRun>().Where(r => r.Id == runId && r.Status == RunStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.RowsRead, value.Rows)));
}

/// <summary>The scheduler's entry: every tick, runs the exchange jobs that are due, each under its own lease.</summary>
internal sealed class ExchangeScheduleJob(ExchangeRunner runner, TimeProvider time, Microsoft.Extensions.Options.IOptions<ExchangeOptions> options) : IScheduledJob
{
    public string Name => "exchange";
    public TimeSpan Interval => options.Value.Tick;

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled) return "disabled";
        var db = services.GetRequiredService<LianqiaoDb>();
        var now = time.GetUtcNow();
        var due = await db.Set<ExchangeJob>().AsNoTracking().Where(j => j.Enabled && j.NextRunAt <= now && j.LeaseUntil < now)
            .OrderBy(j => j.NextRunAt).Select(j => j.Id).Take(50).ToListAsync(cancellationToken);
        int ran = 0, failed = 0;
        foreach (var id in due)
        {
            try
            {
                var run = await runner.RunAsync(id, new RunActor("schedule", "System", "scheduler", "exchange scheduler"), null, cancellationToken, onlyIfDue: true);
                ran++;
                if (run.Status != RunStatus.Succeeded) failed++;
            }
            catch (JobBusyException)
            {
                // Another node took it first.
            }
        }
        return $"{ran} run(s), {failed} not successful";
    }
}
