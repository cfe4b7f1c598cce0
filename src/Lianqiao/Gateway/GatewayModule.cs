using Lianqiao.Data;
using Lianqiao.Organizations;
using Lianqiao.Seeding;
using Microsoft.EntityFrameworkCore;
using OpenTelemetry.Metrics;

namespace Lianqiao.Gateway;

internal static class GatewayModule
{
    public static IServiceCollection AddGateway(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        services.AddSingleton<AllowListCache>();
        services.AddSingleton<GatewayServiceCache>();
        services.AddSingleton<QuotaLeases>();
        services.AddHostedService(sp => sp.GetRequiredService<QuotaLeases>());
        services.AddScoped<GatewayRegistry>();
        services.AddSingleton<UpstreamResolver>();
        services.AddSingleton<GatewayUpstreamClient>();
        services.AddSingleton<UpstreamState>();
        services.AddSingleton<GatewayProxy>();
        services.AddSingleton<GatewayStats>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayStats>());
        services.AddHostedService<GatewayHealthChecks>();
        services.AddSingleton<DemoUpstream>();
        services.AddTransient<ISeedStep, GatewayDemoSeed>();
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(GatewayStats.MeterName).AddPrometheusExporter());
        return services;
    }

    public static void MapGateway(this IEndpointRouteBuilder routes)
    {
        routes.MapGatewayApi();
        // Scraped with an admin key (Prometheus `authorization: credentials_file`): the figures name every service and its traffic.
        routes.MapPrometheusScrapingEndpoint().RequireAuthorization(Policies.PlatformAdmin);
        routes.MapDemoUpstream();
    }
}

/// <summary>
/// Active health checks, on every node for itself (the result steers this node's choice of upstream):
/// each second, probes the upstreams whose interval has passed.
/// </summary>
internal sealed partial class GatewayHealthChecks(IServiceScopeFactory scopes, GatewayUpstreamClient client, UpstreamState state, TimeProvider time,
    ILogger<GatewayHealthChecks> logger) : BackgroundService
{
    readonly Dictionary<string, DateTimeOffset> lastChecked = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await CheckDueAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Host stopping.
        }
    }

    internal async Task CheckDueAsync(CancellationToken ct)
    {
        List<GatewayService> services;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            services = await scope.ServiceProvider.GetRequiredService<LianqiaoDb>().Set<GatewayService>().AsNoTracking()
                .Where(s => s.Enabled && s.HealthPath != null).ToListAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogReadFailed(ex);
            return;
        }
        var now = time.GetUtcNow();
        var due = services.SelectMany(s => s.Upstreams.Select(u => (Service: s, Upstream: u)))
            .Where(x => !lastChecked.TryGetValue(x.Upstream + x.Service.HealthPath, out var at) || now - at >= TimeSpan.FromSeconds(x.Service.HealthIntervalSeconds))
            .ToList();
        foreach (var (service, upstream) in due) lastChecked[upstream + service.HealthPath] = now;
        await Task.WhenAll(due.Select(x => ProbeAsync(x.Service, x.Upstream, ct)));
    }

    async Task ProbeAsync(GatewayService service, string upstream, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMilliseconds(Math.Min(5000, service.TimeoutMs)));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, upstream.TrimEnd('/') + service.HealthPath);
            using var response = await client.Invoker.SendAsync(request, timeout.Token);
            var healthy = (int)response.StatusCode is >= 200 and < 400;
            state.SetHealth(upstream, healthy, healthy ? null : $"HTTP {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            if (ct.IsCancellationRequested) return;
            state.SetHealth(upstream, false, ex.GetBaseException().Message);
        }
    }

    [LoggerMessage(EventId = 6201, Level = LogLevel.Warning, Message = "Gateway health checks could not read the services")]
    partial void LogReadFailed(Exception ex);
}
