using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Catalog;

/// <summary>The result of a catalog operation: a value, or a problem (with field errors when validation failed).</summary>
public sealed record CatalogOutcome<T>(T? Value, ProblemHttpResult? Problem, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    public static implicit operator CatalogOutcome<T>(ProblemHttpResult problem) => new(default, problem);
    public bool Ok => Problem is null;
}

/// <summary>
/// The lifecycle draft → submitted → published → new version → retired, shared by the REST API, the pages and
/// the Excel import so the rules and the audit trail are the same whichever way a change arrives.
/// </summary>
internal sealed class CatalogService(LianqiaoDb db, IAuditLog audit, TimeProvider time)
{
    public IQueryable<CatalogResource> Resources => db.Set<CatalogResource>();

    public static bool CanSee(Caller? caller, CatalogResource r) =>
        r.Status is ResourceStatus.Published or ResourceStatus.Retired && r.RevisionOf is null && caller is not null
        || caller is not null && (caller.IsAdmin || caller.DepartmentId == r.DepartmentId);

    public static bool CanEdit(Caller caller, CatalogResource r) => caller.ActsFor(r.DepartmentId, Roles.Steward);

    public async Task<Dictionary<Guid, Department>> DepartmentsAsync(CancellationToken ct) =>
        await db.Set<Department>().AsNoTracking().ToDictionaryAsync(d => d.Id, ct);

    public async Task<string> DepartmentNameAsync(Guid id, CancellationToken ct) =>
        await db.Set<Department>().Where(d => d.Id == id).Select(d => d.Name).FirstOrDefaultAsync(ct) ?? "?";

    async Task<CatalogResource?> MainAsync(string slug, bool track, CancellationToken ct)
    {
        var q = db.Set<CatalogResource>().Include(r => r.Items).Where(r => r.Slug == slug && r.RevisionOf == null);
        return await (track ? q : q.AsNoTracking()).FirstOrDefaultAsync(ct);
    }

    async Task<CatalogResource?> RevisionAsync(Guid mainId, bool track, CancellationToken ct)
    {
        var q = db.Set<CatalogResource>().Include(r => r.Items).Where(r => r.RevisionOf == mainId);
        return await (track ? q : q.AsNoTracking()).FirstOrDefaultAsync(ct);
    }

    static ProblemHttpResult NotFound() => Problems.NotFound("信息资源", "catalog resource");

    public async Task<CatalogOutcome<ResourceDto>> GetAsync(string slug, Caller? caller, CancellationToken ct)
    {
        var r = await MainAsync(slug, false, ct);
        if (r is null || !CanSee(caller, r)) return NotFound();
        return new(r.AsDto(await DepartmentNameAsync(r.DepartmentId, ct)), null);
    }

    public async Task<CatalogOutcome<ResourceDto>> GetByCodeAsync(string code, Caller? caller, CancellationToken ct)
    {
        var slug = await db.Set<CatalogResource>().AsNoTracking().Where(r => r.Code == code && r.RevisionOf == null).Select(r => r.Slug).FirstOrDefaultAsync(ct);
        return slug is null ? NotFound() : await GetAsync(slug, caller, ct);
    }

    /// <summary>The editable copy: the never-published draft itself, or the pending new version of a published resource.</summary>
    public async Task<CatalogOutcome<ResourceDto>> GetDraftAsync(string slug, Caller caller, CancellationToken ct)
    {
        var main = await MainAsync(slug, false, ct);
        if (main is null || !CanSee(caller, main)) return NotFound();
        if (main.Status is ResourceStatus.Draft or ResourceStatus.Submitted) return new(main.AsDto(await DepartmentNameAsync(main.DepartmentId, ct)), null);
        if (!(caller.IsAdmin || caller.DepartmentId == main.DepartmentId)) return NotFound();
        var revision = await RevisionAsync(main.Id, false, ct);
        return revision is null
            ? Problems.Of(404, "no-pending-version", "没有待发布的新版本", "This resource has no pending new version.")
            : new CatalogOutcome<ResourceDto>(revision.AsDto(await DepartmentNameAsync(revision.DepartmentId, ct)), null);
    }

