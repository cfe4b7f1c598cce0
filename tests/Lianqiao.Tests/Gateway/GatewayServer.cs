using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Domain.Masking;
using Lianqiao.Gateway;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Lianqiao.Tests.Gateway;

/// <summary>Points "*.rebind.test" at loopback, as a DNS server rebinding a name would.</summary>
internal sealed class RebindingResolver : UpstreamResolver
{
    public override ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        host.EndsWith(".rebind.test", StringComparison.OrdinalIgnoreCase) ? ValueTask.FromResult(new[] { IPAddress.Loopback }) : base.ResolveAsync(host, ct);
}

/// <summary>The host plus a real upstream Kestrel server on loopback, allow-listed by its exact address.</summary>
public sealed class GatewayServer : LianqiaoServer, IAsyncLifetime
{
    public TestUpstream Upstream { get; } = new();

    protected override void Configure(WebApplicationBuilder builder) =>
        builder.Services.Replace(ServiceDescriptor.Singleton<UpstreamResolver, RebindingResolver>());

    public new async Task InitializeAsync()
    {
        await Upstream.StartAsync();
        await base.InitializeAsync();
        using var admin = await AsAdminAsync();
        (await admin.PostJsonAsync("/api/v1/gateway/allow-list/", new { pattern = "127.0.0.1", note = "test upstreams" })).EnsureSuccessStatusCode();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    /// <summary>A published 服务接口 resource of the test department, with two personal items whose masking rules the catalog sets.</summary>
    public async Task CreateServiceResourceAsync(string slug, string formatCategory = "7", Guid? departmentId = null)
    {
        await InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<LianqiaoDb>();
            var now = DateTimeOffset.UtcNow;
            db.Add(new CatalogResource
            {
                Slug = slug, Code = "GW-" + Guid.NewGuid().ToString("N")[..12], ClassCode = "2", SubjectCode = "01", CatalogCode = "102",
                Name = "测试接口 " + slug, DepartmentId = departmentId ?? OwnDepartmentId, ProviderCode = "T", FormatCategory = formatCategory,
                ShareType = "1", OpenType = "1", UpdateCycle = "1", Library = "topic", ClassificationLevel = "general",
                Status = ResourceStatus.Published, Version = 1, CreatedAt = now, UpdatedAt = now,
                Items =
                [
                    new DataItem { Name = "姓名", ColumnName = "name", DataType = "C", Ordinal = 0, Kind = ItemKind.PersonName, MaskingRule = MaskingRules.KeepEnds, MaskKeepFirst = 1 },
                    new DataItem { Name = "身份证号", ColumnName = "id_number", DataType = "C", Ordinal = 1, Kind = ItemKind.IdNumber, MaskingRule = MaskingRules.KeepEnds, MaskKeepFirst = 6, MaskKeepLast = 4 },
                ],
            });
            await db.SaveChangesAsync();
            return 0;
        });
    }

    /// <summary>Catalog resource + service registered by the admin + a service grant to t-app; returns the grant id.</summary>
    public async Task<Guid> SetUpServiceAsync(string slug, object registration, string[]? methods = null, string[]? paths = null, long? quota = null)
    {
        await CreateServiceResourceAsync(slug);
        using var admin = await AsAdminAsync();
        var put = await admin.PutAsJsonAsync($"/api/v1/gateway/services/{slug}", registration, HttpAssertions.Json);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        return await ServiceGrantAsync(slug, methods ?? ["GET"], paths ?? ["/"], quota);
    }

    public async Task<Guid> ServiceGrantAsync(string slug, string[] methods, string[] paths, long? quota)
    {
        var appId = await AppIdAsync("t-app");
        return await InScopeAsync(async sp => (await sp.GetRequiredService<GrantService>().IssueAsync(new Grant
        {
            PrincipalKind = PrincipalKind.Application, PrincipalId = appId.ToString(), ConsumerDepartmentId = OwnDepartmentId,
            ResourceId = slug, ProviderDepartmentId = OwnDepartmentId, Kind = GrantKind.Service, Methods = [.. methods], Paths = [.. paths],
            QuotaPerDay = quota, ExpiresAt = DateTimeOffset.UtcNow.AddDays(30),
        }, new AuditEntry("grant.issue") { ActorKind = "System", ActorName = "test fixture" }, default)).Id);
    }

    public async Task<HttpClient> AppAsync(string? baseUrl = null) => WithKey(await AppKeyAsync("t-app"), baseUrl);
}

/// <summary>A small real upstream on 127.0.0.1: echo, slow, failing, huge, redirecting, non-JSON and compressed answers.</summary>
public sealed class TestUpstream : IAsyncDisposable
{
    WebApplication? app;
    public string BaseUrl { get; private set; } = "";
    public int Port => new Uri(BaseUrl).Port;
    /// <summary>While false, /flaky answers 500.</summary>
    public volatile bool FlakyHealthy = true;
    public int Hits;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        app = builder.Build();
        app.Use((ctx, next) =>
        {
            Interlocked.Increment(ref Hits);
            return next(ctx);
        });
        app.Map("/echo/{**rest}", (HttpContext ctx) => Results.Json(new Dictionary<string, string?>
        {
            ["method"] = ctx.Request.Method,
            ["path"] = ctx.Request.Path.Value,
            ["query"] = ctx.Request.QueryString.Value,
            ["host"] = ctx.Request.Host.Value,
            ["authorization"] = ctx.Request.Headers.Authorization.ToString(),
            ["cookie"] = ctx.Request.Headers.Cookie.ToString(),
            ["xForwardedFor"] = ctx.Request.Headers["X-Forwarded-For"].ToString(),
            ["xForwardedHost"] = ctx.Request.Headers["X-Forwarded-Host"].ToString(),
            ["upstreamKey"] = ctx.Request.Headers["X-Upstream-Key"].ToString(),
            ["requestId"] = ctx.Request.Headers["X-Request-Id"].ToString(),
            ["acceptEncoding"] = ctx.Request.Headers.AcceptEncoding.ToString(),
        }));
        app.MapGet("/slow", async (CancellationToken ct) =>
        {
            await Task.Delay(5000, ct);
            return Results.Ok();
        });
        app.MapGet("/flaky", () => FlakyHealthy ? Results.Json(new { ok = true }) : Results.StatusCode(500));
        app.MapGet("/person", () => Results.Json(new
        {
            name = "张三丰",
            idNumber = "110101199003077777",
            contacts = new[] { new { phone = "13812345678" }, new { phone = "13987654321" } },
        }));
        app.MapGet("/text", () => Results.Text("张三丰 110101199003077777", "text/plain"));
        app.MapGet("/gzip", () =>
        {
            var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Encoding.UTF8.GetBytes("{\"idNumber\":\"110101199003077777\"}"));
            return Results.Stream(new MemoryStream(ms.ToArray()), "application/json");
        }).AddEndpointFilter(async (ctx, next) =>
        {
            ctx.HttpContext.Response.Headers.ContentEncoding = "gzip";
            return await next(ctx);
        });
        app.MapGet("/big", () => Results.Text(new string('x', 200_000), "application/json"));
        app.MapGet("/big-chunked", async (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "text/plain";
            for (var i = 0; i < 20; i++) await ctx.Response.WriteAsync(new string('y', 10_000));
        });
        app.MapGet("/redirect", () => Results.Redirect("http://169.254.169.254/latest/meta-data/"));
        app.MapGet("/health", () => Results.Ok());
        await app.StartAsync();
        BaseUrl = LianqiaoServer.UrlOf(app);
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null) await app.DisposeAsync();
    }
}
