using System.Security.Cryptography;
using System.Text.Json;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Gateway;

/// <summary>Service registration, shared by the API and the editor page.</summary>
internal sealed class GatewayRegistry(LianqiaoDb db, ICatalogReader catalog, AllowListCache allowList, GatewayServiceCache services,
    IDataProtectionProvider protection, IAuditLog audit, TimeProvider time)
{
    static readonly string[] ReservedHeaders = ["host", "content-length", "transfer-encoding", "connection", "cookie", "x-request-id", "forwarded"];
    static readonly string[] KnownMethods = GatewayApi.KnownMethods;

    /// <summary>Creates or changes a service: one version row and one audit record per change; every validation error at once.</summary>
    public async Task<(GatewayServiceDto? Value, ProblemHttpResult? Problem)> UpsertAsync(string resourceId, GatewayServiceInput input, HttpContext http, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var existing = await db.Set<GatewayService>().FirstOrDefaultAsync(s => s.ResourceId == resourceId, ct);
        var resource = await catalog.FindAsync(resourceId, ct);
        var owner = existing?.DepartmentId ?? resource?.DepartmentId;
        if (owner is null) return (null, Problems.NotFound("目录资源", "catalog resource"));
        if (!caller.ActsFor(owner.Value, Roles.Steward))
            return (null, Problems.Forbidden("Only the owning department's stewards or a platform admin register a service."));

        var s = existing ?? new GatewayService { ResourceId = resourceId, DepartmentId = owner.Value, CreatedAt = time.GetUtcNow() };
        var errors = new Dictionary<string, string[]>();
        if (resource is null || resource.Status != ResourceStatus.Published || resource.FormatCategory != GatewayApi.ServiceFormatCategory)
            errors["resourceId"] = ["必须是已发布的服务接口类目录资源 / must be a published catalog resource of format 服务接口 (7)"];

        s.Level = input.Level ?? s.Level;
        s.Upstreams = input.Upstreams?.Select(u => u.Trim()).ToList() ?? s.Upstreams;
        s.LoadBalancing = input.LoadBalancing ?? s.LoadBalancing;
        s.Methods = input.Methods?.Select(m => m.Trim().ToUpperInvariant()).Distinct().ToList() ?? s.Methods;
        s.PathPrefixes = input.PathPrefixes?.Select(p => p.Trim()).ToList() ?? s.PathPrefixes;
        s.AuthKind = input.AuthKind ?? s.AuthKind;
        s.AuthName = input.AuthName ?? s.AuthName;
        s.TimeoutMs = input.TimeoutMs ?? s.TimeoutMs;
        s.MaxRequestBytes = input.MaxRequestBytes ?? s.MaxRequestBytes;
        s.MaxResponseBytes = input.MaxResponseBytes ?? s.MaxResponseBytes;
        s.HealthPath = input.HealthPath is null ? s.HealthPath : input.HealthPath.Length == 0 ? null : input.HealthPath;
        s.HealthIntervalSeconds = input.HealthIntervalSeconds ?? s.HealthIntervalSeconds;
        s.BreakerFailures = input.BreakerFailures ?? s.BreakerFailures;
        s.BreakerOpenSeconds = input.BreakerOpenSeconds ?? s.BreakerOpenSeconds;
        s.RateLimitPerSecond = input.RateLimitPerSecond is null ? s.RateLimitPerSecond : input.RateLimitPerSecond <= 0 ? null : input.RateLimitPerSecond;
        if (input.Masking is not null) s.MaskingJson = JsonSerializer.Serialize(input.Masking, GatewayJson.Options);
        s.Enabled = input.Enabled ?? s.Enabled;
        if (resource is not null) s.Name = resource.Name;

        Validate(s, input, resource, await allowList.GetAsync(ct), errors);
        if (errors.Count > 0) return (null, Problems.Validation(errors));

        var secretChanged = input.AuthSecret is { Length: > 0 };
        if (secretChanged) s.ProtectedSecret = protection.CreateProtector(GatewayProxy.SecretPurpose).Protect(input.AuthSecret!);
        if (s.AuthKind == UpstreamAuthKind.None && s.ProtectedSecret is not null)
        {
            s.ProtectedSecret = null;
            secretChanged = true;
        }
        s.ProtectedPseudonymKey ??= protection.CreateProtector(GatewayProxy.PseudonymPurpose).Protect(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        s.Version++;
        s.UpdatedAt = time.GetUtcNow();
        s.UpdatedBy = caller.Name;
        if (existing is null) db.Add(s);
        var dto = s.AsDto();
        db.Add(new GatewayServiceVersion
        {
            ResourceId = resourceId, Version = s.Version, ChangedAt = s.UpdatedAt, ChangedBy = caller.Name, SecretChanged = secretChanged,
            Snapshot = JsonSerializer.Serialize(dto, GatewayJson.Options),
        });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            return (null, Problems.Conflict("gateway-service-changed", "接口服务已被他人修改", "Someone changed the service at the same time; reload and retry."));
        }
        services.Forget(resourceId);
        await audit.WriteAsync(AuditEntry.For(http, existing is null ? "gateway.service.create" : "gateway.service.update", "gateway-service", resourceId,
            new { version = s.Version, secretChanged, enabled = s.Enabled }), ct);
        return (dto, null);
    }

    /// <summary>Every error at once, keyed by field.</summary>
    static void Validate(GatewayService s, GatewayServiceInput input, ResourceDto? resource, AllowList allowList, Dictionary<string, string[]> errors)
    {
        void Add(string field, string message) => errors[field] = errors.TryGetValue(field, out var e) ? [.. e, message] : [message];

        if (s.Upstreams.Count is 0 or > 20) Add("upstreams", "需要 1 至 20 个上游地址 / 1 to 20 upstream base URLs");
        foreach (var u in s.Upstreams)
        {
            if (!Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
                Add("upstreams", $"{u}: 必须是不含用户信息、查询和片段的 http(s) 地址 / must be an http(s) URL without user info, query or fragment");
            else if (!allowList.AllowsHost(uri))
                Add("upstreams", $"{u}: 主机不在上游白名单 / host is not on the upstream allow-list");
        }
        if (s.Methods.Count == 0 || s.Methods.Any(m => !KnownMethods.Contains(m)))
            Add("methods", "方法须为 GET/HEAD/POST/PUT/PATCH/DELETE / methods must be among GET, HEAD, POST, PUT, PATCH, DELETE");
        if (s.PathPrefixes.Count == 0 || s.PathPrefixes.Any(p => !p.StartsWith('/') || p.Contains("..", StringComparison.Ordinal) || p.Contains("//", StringComparison.Ordinal) || p.Contains('\\')))
            Add("pathPrefixes", "路径前缀须以 / 开头且不含 .. 或 // / path prefixes start with '/' and hold no '..' or '//'");
        if (s.AuthKind != UpstreamAuthKind.None)
        {
            if (string.IsNullOrWhiteSpace(s.AuthName) || s.AuthName.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == ':' && s.AuthKind == UpstreamAuthKind.Header)
                || s.AuthKind == UpstreamAuthKind.Header && ReservedHeaders.Contains(s.AuthName.ToLowerInvariant()))
                Add("authName", "需要有效的请求头名称或用户名 / a valid header name (Header) or user name (Basic) is required");
            if (s.ProtectedSecret is null && input.AuthSecret is not { Length: > 0 })
                Add("authSecret", "需要上游凭据 / the upstream secret is required");
            if (input.AuthSecret is { } secret && (secret.Length > 2000 || secret.Any(char.IsControl)))
                Add("authSecret", "凭据过长或含控制字符 / the secret is too long or holds control characters");
        }
        if (s.TimeoutMs is < 100 or > 120_000) Add("timeoutMs", "100–120000");
        if (s.MaxRequestBytes is < 0 or > 100L * 1024 * 1024) Add("maxRequestBytes", "0–104857600");
        if (s.MaxResponseBytes is < 1 or > 100L * 1024 * 1024) Add("maxResponseBytes", "1–104857600");
        if (s.HealthPath is { } hp && (!hp.StartsWith('/') || hp.Contains("..", StringComparison.Ordinal) || hp.Length > 500)) Add("healthPath", "须以 / 开头 / must start with '/'");
        if (s.HealthIntervalSeconds is < 1 or > 3600) Add("healthIntervalSeconds", "1–3600");
        if (s.BreakerFailures is < 1 or > 1000) Add("breakerFailures", "1–1000");
        if (s.BreakerOpenSeconds is < 1 or > 3600) Add("breakerOpenSeconds", "1–3600");
        if (s.RateLimitPerSecond is > 100_000) Add("rateLimitPerSecond", "1–100000");
        List<FieldMask> masks;
        try
        {
            masks = [.. s.Masks()];
        }
        catch (JsonException)
        {
            masks = [];
            Add("masking", "格式错误 / malformed");
        }
        string[] ruleCodes = [MaskingRules.None, MaskingRules.KeepEnds, MaskingRules.Pseudonym, MaskingRules.DateToYear, MaskingRules.DateToMonth,
            MaskingRules.AddressToDistrict, MaskingRules.EmailDomain, MaskingRules.Suppress];
        foreach (var m in masks)
        {
            if (string.IsNullOrWhiteSpace(m.Path)) Add("masking", "字段路径不能为空 / a field path is required");
            else if (m.Item is not null && resource?.Items.Any(i => string.Equals(i.ColumnName, m.Item, StringComparison.OrdinalIgnoreCase)) != true)
                Add("masking", $"{m.Path}: 目录中没有数据项 {m.Item} / the catalog resource has no item '{m.Item}'");
            else if (m.Item is null && (m.Rule is null || !ruleCodes.Contains(m.Rule)))
                Add("masking", $"{m.Path}: 需要数据项或脱敏规则 / name a catalog item or a masking rule");
        }
    }
}
