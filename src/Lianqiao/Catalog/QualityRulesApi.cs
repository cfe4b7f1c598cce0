using System.Text.Json;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Storage;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Catalog;

/// <summary>The quality rules of a resource beyond what its items imply (ranges, regexes, uniqueness, cross-field, references).</summary>
internal static class QualityRulesApi
{
    public static void MapQualityRulesApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/catalog/{slug}/quality-rules").WithTags("Catalog").RequireAuthorization(Policies.Member);
        api.MapGet("/", Get);
        api.MapPut("/", Put);
    }

    static async Task<CatalogResource?> FindAsync(LianqiaoDb db, string slug, CancellationToken ct) =>
        await db.Set<CatalogResource>().Include(r => r.Items).FirstOrDefaultAsync(r => r.Slug == slug && r.RevisionOf == null, ct);

    static async Task<Results<Ok<TableSchema>, ProblemHttpResult>> Get(string slug, LianqiaoDb db, HttpContext http, CancellationToken ct)
    {
        var resource = await FindAsync(db, slug, ct);
        var caller = http.User.Caller();
        if (resource is null || (resource.Status != ResourceStatus.Published && !caller.IsAdmin && caller.DepartmentId != resource.DepartmentId))
            return Problems.NotFound("资源", "resource");
        return TypedResults.Ok(Datasets.CatalogSchemaSource.ToSchema(resource));
    }

    static async Task<Results<Ok<TableSchema>, ProblemHttpResult>> Put(string slug, List<RuleSpec> rules, LianqiaoDb db, HttpContext http, IAuditLog audit, CancellationToken ct)
    {
        var resource = await FindAsync(db, slug, ct);
        if (resource is null) return Problems.NotFound("资源", "resource");
        if (!http.User.Caller().ActsFor(resource.DepartmentId, Roles.Steward))
            return Problems.Forbidden("Only the providing department's stewards and platform admins set its quality rules.");
        var candidate = Datasets.CatalogSchemaSource.ToSchema(resource) with { Rules = rules };
        var errors = SchemaRules.Validate(candidate);
        if (errors.Count > 0) return Problems.Validation(errors);
        var before = resource.QualityRules;
        resource.QualityRules = JsonSerializer.Serialize(rules, DatasetStore.Json);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "catalog.quality-rules", "resource", slug, new { before, after = resource.QualityRules }), ct);
        return TypedResults.Ok(candidate);
    }
}
