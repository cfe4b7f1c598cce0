using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Lianqiao.Sharing;

/// <summary>
/// Finds, issues and revokes grants. <see cref="FindActiveAsync"/> reads the database; the gateway's hot path uses
/// <see cref="FindActiveRecentAsync"/>, which may answer from this node's memory for at most <see cref="RecentFor"/>
/// (the same bound as a cached API key): a revoke takes effect at once on the node that revokes, within one second elsewhere.
/// </summary>
public sealed class GrantService(LianqiaoDb db, IAuditLog audit, TimeProvider time, IMemoryCache cache)
{
    /// <summary>How long a node may go on using an active grant it has read.</summary>
    public static readonly TimeSpan RecentFor = TimeSpan.FromSeconds(1);

    static string CacheKey(PrincipalKind principalKind, string principalId, string resourceId, GrantKind kind) =>
        $"grant:{principalKind}:{principalId}:{kind}:{resourceId}";

    /// <summary>
    /// <see cref="FindActiveAsync"/>, remembered on this node for at most <see cref="RecentFor"/> (re-read past half of it
    /// by one caller while the others go on, <see cref="Freshness"/>). Only found grants are remembered, so a new grant
    /// works at once. The returned grant is shared: read it, never change it.
    /// </summary>
    public async ValueTask<Grant?> FindActiveRecentAsync(Caller caller, string resourceId, GrantKind kind, CancellationToken ct) =>
        FindRemembered(cache, time, caller, resourceId, kind) ?? await RememberActiveAsync(caller, resourceId, kind, ct);

    /// <summary>Reads the active grant and remembers it on this node; a grant no longer active is forgotten.</summary>
    public async Task<Grant?> RememberActiveAsync(Caller caller, string resourceId, GrantKind kind, CancellationToken ct)
    {
        var key = CacheKey(caller.Kind, caller.Id, resourceId, kind);
        var readAt = time.GetUtcNow();
        var grant = await FindActiveAsync(caller, resourceId, kind, ct);
        if (grant is not null) cache.Set(key, new RememberedGrant(grant, new Freshness(readAt)), RecentFor);
        else cache.Remove(key);
        return grant;
    }

    sealed record RememberedGrant(Grant Grant, Freshness Freshness);

    /// <summary>
    /// The grant <see cref="FindActiveRecentAsync"/> remembers on this node, if any, without a database context: a caller
    /// that finds it here (the gateway) leases no context for the call. Null too for the one caller that is to re-read it
    /// (<see cref="RememberActiveAsync"/>).
    /// </summary>
    internal static Grant? FindRemembered(IMemoryCache cache, TimeProvider time, Caller caller, string resourceId, GrantKind kind)
    {
        if (!cache.TryGetValue(CacheKey(caller.Kind, caller.Id, resourceId, kind), out RememberedGrant? remembered)) return null;
        var now = time.GetUtcNow();
        return remembered!.Grant.ExpiresAt > now && remembered.Freshness.Serves(now, RecentFor) ? remembered.Grant : null;
    }

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
        // This node stops at once; other nodes within RecentFor.
        var revoked = await db.Set<Grant>().AsNoTracking().Where(g => g.Id == grantId)
            .Select(g => new { g.PrincipalKind, g.PrincipalId, g.ResourceId, g.Kind }).FirstAsync(ct);
        cache.Remove(CacheKey(revoked.PrincipalKind, revoked.PrincipalId, revoked.ResourceId, revoked.Kind));
        await audit.WriteAsync(auditAs with { Action = "grant.revoke", TargetType = "grant", TargetId = grantId.ToString(), Detail = new { reason } }, ct);
        return true;
    }
}
