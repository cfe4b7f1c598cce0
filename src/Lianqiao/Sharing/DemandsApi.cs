using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Sharing;

public sealed record DemandInput(string? Title, string? Description, string? AboutResourceId);
public sealed record RouteInput(Guid? DepartmentId);
public sealed record AnswerInput(string? ResourceId, string? Answer);

/// <summary>供需对接: consumers post needs; the platform admin routes each to a department; that department answers with a resource.</summary>
internal static class DemandsApi
{
    public static void MapDemandsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/demands").WithTags("Sharing").RequireAuthorization(Policies.Member);
        api.MapGet("/", async (LianqiaoDb db, CancellationToken ct) =>
            TypedResults.Ok((await db.Set<DataDemand>().AsNoTracking().OrderByDescending(d => d.Id).Take(500).ToListAsync(ct)).Select(d => d.AsDto()).ToList()));
        api.MapPost("/", Post);
        api.MapPost("/{id:guid}/route", RouteTo).RequireAuthorization(Policies.PlatformAdmin);
        api.MapPost("/{id:guid}/answer", Answer);
    }

    static async Task<Results<Created<DataDemandDto>, ProblemHttpResult>> Post(DemandInput input, HttpContext http, LianqiaoDb db, IAuditLog audit,
        TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        if (caller.DepartmentId is not { } department) return Problems.Forbidden("A data demand is posted by a department.");
        if (string.IsNullOrWhiteSpace(input.Title) || input.Title.Length > 300)
            return Problems.Validation(new Dictionary<string, string[]> { ["title"] = ["需求标题必填，最多 300 字 / title is required, at most 300 characters"] });
        var demand = new DataDemand
        {
            ConsumerDepartmentId = department,
            Title = input.Title.Trim(),
            Description = input.Description?.Trim() ?? "",
            AboutResourceId = input.AboutResourceId?.Trim(),
            CreatedAt = time.GetUtcNow(),
            CreatedBy = caller.Name,
        };
        db.Add(demand);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "demand.post", "demand", demand.Id.ToString(), new { demand.Title, demand.AboutResourceId }), ct);
        return TypedResults.Created($"/api/v1/demands/{demand.Id}", demand.AsDto());
    }

    static async Task<Results<Ok<DataDemandDto>, ProblemHttpResult>> RouteTo(Guid id, RouteInput input, HttpContext http, LianqiaoDb db, IAuditLog audit, CancellationToken ct)
    {
        var demand = await db.Set<DataDemand>().FirstOrDefaultAsync(d => d.Id == id, ct);
        if (demand is null) return Problems.NotFound("数据需求", "demand");
        if (input.DepartmentId is not { } dept || !await db.Set<Department>().AnyAsync(d => d.Id == dept, ct))
            return Problems.Validation(new Dictionary<string, string[]> { ["departmentId"] = ["部门不存在 / no such department"] });
        demand.RoutedToDepartmentId = dept;
        demand.Status = DemandStatus.Routed;
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "demand.route", "demand", id.ToString(), new { departmentId = dept }), ct);
        return TypedResults.Ok(demand.AsDto());
    }

    static async Task<Results<Ok<DataDemandDto>, ProblemHttpResult>> Answer(Guid id, AnswerInput input, HttpContext http, LianqiaoDb db,
        ICatalogReader catalog, IAuditLog audit, CancellationToken ct)
    {
        var demand = await db.Set<DataDemand>().FirstOrDefaultAsync(d => d.Id == id, ct);
        if (demand is null) return Problems.NotFound("数据需求", "demand");
        if (demand.RoutedToDepartmentId is not { } routed || !http.User.Caller().ActsFor(routed, Roles.Steward))
            return Problems.Forbidden("Only stewards of the department the demand was routed to answer it.");
        if (string.IsNullOrWhiteSpace(input.ResourceId) || await catalog.FindAsync(input.ResourceId.Trim(), ct) is null)
            return Problems.Validation(new Dictionary<string, string[]> { ["resourceId"] = ["请关联一个已发布的资源 / link a published resource"] });
        demand.AnswerResourceId = input.ResourceId.Trim();
        demand.Answer = input.Answer?.Trim();
        demand.Status = DemandStatus.Answered;
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "demand.answer", "demand", id.ToString(), new { demand.AnswerResourceId }), ct);
        return TypedResults.Ok(demand.AsDto());
    }
}
