using System.Net;
using System.Text.Json;
using Lianqiao.Tests.Infrastructure;
using Xunit;

namespace Lianqiao.Tests.Gateway;

/// <summary>The demo city with the catalog and the gateway's demo step: the sample upstream behind the gateway.</summary>
public sealed class GatewayDemoServer : LianqiaoServer
{
    protected override bool IncludeSeedStep(Seeding.ISeedStep step) =>
        step.Id.StartsWith("p1-", StringComparison.Ordinal) || step.Id == "p2-catalog/002-demo-catalog" || step.Id == Lianqiao.Gateway.GatewayDemoSeed.StepId;
}

public sealed class GatewayDemoTests(GatewayDemoServer server) : IClassFixture<GatewayDemoServer>
{
    [Fact]
    public async Task Social_security_app_calls_bus_arrivals_until_its_quota_is_spent()
    {
        using var app = server.WithKey(await server.AppKeyAsync("人社业务系统"));
        // The demo upstream is re-pointed at the port the host actually got once it has started.
        HttpResponseMessage first = default!;
        for (var i = 0; i < 50; i++)
        {
            first = await app.GetAsync("/gateway/bus-arrivals/arrivals?stop=HZ0001");
            if (first.StatusCode == HttpStatusCode.OK) break;
            await Task.Delay(100);
        }
        var body = await first.OkJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("sample").GetBoolean());
        Assert.Equal("HZ0001", body.GetProperty("stopId").GetString());
        var limit = int.Parse(first.Headers.GetValues("X-RateLimit-Limit").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var remaining = int.Parse(first.Headers.GetValues("X-RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < remaining; i++) Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/gateway/bus-arrivals/arrivals")).StatusCode);
        var spent = await app.GetAsync("/gateway/bus-arrivals/arrivals");
        Assert.Equal("quota-exhausted", (await spent.ProblemAsync(429)).Code);
        Assert.Equal(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), spent.Headers.GetValues("X-RateLimit-Limit").Single());

        // The sample upstream refuses callers without the credential only the gateway holds.
        using var direct = server.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await direct.GetAsync("/demo-upstream/bus-arrivals/arrivals")).StatusCode);
        Assert.NotEmpty(await server.GatewayCallsAsync());

        // The pages: the service list shows the calls, "my services" shows the grant to the consumer department's steward.
        using var admin = await server.AsAdminAsync();
        var list = await (await admin.GetAsync("/services")).Content.ReadAsStringAsync();
        Assert.Contains("公交实时到站", list);
        using var hrss = await server.AsUserAsync("hrss-consumer");
        var mine = await (await hrss.GetAsync("/my-services")).Content.ReadAsStringAsync();
        Assert.Contains("/gateway/bus-arrivals/arrivals", mine);
        Assert.Contains("人社业务系统", mine);
        var detail = await (await admin.GetAsync("/services/bus-arrivals")).Content.ReadAsStringAsync();
        Assert.Contains("/demo-upstream/bus-arrivals", detail);
        Assert.Contains("edit-service", detail);
        var editor = await (await admin.GetAsync("/services/bus-arrivals/edit")).Content.ReadAsStringAsync();
        Assert.Contains("X-Demo-Upstream-Key", editor);
        Assert.Contains("service-form", editor);
    }
}
