using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Sharing;

/// <summary>Finds, issues and revokes grants. Every lookup reads the database: no cache can outlive a revoke.</summary>
public sealed class GrantService(LianqiaoDb db, IAuditLog audit, TimeProvider time)
{
    /// <summary>The caller's active grant on a resource, of a kind; null when it has none (or only revoked/expired ones).</summary>
    public async Task<Grant?> FindActiveAsync(Caller caller, string resourceId, GrantKind kind, CancellationToken ct)
    {
        if (caller.Kind is not (PrincipalKind.Application or PrincipalKind.Developer)) return null;
        var now = time.GetUtcNow();
        var grants = await db.Set<Grant>().AsNoTracking()
            .Where(g => g.PrincipalKind == caller.Kind && g.PrincipalId == caller.Id && g.ResourceId == resourceId && g.Kind == kind && g.RevokedAt == null)
            .ToListAsync(ct);
        // Instants are compared in memory: few grants per principal and resource, and this keeps SQLite and PostgreSQL alike.
        return grants.Where(g => g.ExpiresAt > now).OrderByDescending(g => g.GrantedAt).FirstOrDefault();
    }

    public async Task<Grant> IssueAsync(Grant grant, AuditEntry auditAs, CancellationToken ct)
    {
        grant.GrantedAt = time.GetUtcNow();
        db.Add(grant);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(auditAs with
        {
            Action = "grant.issue",
            TargetType = "grant",
            TargetId = grant.Id.ToString(),
            Detail = grant.AsDto(grant.GrantedAt),
        }, ct);
        return grant;
    }

    public async Task<bool> RevokeAsync(Guid grantId, string reason, AuditEntry auditAs, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var changed = await db.Set<Grant>().Where(g => g.Id == grantId && g.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.RevokedAt, now).SetProperty(g => g.RevokedReason, reason), ct);
        if (changed == 0) return false;
        await audit.WriteAsync(auditAs with { Action = "grant.revoke", TargetType = "grant", TargetId = grantId.ToString(), Detail = new { reason } }, ct);
        return true;
    }
}
