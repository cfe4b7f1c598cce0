using Lianqiao.Data;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Jobs;

internal static class JobsApi
{
    public static void MapJobsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/jobs", async (LianqiaoDb db, CancellationToken ct) =>
            TypedResults.Ok(await db.Set<JobLease>().AsNoTracking().OrderBy(j => j.JobName)
                .Select(j => new JobDto(j.JobName, j.NextRunAt, j.LastRunAt, j.LastRunBy, j.LastResult, j.Runs, j.Holder)).ToListAsync(ct)))
            .WithTags("Jobs").RequireAuthorization(Policies.PlatformAdmin);
    }
}
