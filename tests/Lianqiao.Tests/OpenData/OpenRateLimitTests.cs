using System.Net;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Xunit;

namespace Lianqiao.Tests.OpenData;

/// <summary>A host whose anonymous open-API limit is tiny, so the per-address window is visible.</summary>
public sealed class TightOpenServer : LianqiaoServer
{
    protected override void Configure(WebApplicationBuilder builder) => builder.Configuration["Lianqiao:OpenData:AnonymousPerMinute"] = "3";
}

public sealed class OpenRateLimitTests(TightOpenServer server) : IClassFixture<TightOpenServer>
{
    [Fact]
    public async Task Anonymous_callers_are_limited_per_address_and_developers_by_their_quota_instead()
    {
        using var anonymous = server.Anonymous();
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/open/api/v1/stats")).StatusCode);
        var refused = await anonymous.GetAsync("/open/api/v1/datasets");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);

        using var developer = server.WithKey(await server.DeveloperKeyAsync());
        var response = await developer.GetAsync("/open/api/v1/stats");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("X-RateLimit-Limit"));
    }
}