    async Task<Dictionary<string, string[]>> ValidateAsync(ResourceInput input, CatalogResource? self, Caller caller, CancellationToken ct)
    {
        var vocab = await CatalogVocabulary.LoadAsync(db, ct);
        var errors = CatalogRules.Validate(input, vocab);
        if (input.DepartmentId is { } dept && !await db.Set<Department>().AnyAsync(d => d.Id == dept, ct))
            errors["departmentId"] = ["提供方部门不存在 / department does not exist"];
        var mainId = self?.RevisionOf ?? self?.Id;
        var published = self is not null && (self.RevisionOf is not null || self.Version > 0);
        if (published)
        {
            // A published resource keeps its identifiers: every module's URLs and grants hang off them.
            if (!string.IsNullOrWhiteSpace(input.Slug) && input.Slug != self!.Slug)
                errors["slug"] = ["已发布资源的标识不能修改 / a published resource keeps its slug"];
            if (!string.IsNullOrWhiteSpace(input.Code) && input.Code != self!.Code)
                errors["code"] = ["已发布资源的代码不能修改 / a published resource keeps its code"];
        }
        else
        {
            if (!errors.ContainsKey("slug") && !string.IsNullOrWhiteSpace(input.Slug)
                && await db.Set<CatalogResource>().AnyAsync(r => r.Slug == input.Slug && r.RevisionOf == null && r.Id != mainId, ct))
                errors["slug"] = ["资源标识已被使用 / slug is taken"];
            if (!errors.ContainsKey("code") && !string.IsNullOrWhiteSpace(input.Code)
                && await db.Set<CatalogResource>().AnyAsync(r => r.Code == input.Code && r.RevisionOf == null && r.Id != mainId, ct))
                errors["code"] = ["信息资源代码已被使用 / code is taken"];
        }
        if (input.DepartmentId is { } d2 && self is not null && published && d2 != self.DepartmentId)
            errors["departmentId"] = ["已发布资源的提供方不能修改 / a published resource keeps its provider"];
        if (input.DepartmentId is { } d3 && !caller.ActsFor(d3, Roles.Steward))
            errors["departmentId"] = ["只能为本部门编目 / stewards catalog their own department's resources"];
        return errors;
    }

    static ProblemHttpResult Invalid(Dictionary<string, string[]> errors) => Problems.Validation(errors, "The resource metadata is invalid; every error is listed.");

    /// <summary>Next 6-digit 顺序码 under a classification code.</summary>
    async Task<string> NextCodeAsync(string classification, CancellationToken ct)
    {
        var prefix = classification + "/";
        var existing = await db.Set<CatalogResource>().AsNoTracking().Where(r => r.Code.StartsWith(prefix)).Select(r => r.Code).ToListAsync(ct);
        // Drafts staged by an import but not yet saved hold their numbers too.
        existing.AddRange(db.Set<CatalogResource>().Local.Where(r => r.Code.StartsWith(prefix, StringComparison.Ordinal)).Select(r => r.Code));
        var max = existing.Select(c => long.TryParse(c[prefix.Length..], out var n) ? n : 0).DefaultIfEmpty(0).Max();
        return $"{prefix}{max + 1:D6}";
    }

    public async Task<CatalogOutcome<ResourceDto>> CreateAsync(ResourceInput input, Caller caller, HttpContext? http, CancellationToken ct)
    {
        var staged = await StageCreateAsync(input, caller, ct);
        if (!staged.Ok) return new(default, staged.Problem, staged.Errors);
        var (r, departmentName) = staged.Value;
        await db.SaveChangesAsync(ct);
        await WriteAuditAsync(http, caller, "catalog.create", r, new { r.Code, r.Name }, ct);
        return new(r.AsDto(departmentName), null);
    }

