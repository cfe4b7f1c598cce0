using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Reference;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lianqiao.Sharing;

public sealed class SharingOptions
{
    /// <summary>Working days a provider has to answer a 有条件共享 application (国发〔2016〕51号: 10).</summary>
    public int ApprovalWorkingDays { get; set; } = 10;
    public int DefaultValidDays { get; set; } = 365;
}

public sealed record ShareRequestInput(string? ResourceId, Guid? AppId, string[]? Fields, string[]? Methods, string[]? Paths, bool? Download,
    string? Purpose, string? LegalBasis, string? Scenario, int? ValidDays);
public sealed record ApproveInput(string[]? UnmaskedFields, long? QuotaPerDay, string? Comment);
public sealed record RefuseInput(string? Reason);

internal static class ShareRequestsApi
{
    static readonly string[] HttpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public static void MapShareRequestsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/share-requests").WithTags("Sharing").RequireAuthorization(Policies.Member);
        api.MapPost("/", Submit);
        api.MapGet("/", List);
        api.MapGet("/overdue", Overdue).RequireAuthorization(Policies.PlatformAdmin);
        api.MapGet("/{id:guid}", Get);
        api.MapPost("/{id:guid}/approve", Approve);
        api.MapPost("/{id:guid}/refuse", Refuse);
        api.MapPost("/{id:guid}/withdraw", Withdraw);
        api.MapPost("/{id:guid}/renew", Renew);
    }

    /// <summary>The kind of access a resource's format calls for (standards.md §1 format categories).</summary>
    internal static GrantKind KindOf(ResourceDto resource) => resource.FormatCategory switch
    {
        "7" => GrantKind.Service,
        "1" or "4" or "5" => GrantKind.File,
        _ => GrantKind.Table,
    };

    internal static async Task<Results<Created<ShareRequestDto>, ProblemHttpResult>> Submit(ShareRequestInput input, HttpContext http, LianqiaoDb db,
        ICatalogReader catalog, GrantService grants, WorkingCalendar calendar, IAuditLog audit, TimeProvider time,
        IOptions<SharingOptions> options, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var errors = new Dictionary<string, string[]>();
        var resource = string.IsNullOrWhiteSpace(input.ResourceId) ? null : await catalog.FindAsync(input.ResourceId.Trim(), ct);
        if (resource is null || resource.Status != ResourceStatus.Published)
            errors["resourceId"] = ["资源不存在或未发布 / no published resource with this id"];
        var app = input.AppId is { } appId ? await db.Set<ConsumerApp>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == appId, ct) : null;
        if (app is null) errors["appId"] = ["应用系统不存在 / no such application"];
        else if (!caller.ActsFor(app.DepartmentId, Roles.Steward) && !caller.ActsFor(app.DepartmentId, Roles.Consumer))
            return Problems.Forbidden("Only the application's own department applies on its behalf.");
        if (string.IsNullOrWhiteSpace(input.Purpose)) errors["purpose"] = ["用途必填 / purpose is required"];
        var validDays = input.ValidDays ?? options.Value.DefaultValidDays;
        if (validDays is < 1 or > 1825) errors["validDays"] = ["有效期为 1 至 1825 天 / validDays must be 1 to 1825"];
        if (resource is not null)
        {
            if (resource.ShareType == CatalogRules.NotShared)
                return Problems.Conflict("not-shared", "该资源不予共享，可提交数据需求",
                    "This resource is 不予共享; no application is possible. Post a data demand (POST /api/v1/demands) instead.");
            if (resource.ShareType == CatalogRules.Conditional && string.IsNullOrWhiteSpace(input.LegalBasis))
                errors["legalBasis"] = ["有条件共享须说明依据 / conditional sharing needs a legal basis"];
            ValidateScope(resource, input, errors);
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var kind = KindOf(resource!);
        var request = new ShareRequest
        {
            ResourceId = resource!.Id,
            ResourceName = resource.Name,
            ShareType = resource.ShareType,
            ProviderDepartmentId = resource.DepartmentId,
            ConsumerDepartmentId = app!.DepartmentId,
            AppId = app.Id,
            Kind = kind,
            Fields = kind == GrantKind.Table ? input.Fields!.Distinct().ToList() : [],
            Methods = kind == GrantKind.Service ? input.Methods!.Select(m => m.ToUpperInvariant()).Distinct().ToList() : [],
            Paths = kind == GrantKind.Service ? input.Paths!.Distinct().ToList() : [],
            Download = kind == GrantKind.File,
            Purpose = input.Purpose!.Trim(),
            LegalBasis = input.LegalBasis?.Trim() ?? "",
            Scenario = input.Scenario?.Trim() ?? "",
            ValidDays = validDays,
            SubmittedAt = time.GetUtcNow(),
            SubmittedBy = caller.Name,
        };
        db.Add(request);
        if (resource.ShareType == CatalogRules.Unconditional)
        {
            request.Status = ShareRequestStatus.Approved;
            request.DecidedAt = request.SubmittedAt;
            request.DecidedBy = "无条件共享 / unconditional";
        }
        else
        {
            request.Deadline = await calendar.AddWorkingDaysAsync(ChinaTime.DateOf(request.SubmittedAt), options.Value.ApprovalWorkingDays, ct);
        }
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "share-request.submit", "share-request", request.Id.ToString(),
            new { request.ResourceId, request.AppId, request.Fields, request.Purpose, request.LegalBasis, request.Deadline }), ct);
        if (request.Status == ShareRequestStatus.Approved)
        {
            var grant = await grants.IssueAsync(GrantFor(request, [], null), AuditEntry.For(http, "grant.issue"), ct);
            request.GrantId = grant.Id;
            await db.SaveChangesAsync(ct);
        }
        return TypedResults.Created($"/api/v1/share-requests/{request.Id}", request.AsDto());
    }

    static void ValidateScope(ResourceDto resource, ShareRequestInput input, Dictionary<string, string[]> errors)
    {
        switch (KindOf(resource))
        {
            case GrantKind.Table:
                var columns = resource.Items.Select(i => i.ColumnName).ToHashSet(StringComparer.Ordinal);
                if (input.Fields is not { Length: > 0 }) errors["fields"] = ["请选择信息项 / choose the fields you need"];
                else if (input.Fields.Where(f => !columns.Contains(f)).ToList() is { Count: > 0 } unknown)
                    errors["fields"] = [$"资源没有这些信息项 / the resource has no fields: {string.Join(", ", unknown)}"];
                break;
            case GrantKind.Service:
                if (input.Methods is not { Length: > 0 } || input.Methods.Any(m => !HttpMethods.Contains(m.ToUpperInvariant())))
                    errors["methods"] = ["请选择 HTTP 方法（GET/POST/PUT/PATCH/DELETE）/ choose HTTP methods"];
                if (input.Paths is not { Length: > 0 } || input.Paths.Any(p => !p.StartsWith('/') || p.Contains("..", StringComparison.Ordinal)))
                    errors["paths"] = ["请填写以 / 开头的接口路径 / paths must start with /"];
                break;
            case GrantKind.File:
                break;
        }
    }

    internal static Grant GrantFor(ShareRequest request, IEnumerable<string> unmasked, long? quotaPerDay) => new()
    {
        PrincipalKind = PrincipalKind.Application,
        PrincipalId = request.AppId.ToString(),
        ConsumerDepartmentId = request.ConsumerDepartmentId,
        ResourceId = request.ResourceId,
        ProviderDepartmentId = request.ProviderDepartmentId,
        Kind = request.Kind,
        Fields = request.Fields,
        UnmaskedFields = unmasked.ToList(),
        Download = request.Download,
        Methods = request.Methods,
        Paths = request.Paths,
        QuotaPerDay = quotaPerDay,
        ExpiresAt = (request.DecidedAt ?? request.SubmittedAt).AddDays(request.ValidDays),
        GrantedBy = request.DecidedBy ?? "",
        ShareRequestId = request.Id,
    };

    /// <summary>Consumers see their department's applications, providers the ones addressed to them, admins all.</summary>
    static async Task<Ok<List<ShareRequestDto>>> List(string? side, ShareRequestStatus? status, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var query = db.Set<ShareRequest>().AsNoTracking();
        if (caller.Kind == PrincipalKind.Application)
        {
            var appId = Guid.Parse(caller.Id);
            query = query.Where(r => r.AppId == appId);
        }
        else if (!caller.IsAdmin)
            query = side switch
            {
                "provider" => query.Where(r => r.ProviderDepartmentId == caller.DepartmentId),
                "consumer" => query.Where(r => r.ConsumerDepartmentId == caller.DepartmentId),
                _ => query.Where(r => r.ProviderDepartmentId == caller.DepartmentId || r.ConsumerDepartmentId == caller.DepartmentId),
            };
        if (status is { } s) query = query.Where(r => r.Status == s);
        var list = await query.OrderByDescending(r => r.Id).Take(500).ToListAsync(ct);
        return TypedResults.Ok(list.Select(r => r.AsDto()).ToList());
    }

    static async Task<Ok<List<ShareRequestDto>>> Overdue(LianqiaoDb db, TimeProvider time, CancellationToken ct)
    {
        var today = ChinaTime.DateOf(time.GetUtcNow());
        var list = await db.Set<ShareRequest>().AsNoTracking()
            .Where(r => r.Status == ShareRequestStatus.Pending && r.Deadline < today).OrderBy(r => r.Deadline).ToListAsync(ct);
        return TypedResults.Ok(list.Select(r => r.AsDto()).ToList());
    }

    static bool MaySee(Caller caller, ShareRequest r) =>
        caller.IsAdmin
        || (caller.Kind == PrincipalKind.Application && caller.Id == r.AppId.ToString())
        || (caller.Kind == PrincipalKind.User && (caller.DepartmentId == r.ProviderDepartmentId || caller.DepartmentId == r.ConsumerDepartmentId));

    static async Task<Results<Ok<ShareRequestDto>, ProblemHttpResult>> Get(Guid id, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var request = await db.Set<ShareRequest>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        return request is not null && MaySee(http.User.Caller(), request) ? TypedResults.Ok(request.AsDto()) : Problems.NotFound("共享申请", "application");
    }

    /// <summary>
    /// The decision is one conditional UPDATE on the pending row: of two approvers deciding at once,
    /// one wins and the other gets a clear conflict.
    /// </summary>
    static async Task<bool> DecideAsync(LianqiaoDb db, Guid id, ShareRequestStatus to, string by, string? comment, TimeProvider time, CancellationToken ct) =>
        await db.Set<ShareRequest>().Where(r => r.Id == id && r.Status == ShareRequestStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, to).SetProperty(r => r.DecidedAt, time.GetUtcNow())
                .SetProperty(r => r.DecidedBy, by).SetProperty(r => r.DecisionComment, comment), ct) == 1;

    static ProblemHttpResult AlreadyDecided() =>
        Problems.Conflict("already-decided", "该申请已被处理", "The application is no longer pending: someone decided or withdrew it first.");

    internal static async Task<Results<Ok<ShareRequestDto>, ProblemHttpResult>> Approve(Guid id, ApproveInput? input, HttpContext http, LianqiaoDb db,
        GrantService grants, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var request = await db.Set<ShareRequest>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (request is null || !MaySee(caller, request)) return Problems.NotFound("共享申请", "application");
        if (!caller.ActsFor(request.ProviderDepartmentId, Roles.Approver))
            return Problems.Forbidden("Only the providing department's approvers decide its applications.");
        var unmasked = (input?.UnmaskedFields ?? []).Distinct().ToList();
        if (unmasked.Except(request.Fields).ToList() is { Count: > 0 } notRequested)
            return Problems.Validation(new Dictionary<string, string[]> { ["unmaskedFields"] = [$"只能对所申请的信息项解除脱敏 / only requested fields can be unmasked: {string.Join(", ", notRequested)}"] });
        if (input?.QuotaPerDay is < 1)
            return Problems.Validation(new Dictionary<string, string[]> { ["quotaPerDay"] = ["配额须为正数 / quotaPerDay must be positive"] });
        if (!await DecideAsync(db, id, ShareRequestStatus.Approved, caller.Name, input?.Comment?.Trim(), time, ct)) return AlreadyDecided();

        var decided = await db.Set<ShareRequest>().FirstAsync(r => r.Id == id, ct);
        var grant = await grants.IssueAsync(GrantFor(decided, unmasked, input?.QuotaPerDay), AuditEntry.For(http, "grant.issue"), ct);
        decided.GrantId = grant.Id;
        await db.SaveChangesAsync(ct);
        await http.RequestServices.GetRequiredService<IAuditLog>().WriteAsync(AuditEntry.For(http, "share-request.approve", "share-request", id.ToString(),
            new { unmasked, input?.QuotaPerDay, input?.Comment, grantId = grant.Id }), ct);
        return TypedResults.Ok(decided.AsDto());
    }

    internal static async Task<Results<Ok<ShareRequestDto>, ProblemHttpResult>> Refuse(Guid id, RefuseInput? input, HttpContext http, LianqiaoDb db,
        IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var request = await db.Set<ShareRequest>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (request is null || !MaySee(caller, request)) return Problems.NotFound("共享申请", "application");
        if (!caller.ActsFor(request.ProviderDepartmentId, Roles.Approver))
            return Problems.Forbidden("Only the providing department's approvers decide its applications.");
        if (string.IsNullOrWhiteSpace(input?.Reason))
            return Problems.Validation(new Dictionary<string, string[]> { ["reason"] = ["拒绝须说明理由 / a refusal needs a reason"] });
        if (!await DecideAsync(db, id, ShareRequestStatus.Refused, caller.Name, input.Reason.Trim(), time, ct)) return AlreadyDecided();
        await audit.WriteAsync(AuditEntry.For(http, "share-request.refuse", "share-request", id.ToString(), new { reason = input.Reason }), ct);
        return TypedResults.Ok((await db.Set<ShareRequest>().AsNoTracking().FirstAsync(r => r.Id == id, ct)).AsDto());
    }

    internal static async Task<Results<Ok<ShareRequestDto>, ProblemHttpResult>> Withdraw(Guid id, HttpContext http, LianqiaoDb db, IAuditLog audit,
        TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var request = await db.Set<ShareRequest>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (request is null || !MaySee(caller, request)) return Problems.NotFound("共享申请", "application");
        if (!caller.ActsFor(request.ConsumerDepartmentId, Roles.Steward) && !caller.ActsFor(request.ConsumerDepartmentId, Roles.Consumer))
            return Problems.Forbidden("Only the applying department withdraws its application.");
        if (!await DecideAsync(db, id, ShareRequestStatus.Withdrawn, caller.Name, null, time, ct)) return AlreadyDecided();
        await audit.WriteAsync(AuditEntry.For(http, "share-request.withdraw", "share-request", id.ToString()), ct);
        return TypedResults.Ok((await db.Set<ShareRequest>().AsNoTracking().FirstAsync(r => r.Id == id, ct)).AsDto());
    }

    /// <summary>Renewal is a new application with the same scope, decided like the first.</summary>
    static async Task<Results<Created<ShareRequestDto>, ProblemHttpResult>> Renew(Guid id, HttpContext http, LianqiaoDb db,
        ICatalogReader catalog, GrantService grants, WorkingCalendar calendar, IAuditLog audit, TimeProvider time,
        IOptions<SharingOptions> options, CancellationToken ct)
    {
        var request = await db.Set<ShareRequest>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (request is null || !MaySee(http.User.Caller(), request)) return Problems.NotFound("共享申请", "application");
        var input = new ShareRequestInput(request.ResourceId, request.AppId, [.. request.Fields], [.. request.Methods], [.. request.Paths],
            request.Download, request.Purpose, request.LegalBasis, request.Scenario, request.ValidDays);
        var result = await Submit(input, http, db, catalog, grants, calendar, audit, time, options, ct);
        if (result.Result is Created<ShareRequestDto> { Value: { } created })
        {
            await db.Set<ShareRequest>().Where(r => r.Id == created.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.RenewalOf, id), ct);
            return TypedResults.Created($"/api/v1/share-requests/{created.Id}", created with { RenewalOf = id });
        }
        return (ProblemHttpResult)result.Result;
    }
}
