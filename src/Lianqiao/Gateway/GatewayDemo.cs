using System.Security.Cryptography;
using System.Text.Json;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Hosting;
using Lianqiao.Organizations;
using Lianqiao.Seeding;
using Lianqiao.Sharing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Gateway;

/// <summary>
/// SAMPLE ONLY: a tiny "bus arrivals" upstream served by the platform itself so the demo gateway works offline.
/// Answers only on a database where the gateway demo seed ran; the gateway reaches it through the allow-list
/// entry for this host's exact address and port, like any other upstream.
/// </summary>
internal sealed partial class DemoUpstream(IServiceScopeFactory scopes, ILogger<DemoUpstream> logger)
{
    public const string BasePath = "/demo-upstream/bus-arrivals";
    public const string SecretHeader = "X-Demo-Upstream-Key";
    volatile bool enabled;

    public async Task<bool> EnabledAsync(CancellationToken ct)
    {
        if (enabled) return true;
        await using var scope = scopes.CreateAsyncScope();
        return enabled = await scope.ServiceProvider.GetRequiredService<LianqiaoDb>().Set<AppliedSeed>().AnyAsync(s => s.Id == GatewayDemoSeed.StepId, ct);
    }

    /// <summary>When the host listens elsewhere than the seed assumed (another --urls, port 0), points the demo service at the real port.</summary>
    public async Task AlignAsync(string listening, CancellationToken ct)
    {
        try
        {
            if (!await EnabledAsync(ct) || !Uri.TryCreate(listening, UriKind.Absolute, out var actual)) return;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
            var service = await db.Set<GatewayService>().FirstOrDefaultAsync(s => s.ResourceId == GatewayDemoSeed.ResourceId, ct);
            var wanted = $"http://127.0.0.1:{actual.Port}{BasePath}";
            if (service is null || service.Upstreams is not [var current] || current == wanted || !current.EndsWith(BasePath, StringComparison.Ordinal)) return;
            service.Upstreams = [wanted];
            var entry = await db.Set<UpstreamAllowEntry>().FirstOrDefaultAsync(e => e.Note == GatewayDemoSeed.AllowNote, ct);
            if (entry is not null) entry.Pattern = $"127.0.0.1:{actual.Port}";
            await db.SaveChangesAsync(ct);
            scope.ServiceProvider.GetRequiredService<AllowListCache>().Invalidate();
            scope.ServiceProvider.GetRequiredService<GatewayServiceCache>().Forget(GatewayDemoSeed.ResourceId);
            LogAligned(wanted);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException)
        {
            LogAlignFailed(ex);
        }
    }

    [LoggerMessage(EventId = 6301, Level = LogLevel.Information, Message = "Demo upstream re-pointed at {Url}")]
    partial void LogAligned(string url);

    [LoggerMessage(EventId = 6302, Level = LogLevel.Warning, Message = "Demo upstream could not be re-pointed")]
    partial void LogAlignFailed(Exception ex);
}

internal static class DemoUpstreamEndpoints
{
    public static void MapDemoUpstream(this IEndpointRouteBuilder routes)
    {
        routes.MapGet(DemoUpstream.BasePath + "/{**path}", async Task<IResult> (string? path, string? stop, HttpContext http, DemoUpstream demo, TimeProvider time, CancellationToken ct) =>
        {
            if (!await demo.EnabledAsync(ct)) return Results.NotFound();
            if (path == "health") return TypedResults.Ok(new { status = "ok", sample = true });
            // The gateway adds the upstream credential; without it the sample refuses, as a real upstream would.
            if (http.Request.Headers[DemoUpstream.SecretHeader].Count == 0) return Results.Unauthorized();
            if (path is not ("arrivals" or "arrivals/")) return Results.NotFound();
            var now = time.GetUtcNow().ToOffset(Reference.ChinaTime.Offset);
            var stopId = string.IsNullOrWhiteSpace(stop) ? "HZ0001" : stop;
            return TypedResults.Ok(new
            {
                sample = true,
                note = "示例数据，仅供演示 / sample data for the demo only",
                stopId,
                arrivals = Enumerable.Range(1, 3).Select(i => new
                {
                    routeId = $"K{i * 7}",
                    vehicleId = $"苏G{1000 + i * 137}",
                    eta = now.AddMinutes(i * 4).ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture),
                    stopsAway = i * 2,
                }),
            });
        }).AllowAnonymous().ExcludeFromDescription();

