using System.Net;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Xunit;

namespace Lianqiao.Tests.OpenData;

/// <summary>A host whose anonymous open-API limit is tiny, so the per-address window is visible.</summary>
public sealed class TightOpenServer : LianqiaoServer
{
    protected override void Configure(WebApplicationBuilder builder)
    {
        builder.Configuration["Lianqiao:OpenData:AnonymousPerMinute"] = "3";
        builder.Configuration["Lianqiao:OpenData:FormPostsPerHour"] = "2";
    }
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

    [Fact]
    public async Task Public_forms_are_limited_per_address_with_a_readable_429_page_and_a_problem_for_the_api()
    {
        using var anonymous = server.Anonymous();
        // Reading the form is never limited; posting is, pages and API alike (one window per address for both).
        for (var i = 0; i < 4; i++) Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/open/feedback")).StatusCode);
        var form = () => new FormUrlEncodedContent(new Dictionary<string, string> { ["probe"] = "1" });
        for (var i = 0; i < 2; i++)
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, "/open/feedback") { Content = form() };
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await anonymous.SendAsync(post)).StatusCode);
        }
        using var third = new HttpRequestMessage(HttpMethod.Post, "/open/developer") { Content = form() };
        third.Headers.Accept.ParseAdd("text/html");
        var page = await anonymous.SendAsync(third);
        Assert.Equal(HttpStatusCode.TooManyRequests, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.True(page.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("请求过于频繁", html);
        Assert.Contains("Too many requests", html);

        var api = await anonymous.PostJsonAsync("/open/api/v1/feedback", new { kind = "request", title = "t", body = "b" });
        var problem = await api.ProblemAsync(429);
        Assert.Equal("rate-limited", problem.Code);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/open/developer")).StatusCode);
    }
}
