using Lianqiao.Data;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Audit;

public sealed record AuditPage(IReadOnlyList<AuditRecordDto> Records, long? NextBefore);

internal static class AuditApi
{
    public static void MapAuditApi(this IEndpointRouteBuilder routes)
    {
        // Read-only by construction: there is no endpoint that changes or deletes a record.
        routes.MapGet("/api/v1/audit", async (string? action, string? actorId, long? before, int? limit, LianqiaoDb db, CancellationToken ct) =>
        {
            var take = Math.Clamp(limit ?? 100, 1, 1000);
            var query = db.Set<AuditRecord>().AsNoTracking();
            if (!string.IsNullOrWhiteSpace(action)) query = query.Where(r => r.Action == action);
            if (!string.IsNullOrWhiteSpace(actorId)) query = query.Where(r => r.ActorId == actorId);
            if (before is { } b) query = query.Where(r => r.Id < b);
            var records = await query.OrderByDescending(r => r.Id).Take(take).ToListAsync(ct);
            return TypedResults.Ok(new AuditPage(records.Select(r => r.AsDto()).ToList(), records.Count == take ? records[^1].Id : null));
        }).WithTags("Audit").RequireAuthorization(Policies.Auditor);
    }
}
