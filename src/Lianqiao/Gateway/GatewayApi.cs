using System.Security.Cryptography;
using System.Text.Json;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Lianqiao.Gateway;

internal static class GatewayApi
{
    /// <summary>The catalog's format category of a service interface (服务接口).</summary>
    public const string ServiceFormatCategory = "7";
    internal static readonly string[] KnownMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

    public static void MapGatewayApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/gateway").WithTags("Gateway").RequireAuthorization(Policies.Member);
        api.MapGet("/services", List);
        api.MapGet("/services/{resourceId}", Get);
        api.MapPut("/services/{resourceId}", Upsert);
        api.MapGet("/services/{resourceId}/versions", Versions);
        api.MapGet("/services/{resourceId}/stats", Stats);

        var allow = api.MapGroup("/allow-list").RequireAuthorization(Policies.PlatformAdmin);
        allow.MapGet("/", async (LianqiaoDb db, CancellationToken ct) =>
            TypedResults.Ok((await db.Set<UpstreamAllowEntry>().AsNoTracking().OrderBy(e => e.Pattern).ToListAsync(ct)).Select(e => e.AsDto()).ToList()));
        allow.MapPost("/", AddAllowEntry);
        allow.MapDelete("/{entryId:guid}", RemoveAllowEntry);

        // The consumer's door: any signed-in key reaches the handler, which answers 403 unless a service grant covers the call.
        // The proxy (a singleton) is taken once here, not from the request's services: asking those opens a scope per call.
        var proxy = routes.ServiceProvider.GetRequiredService<GatewayProxy>();
        routes.MapMethods("/gateway/{resourceId}/{**path}", KnownMethods, (HttpContext http, string resourceId) => proxy.HandleAsync(http, resourceId))
            .RequireAuthorization(Policies.SignedIn)
            .WithMetadata(new DisableRequestSizeLimitAttribute(), GatewayCall.Instance)
            .WithTags("Gateway")
            .ExcludeFromDescription();
    }

    /// <summary>Marks the endpoint of calls through the gateway, which the host runs on their own short pipeline.</summary>
    sealed class GatewayCall
    {
        public static readonly GatewayCall Instance = new();
    }

    /// <summary>Routing runs first in the host, so a gateway call is known by the endpoint it matched.</summary>
    public static bool IsGatewayCall(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<GatewayCall>() is not null;

    /// <summary>
    /// The pipeline of a gateway call after the exception handler, the problem bodies for bare error statuses and the
    /// security headers: authentication by key, the endpoint's policy (<see cref="Policies.SignedIn"/>), then the handler.
    /// <para>
    /// A call with a key this node resolved less than a second ago goes straight to the handler: that key signs it in
    /// (<see cref="ApiKeyAuthenticationHandler.TryAuthenticateRemembered"/>), which is all <see cref="Policies.SignedIn"/>
    /// asks, and the handler checks the grant itself. The two middlewares (scheme forwarding, a handler per request,
    /// policy evaluation) cost a gateway call about a fifth of its CPU (bench/gateway/README.md). Any other call (no key,
    /// an unknown, revoked or expired key, a cookie) runs them as before, with their answers.
    /// </para>
    /// </summary>
    public static void UseGatewayCalls(this IApplicationBuilder gateway)
    {
        var cache = gateway.ApplicationServices.GetRequiredService<IMemoryCache>();
        var time = gateway.ApplicationServices.GetRequiredService<TimeProvider>();
        var checkedCall = gateway.New();
        checkedCall.UseAuthentication();
        checkedCall.UseAuthorization();
        checkedCall.Run(RunEndpoint);
        var runChecked = checkedCall.Build();
        gateway.Run(http => ApiKeyAuthenticationHandler.TryAuthenticateRemembered(http, cache, time) ? RunEndpoint(http) : runChecked(http));
    }

    static Task RunEndpoint(HttpContext http)
    {
        var endpoint = http.GetEndpoint()!;
        // What the endpoint middleware would do for this endpoint: lift the host's body limit (the handler sets the service's).
        if (endpoint.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } limit
            && http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = limit.MaxRequestBodySize;
        return endpoint.RequestDelegate!(http);
    }

    static async Task<Ok<List<GatewayServiceDto>>> List(LianqiaoDb db, CancellationToken ct) =>
        TypedResults.Ok((await db.Set<GatewayService>().AsNoTracking().OrderBy(s => s.ResourceId).ToListAsync(ct)).Select(s => s.AsDto()).ToList());

    static async Task<Results<Ok<GatewayServiceDto>, ProblemHttpResult>> Get(string resourceId, LianqiaoDb db, CancellationToken ct) =>
        await db.Set<GatewayService>().AsNoTracking().FirstOrDefaultAsync(s => s.ResourceId == resourceId, ct) is { } s
            ? TypedResults.Ok(s.AsDto())
            : Problems.NotFound("接口服务", "gateway service");

    static async Task<Results<Ok<List<GatewayServiceVersionDto>>, ProblemHttpResult>> Versions(string resourceId, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var owner = await db.Set<GatewayService>().Where(s => s.ResourceId == resourceId).Select(s => (Guid?)s.DepartmentId).FirstOrDefaultAsync(ct);
        if (owner is null) return Problems.NotFound("接口服务", "gateway service");
        if (!http.User.Caller().ActsFor(owner.Value, Roles.Steward)) return Problems.Forbidden("Only the owning department's stewards or a platform admin see a service's history.");
        var versions = await db.Set<GatewayServiceVersion>().AsNoTracking().Where(v => v.ResourceId == resourceId).OrderByDescending(v => v.Version).ToListAsync(ct);
        return TypedResults.Ok(versions.Select(v => new GatewayServiceVersionDto(v.Version, v.ChangedAt, v.ChangedBy, v.SecretChanged,
            JsonSerializer.Deserialize<JsonElement>(v.Snapshot))).ToList());
    }

    static async Task<Results<Ok<GatewayStatsDto>, ProblemHttpResult>> Stats(string resourceId, int? hours, HttpContext http, LianqiaoDb db, GatewayStats stats,
        UpstreamState state, TimeProvider time, CancellationToken ct)
    {
        var service = await db.Set<GatewayService>().AsNoTracking().FirstOrDefaultAsync(s => s.ResourceId == resourceId, ct);
        if (service is null) return Problems.NotFound("接口服务", "gateway service");
        if (!http.User.Caller().ActsFor(service.DepartmentId, Roles.Steward)) return Problems.Forbidden("Only the owning department's stewards or a platform admin see a service's statistics.");
        // This node's last seconds are written first; other nodes' arrive within their flush period.
        await stats.FlushAsync(ct);
        var to = time.GetUtcNow();
        return TypedResults.Ok(await GatewayStats.ReadAsync(db, resourceId, to.AddHours(-Math.Clamp(hours ?? 24, 1, 24 * 31)), to.AddSeconds(1), state, service.Upstreams, ct));
    }

    static async Task<Results<Ok<GatewayServiceDto>, ProblemHttpResult>> Upsert(string resourceId, GatewayServiceInput input, HttpContext http,
        GatewayRegistry registry, CancellationToken ct)
    {
        var (dto, problem) = await registry.UpsertAsync(resourceId, input, http, ct);
        return dto is not null ? TypedResults.Ok(dto) : problem!;
    }

    static async Task<Results<Created<AllowEntryDto>, ProblemHttpResult>> AddAllowEntry(AllowEntryInput input, HttpContext http, LianqiaoDb db,
        AllowListCache cache, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var pattern = input.Pattern?.Trim() ?? "";
        if (!AllowList.IsValidPattern(pattern))
            return Problems.Validation(new Dictionary<string, string[]> { ["pattern"] = ["主机名、*.域名、IP 或 CIDR / a host name, *.domain, IP address or CIDR range"] });
        if (await db.Set<UpstreamAllowEntry>().AnyAsync(e => e.Pattern == pattern, ct))
            return Problems.Conflict("allow-entry-exists", "白名单条目已存在", "The pattern is on the allow-list already.");
        var entry = new UpstreamAllowEntry { Pattern = pattern, Note = input.Note?.Trim() ?? "", CreatedAt = time.GetUtcNow(), CreatedBy = http.User.Caller().Name };
        db.Add(entry);
        await db.SaveChangesAsync(ct);
        cache.Invalidate();
        await audit.WriteAsync(AuditEntry.For(http, "gateway.allow.add", "gateway-allow", entry.Id.ToString(), new { pattern }), ct);
        return TypedResults.Created($"/api/v1/gateway/allow-list/{entry.Id}", entry.AsDto());
    }

    static async Task<Results<NoContent, ProblemHttpResult>> RemoveAllowEntry(Guid entryId, HttpContext http, LianqiaoDb db, AllowListCache cache,
        IAuditLog audit, CancellationToken ct)
    {
        var pattern = await db.Set<UpstreamAllowEntry>().Where(e => e.Id == entryId).Select(e => e.Pattern).FirstOrDefaultAsync(ct);
        if (pattern is null) return Problems.NotFound("白名单条目", "allow-list entry");
        await db.Set<UpstreamAllowEntry>().Where(e => e.Id == entryId).ExecuteDeleteAsync(ct);
        cache.Invalidate();
        await audit.WriteAsync(AuditEntry.For(http, "gateway.allow.remove", "gateway-allow", entryId.ToString(), new { pattern }), ct);
        return TypedResults.NoContent();
    }
}
