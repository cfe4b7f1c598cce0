using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lianqiao.Gateway;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Gateway;

public sealed class GatewayTests(GatewayServer server) : IClassFixture<GatewayServer>
{
    string Up => server.Upstream.BaseUrl;

    static string Slug(string name) => "gw-" + name + "-" + Guid.NewGuid().ToString("N")[..6];

    object Registration(string? upstream = null, object? extra = null)
    {
        var baseReg = new Dictionary<string, object?>
        {
            ["level"] = "Municipal", ["upstreams"] = new[] { upstream ?? Up }, ["methods"] = new[] { "GET", "POST" }, ["pathPrefixes"] = new[] { "/" },
            ["authKind"] = "Header", ["authName"] = "X-Upstream-Key", ["authSecret"] = "upstream-s3cret-value",
        };
        if (extra is not null)
        {
            foreach (var p in JsonSerializer.SerializeToElement(extra, HttpAssertions.Json).EnumerateObject()) baseReg[p.Name] = p.Value;
        }
        return baseReg;
    }

    static async Task<JsonElement> JsonAsync(HttpResponseMessage r) => await r.OkJsonAsync<JsonElement>();

    [Fact]
    public async Task Registration_checks_resource_and_allow_list_hides_the_secret_and_keeps_versions()
    {
        var slug = Slug("reg");
        await server.CreateServiceResourceAsync(slug);
        var notService = Slug("table");
        await server.CreateServiceResourceAsync(notService, formatCategory: "1");
        using var admin = await server.AsAdminAsync();

        var refused = await admin.PutAsJsonAsync($"/api/v1/gateway/services/{slug}", Registration("http://10.1.2.3:8080"), HttpAssertions.Json);
        var problem = await refused.ProblemAsync(400);
        Assert.Contains("upstreams", problem.Errors!.Keys);
        var table = await admin.PutAsJsonAsync($"/api/v1/gateway/services/{notService}", Registration(), HttpAssertions.Json);
        Assert.Contains("resourceId", (await table.ProblemAsync(400)).Errors!.Keys);

        var created = await admin.PutAsJsonAsync($"/api/v1/gateway/services/{slug}", Registration(), HttpAssertions.Json);
        var text = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, text);
        Assert.DoesNotContain("upstream-s3cret-value", text);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("hasSecret").GetBoolean());
        (await admin.PutAsJsonAsync($"/api/v1/gateway/services/{slug}", new { timeoutMs = 2000 }, HttpAssertions.Json)).EnsureSuccessStatusCode();

        var versions = await admin.GetAsync($"/api/v1/gateway/services/{slug}/versions");
        var versionsText = await versions.Content.ReadAsStringAsync();
        Assert.DoesNotContain("upstream-s3cret-value", versionsText);
        Assert.Equal([2, 1], (await JsonAsync(versions)).EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.DoesNotContain("upstream-s3cret-value", await (await admin.GetAsync($"/api/v1/gateway/services/{slug}")).Content.ReadAsStringAsync());
        Assert.Equal(2, (await server.AuditAsync("gateway.service.create")).Count(r => r.TargetId == slug) + (await server.AuditAsync("gateway.service.update")).Count(r => r.TargetId == slug));

        // The owning department's steward may change it; another department's steward may not register its resources.
        using var steward = await server.AsUserAsync("t-steward");
        (await steward.PutAsJsonAsync($"/api/v1/gateway/services/{slug}", new { timeoutMs = 3000 }, HttpAssertions.Json)).EnsureSuccessStatusCode();
        var foreign = Slug("foreign");
        await server.CreateServiceResourceAsync(foreign, departmentId: server.OtherDepartmentId);
        await (await steward.PutAsJsonAsync($"/api/v1/gateway/services/{foreign}", Registration(), HttpAssertions.Json)).ProblemAsync(403);
    }

    [Fact]
    public async Task Editor_page_saves_a_new_version_and_an_unticked_box_disables_the_service()
    {
        var slug = Slug("editor");
        await server.SetUpServiceAsync(slug, Registration(), paths: ["/echo"]);
        using var browser = server.Anonymous();
        string Token(string html) => System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var login = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = Token(await browser.GetStringAsync("/login")), ["userName"] = "admin", ["password"] = server.AdminPassword,
        }));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var page = await browser.GetStringAsync($"/services/{slug}/edit");
        Assert.Contains(Up, page);
        Assert.DoesNotContain("upstream-s3cret-value", page);
        Dictionary<string, string> Form(string timeout) => new()
        {
            ["_handler"] = "gateway-service", ["__RequestVerificationToken"] = Token(page), ["Form.Level"] = "Provincial", ["Form.Upstreams"] = Up,
            ["Form.LoadBalancing"] = "RoundRobin", ["Form.Methods"] = "GET", ["Form.PathPrefixes"] = "/", ["Form.AuthKind"] = "Header",
            ["Form.AuthName"] = "X-Upstream-Key", ["Form.AuthSecret"] = "", ["Form.TimeoutMs"] = timeout, ["Form.MaxRequestBytes"] = "1000",
            ["Form.MaxResponseBytes"] = "100000", ["Form.HealthPath"] = "", ["Form.HealthIntervalSeconds"] = "30", ["Form.BreakerFailures"] = "5",
            ["Form.BreakerOpenSeconds"] = "30", ["Form.RateLimitPerSecond"] = "", ["Form.Masking"] = "idNumber=id_number",
        };
        var invalid = await browser.PostAsync($"/services/{slug}/edit", new FormUrlEncodedContent(Form("5")));
        Assert.Contains("100–120000", await invalid.Content.ReadAsStringAsync());
        var saved = await browser.PostAsync($"/services/{slug}/edit", new FormUrlEncodedContent(Form("2500")));
        Assert.True(saved.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found, $"{(int)saved.StatusCode}: {await saved.Content.ReadAsStringAsync()}");

        using var admin = await server.AsAdminAsync();
        var dto = await JsonAsync(await admin.GetAsync($"/api/v1/gateway/services/{slug}"));
        Assert.Equal(2500, dto.GetProperty("timeoutMs").GetInt32());
        Assert.Equal("Provincial", dto.GetProperty("level").GetString());
        Assert.True(dto.GetProperty("hasSecret").GetBoolean());
        Assert.False(dto.GetProperty("enabled").GetBoolean());
        Assert.Equal(2, dto.GetProperty("version").GetInt32());
        using var app = await server.AppAsync();
        Assert.Equal("service-disabled", (await (await app.GetAsync($"/gateway/{slug}/echo/x")).ProblemAsync(503)).Code);
    }

    [Fact]
    public async Task Calls_need_a_service_grant_covering_method_and_path()
    {
        var slug = Slug("grant");
        await server.CreateServiceResourceAsync(slug);
        using var admin = await server.AsAdminAsync();
        (await admin.PutAsJsonAsync($"/api/v1/gateway/services/{slug}", Registration(), HttpAssertions.Json)).EnsureSuccessStatusCode();
        using var app = await server.AppAsync();

        await (await app.GetAsync($"/gateway/{slug}/echo/a")).ProblemAsync(403);
        await server.ServiceGrantAsync(slug, ["GET"], ["/echo"], null);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{slug}/echo/a")).StatusCode);
        await (await app.PostAsync($"/gateway/{slug}/echo/a", new StringContent("{}"))).ProblemAsync(403);
        await (await app.GetAsync($"/gateway/{slug}/flaky")).ProblemAsync(403);
        await (await app.GetAsync($"/gateway/{slug}/echox")).ProblemAsync(403);
        // A person's key is never a consumer of the gateway.
        using var consumer = await server.AsUserAsync("t-consumer");
        await (await consumer.GetAsync($"/gateway/{slug}/echo/a")).ProblemAsync(403);
        using var anonymous = server.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/gateway/{slug}/echo/a")).StatusCode);
    }

    [Fact]
    public async Task Gateway_calls_on_their_short_pipeline_keep_problem_bodies_and_security_headers()
    {
        var slug = Slug("pipeline");
        await server.SetUpServiceAsync(slug, Registration());
        using var app = await server.AppAsync();
        var ok = await app.GetAsync($"/gateway/{slug}/echo/a");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("nosniff", ok.Headers.GetValues("X-Content-Type-Options").Single());

        // The challenge of a missing or unknown key sets a bare 401: it still leaves as an RFC 9457 problem.
        using var anonymous = server.Anonymous();
        await (await anonymous.GetAsync($"/gateway/{slug}/echo/a")).ProblemAsync(401);
        using var unknown = server.Anonymous();
        unknown.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "lq_not_a_key");
        await (await unknown.GetAsync($"/gateway/{slug}/echo/a")).ProblemAsync(401);
    }

    [Fact]
    public async Task Upstream_gets_its_credentials_not_the_consumers_and_request_id_goes_end_to_end()
    {
        var slug = Slug("creds");
        await server.SetUpServiceAsync(slug, Registration());
        using var app = await server.AppAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/gateway/{slug}/echo/x?q=1");
        request.Headers.Add("Cookie", "session=consumer");
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        request.Headers.Add("X-Request-Id", "req-12345");
        request.Headers.Host = "evil.example";
        var response = await app.SendAsync(request);
        var echo = await JsonAsync(response);
        Assert.Equal("upstream-s3cret-value", echo.GetProperty("upstreamKey").GetString());
        Assert.Equal("", echo.GetProperty("authorization").GetString());
        Assert.Equal("", echo.GetProperty("cookie").GetString());
        Assert.Equal("", echo.GetProperty("xForwardedFor").GetString());
        Assert.Equal("", echo.GetProperty("xForwardedHost").GetString());
        Assert.Equal($"127.0.0.1:{server.Upstream.Port}", echo.GetProperty("host").GetString());
        Assert.Equal("/echo/x", echo.GetProperty("path").GetString());
        Assert.Equal("?q=1", echo.GetProperty("query").GetString());
        Assert.Equal("req-12345", echo.GetProperty("requestId").GetString());
        Assert.Equal("req-12345", response.Headers.GetValues("X-Request-Id").Single());

        // Generated when absent, the same value upstream and back.
        var second = await app.GetAsync($"/gateway/{slug}/echo/y");
        var generated = second.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(generated, (await JsonAsync(second)).GetProperty("requestId").GetString());
        Assert.Contains(await server.GatewayCallsAsync(), c => c.Record.TargetId == slug
            && c.Call.GetProperty("requestId").GetString() == generated && c.Call.GetProperty("status").GetInt32() == 200);
    }

    [Fact]
    public void Generated_request_ids_are_unique_version_7_uuids_carrying_the_time()
    {
        var now = new DateTimeOffset(2026, 11, 28, 12, 0, 0, 123, TimeSpan.Zero);
        var time = new FixedTime(now);
        var ids = Enumerable.Range(0, 10_000).Select(_ => GatewayProxy.NewRequestId(time)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var id in ids.Take(100))
        {
            Assert.Matches("^[0-9a-f]{32}$", id);
            var guid = Guid.ParseExact(id, "N");
            Assert.Equal(7, guid.Version);
            Assert.Equal(0b10, guid.Variant >> 2);
            Assert.Equal(now.ToUnixTimeMilliseconds(), Convert.ToInt64(id[..12], 16));
        }
    }

    [Fact]
    public async Task Basic_upstream_auth_replaces_the_consumer_key_and_request_size_is_limited()
    {
        var slug = Slug("basic");
        await server.SetUpServiceAsync(slug, Registration(extra: new { authKind = "Basic", authName = "gw-user", authSecret = "gw-pass", maxRequestBytes = 100 }),
            methods: ["GET", "POST"]);
        using var app = await server.AppAsync();
        var echo = await JsonAsync(await app.GetAsync($"/gateway/{slug}/echo/b"));
        Assert.Equal("Basic " + Convert.ToBase64String("gw-user:gw-pass"u8.ToArray()), echo.GetProperty("authorization").GetString());
        Assert.Equal("", echo.GetProperty("upstreamKey").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.PostAsync($"/gateway/{slug}/echo/b", new StringContent(new string('a', 50)))).StatusCode);
        await (await app.PostAsync($"/gateway/{slug}/echo/b", new StringContent(new string('a', 5000)))).ProblemAsync(413);
        using var admin = await server.AsAdminAsync();
        var list = await (await admin.GetAsync("/api/v1/gateway/services")).Content.ReadAsStringAsync();
        Assert.Contains(slug, list);
        Assert.DoesNotContain("gw-pass", list);
    }

    [Fact]
    public async Task Revoked_grant_stops_calls_at_once_on_the_revoking_node_and_within_a_second_on_another()
    {
        var slug = Slug("revoke");
        var grantId = await server.SetUpServiceAsync(slug, Registration());
        using var app = await server.AppAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{slug}/echo/1")).StatusCode);
        var other = await server.StartHostAsync();
        using var otherNode = await server.AppAsync(LianqiaoServer.UrlOf(other));
        // Both nodes now remember the grant.
        Assert.Equal(HttpStatusCode.OK, (await otherNode.GetAsync($"/gateway/{slug}/echo/1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{slug}/echo/1")).StatusCode);
        // Both remembered the grant before this instant, so neither may use it one RecentFor after it.
        var beforeRevoke = Stopwatch.GetTimestamp();
        await server.InScopeAsync(sp => sp.GetRequiredService<GrantService>().RevokeAsync(grantId, "test", new Lianqiao.Audit.AuditEntry("grant.revoke") { ActorName = "test" }, default));
        // The revoking node forgets the grant at once: the very next call is refused.
        await (await app.GetAsync($"/gateway/{slug}/echo/2")).ProblemAsync(403);

        while (true)
        {
            var startedAfter = Stopwatch.GetElapsedTime(beforeRevoke);
            var r = await otherNode.GetAsync($"/gateway/{slug}/echo/3");
            if (r.StatusCode != HttpStatusCode.OK)
            {
                await r.ProblemAsync(403);
                break;
            }
            Assert.True(startedAfter < GrantService.RecentFor, $"The other node let a call through {startedAfter.TotalMilliseconds:F0} ms after the revoke.");
            await Task.Delay(50);
        }
        // Refused from then on, on both nodes.
        await (await otherNode.GetAsync($"/gateway/{slug}/echo/4")).ProblemAsync(403);
        await (await app.GetAsync($"/gateway/{slug}/echo/4")).ProblemAsync(403);
    }

    [Fact]
    public async Task Revoked_key_is_refused_at_once_on_its_node_and_within_a_second_on_another_and_calls_without_a_known_key_get_401()
    {
        // A remembered key skips the authentication middleware on gateway calls (GatewayApi.UseGatewayCalls); its revoke must still bind.
        var slug = Slug("keyrevoke");
        await server.SetUpServiceAsync(slug, Registration());
        using var admin = await server.AsAdminAsync();
        var appId = await server.AppIdAsync("t-app");
        var issued = await (await admin.PostJsonAsync($"/api/v1/apps/{appId}/keys", new { name = "gateway-revoke", daysValid = 30 }))
            .OkJsonAsync<Lianqiao.Organizations.IssuedKeyDto>();
        using var onFirst = server.WithKey(issued.Secret);
        var other = await server.StartHostAsync();
        using var onSecond = server.WithKey(issued.Secret, LianqiaoServer.UrlOf(other));
        // Twice on each node: the second call is served with the key remembered there.
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await onFirst.GetAsync($"/gateway/{slug}/echo/{i}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync($"/gateway/{slug}/echo/{i}")).StatusCode);
        }

        var beforeRevoke = Stopwatch.GetTimestamp();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/keys/{issued.Key.Id}")).StatusCode);
        await (await onFirst.GetAsync($"/gateway/{slug}/echo/2")).ProblemAsync(401);
        while (true)
        {
            var startedAfter = Stopwatch.GetElapsedTime(beforeRevoke);
            var r = await onSecond.GetAsync($"/gateway/{slug}/echo/3");
            if (r.StatusCode != HttpStatusCode.OK)
            {
                await r.ProblemAsync(401);
                break;
            }
            Assert.True(startedAfter < Lianqiao.Organizations.ApiKeyAuthenticationHandler.CacheFor,
                $"The other node let a revoked key through {startedAfter.TotalMilliseconds:F0} ms after the revoke.");
            await Task.Delay(50);
        }
        await (await onFirst.GetAsync($"/gateway/{slug}/echo/4")).ProblemAsync(401);

        // No key, an unknown key: refused with a problem body.
        using var anonymous = server.Anonymous();
        await (await anonymous.GetAsync($"/gateway/{slug}/echo/5")).ProblemAsync(401);
        using var unknown = server.WithKey("lq_not-a-key-" + Guid.NewGuid().ToString("N"));
        await (await unknown.GetAsync($"/gateway/{slug}/echo/6")).ProblemAsync(401);
    }

    [Fact]
    public async Task Health_checks_steer_first_healthy_away_from_a_dead_upstream()
    {
        var dead = new TestUpstream();
        await dead.StartAsync();
        var deadUrl = dead.BaseUrl;
        await dead.DisposeAsync();
        var slug = Slug("health");
        await server.SetUpServiceAsync(slug, Registration(extra: new
        {
            upstreams = new[] { deadUrl, Up }, loadBalancing = "FirstHealthy", healthPath = "/health", healthIntervalSeconds = 1, breakerFailures = 100,
        }));
        using var admin = await server.AsAdminAsync();
        JsonElement stats = default;
        for (var i = 0; i < 50; i++)
        {
            stats = await JsonAsync(await admin.GetAsync($"/api/v1/gateway/services/{slug}/stats"));
            if (stats.GetProperty("upstreams").EnumerateArray().All(u => u.GetProperty("healthy").ValueKind != JsonValueKind.Null)) break;
            await Task.Delay(100);
        }
        var upstreams = stats.GetProperty("upstreams").EnumerateArray().ToList();
        Assert.False(upstreams[0].GetProperty("healthy").GetBoolean());
        Assert.True(upstreams[1].GetProperty("healthy").GetBoolean());
        using var app = await server.AppAsync();
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{slug}/echo/{i}")).StatusCode);
        var page = await (await admin.GetAsync($"/services/{slug}")).Content.ReadAsStringAsync();
        Assert.Contains(deadUrl, page);
    }

    [Fact]
    public async Task Quota_is_exact_across_two_hosts_on_one_database()
    {
        var slug = Slug("quota");
        await server.SetUpServiceAsync(slug, Registration(), quota: 6);
        var second = await server.StartHostAsync();
        using var a = await server.AppAsync();
        using var b = await server.AppAsync(LianqiaoServer.UrlOf(second));
        var hits = server.Upstream.Hits;
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => (i % 2 == 0 ? a : b).GetAsync($"/gateway/{slug}/echo/{i}")));
        Assert.Equal(6, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(4, refused.Count);
        var last = refused[0];
        var problem = await last.ProblemAsync(429);
        Assert.Equal("quota-exhausted", problem.Code);
        Assert.Equal("6", last.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("0", last.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.True(long.Parse(last.Headers.GetValues("X-RateLimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 86400);
        Assert.Equal(6, server.Upstream.Hits - hits);
        var ok = responses.First(r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal("6", ok.Headers.GetValues("X-RateLimit-Limit").Single());
    }

    [Fact]
    public async Task Quota_blocks_never_overshoot_across_two_nodes_and_held_calls_come_back_when_idle()
    {
        // 300 calls a day: each node takes them from the database 3 at a time.
        const long quota = 300;
        var block = QuotaLeases.BlockFor(quota);
        Assert.Equal(3, block);
        var slug = Slug("lease");
        var grantId = await server.SetUpServiceAsync(slug, Registration(), quota: quota);
        var second = await server.StartHostAsync();
        using var a = await server.AppAsync();
        using var b = await server.AppAsync(LianqiaoServer.UrlOf(second));
        var hits = server.Upstream.Hits;

        async Task<int> CallAsync(int count)
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, count).Select(i => (i % 2 == 0 ? a : b).GetAsync($"/gateway/{slug}/echo/{i}")));
            foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
                Assert.Equal("quota-exhausted", (await refused.ProblemAsync(429)).Code);
            return responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        }

        var passed = 0;
        for (var round = 0; round < 34; round++) passed += await CallAsync(10);
        // Never over the quota; under it by at most what the two nodes still hold (block − 1 each).
        Assert.InRange(passed, quota - 2 * (block - 1), quota);
        Assert.Equal(passed, server.Upstream.Hits - hits);
        // The database counts what was passed plus what the nodes hold, and never more than the quota.
        Assert.InRange(await UsedTodayAsync(grantId), passed, quota);

        // Idle for QuotaLeases.IdleGiveBack, each node gives back what it holds: the count comes down to the calls made,
        // and the quota then ends exact.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await UsedTodayAsync(grantId) != passed && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal(passed, await UsedTodayAsync(grantId));
        passed += await CallAsync(10);
        Assert.Equal(quota, passed);
        Assert.Equal(passed, server.Upstream.Hits - hits);
        Assert.Equal(quota, await UsedTodayAsync(grantId));
    }

    Task<long> UsedTodayAsync(Guid grantId) => server.InScopeAsync(async sp =>
    {
        var day = sp.GetRequiredService<QuotaCounter>().Today();
        return await sp.GetRequiredService<Lianqiao.Data.LianqiaoDb>().Set<QuotaUsage>().Where(q => q.GrantId == grantId && q.Day == day)
            .Select(q => q.Used).SingleAsync();
    });

    [Fact]
    public async Task Per_application_rate_limit_answers_429_with_retry_after()
    {
        var slug = Slug("rate");
        await server.SetUpServiceAsync(slug, Registration(extra: new { rateLimitPerSecond = 2 }));
        using var app = await server.AppAsync();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++) statuses.Add((await app.GetAsync($"/gateway/{slug}/echo/{i}")).StatusCode);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var r = await app.GetAsync($"/gateway/{slug}/echo/z");
        if (r.StatusCode == HttpStatusCode.TooManyRequests)
        {
            Assert.Equal("rate-limited", (await r.ProblemAsync(429)).Code);
            Assert.NotNull(r.Headers.RetryAfter);
        }
    }

    [Fact]
    public async Task Loopback_needs_the_allow_list_and_a_name_resolving_to_loopback_is_refused_at_connect()
    {
        using var admin = await server.AsAdminAsync();
        // A name under a wildcard entry passes the host check but may not reach a special address.
        var wildcard = await admin.PostJsonAsync("/api/v1/gateway/allow-list/", new { pattern = "*.rebind.test" });
        Assert.Equal(HttpStatusCode.Created, wildcard.StatusCode);
        var slug = Slug("rebind");
        var hits = server.Upstream.Hits;
        await server.SetUpServiceAsync(slug, Registration($"http://evil.rebind.test:{server.Upstream.Port}"));
        using var app = await server.AppAsync();
        var refused = await app.GetAsync($"/gateway/{slug}/echo/x");
        Assert.Equal("upstream-address-refused", (await refused.ProblemAsync(502)).Code);
        Assert.Equal(hits, server.Upstream.Hits);

        // "localhost" named exactly is allowed; removing the entry stops the next call.
        var entry = await (await admin.PostJsonAsync("/api/v1/gateway/allow-list/", new { pattern = "localhost" })).OkJsonAsync<AllowEntryDto>();
        var local = Slug("localhost");
        await server.SetUpServiceAsync(local, Registration($"http://localhost:{server.Upstream.Port}"));
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{local}/echo/x")).StatusCode);
        (await admin.DeleteAsync($"/api/v1/gateway/allow-list/{entry.Id}")).EnsureSuccessStatusCode();
        Assert.Equal("upstream-not-allowed", (await (await app.GetAsync($"/gateway/{local}/echo/x")).ProblemAsync(502)).Code);

        // Registration refuses hosts the list does not name, metadata included.
        foreach (var url in new[] { "http://169.254.169.254/", "http://127.0.0.2:80/", "http://[::1]:80/", "http://localhost:1/" })
        {
            var r = await admin.PutAsJsonAsync($"/api/v1/gateway/services/{slug}", new { upstreams = new[] { url } }, HttpAssertions.Json);
            Assert.Contains("upstreams", (await r.ProblemAsync(400)).Errors!.Keys);
        }
    }

    [Fact]
    public async Task Path_tricks_and_redirects_do_not_move_the_call()
    {
        var slug = Slug("path");
        await server.SetUpServiceAsync(slug, Registration(Up + "/echo"));
        using var app = await server.AppAsync();
        foreach (var path in new[] { "a/..%2f..%2fadmin", "%2e%2e/x", "a%2Fb", "a//b", "@evil.example/x", "a\\b", "%40evil" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{server.BaseUrl}/gateway/{slug}/{path}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
            var r = await app.SendAsync(request);
            Assert.True(r.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Forbidden, $"{path}: {(int)r.StatusCode}");
        }
        var ok = await JsonAsync(await app.GetAsync($"/gateway/{slug}/inner"));
        Assert.Equal("/echo/inner", ok.GetProperty("path").GetString());

        var redirecting = Slug("redirect");
        await server.SetUpServiceAsync(redirecting, Registration());
        var redirect = await app.GetAsync($"/gateway/{redirecting}/redirect");
        // Passed back to the consumer as an answer, never followed by the gateway.
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
    }

    [Fact]
    public async Task Slow_upstream_times_out_with_504()
    {
        var slug = Slug("slow");
        await server.SetUpServiceAsync(slug, Registration(extra: new { timeoutMs = 300 }));
        using var app = await server.AppAsync();
        var r = await app.GetAsync($"/gateway/{slug}/slow");
        Assert.Equal("upstream-timeout", (await r.ProblemAsync(504)).Code);
    }

    [Fact]
    public async Task Failing_upstream_opens_the_circuit_and_a_probe_closes_it()
    {
        var upstream = new TestUpstream();
        await upstream.StartAsync();
        var slug = Slug("breaker");
        await server.SetUpServiceAsync(slug, Registration(upstream.BaseUrl, new { breakerFailures = 2, breakerOpenSeconds = 1 }));
        using var app = await server.AppAsync();
        upstream.FlakyHealthy = false;
        Assert.Equal(HttpStatusCode.InternalServerError, (await app.GetAsync($"/gateway/{slug}/flaky")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await app.GetAsync($"/gateway/{slug}/flaky")).StatusCode);
        var open = await app.GetAsync($"/gateway/{slug}/flaky");
        Assert.Equal("circuit-open", (await open.ProblemAsync(503)).Code);
        Assert.NotNull(open.Headers.RetryAfter);

        upstream.FlakyHealthy = true;
        await Task.Delay(1100);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{slug}/flaky")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{slug}/flaky")).StatusCode);

        // Stopped upstream: unreachable, then the circuit opens again.
        await upstream.DisposeAsync();
        Assert.Equal("upstream-unreachable", (await (await app.GetAsync($"/gateway/{slug}/flaky")).ProblemAsync(502)).Code);
        Assert.Equal("upstream-unreachable", (await (await app.GetAsync($"/gateway/{slug}/flaky")).ProblemAsync(502)).Code);
        Assert.Equal("circuit-open", (await (await app.GetAsync($"/gateway/{slug}/flaky")).ProblemAsync(503)).Code);
    }

    [Fact]
    public async Task Masking_applies_catalog_and_explicit_rules_and_fails_closed()
    {
        var slug = Slug("mask");
        await server.SetUpServiceAsync(slug, Registration(extra: new
        {
            masking = new object[]
            {
                new { path = "idNumber", item = "id_number" },
                new { path = "name", item = "name" },
                new { path = "contacts.phone", rule = "keep-ends", keepFirst = 3, keepLast = 4 },
            },
        }));
        using var app = await server.AppAsync();
        var person = await app.GetAsync($"/gateway/{slug}/person");
        var text = await person.Content.ReadAsStringAsync();
        Assert.True(person.IsSuccessStatusCode, text);
        Assert.DoesNotContain("110101199003077777", text);
        Assert.DoesNotContain("13812345678", text);
        var json = JsonDocument.Parse(text).RootElement;
        Assert.StartsWith("110101", json.GetProperty("idNumber").GetString());
        Assert.EndsWith("7777", json.GetProperty("idNumber").GetString());
        Assert.StartsWith("张", json.GetProperty("name").GetString());
        Assert.DoesNotContain("三丰", json.GetProperty("name").GetString());
        Assert.Equal("138****5678", json.GetProperty("contacts")[0].GetProperty("phone").GetString());

        foreach (var path in new[] { "text", "gzip", "big" })
        {
            var r = await app.GetAsync($"/gateway/{slug}/{path}");
            var body = await r.Content.ReadAsStringAsync();
            Assert.DoesNotContain("110101199003077777", body);
            Assert.DoesNotContain("xxxxxxxxxx", body);
            Assert.Equal("response-refused", (await r.ProblemAsync(502)).Code);
        }
    }

    [Fact]
    public async Task Response_over_the_limit_is_refused()
    {
        var slug = Slug("big");
        await server.SetUpServiceAsync(slug, Registration(extra: new { maxResponseBytes = 50_000 }));
        using var app = await server.AppAsync();
        Assert.Equal("response-refused", (await (await app.GetAsync($"/gateway/{slug}/big")).ProblemAsync(502)).Code);
        // Without a length the gateway cuts the stream at the limit: the client never gets more.
        try
        {
            var chunked = await app.GetAsync($"/gateway/{slug}/big-chunked");
            Assert.True(!chunked.IsSuccessStatusCode || (await chunked.Content.ReadAsByteArrayAsync()).Length <= 50_000);
        }
        catch (HttpRequestException)
        {
            // The cut connection.
        }
    }

    [Fact]
    public async Task Calls_are_refused_while_the_ledger_cannot_write_and_go_through_again_once_it_can()
    {
        var slug = Slug("ledger");
        await server.SetUpServiceAsync(slug, Registration(), paths: ["/echo"]);
        using var app = await server.AppAsync();
        var log = server.App.Services.GetRequiredService<Lianqiao.Audit.IAuditLog>();
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{slug}/echo/1")).StatusCode);
        await log.SettleAsync();

        var postgres = server.PostgresConnectionString is not null;
        await server.ExecuteSqlAsync(postgres
            ? "ALTER TABLE audit_records ADD CONSTRAINT test_refuse_writes CHECK (\"Id\" < 0) NOT VALID"
            : "CREATE TRIGGER test_refuse_writes BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
        try
        {
            // This call's answer does not wait for its commit; the commit fails, and the gateway stops taking calls.
            await app.GetAsync($"/gateway/{slug}/echo/2");
            await log.SettleAsync();
            Assert.True(log.Failing);
            var refused = await app.GetAsync($"/gateway/{slug}/echo/3");
            Assert.Equal("audit-unavailable", (await refused.ProblemAsync(503)).Code);
            Assert.NotNull(refused.Headers.RetryAfter);
        }
        finally
        {
            await server.ExecuteSqlAsync(postgres ? "ALTER TABLE audit_records DROP CONSTRAINT test_refuse_writes" : "DROP TRIGGER test_refuse_writes");
        }

        // The refusals' own items probe the ledger: once one commits, calls go through again, and they are recorded.
        await app.GetAsync($"/gateway/{slug}/echo/4");
        await log.SettleAsync();
        Assert.False(log.Failing);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync($"/gateway/{slug}/echo/5")).StatusCode);
        var paths = (await server.GatewayCallsAsync()).Where(c => c.Record.TargetId == slug).Select(c => c.Call.GetProperty("path").GetString()).ToList();
        Assert.Contains("/echo/1", paths);
        Assert.Contains("/echo/5", paths);
    }

    [Fact]
    public async Task Every_call_is_audited_and_counted_in_statistics_and_metrics()
    {
        var slug = Slug("stats");
        await server.SetUpServiceAsync(slug, Registration(), paths: ["/echo"]);
        using var app = await server.AppAsync();
        for (var i = 0; i < 5; i++) await app.GetAsync($"/gateway/{slug}/echo/{i}");
        await app.GetAsync($"/gateway/{slug}/flaky");
        var calls = (await server.GatewayCallsAsync()).Where(c => c.Record.TargetId == slug).ToList();
        Assert.Equal(6, calls.Count);
        Assert.Equal(5, calls.Count(c => c.Record.Outcome == "success"));
        var appId = (await server.AppIdAsync("t-app")).ToString();
        Assert.All(calls, c => Assert.Equal(appId, c.Record.ActorId));
        // In order, each with its own request id.
        var first = calls[0].Call;
        Assert.Equal("GET", first.GetProperty("method").GetString());
        Assert.Equal("/echo/0", first.GetProperty("path").GetString());
        Assert.True(first.GetProperty("bytesOut").GetInt64() > 0);
        Assert.True(first.GetProperty("latencyMs").GetDouble() > 0);
        Assert.Equal(6, calls.Select(c => c.Call.GetProperty("requestId").GetString()).Distinct().Count());

        using var admin = await server.AsAdminAsync();
        var stats = await JsonAsync(await admin.GetAsync($"/api/v1/gateway/services/{slug}/stats"));
        // The call outside the grant never reached the service: audited, not in the service's statistics.
        Assert.Equal(5, stats.GetProperty("calls").GetInt64());
        Assert.Equal(0, stats.GetProperty("errors").GetInt64());
        Assert.True(stats.GetProperty("p95Ms").GetDouble() > 0);
        Assert.Equal(1.0, stats.GetProperty("availability").GetDouble());

        var metrics = await admin.GetAsync("/metrics");
        var metricsText = await metrics.Content.ReadAsStringAsync();
        Assert.True(metrics.IsSuccessStatusCode, metricsText);
        Assert.Contains("lianqiao_gateway_calls", metricsText);
        using var app2 = await server.AppAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await app2.GetAsync("/metrics")).StatusCode);
    }
}

