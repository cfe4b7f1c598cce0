using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Storage;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Exchange;

/// <summary>What the exchange pages show about a job: overdue or failing (the alerts), and how far a delivery is behind its resource.</summary>
internal static class ExchangeMonitor
{
    /// <summary>A scheduled job is overdue when it has not started well after it was due: twice its interval, at least five minutes.</summary>
    public static bool IsOverdue(ExchangeJob job, DateTimeOffset now)
    {
        if (!job.Enabled || (job.IntervalSeconds is null && job.Cron is null)) return false;
        var grace = TimeSpan.FromSeconds(Math.Max(300, 2 * (job.IntervalSeconds ?? 300)));
        return now - job.NextRunAt > grace;
    }

    /// <summary>The alert line for a job, or null when all is well.</summary>
    public static string? Alert(ExchangeJob job, DateTimeOffset now) =>
        IsOverdue(job, now) ? "任务逾期未运行 / overdue: it has not run since it was due"
        : job.LastStatus is RunStatus.Failed or RunStatus.Interrupted ? $"最近一次运行失败（连续 {job.Failures} 次）/ the last run failed ({job.Failures} in a row)"
        : job.LastStatus == RunStatus.Stopped ? "分发已停止：授权已撤销或过期 / delivery stopped: the grant was revoked or expired"
        : null;

    /// <summary>Changes of the resource a delivery has not delivered yet (rows with a later change sequence than its last receipt).</summary>
    public static async Task<long?> ChangesBehindAsync(LianqiaoDb db, ExchangeJob job, CancellationToken ct)
    {
        if (job.Kind != JobKinds.Deliver) return null;
        var table = await db.Set<DatasetTable>().AsNoTracking().FirstOrDefaultAsync(t => t.ResourceId == job.ResourceId, ct);
        if (table is null) return null;
        var delivered = await db.Set<DeliveryReceipt>().Where(r => r.JobId == job.Id).MaxAsync(r => (long?)r.ToSeq, ct) ?? 0;
        var conn = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = $"SELECT count(*) FROM {SqlDialect.Q(table.TableName)} WHERE \"_seq\" > @since";
            DatasetStore.AddParameter(cmd, "since", delivered);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
