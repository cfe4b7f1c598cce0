using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lianqiao.OpenData;

/// <summary>What a workflow step produced: a value, or a problem in the house shape (validation errors, 403, 404, 409).</summary>
internal sealed record Outcome<T>(T? Value, ProblemHttpResult? Problem)
{
    public static implicit operator Outcome<T>(ProblemHttpResult problem) => new(default, problem);
    public static Outcome<T> Ok(T value) => new(value, null);

    /// <summary>The message a page shows for the problem: every validation error, or the title.</summary>
    public string Message => Problem?.ProblemDetails is { } p
        ? p.Extensions.TryGetValue("errors", out var e) && e is IReadOnlyDictionary<string, string[]> errors
            ? string.Join(" ", errors.SelectMany(x => x.Value)) : $"{p.Title} / {p.Detail}"
        : "";
}

/// <summary>
/// The open portal's workflows, shared by the API and the pages: conditional applications and their decision
/// (ending in a developer grant), and showcase submissions.
/// </summary>
internal sealed class OpenWorkflow(LianqiaoDb db, ICatalogReader catalog, GrantService grants, IAuditLog audit, TimeProvider time,
    IOptions<OpenDataOptions> options)
{
    /// <summary>The developer a key belongs to, when the key is a developer's and active; the pages' way of signing a developer in.</summary>
    public async Task<Developer?> DeveloperByKeyAsync(string? secret, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(secret)) return null;
        var hash = ApiKey.HashOf(secret.Trim());
        var key = await db.Set<ApiKey>().AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash && k.OwnerKind == PrincipalKind.Developer, ct);
        if (key is null || !key.IsActive(time.GetUtcNow()) || !Guid.TryParse(key.OwnerId, out var id)) return null;
        return await db.Set<Developer>().AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);
    }

    public async Task<Outcome<OpenApplication>> ApplyAsync(Developer developer, OpenApplicationInput input, AuditEntry auditAs, CancellationToken ct)
    {
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
            DeveloperId = developer.Id, DeveloperName = developer.DisplayName, ResourceId = resource!.Id, ResourceName = resource.Name,
            ProviderDepartmentId = resource.DepartmentId, Fields = fields, Purpose = input.Purpose!.Trim(), Scenario = input.Scenario!.Trim(),
            AgreementAcceptedAt = now, ValidDays = options.Value.ConditionalGrantDays, Status = OpenApplicationStatus.Pending, SubmittedAt = now,
        };
        db.Add(application);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(auditAs with
        {
            Action = "open-application.submit", TargetType = "open-application", TargetId = application.Id.ToString(),
            Detail = new { application.ResourceId, application.Fields, application.Purpose, application.Scenario },
        }, ct);
        return Outcome<OpenApplication>.Ok(application);
    }

    /// <summary>The provider's approver decides; approval issues the developer's grant. One conditional UPDATE: of two deciders, one wins.</summary>
    public async Task<Outcome<OpenApplication>> DecideAsync(Caller caller, Guid id, bool approve, string? text, HttpContext http, CancellationToken ct)
    {
        var application = await db.Set<OpenApplication>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        if (application is null || (!caller.IsAdmin && caller.DepartmentId != application.ProviderDepartmentId))
            return Problems.NotFound("开放申请", "open application");
        if (!caller.ActsFor(application.ProviderDepartmentId, Roles.Approver))
            return Problems.Forbidden("Only the providing department's approvers decide its open applications.");
        if (!approve && string.IsNullOrWhiteSpace(text))
            return Problems.Validation(new Dictionary<string, string[]> { ["reason"] = ["拒绝须说明理由 / a refusal needs a reason"] });
        var now = time.GetUtcNow();
        var to = approve ? OpenApplicationStatus.Approved : OpenApplicationStatus.Refused;
        var comment = text?.Trim();
        var won = await db.Set<OpenApplication>().Where(a => a.Id == id && a.Status == OpenApplicationStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, to).SetProperty(a => a.DecidedAt, now)
                .SetProperty(a => a.DecidedBy, caller.Name).SetProperty(a => a.DecisionComment, comment), ct) == 1;
        if (!won) return Problems.Conflict("already-decided", "该申请已被处理", "The application is no longer pending: someone decided it first.");
        Guid? grantId = null;
        if (approve)
        {
            var grant = await grants.IssueAsync(new Grant
            {
                PrincipalKind = PrincipalKind.Developer, PrincipalId = application.DeveloperId.ToString(), ResourceId = application.ResourceId,
                ProviderDepartmentId = application.ProviderDepartmentId, Kind = GrantKind.Table, Fields = application.Fields,
                ExpiresAt = now.AddDays(application.ValidDays), GrantedBy = caller.Name,
            }, AuditEntry.For(http, "grant.issue"), ct);
            grantId = grant.Id;
            await db.Set<OpenApplication>().Where(a => a.Id == id).ExecuteUpdateAsync(s => s.SetProperty(a => a.GrantId, grant.Id), ct);
        }
        await audit.WriteAsync(AuditEntry.For(http, approve ? "open-application.approve" : "open-application.refuse", "open-application", id.ToString(),
            new { grantId, comment }), ct);
        return Outcome<OpenApplication>.Ok(await db.Set<OpenApplication>().AsNoTracking().FirstAsync(a => a.Id == id, ct));
    }

    public async Task<Outcome<ShowcaseEntry>> SubmitShowcaseAsync(Developer developer, ShowcaseInput input, AuditEntry auditAs, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 200) errors["name"] = ["名称必填，最多 200 字 / name is required, at most 200 characters"];
        if (string.IsNullOrWhiteSpace(input.Description) || input.Description.Length > 4000) errors["description"] = ["简介必填，最多 4000 字 / description is required, at most 4000 characters"];
        if (!Uri.TryCreate(input.Link?.Trim(), UriKind.Absolute, out var link) || link.Scheme is not ("https" or "http") || input.Link!.Length > 500)
            errors["link"] = ["请填写 http(s) 链接 / link must be an http(s) URL"];
        var datasets = (input.Datasets ?? []).Select(d => d.Trim()).Where(d => d.Length > 0).Distinct().ToList();
        if (datasets.Count is 0 or > 20) errors["datasets"] = ["请选择 1 至 20 个所用数据集 / name 1 to 20 datasets used"];
        else
        {
            foreach (var d in datasets)
                if (!OpenCatalog.IsOpen(await catalog.FindAsync(d, ct))) errors["datasets"] = [$"没有开放数据集 {d} / no open dataset {d}"];
        }
        if (errors.Count > 0) return Problems.Validation(errors);
        var entry = new ShowcaseEntry
        {
            DeveloperId = developer.Id, DeveloperName = developer.DisplayName, Name = input.Name!.Trim(), Description = input.Description!.Trim(),
            Link = link!.ToString(), Datasets = datasets, Status = ReviewStatus.Pending, SubmittedAt = time.GetUtcNow(),
        };
        db.Add(entry);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(auditAs with
        {
            Action = "showcase.submit", TargetType = "showcase", TargetId = entry.Id.ToString(), Detail = new { entry.Name, entry.Link, entry.Datasets },
        }, ct);
        return Outcome<ShowcaseEntry>.Ok(entry);
    }
}