    /// <summary>
    /// Validates and adds a new draft (with its search tokens) to the unit of work without saving, so the Excel import
    /// can commit many in one transaction with exactly the checks of <see cref="CreateAsync"/>.
    /// </summary>
    public async Task<CatalogOutcome<(CatalogResource Resource, string DepartmentName)>> StageCreateAsync(ResourceInput input, Caller caller, CancellationToken ct)
    {
        if (!caller.IsAdmin && !caller.Is(Roles.Steward)) return Problems.Forbidden("Only stewards and platform admins catalog resources.");
        if (input.DepartmentId is { } dept && !caller.ActsFor(dept, Roles.Steward))
            return Problems.Forbidden("Only the department's stewards and platform admins catalog its resources.");
        var errors = await ValidateAsync(input, null, caller, ct);
        if (errors.Count > 0) return new(default, Invalid(errors), errors);

        var department = await db.Set<Department>().AsNoTracking().FirstAsync(d => d.Id == input.DepartmentId, ct);
        var code = string.IsNullOrWhiteSpace(input.Code)
            ? await NextCodeAsync(CatalogRules.ClassificationCode(input.ClassCode!, input.SubjectCode!, input.CatalogCode!, input.DetailCode ?? ""), ct)
            : input.Code.Trim();
        var now = time.GetUtcNow();
        var r = new CatalogResource
        {
            Slug = string.IsNullOrWhiteSpace(input.Slug) ? CatalogRules.SlugFor(code) : input.Slug.Trim(),
            Code = code, ClassCode = "", SubjectCode = "", CatalogCode = "", Name = "", ProviderCode = "", FormatCategory = "",
            ShareType = "", OpenType = "", UpdateCycle = "", Library = "", ClassificationLevel = "",
            Status = ResourceStatus.Draft, CreatedAt = now, UpdatedAt = now, UpdatedBy = caller.Name,
        };
        r.Apply(input, department.Code);
        db.Add(r);
        await IndexAsync(r, department.Name, ct);
        return new((r, department.Name), null);
    }

    /// <summary>Forgets staged, unsaved changes (an all-or-nothing import that found errors).</summary>
    public void DiscardStaged() => db.ChangeTracker.Clear();

    public Task SaveStagedAsync(CancellationToken ct) => db.SaveChangesAsync(ct);

    public Task AuditCreatedAsync(HttpContext? http, Caller caller, CatalogResource r, object detail, CancellationToken ct) =>
        WriteAuditAsync(http, caller, "catalog.create", r, detail, ct);

    public async Task<CatalogOutcome<ResourceDto>> UpdateAsync(string slug, ResourceInput input, Caller caller, HttpContext? http, CancellationToken ct)
    {
        var main = await MainAsync(slug, true, ct);
        if (main is null || !CanSee(caller, main)) return NotFound();
        if (!CanEdit(caller, main)) return Problems.Forbidden("Only the department's stewards and platform admins edit its resources.");
        var target = main.Status == ResourceStatus.Draft ? main : await RevisionAsync(main.Id, true, ct);
        if (target is null || target.Status != ResourceStatus.Draft)
            return Problems.Conflict("not-editable", "当前状态不可编辑", "Only drafts are edited: start a new version of a published resource, or wait for the review of a submitted one.");
        input = input with { DepartmentId = input.DepartmentId ?? target.DepartmentId };
        var errors = await ValidateAsync(input, target, caller, ct);
        if (errors.Count > 0) return new(default, Invalid(errors), errors);
        var department = await db.Set<Department>().AsNoTracking().FirstAsync(d => d.Id == input.DepartmentId, ct);
        if (target.Version == 0 && target.RevisionOf is null)
        {
            var code = string.IsNullOrWhiteSpace(input.Code) ? target.Code : input.Code.Trim();
            var classification = CatalogRules.ClassificationCode(input.ClassCode!, input.SubjectCode!, input.CatalogCode!, input.DetailCode ?? "");
            if (string.IsNullOrWhiteSpace(input.Code) && !code.StartsWith(classification + "/", StringComparison.Ordinal))
                code = await NextCodeAsync(classification, ct);
            target.Code = code;
            if (!string.IsNullOrWhiteSpace(input.Slug)) target.Slug = input.Slug.Trim();
        }
        db.RemoveRange(target.Items);
        target.Apply(input, department.Code);
        target.UpdatedAt = time.GetUtcNow();
        target.UpdatedBy = caller.Name;
        if (target.RevisionOf is null) await IndexAsync(target, department.Name, ct);
        await db.SaveChangesAsync(ct);
        await WriteAuditAsync(http, caller, "catalog.update", target, new { target.Code, revision = target.RevisionOf is not null }, ct);
        return new(target.AsDto(department.Name), null);
    }

