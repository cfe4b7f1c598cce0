using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lianqiao.OpenData;

public sealed record OpenApplicationInput(string? ResourceId, string[]? Fields, string? Purpose, string? Scenario, bool? AcceptAgreement);
public sealed record OpenDecisionInput(string? Comment, string? Reason);
public sealed record ShowcaseInput(string? Name, string? Description, string? Link, string[]? Datasets);
public sealed record ShowcaseReviewInput(bool Approve, string? Comment);
public sealed record FeedbackInput(string? Kind, string? ResourceId, string? Name, string? Contact, string? Text);
public sealed record DeveloperUsageDto(Guid Id, string Email, string DisplayName, long CallsToday, long CallsPerDay, IReadOnlyList<ApiKeyDto> Keys,
    IReadOnlyList<OpenApplicationDto> Applications, IReadOnlyList<DailyUsage> Last30Days);
public sealed record DailyUsage(DateOnly Day, long Calls);

/// <summary>
/// The open API (/open/api/v1): anonymous for 无条件开放, a developer key for 有条件开放 and for the developer's own
/// business. Anonymous callers are rate-limited per address; developers by a DB-counted daily quota per key.
/// </summary>
internal static class OpenDataApi
{
    public static void MapOpenDataApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/open/api/v1").WithTags("Open data").AllowAnonymous()
            .RequireRateLimiting(OpenDataModule.PublicRateLimit).AddEndpointFilter(OpenDataModule.DeveloperQuota);
        api.MapGet("/stats", Stats);
        api.MapGet("/datasets", Search);
        api.MapGet("/datasets/{id}", Dataset);
        api.MapGet("/datasets/{id}/records", Records);
        api.MapGet("/datasets/{id}/export", Export);
        api.MapGet("/open-rate", OpenRate);
        api.MapGet("/showcase", Showcase);
        api.MapPost("/feedback", Feedback).RequireRateLimiting(OpenDataModule.FormRateLimit);
        api.MapPost("/developers", Register).RequireRateLimiting(OpenDataModule.FormRateLimit);
        api.MapPost("/developers/verify", Verify);