        var lifetime = routes.ServiceProvider.GetRequiredService<IHostApplicationLifetime>();
        var server = routes.ServiceProvider.GetRequiredService<IServer>();
        var demo = routes.ServiceProvider.GetRequiredService<DemoUpstream>();
        lifetime.ApplicationStarted.Register(() =>
        {
            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal));
            if (address is not null) _ = demo.AlignAsync(address, CancellationToken.None);
        });
    }
}

/// <summary>Registers the sample bus-arrivals service and grants it to the demo consumer systems (journey 6).</summary>
internal sealed class GatewayDemoSeed(HostSettings settings) : ISeedStep
{
    public const string StepId = "p4-gateway/001-demo";
    public const string ResourceId = "bus-arrivals";
    public const string AllowNote = "演示上游（示例，仅供演示）/ demo sample upstream";
    public string Id => StepId;
    public bool DemoOnly => true;

    public async Task ApplyAsync(SeedContext context, CancellationToken cancellationToken)
    {
        var sp = context.Services;
        var db = sp.GetRequiredService<LianqiaoDb>();
        var time = sp.GetRequiredService<TimeProvider>();
        var resource = await sp.GetRequiredService<ICatalogReader>().FindAsync(ResourceId, cancellationToken);
        if (resource is null) return;
        var port = Uri.TryCreate(settings.Urls.Split(';')[0], UriKind.Absolute, out var u) && u.Port > 0 ? u.Port : 5080;
        var now = time.GetUtcNow();
        db.Add(new UpstreamAllowEntry { Pattern = $"127.0.0.1:{port}", Note = AllowNote, CreatedAt = now, CreatedBy = "demo seed" });
        var protection = sp.GetRequiredService<IDataProtectionProvider>();
        var service = new GatewayService
        {
            ResourceId = ResourceId, DepartmentId = resource.DepartmentId, Name = resource.Name, Level = ServiceLevel.Municipal,
            Upstreams = [$"http://127.0.0.1:{port}{DemoUpstream.BasePath}"], Methods = ["GET"], PathPrefixes = ["/arrivals"],
            AuthKind = UpstreamAuthKind.Header, AuthName = DemoUpstream.SecretHeader,
            ProtectedSecret = protection.CreateProtector(GatewayProxy.SecretPurpose).Protect(Convert.ToHexString(RandomNumberGenerator.GetBytes(16))),
            ProtectedPseudonymKey = protection.CreateProtector(GatewayProxy.PseudonymPurpose).Protect(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
            TimeoutMs = 5000, HealthPath = "/health", HealthIntervalSeconds = 30, BreakerFailures = 3, BreakerOpenSeconds = 15,
            Version = 1, CreatedAt = now, UpdatedAt = now, UpdatedBy = "demo seed",
        };
        db.Add(service);
        db.Add(new GatewayServiceVersion
        {
            ResourceId = ResourceId, Version = 1, ChangedAt = now, ChangedBy = "demo seed", SecretChanged = true,
            Snapshot = JsonSerializer.Serialize(service.AsDto(), GatewayJson.Options),
        });
        await db.SaveChangesAsync(cancellationToken);

        var grants = sp.GetRequiredService<GrantService>();
        var seedAudit = new AuditEntry("grant.issue") { ActorKind = "System", ActorName = "demo seed" };
        foreach (var app in await db.Set<ConsumerApp>().AsNoTracking().Where(a => a.Name == "人社业务系统" || a.Name == "医保业务系统").ToListAsync(cancellationToken))
        {
            await grants.IssueAsync(new Grant
            {
                PrincipalKind = PrincipalKind.Application, PrincipalId = app.Id.ToString(), ConsumerDepartmentId = app.DepartmentId,
                ResourceId = ResourceId, ProviderDepartmentId = resource.DepartmentId, Kind = GrantKind.Service,
                Methods = ["GET"], Paths = ["/arrivals"], QuotaPerDay = 20, ExpiresAt = now.AddYears(1),
            }, seedAudit, cancellationToken);
        }
    }
}
