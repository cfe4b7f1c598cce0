using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Sharing;

public sealed record RevokeInput(string? Reason);

internal static class GrantsApi
{
    public static void MapGrantsApi(this IEndpointRouteBuilder routes)
    {
        var grants = routes.MapGroup("/api/v1/grants").WithTags("Sharing").RequireAuthorization(Policies.Member);
        grants.MapGet("/", List);
        grants.MapPost("/{grantId:guid}/revoke", Revoke);
    }

    /// <summary>What the caller may see: admins all; a department its grants as provider and as consumer; an application its own.</summary>
    static async Task<Ok<List<GrantDto>>> List(string? resourceId, HttpContext http, LianqiaoDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var query = db.Set<Grant>().AsNoTracking();
        if (caller.Kind == PrincipalKind.Application)
            query = query.Where(g => g.PrincipalKind == PrincipalKind.Application && g.PrincipalId == caller.Id);
        else if (!caller.IsAdmin)
            query = query.Where(g => g.ProviderDepartmentId == caller.DepartmentId || g.ConsumerDepartmentId == caller.DepartmentId);
        if (!string.IsNullOrWhiteSpace(resourceId)) query = query.Where(g => g.ResourceId == resourceId);
        var now = time.GetUtcNow();
        var list = await query.OrderByDescending(g => g.Id).Take(1000).ToListAsync(ct);
        return TypedResults.Ok(list.Select(g => g.AsDto(now)).ToList());
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> Revoke(Guid grantId, RevokeInput? input, HttpContext http, LianqiaoDb db, GrantService grants, CancellationToken ct)
    {
        var grant = await db.Set<Grant>().AsNoTracking().FirstOrDefaultAsync(g => g.Id == grantId, ct);
        if (grant is null) return Problems.NotFound("授权", "grant");
        var caller = http.User.Caller();
        // The provider decides: its stewards and approvers, or the platform admin.
        if (!caller.ActsFor(grant.ProviderDepartmentId, Roles.Approver) && !caller.ActsFor(grant.ProviderDepartmentId, Roles.Steward))
            return Problems.Forbidden("Only the providing department's stewards and approvers, or a platform admin, revoke a grant.");
        if (!await grants.RevokeAsync(grantId, input?.Reason?.Trim() ?? "", AuditEntry.For(http, "grant.revoke"), ct))
            return Problems.Conflict("grant-not-active", "授权已被撤销", "The grant is revoked already.");
        return TypedResults.NoContent();
    }
}
