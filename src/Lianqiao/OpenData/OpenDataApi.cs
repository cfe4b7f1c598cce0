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
        api.MapPost("/feedback", Feedback);
        api.MapPost("/developers", Register);
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

    static async Task<Results<Ok<OpenDatasetDto>, ProblemHttpResult>> Dataset(string id, OpenCatalog open, ICatalogReader catalog, CancellationToken ct)
    {
        var dto = await open.DatasetAsync(await catalog.FindAsync(id, ct), ct);
        if (dto is null) return Problems.NotFound("开放数据集", "open dataset");
        await open.CountAsync(id, 1, 0, 0, ct);
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
        ICatalogReader catalog, IAuditLog audit, TimeProvider time, IOptions<OpenDataOptions> options, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var errors = new Dictionary<string, string[]>();
        var resource = string.IsNullOrWhiteSpace(input.ResourceId) ? null : await catalog.FindAsync(input.ResourceId.Trim(), ct);
        if (!OpenCatalog.IsOpen(resource)) errors["resourceId"] = ["没有该开放数据集 / no open dataset with this id"];
        else if (resource!.Open.EffectiveOpenType != CatalogRules.OpenConditional)
            return Problems.Conflict("not-conditional", "该数据集无条件开放，无须申请", "This dataset is open to everyone; no application is needed.");
        if (string.IsNullOrWhiteSpace(input.Purpose) || input.Purpose.Length > 2000) errors["purpose"] = ["用途必填，最多 2000 字 / purpose is required, at most 2000 characters"];
        if (string.IsNullOrWhiteSpace(input.Scenario) || input.Scenario.Length > 2000) errors["scenario"] = ["应用场景必填，最多 2000 字 / scenario is required, at most 2000 characters"];
        if (input.AcceptAgreement != true) errors["acceptAgreement"] = ["须同意数据使用协议 / you must accept the data use agreement"];
        var fields = (input.Fields ?? []).Distinct().ToList();
        if (resource is not null && errors.Count == 0)
        {
            if (fields.Count == 0) fields = [.. resource.Open.OpenColumns];
            else if (fields.Except(resource.Open.OpenColumns).ToList() is { Count: > 0 } closed)
                errors["fields"] = [$"这些信息项不开放 / these fields are not open: {string.Join(", ", closed)}"];
        }
        if (errors.Count > 0) return Problems.Validation(errors);
        var now = time.GetUtcNow();
        var application = new OpenApplication
        {
            DeveloperId = Guid.Parse(caller.Id), DeveloperName = caller.Name, ResourceId = resource!.Id, ResourceName = resource.Name,
            ProviderDepartmentId = resource.DepartmentId, Fields = fields, Purpose = input.Purpose!.Trim(), Scenario = input.Scenario!.Trim(),
            AgreementAcceptedAt = now, ValidDays = options.Value.ConditionalGrantDays, Status = OpenApplicationStatus.Pending, SubmittedAt = now,
        };
        db.Add(application);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "open-application.submit", "open-application", application.Id.ToString(),
            new { application.ResourceId, application.Fields, application.Purpose, application.Scenario }), ct);
        return TypedResults.Created($"/open/api/v1/applications/{application.Id}", application.AsDto());
    }

    static async Task<Ok<List<OpenApplicationDto>>> MyApplications(HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var id = Guid.Parse(http.User.Caller().Id);
        var list = await db.Set<OpenApplication>().AsNoTracking().Where(a => a.DeveloperId == id).OrderByDescending(a => a.SubmittedAt).ToListAsync(ct);
        return TypedResults.Ok(list.Select(a => a.AsDto()).ToList());
    }

    static async Task<Results<Created<ShowcaseDto>, ProblemHttpResult>> SubmitShowcase(ShowcaseInput input, HttpContext http, LianqiaoDb db,
        ICatalogReader catalog, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 200) errors["name"] = ["名称必填，最多 200 字 / name is required, at most 200 characters"];
        if (string.IsNullOrWhiteSpace(input.Description) || input.Description.Length > 4000) errors["description"] = ["简介必填，最多 4000 字 / description is required, at most 4000 characters"];
        if (!Uri.TryCreate(input.Link?.Trim(), UriKind.Absolute, out var link) || link.Scheme is not ("https" or "http") || input.Link!.Length > 500)
            errors["link"] = ["请填写 http(s) 链接 / link must be an http(s) URL"];
        var datasets = (input.Datasets ?? []).Select(d => d.Trim()).Distinct().ToList();
        if (datasets.Count is 0 or > 20) errors["datasets"] = ["请选择 1 至 20 个所用数据集 / name 1 to 20 datasets used"];
        else
        {
            foreach (var d in datasets)
                if (!OpenCatalog.IsOpen(await catalog.FindAsync(d, ct))) errors["datasets"] = [$"没有开放数据集 {d} / no open dataset {d}"];
        }
        if (errors.Count > 0) return Problems.Validation(errors);
        var caller = http.User.Caller();
        var entry = new ShowcaseEntry
        {
            DeveloperId = Guid.Parse(caller.Id), DeveloperName = caller.Name, Name = input.Name!.Trim(), Description = input.Description!.Trim(),
            Link = link!.ToString(), Datasets = datasets, Status = ReviewStatus.Pending, SubmittedAt = time.GetUtcNow(),
        };
        db.Add(entry);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "showcase.submit", "showcase", entry.Id.ToString(), new { entry.Name, entry.Link, entry.Datasets }), ct);
        return TypedResults.Created($"/open/api/v1/showcase/{entry.Id}", entry.AsDto());
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

    static async Task<Results<Ok<OpenApplicationDto>, ProblemHttpResult>> ApproveApplication(Guid id, OpenDecisionInput? input, HttpContext http,
        LianqiaoDb db, GrantService grants, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var application = await db.Set<OpenApplication>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        if (application is null || (!caller.IsAdmin && caller.DepartmentId != application.ProviderDepartmentId))
            return Problems.NotFound("开放申请", "open application");
        if (!caller.ActsFor(application.ProviderDepartmentId, Roles.Approver))
            return Problems.Forbidden("Only the providing department's approvers decide its open applications.");
        var now = time.GetUtcNow();
        if (!await DecideAsync(db, id, OpenApplicationStatus.Approved, caller.Name, input?.Comment?.Trim(), now, ct)) return AlreadyDecided();
        var grant = await grants.IssueAsync(new Grant
        {
            PrincipalKind = PrincipalKind.Developer, PrincipalId = application.DeveloperId.ToString(), ResourceId = application.ResourceId,
            ProviderDepartmentId = application.ProviderDepartmentId, Kind = GrantKind.Table, Fields = application.Fields,
            ExpiresAt = now.AddDays(application.ValidDays), GrantedBy = caller.Name,
        }, AuditEntry.For(http, "grant.issue"), ct);
        await db.Set<OpenApplication>().Where(a => a.Id == id).ExecuteUpdateAsync(s => s.SetProperty(a => a.GrantId, grant.Id), ct);
        await audit.WriteAsync(AuditEntry.For(http, "open-application.approve", "open-application", id.ToString(), new { grantId = grant.Id, input?.Comment }), ct);
        return TypedResults.Ok((await db.Set<OpenApplication>().AsNoTracking().FirstAsync(a => a.Id == id, ct)).AsDto());
    }

    static async Task<Results<Ok<OpenApplicationDto>, ProblemHttpResult>> RefuseApplication(Guid id, OpenDecisionInput? input, HttpContext http,
        LianqiaoDb db, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var application = await db.Set<OpenApplication>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        if (application is null || (!caller.IsAdmin && caller.DepartmentId != application.ProviderDepartmentId))
            return Problems.NotFound("开放申请", "open application");
        if (!caller.ActsFor(application.ProviderDepartmentId, Roles.Approver))
            return Problems.Forbidden("Only the providing department's approvers decide its open applications.");
        if (string.IsNullOrWhiteSpace(input?.Reason))
            return Problems.Validation(new Dictionary<string, string[]> { ["reason"] = ["拒绝须说明理由 / a refusal needs a reason"] });
        if (!await DecideAsync(db, id, OpenApplicationStatus.Refused, caller.Name, input.Reason.Trim(), time.GetUtcNow(), ct)) return AlreadyDecided();
        await audit.WriteAsync(AuditEntry.For(http, "open-application.refuse", "open-application", id.ToString(), new { input.Reason }), ct);
        return TypedResults.Ok((await db.Set<OpenApplication>().AsNoTracking().FirstAsync(a => a.Id == id, ct)).AsDto());
    }

    /// <summary>One conditional UPDATE on the pending row: of two approvers at once, one wins and the other gets a conflict.</summary>
    static async Task<bool> DecideAsync(LianqiaoDb db, Guid id, OpenApplicationStatus to, string by, string? comment, DateTimeOffset now, CancellationToken ct) =>
        await db.Set<OpenApplication>().Where(a => a.Id == id && a.Status == OpenApplicationStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, to).SetProperty(a => a.DecidedAt, now)
                .SetProperty(a => a.DecidedBy, by).SetProperty(a => a.DecisionComment, comment), ct) == 1;

    static ProblemHttpResult AlreadyDecided() =>
        Problems.Conflict("already-decided", "该申请已被处理", "The application is no longer pending: someone decided it first.");

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