    public async Task<CatalogOutcome<ResourceDto>> SubmitAsync(string slug, string? comment, Caller caller, HttpContext? http, CancellationToken ct)
    {
        var main = await MainAsync(slug, true, ct);
        if (main is null || !CanSee(caller, main)) return NotFound();
        if (!CanEdit(caller, main)) return Problems.Forbidden("Only the department's stewards and platform admins submit its resources.");
        var target = main.Status == ResourceStatus.Draft ? main : await RevisionAsync(main.Id, true, ct);
        if (target is null || target.Status != ResourceStatus.Draft)
            return Problems.Conflict("not-a-draft", "没有可提交的草稿", "There is no draft to submit.");
        // Re-checked on submit: the code tables may have changed since the draft was saved.
        var errors = CatalogRules.Validate(target.AsInput(), await CatalogVocabulary.LoadAsync(db, ct));
        if (errors.Count > 0) return new(default, Invalid(errors), errors);
        target.Status = ResourceStatus.Submitted;
        target.UpdatedAt = time.GetUtcNow();
        AddComment(main.Id, "submit", comment, caller);
        await db.SaveChangesAsync(ct);
        await WriteAuditAsync(http, caller, "catalog.submit", main, new { revision = target.RevisionOf is not null }, ct);
        return new(target.AsDto(await DepartmentNameAsync(target.DepartmentId, ct)), null);
    }

    public async Task<CatalogOutcome<ResourceDto>> ReviewAsync(string slug, ReviewInput input, Caller caller, HttpContext? http, CancellationToken ct)
    {
        if (!caller.IsAdmin) return Problems.Forbidden("Only platform admins review catalog resources.");
        var main = await MainAsync(slug, true, ct);
        if (main is null) return NotFound();
        var target = main.Status == ResourceStatus.Submitted ? main : await RevisionAsync(main.Id, true, ct);
        if (target is null || target.Status != ResourceStatus.Submitted)
            return Problems.Conflict("not-submitted", "该资源没有待审核的提交", "Nothing of this resource waits for review.");
        if (!input.Approve && string.IsNullOrWhiteSpace(input.Comment))
            return Problems.Validation(new Dictionary<string, string[]> { ["comment"] = ["退回须填写意见 / a rejection needs a comment"] });
        var now = time.GetUtcNow();
        var deptName = await DepartmentNameAsync(main.DepartmentId, ct);
        if (!input.Approve)
        {
            target.Status = ResourceStatus.Draft;
            AddComment(main.Id, "reject", input.Comment, caller);
            await db.SaveChangesAsync(ct);
            await WriteAuditAsync(http, caller, "catalog.reject", main, new { input.Comment }, ct);
            return new(target.AsDto(deptName), null);
        }

        var previous = await db.Set<ResourceVersion>().AsNoTracking().Where(v => v.ResourceId == main.Id)
            .OrderByDescending(v => v.Version).FirstOrDefaultAsync(ct);
        if (target != main)
        {
            var content = target.AsInput();
            db.RemoveRange(main.Items);
            main.Apply(content with { DepartmentId = main.DepartmentId }, main.ProviderCode);
            db.RemoveRange(target.Items);
            db.Remove(target);
        }
        main.Status = ResourceStatus.Published;
        main.Version = (previous?.Version ?? 0) + 1;
        main.PublishDate ??= DateOnly.FromDateTime(now.UtcDateTime);
        main.UpdatedAt = now;
        var snapshot = main.AsInput();
        var diff = previous is null ? [] : CatalogRules.Diff(CatalogRules.Deserialize(previous.SnapshotJson), snapshot);
        db.Add(new ResourceVersion
        {
            ResourceId = main.Id, Version = main.Version, SnapshotJson = CatalogRules.Serialize(snapshot),
            DiffJson = CatalogRules.SerializeDiff(diff), PublishedAt = now, PublishedBy = caller.Name,
        });
        AddComment(main.Id, "approve", input.Comment, caller);
        await IndexAsync(main, deptName, ct);
        await db.SaveChangesAsync(ct);
        await WriteAuditAsync(http, caller, "catalog.publish", main, new { main.Version, changes = diff.Count }, ct);
        return new(main.AsDto(deptName), null);
    }

