using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Jobs;
using Lianqiao.Reference;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Sharing;

/// <summary>Escalates pending applications past their deadline to the platform admin (once each, audited).</summary>
internal sealed class OverdueApprovalsJob(TimeProvider time) : IScheduledJob
{
    public string Name => "sharing-overdue-approvals";
    public TimeSpan Interval => TimeSpan.FromMinutes(10);

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<LianqiaoDb>();
        var audit = services.GetRequiredService<IAuditLog>();
        var today = time.Today();
        var overdue = await db.Set<ShareRequest>()
            .Where(r => r.Status == ShareRequestStatus.Pending && !r.Escalated && r.Deadline < today).ToListAsync(cancellationToken);
        foreach (var r in overdue)
        {
            r.Escalated = true;
            await audit.WriteAsync(new AuditEntry("share-request.escalate")
            {
                ActorKind = "System", ActorName = Name, DepartmentId = r.ProviderDepartmentId,
                TargetType = "share-request", TargetId = r.Id.ToString(), Detail = new { r.Deadline },
            }, cancellationToken);
        }
        await db.SaveChangesAsync(cancellationToken);
        return $"escalated {overdue.Count}";
    }
}