public sealed class AllowListRuleTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.2.3.4", true)]
    [InlineData("172.31.255.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fd12::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:4860:4860::8888", false)]
    public void Special_addresses_are_recognised(string address, bool special) =>
        Assert.Equal(special, AddressRules.IsSpecial(IPAddress.Parse(address)));

    [Fact]
    public void Special_addresses_need_an_exact_host_or_a_range()
    {
        var list = new AllowList(["api.gov.example", "*.wild.example", "10.20.0.0/16", "127.0.0.1"]);
        Assert.True(list.AllowsAddress("api.gov.example", 443, IPAddress.Parse("10.9.9.9")));
        Assert.False(list.AllowsAddress("x.wild.example", 443, IPAddress.Parse("10.9.9.9")));
        Assert.True(list.AllowsAddress("x.wild.example", 443, IPAddress.Parse("8.8.8.8")));
        Assert.True(list.AllowsAddress("x.wild.example", 443, IPAddress.Parse("10.20.1.1")));
        Assert.True(list.AllowsAddress("127.0.0.1", 80, IPAddress.Loopback));
        Assert.False(list.AllowsAddress("x.wild.example", 80, IPAddress.Loopback));
        Assert.False(list.AllowsAddress("other.example", 80, IPAddress.Loopback));
        Assert.False(list.AllowsAddress("127.0.0.2", 80, IPAddress.Parse("127.0.0.2")));
        Assert.True(list.AllowsHost(new Uri("https://a.wild.example/")));
        Assert.False(list.AllowsHost(new Uri("https://wild.example.evil/")));
        Assert.True(list.AllowsHost(new Uri("http://10.20.3.4:8080/")));
        Assert.False(list.AllowsHost(new Uri("http://169.254.169.254/")));
        Assert.False(new AllowList(["127.0.0.1:5080"]).AllowsHost(new Uri("http://127.0.0.1:5081/")));
        Assert.True(new AllowList(["127.0.0.1:5080"]).AllowsHost(new Uri("http://127.0.0.1:5080/")));
    }
}