    public async Task<CatalogOutcome<ResourceDto>> NewVersionAsync(string slug, Caller caller, HttpContext? http, CancellationToken ct)
    {
        var main = await MainAsync(slug, false, ct);
        if (main is null || !CanSee(caller, main)) return NotFound();
        if (!CanEdit(caller, main)) return Problems.Forbidden("Only the department's stewards and platform admins version its resources.");
        if (main.Status != ResourceStatus.Published)
            return Problems.Conflict("not-published", "只有已发布的资源可以创建新版本", "Only a published resource gets a new version; edit the draft instead.");
        if (await db.Set<CatalogResource>().AnyAsync(r => r.RevisionOf == main.Id, ct))
            return Problems.Conflict("pending-version", "已有待发布的新版本", "A new version is already being prepared.");
        var now = time.GetUtcNow();
        var revision = new CatalogResource
        {
            Slug = main.Slug, Code = main.Code, RevisionOf = main.Id, ClassCode = "", SubjectCode = "", CatalogCode = "", Name = "", ProviderCode = "",
            FormatCategory = "", ShareType = "", OpenType = "", UpdateCycle = "", Library = "", ClassificationLevel = "",
            Status = ResourceStatus.Draft, Version = main.Version, CreatedAt = now, UpdatedAt = now, UpdatedBy = caller.Name,
        };
        revision.Apply(main.AsInput(), main.ProviderCode);
        db.Add(revision);
        AddComment(main.Id, "new-version", null, caller);
        await db.SaveChangesAsync(ct);
        await WriteAuditAsync(http, caller, "catalog.new-version", main, new { from = main.Version }, ct);
        return new(revision.AsDto(await DepartmentNameAsync(main.DepartmentId, ct)), null);
    }

    public async Task<CatalogOutcome<ResourceDto>> RetireAsync(string slug, string? comment, Caller caller, HttpContext? http, CancellationToken ct)
    {
        var main = await MainAsync(slug, true, ct);
        if (main is null || !CanSee(caller, main)) return NotFound();
        if (!CanEdit(caller, main)) return Problems.Forbidden("Only the department's stewards and platform admins retire its resources.");
        if (main.Status != ResourceStatus.Published)
            return Problems.Conflict("not-published", "只有已发布的资源可以下线", "Only a published resource is retired.");
        if (await RevisionAsync(main.Id, true, ct) is { } pending) { db.RemoveRange(pending.Items); db.Remove(pending); }
        main.Status = ResourceStatus.Retired;
        main.UpdatedAt = time.GetUtcNow();
        AddComment(main.Id, "retire", comment, caller);
        await db.SaveChangesAsync(ct);
        await WriteAuditAsync(http, caller, "catalog.retire", main, new { comment }, ct);
        return new(main.AsDto(await DepartmentNameAsync(main.DepartmentId, ct)), null);
    }

    public async Task<CatalogOutcome<ResourceHistoryDto>> HistoryAsync(string slug, Caller caller, CancellationToken ct)
    {
        var main = await MainAsync(slug, false, ct);
        if (main is null || !CanSee(caller, main)) return NotFound();
        var versions = await db.Set<ResourceVersion>().AsNoTracking().Where(v => v.ResourceId == main.Id).OrderByDescending(v => v.Version).ToListAsync(ct);
        var owner = caller.IsAdmin || caller.DepartmentId == main.DepartmentId;
        var comments = owner
            ? await db.Set<ReviewComment>().AsNoTracking().Where(c => c.ResourceId == main.Id).OrderBy(c => c.Id).Select(c => c.AsDto()).ToListAsync(ct)
            : [];
        var pending = owner && await db.Set<CatalogResource>().AnyAsync(r => r.RevisionOf == main.Id, ct);
        return new(new ResourceHistoryDto(
            versions.Select(v => new VersionSummaryDto(v.Version, v.PublishedAt, v.PublishedBy, CatalogRules.DeserializeDiff(v.DiffJson).Count)).ToList(),
            comments, pending), null);
    }