        var dev = routes.MapGroup("/open/api/v1").WithTags("Open data").RequireAuthorization(OpenDataModule.DeveloperPolicy)
            .AddEndpointFilter(OpenDataModule.DeveloperQuota);
        dev.MapGet("/me", Me);
        dev.MapPost("/applications", Apply);
        dev.MapGet("/applications", MyApplications);
        dev.MapPost("/showcase", SubmitShowcase);
    }

    static async Task<Ok<OpenStats>> Stats(OpenCatalog open, CancellationToken ct) => TypedResults.Ok(await open.StatsAsync(ct));

    static async Task<Ok<OpenSearchResult>> Search(OpenCatalog open, string? q, string? topic, string? department, string? openType, string? format,
        string? updateCycle, string? sort, int? page, int? pageSize, CancellationToken ct) =>
        TypedResults.Ok(await open.SearchAsync(new OpenQuery
        {
            Q = q, Topic = topic, Department = department, OpenType = openType, Format = format, UpdateCycle = updateCycle, Sort = sort,
            Page = page ?? 1, PageSize = pageSize ?? 20,
        }, ct));

    static async Task<Results<Ok<OpenDatasetDto>, ProblemHttpResult>> Dataset(string id, OpenCatalog open, ICatalogReader catalog, OpenCounterBuffer counters,
        CancellationToken ct)
    {
        var dto = await open.DatasetAsync(await catalog.FindAsync(id, ct), ct);
        if (dto is null) return Problems.NotFound("开放数据集", "open dataset");
        counters.View(dto.Id);
        return TypedResults.Ok(dto);
    }

    static Task<IResult> Records(string id, HttpContext http, OpenReads reads,
        [FromQuery(Name = "$select")] string? select, [FromQuery(Name = "$where")] string? where, [FromQuery(Name = "$order")] string? order,
        [FromQuery(Name = "$limit")] long? limit, [FromQuery(Name = "$offset")] long? offset, string? cursor, string? format, bool? bom, CancellationToken ct) =>
        reads.StreamAsync(http, id, new DataRequest(select, where, order, limit, offset, cursor, null), format, bom == true, download: false, ct);

    static Task<IResult> Export(string id, HttpContext http, OpenReads reads,
        [FromQuery(Name = "$select")] string? select, [FromQuery(Name = "$where")] string? where, [FromQuery(Name = "$order")] string? order,
        string? format, bool? bom, CancellationToken ct) =>
        reads.StreamAsync(http, id, new DataRequest(select, where, order, null, null, null, null), format, bom == true, download: true, ct);

    static async Task<Ok<OpenRateDto>> OpenRate(OpenCatalog open, CancellationToken ct) => TypedResults.Ok(await open.OpenRateAsync(false, ct));

    static async Task<Ok<List<ShowcaseDto>>> Showcase(string? dataset, LianqiaoDb db, CancellationToken ct)
    {
        var list = await db.Set<ShowcaseEntry>().AsNoTracking().Where(s => s.Status == ReviewStatus.Approved).OrderByDescending(s => s.ReviewedAt).ToListAsync(ct);
        return TypedResults.Ok(list.Where(s => dataset is null || s.Datasets.Contains(dataset)).Select(s => s.AsDto()).ToList());
    }

    static async Task<Results<Created<FeedbackDto>, ProblemHttpResult>> Feedback(FeedbackInput input, LianqiaoDb db, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (input.Kind is not ("feedback" or "data-request")) errors["kind"] = ["类型为 feedback 或 data-request / kind is feedback or data-request"];
        if (string.IsNullOrWhiteSpace(input.Text) || input.Text.Length > 4000) errors["text"] = ["内容必填，最多 4000 字 / text is required, at most 4000 characters"];
        if (input.Name is { Length: > 100 }) errors["name"] = ["称呼最多 100 字 / name is at most 100 characters"];
        if (input.Contact is { Length: > 200 }) errors["contact"] = ["联系方式最多 200 字 / contact is at most 200 characters"];
        if (input.ResourceId is { Length: > 100 }) errors["resourceId"] = ["资源标识过长 / resourceId is too long"];
        if (errors.Count > 0) return Problems.Validation(errors);
        var row = new OpenFeedback
        {
            Kind = input.Kind!, ResourceId = string.IsNullOrWhiteSpace(input.ResourceId) ? null : input.ResourceId.Trim(), Name = input.Name?.Trim() ?? "",
            Contact = input.Contact?.Trim() ?? "", Text = input.Text!.Trim(), CreatedAt = time.GetUtcNow(),
        };
        db.Add(row);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/open/feedback/{row.Id}", row.AsDto());
    }

    static async Task<Results<Accepted, ProblemHttpResult>> Register(RegisterInput input, HttpContext http, DeveloperAccounts accounts, CancellationToken ct)
    {
        var errors = DeveloperAccounts.Validate(input);
        if (errors.Count > 0) return Problems.Validation(errors);
        await accounts.RegisterAsync(input, $"{http.Request.Scheme}://{http.Request.Host}", ct);
        return TypedResults.Accepted((string?)null);
    }

    static async Task<Results<Ok<VerifiedDto>, ProblemHttpResult>> Verify(VerifyTokenInput input, DeveloperAccounts accounts, CancellationToken ct) =>
        await accounts.VerifyAsync(input.Token, ct) is { } verified
            ? TypedResults.Ok(verified)
            : Problems.Of(400, "invalid-token", "链接无效或已过期", "The link is unknown, used already or expired; register again to get a new one.");

    static async Task<Results<Ok<DeveloperUsageDto>, ProblemHttpResult>> Me(HttpContext http, LianqiaoDb db, KeyService keys, QuotaCounter quota,
        IOptions<OpenDataOptions> options, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var id = Guid.Parse(caller.Id);
        var developer = await db.Set<Developer>().AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);
        if (developer is null) return Problems.NotFound("开发者", "developer");
        var myKeys = await keys.ListAsync(PrincipalKind.Developer, caller.Id, ct);
        var keyIds = myKeys.Select(k => k.Id).ToList();
        var since = quota.Today().AddDays(-29);
        var usage = await db.Set<QuotaUsage>().AsNoTracking().Where(u => keyIds.Contains(u.GrantId) && u.Day >= since)
            .GroupBy(u => u.Day).Select(g => new { g.Key, Calls = g.Sum(u => u.Used) }).ToListAsync(ct);
        var today = quota.Today();
        var currentKey = http.Items[typeof(ApiKey)] is Guid k ? k : Guid.Empty;
        var callsToday = await db.Set<QuotaUsage>().AsNoTracking().Where(u => u.GrantId == currentKey && u.Day == today).Select(u => u.Used).FirstOrDefaultAsync(ct);
        var applications = await db.Set<OpenApplication>().AsNoTracking().Where(a => a.DeveloperId == id).OrderByDescending(a => a.SubmittedAt).ToListAsync(ct);
        return TypedResults.Ok(new DeveloperUsageDto(id, developer.Email, developer.DisplayName, callsToday, options.Value.DeveloperCallsPerDay, myKeys,
            applications.Select(a => a.AsDto()).ToList(), usage.OrderBy(u => u.Key).Select(u => new DailyUsage(u.Key, u.Calls)).ToList()));
    }

    static async Task<Results<Created<OpenApplicationDto>, ProblemHttpResult>> Apply(OpenApplicationInput input, HttpContext http, LianqiaoDb db,
        OpenWorkflow workflow, CancellationToken ct)
    {
        var developer = await CurrentDeveloperAsync(http, db, ct);
        if (developer is null) return Problems.NotFound("开发者", "developer");
        var outcome = await workflow.ApplyAsync(developer, input, AuditEntry.For(http, "open-application.submit"), ct);
        return outcome.Problem ?? (Results<Created<OpenApplicationDto>, ProblemHttpResult>)TypedResults.Created(
            $"/open/api/v1/applications/{outcome.Value!.Id}", outcome.Value.AsDto());
    }

    static Task<Developer?> CurrentDeveloperAsync(HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var id = Guid.Parse(http.User.Caller().Id);
        return db.Set<Developer>().AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);
    }

    
    static async Task<Ok<List<OpenApplicationDto>>> MyApplications(HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var id = Guid.Parse(http.User.Caller().Id);
        var list = await db.Set<OpenApplication>().AsNoTracking().Where(a => a.DeveloperId == id).OrderByDescending(a => a.SubmittedAt).ToListAsync(ct);
        return TypedResults.Ok(list.Select(a => a.AsDto()).ToList());
    }

    static async Task<Results<Created<ShowcaseDto>, ProblemHttpResult>> SubmitShowcase(ShowcaseInput input, HttpContext http, LianqiaoDb db,
        OpenWorkflow workflow, CancellationToken ct)
    {
        var developer = await CurrentDeveloperAsync(http, db, ct);
        if (developer is null) return Problems.NotFound("开发者", "developer");
        var outcome = await workflow.SubmitShowcaseAsync(developer, input, AuditEntry.For(http, "showcase.submit"), ct);
        return outcome.Problem ?? (Results<Created<ShowcaseDto>, ProblemHttpResult>)TypedResults.Created(
            $"/open/api/v1/showcase/{outcome.Value!.Id}", outcome.Value.AsDto());
    }

    
    /// <summary>The staff side: providers decide conditional applications; admins review showcase entries, read feedback and the full open rate.</summary>
    public static void MapOpenDataAdminApi(this IEndpointRouteBuilder routes)
    {
        var member = routes.MapGroup("/api/v1/open-applications").WithTags("Open data").RequireAuthorization(Policies.Member);
        member.MapGet("/", ProviderApplications);
        member.MapPost("/{id:guid}/approve", ApproveApplication);
        member.MapPost("/{id:guid}/refuse", RefuseApplication);

        var admin = routes.MapGroup("/api/v1/open").WithTags("Open data").RequireAuthorization(Policies.PlatformAdmin);
        admin.MapGet("/showcase", AllShowcase);
        admin.MapPost("/showcase/{id:guid}/review", ReviewShowcase);
        admin.MapGet("/feedback", AllFeedback);
        routes.MapGet("/api/v1/open-rate", FullOpenRate).WithTags("Open data").RequireAuthorization(Policies.PlatformAdmin);
    }

    static async Task<Ok<List<OpenApplicationDto>>> ProviderApplications(OpenApplicationStatus? status, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var query = db.Set<OpenApplication>().AsNoTracking();
        if (!caller.IsAdmin)
        {
            var dept = caller.DepartmentId ?? Guid.Empty;
            query = query.Where(a => a.ProviderDepartmentId == dept);
        }
        if (status is { } s) query = query.Where(a => a.Status == s);
        var list = await query.OrderByDescending(a => a.SubmittedAt).Take(500).ToListAsync(ct);
        return TypedResults.Ok(list.Select(a => a.AsDto()).ToList());
    }

    static Task<Results<Ok<OpenApplicationDto>, ProblemHttpResult>> ApproveApplication(Guid id, OpenDecisionInput? input, HttpContext http,
        OpenWorkflow workflow, CancellationToken ct) => DecideAsync(workflow, id, true, input?.Comment, http, ct);

    static Task<Results<Ok<OpenApplicationDto>, ProblemHttpResult>> RefuseApplication(Guid id, OpenDecisionInput? input, HttpContext http,
        OpenWorkflow workflow, CancellationToken ct) => DecideAsync(workflow, id, false, input?.Reason, http, ct);

    static async Task<Results<Ok<OpenApplicationDto>, ProblemHttpResult>> DecideAsync(OpenWorkflow workflow, Guid id, bool approve, string? text,
        HttpContext http, CancellationToken ct)
    {
        var outcome = await workflow.DecideAsync(http.User.Caller(), id, approve, text, http, ct);
        return outcome.Problem ?? (Results<Ok<OpenApplicationDto>, ProblemHttpResult>)TypedResults.Ok(outcome.Value!.AsDto());
    }

    static async Task<Ok<List<ShowcaseDto>>> AllShowcase(ReviewStatus? status, LianqiaoDb db, CancellationToken ct)
    {
        var query = db.Set<ShowcaseEntry>().AsNoTracking();
        if (status is { } s) query = query.Where(e => e.Status == s);
        return TypedResults.Ok((await query.OrderByDescending(e => e.SubmittedAt).Take(500).ToListAsync(ct)).Select(e => e.AsDto()).ToList());
    }

    static async Task<Results<Ok<ShowcaseDto>, ProblemHttpResult>> ReviewShowcase(Guid id, ShowcaseReviewInput input, HttpContext http, LianqiaoDb db,
        IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var to = input.Approve ? ReviewStatus.Approved : ReviewStatus.Rejected;
        var changed = await db.Set<ShowcaseEntry>().Where(e => e.Id == id && e.Status == ReviewStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, to).SetProperty(e => e.ReviewedAt, time.GetUtcNow())
                .SetProperty(e => e.ReviewedBy, caller.Name).SetProperty(e => e.ReviewComment, input.Comment), ct);
        var entry = await db.Set<ShowcaseEntry>().AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, ct);
        if (entry is null) return Problems.NotFound("应用案例", "showcase entry");
        if (changed == 0) return Problems.Conflict("already-reviewed", "该案例已审核", "The entry was reviewed already.");
        await audit.WriteAsync(AuditEntry.For(http, "showcase.review", "showcase", id.ToString(), new { input.Approve, input.Comment }), ct);
        return TypedResults.Ok(entry.AsDto());
    }

    static async Task<Ok<List<FeedbackDto>>> AllFeedback(LianqiaoDb db, CancellationToken ct) =>
        TypedResults.Ok((await db.Set<OpenFeedback>().AsNoTracking().OrderByDescending(f => f.CreatedAt).Take(1000).ToListAsync(ct)).Select(f => f.AsDto()).ToList());

    static async Task<Ok<OpenRateDto>> FullOpenRate(OpenCatalog open, CancellationToken ct) => TypedResults.Ok(await open.OpenRateAsync(true, ct));
}
