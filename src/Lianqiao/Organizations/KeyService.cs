using Lianqiao.Audit;
using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Lianqiao.Organizations;

/// <summary>Issues and revokes keys for every kind of principal; the CLI, the API and the pages all come here.</summary>
internal sealed class KeyService(LianqiaoDb db, IAuditLog audit, TimeProvider time, Microsoft.Extensions.Caching.Memory.IMemoryCache cache)
{
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(365);

    public async Task<IssuedKeyDto> IssueAsync(PrincipalKind kind, string ownerId, string name, TimeSpan? lifetime,
        AuditEntry auditAs, CancellationToken ct)
    {
        var secret = ApiKey.NewSecret();
        var now = time.GetUtcNow();
        var key = new ApiKey
        {
            OwnerKind = kind,
            OwnerId = ownerId,
            Name = name,
            Prefix = secret[..10],
            Hash = ApiKey.HashOf(secret),
            CreatedAt = now,
            ExpiresAt = now + (lifetime ?? DefaultLifetime),
            CreatedBy = auditAs.ActorName ?? "system",
        };
        db.Set<ApiKey>().Add(key);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(auditAs with
        {
            TargetType = "api-key",
            TargetId = key.Id.ToString(),
            Detail = new { ownerKind = kind.ToString(), ownerId, name, expiresAt = key.ExpiresAt },
        }, ct);
        return new IssuedKeyDto(key.AsDto(now), secret);
    }

    public async Task<bool> RevokeAsync(Guid keyId, AuditEntry auditAs, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var changed = await db.Set<ApiKey>().Where(k => k.Id == keyId && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct);
        if (changed == 0) return false;
        // This node forgets the key at once; other nodes within ApiKeyAuthenticationHandler.CacheFor.
        var hash = await db.Set<ApiKey>().Where(k => k.Id == keyId).Select(k => k.Hash).FirstAsync(ct);
        cache.Remove(ApiKeyAuthenticationHandler.CacheKey(hash));
        await audit.WriteAsync(auditAs with { TargetType = "api-key", TargetId = keyId.ToString() }, ct);
        return true;
    }

    public async Task<List<ApiKeyDto>> ListAsync(PrincipalKind kind, string ownerId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var keys = await db.Set<ApiKey>().AsNoTracking().Where(k => k.OwnerKind == kind && k.OwnerId == ownerId)
            .OrderBy(k => k.Id).ToListAsync(ct);
        return keys.Select(k => k.AsDto(now)).ToList();
    }
}