    public async Task<CatalogOutcome<VersionDto>> VersionAsync(string slug, int version, Caller caller, CancellationToken ct)
    {
        var main = await MainAsync(slug, false, ct);
        if (main is null || !CanSee(caller, main)) return NotFound();
        var v = await db.Set<ResourceVersion>().AsNoTracking().FirstOrDefaultAsync(x => x.ResourceId == main.Id && x.Version == version, ct);
        return v is null ? Problems.NotFound("版本", "version")
            : new CatalogOutcome<VersionDto>(new VersionDto(v.Version, v.PublishedAt, v.PublishedBy, CatalogRules.Deserialize(v.SnapshotJson), CatalogRules.DeserializeDiff(v.DiffJson)), null);
    }

    public async Task<CatalogOutcome<DiffDto>> DiffAsync(string slug, int from, int to, Caller caller, CancellationToken ct)
    {
        var main = await MainAsync(slug, false, ct);
        if (main is null || !CanSee(caller, main)) return NotFound();
        var both = await db.Set<ResourceVersion>().AsNoTracking().Where(x => x.ResourceId == main.Id && (x.Version == from || x.Version == to)).ToListAsync(ct);
        var a = both.FirstOrDefault(x => x.Version == from);
        var b = both.FirstOrDefault(x => x.Version == to);
        if (a is null || b is null) return Problems.NotFound("版本", "version");
        return new(new DiffDto(from, to, CatalogRules.Diff(CatalogRules.Deserialize(a.SnapshotJson), CatalogRules.Deserialize(b.SnapshotJson))), null);
    }

    public async Task<List<SearchHit>> ReviewQueueAsync(CancellationToken ct)
    {
        var departments = await DepartmentsAsync(ct);
        var rows = await db.Set<CatalogResource>().AsNoTracking().Where(r => r.Status == ResourceStatus.Submitted)
            .OrderBy(r => r.UpdatedAt).Take(500).ToListAsync(ct);
        return rows.Select(r => r.AsHit(departments.GetValueOrDefault(r.DepartmentId)?.Name ?? "?")).ToList();
    }

    public async Task<List<ReviewCommentDto>> CommentsAsync(Guid mainId, CancellationToken ct) =>
        await db.Set<ReviewComment>().AsNoTracking().Where(c => c.ResourceId == mainId).OrderBy(c => c.Id).Select(c => c.AsDto()).ToListAsync(ct);

    void AddComment(Guid mainId, string action, string? text, Caller caller) =>
        db.Add(new ReviewComment { ResourceId = mainId, Action = action, Text = text?.Trim() ?? "", ActorName = caller.Name, At = time.GetUtcNow() });

    /// <summary>Replaces the resource's search tokens; called inside the same SaveChanges as the content.</summary>
    async Task IndexAsync(CatalogResource r, string departmentName, CancellationToken ct)
    {
        var tokens = CatalogRules.Tokens(r, departmentName);
        var existing = await db.Set<CatalogSearchToken>().Where(t => t.ResourceId == r.Id).ToListAsync(ct);
        var keep = existing.Where(t => tokens.Contains(t.Token)).Select(t => t.Token).ToHashSet(StringComparer.Ordinal);
        db.RemoveRange(existing.Where(t => !tokens.Contains(t.Token)));
        db.AddRange(tokens.Where(t => !keep.Contains(t)).Select(t => new CatalogSearchToken { Token = t, ResourceId = r.Id }));
    }

    async Task WriteAuditAsync(HttpContext? http, Caller caller, string action, CatalogResource r, object detail, CancellationToken ct)
    {
        var entry = http is not null
            ? AuditEntry.For(http, action, "catalog-resource", r.Slug, detail)
            : new AuditEntry(action) { ActorKind = caller.Kind.ToString(), ActorId = caller.Id, ActorName = caller.Name, DepartmentId = caller.DepartmentId,
                TargetType = "catalog-resource", TargetId = r.Slug, Detail = detail };
        await audit.WriteAsync(entry, ct);
    }
}
