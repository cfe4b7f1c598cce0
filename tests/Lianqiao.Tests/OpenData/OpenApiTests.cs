using System.Net;
using System.Text;
using System.Text.Json;
using Lianqiao.Data;
using Lianqiao.OpenData;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.OpenData;

public sealed class OpenApiTests(OpenDataServer server) : IClassFixture<OpenDataServer>
{
    static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    static string Q(string s) => Uri.EscapeDataString(s);

    /// <summary>A dataset's counters as the database holds them (all days), read without counting a view.</summary>
    Task<OpenCounts> CountsAsync(string id) => server.InScopeAsync(async sp =>
        (await sp.GetRequiredService<OpenCatalog>().CountsAsync([id], default)).GetValueOrDefault(id) ?? new OpenCounts(0, 0, 0));

    /// <summary>The public's exchange volume on a dataset (consumer = empty), summed over days.</summary>
    Task<(long Calls, long Rows, long Bytes)> PublicExchangesAsync(string id) => server.InScopeAsync(async sp =>
    {
        var rows = await sp.GetRequiredService<LianqiaoDb>().Set<ExchangeCounter>().AsNoTracking()
            .Where(c => c.ResourceId == id && c.ConsumerDepartmentId == Guid.Empty).ToListAsync();
        return (rows.Sum(r => r.Calls), rows.Sum(r => r.Rows), rows.Sum(r => r.Bytes));
    });

    /// <summary>Reads until <paramref name="done"/> holds or ten seconds pass; returns the last value read.</summary>
    static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var value = await read();
        for (var i = 0; i < 100 && !done(value); i++)
        {
            await Task.Delay(100);
            value = await read();
        }
        return value;
    }

    [Fact]
    public async Task Chinese_search_finds_the_bus_data_and_facets_narrow_it()
    {
        using var anonymous = server.Anonymous();
        var result = await (await anonymous.GetAsync("/open/api/v1/datasets?q=" + Q("公交"))).OkJsonAsync<OpenSearchResult>();
        var ids = result.Results.Select(h => h.Id).ToList();
        Assert.Contains("bus-routes", ids);
        Assert.Contains("bus-stops", ids);
        Assert.All(result.Results, h => Assert.Equal("市交通运输局", h.DepartmentName));
        Assert.Contains(result.Facets["topic"], f => f.Value == "交通" && f.Count == result.Total);
        Assert.Equal(40, result.Results.Single(h => h.Id == "bus-routes").Records);

        var tabular = await (await anonymous.GetAsync("/open/api/v1/datasets?q=" + Q("公交") + "&format=2&topic=" + Q("交通"))).OkJsonAsync<OpenSearchResult>();
        Assert.Equal(["bus-routes", "bus-stops"], tabular.Results.Select(h => h.Id).Order().ToArray());
        var byTopic = await (await anonymous.GetAsync("/open/api/v1/datasets?topic=" + Q("交通") + "&pageSize=100")).OkJsonAsync<OpenSearchResult>();
        Assert.Contains(byTopic.Results, h => h.Id == "bus-arrivals");
        Assert.DoesNotContain(byTopic.Results, h => !h.Topics.Contains("交通"));

        var stats = await (await anonymous.GetAsync("/open/api/v1/stats")).OkJsonAsync<OpenStats>();
        Assert.True(stats.Datasets >= 3 && stats.Records >= 160 && stats.Departments >= 2, JsonSerializer.Serialize(stats));
    }

    [Fact]
    public async Task Anyone_queries_unconditional_records_with_the_data_api_language()
    {
        using var anonymous = server.Anonymous();
        var body = await JsonAsync(await anonymous.GetAsync("/open/api/v1/datasets/bus-routes/records?$select=route_id,route_name,fare&$where="
            + Q("fare > 1.5") + "&$order=" + Q("route_id desc") + "&$limit=3"));
        var rows = body.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal("040", rows[0].GetProperty("route_id").GetString());
        Assert.Equal("40路", rows[0].GetProperty("route_name").GetString());
        Assert.Equal(["route_id", "route_name", "fare"], rows[0].EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(3, body.GetProperty("count").GetInt32());

        var bad = await (await anonymous.GetAsync("/open/api/v1/datasets/bus-routes/records?$where=" + Q("nope = 1"))).ProblemAsync(400);
        Assert.Equal("bad-query", bad.Code);
        var meta = await (await anonymous.GetAsync("/open/api/v1/datasets/bus-stops")).OkJsonAsync<OpenDatasetDto>();
        Assert.Equal("1", meta.OpenType);
        Assert.Equal(120, meta.Records);
        Assert.Contains(meta.Items, i => i.ColumnName == "stop_name");
    }

    [Fact]
    public async Task Csv_export_opens_in_a_spreadsheet_with_or_without_bom_and_is_counted_and_audited()
    {
        using var anonymous = server.Anonymous();
        // Earlier tests' counts may still be in memory: written first, so the deltas below are this test's alone.
        await server.App.Services.GetRequiredService<OpenCounterBuffer>().FlushAsync();
        await server.App.Services.GetRequiredService<ExchangeCounterBuffer>().FlushAsync();
        var before = await CountsAsync("bus-routes");
        var exchangesBefore = await PublicExchangesAsync("bus-routes");

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/open/api/v1/datasets/bus-routes")).StatusCode);
        var response = await anonymous.GetAsync("/open/api/v1/datasets/bus-routes/export?format=csv&bom=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("attachment", response.Content.Headers.ContentDisposition?.ToString() ?? "");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes[3..]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(41, lines.Count);
        Assert.StartsWith("route_id,route_name", lines[0]);
        Assert.StartsWith("001,1路,", lines[1]);

        var plain = await (await anonymous.GetAsync("/open/api/v1/datasets/bus-routes/export?format=csv")).Content.ReadAsByteArrayAsync();
        Assert.Equal((byte)'r', plain[0]);
        var xlsx = await anonymous.GetAsync("/open/api/v1/datasets/bus-stops/export?format=xlsx");
        var zip = await xlsx.Content.ReadAsByteArrayAsync();
        Assert.Equal("PK", Encoding.ASCII.GetString(zip[..2]));
        var json = await JsonAsync(await anonymous.GetAsync("/open/api/v1/datasets/bus-stops/export?format=json"));
        Assert.Equal(120, json.GetProperty("rows").GetArrayLength());

        // No explicit flush: the buffer's own timer writes the sums within a second or so.
        var expected = before with { Views = before.Views + 1, Downloads = before.Downloads + 2 };
        var after = await EventuallyAsync(() => CountsAsync("bus-routes"), c => c == expected);
        Assert.Equal(expected, after);
        var exchanges = await EventuallyAsync(() => PublicExchangesAsync("bus-routes"), e => e.Calls == exchangesBefore.Calls + 2);
        Assert.Equal(exchangesBefore.Calls + 2, exchanges.Calls);
        Assert.Equal(exchangesBefore.Rows + 80, exchanges.Rows);
        Assert.True(exchanges.Bytes > exchangesBefore.Bytes);
        Assert.Equal(expected, (await (await anonymous.GetAsync("/open/api/v1/datasets/bus-routes")).OkJsonAsync<OpenDatasetDto>()).Counts);
        var audit = await server.AuditAsync("open.export");
        Assert.True(audit.Count(a => a.TargetId == "bus-routes") >= 2);
    }

    [Fact]
    public async Task A_stopping_node_writes_its_counts_before_it_ends()
    {
        await server.App.Services.GetRequiredService<OpenCounterBuffer>().FlushAsync();
        var before = await CountsAsync("bus-stops");
        var node = await server.StartHostAsync();
        using (var client = new HttpClient { BaseAddress = new Uri(LianqiaoServer.UrlOf(node)) })
        {
            for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/open/api/v1/datasets/bus-stops")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/open/api/v1/datasets/bus-stops/records?$limit=5")).StatusCode);
        }
        await node.StopAsync();
        // Read at once, no waiting: the stop itself wrote what the node had counted.
        Assert.Equal(before with { Views = before.Views + 3, ApiCalls = before.ApiCalls + 1 }, await CountsAsync("bus-stops"));
    }

    [Fact]
    public async Task A_retired_dataset_leaves_the_open_api_within_a_second()
    {
        // The open API reuses a catalog entry for up to a second per node (OpenReads.CatalogCacheFor): a retire must still hold by then.
        const string slug = "open-test-retired";
        using var admin = await server.AsAdminAsync();
        await OpenDataServer.PublishAsync(admin, server.Resource(slug, "1", "general", "L1"));
        var load = await (await admin.PostAsync($"/api/v1/datasets/{slug}/loads?mode=replace",
            new StringContent("code,title,hotline,person\nC1,标题,13800130001,王五\n", Encoding.UTF8, "text/csv"))).OkJsonAsync<Lianqiao.Datasets.LoadDto>();
        Assert.Equal(1, load.RowsAccepted);
        using var anonymous = server.Anonymous();
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/open/api/v1/datasets/{slug}/records")).StatusCode);

        await (await admin.PostJsonAsync($"/api/v1/catalog/{slug}/retire", new Lianqiao.Catalog.CommentInput("停用"))).OkJsonAsync<Lianqiao.Catalog.ResourceDto>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        HttpStatusCode status;
        while ((status = (await anonymous.GetAsync($"/open/api/v1/datasets/{slug}/records")).StatusCode) == HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(50);
        Assert.Equal(HttpStatusCode.NotFound, status);
        // One second of cache, plus this loaded test box's request time.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"still served {clock.Elapsed.TotalMilliseconds:0} ms after the retire");
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/open/api/v1/datasets/{slug}/export?format=csv")).StatusCode);
    }

    [Fact]
    public async Task Never_open_resources_appear_nowhere_public()
    {
        using var anonymous = server.Anonymous();
        foreach (var slug in OpenDataServer.Hidden)
        {
            foreach (var url in new[] { $"/open/api/v1/datasets/{slug}", $"/open/api/v1/datasets/{slug}/records", $"/open/api/v1/datasets/{slug}/export?format=csv" })
                Assert.Equal("not-found", (await (await anonymous.GetAsync(url)).ProblemAsync(404)).Code);
            Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/3/action/package_show?id={slug}")).StatusCode);
        }
        var developer = server.WithKey(await server.RegisterDeveloperAsync("hidden-check@example.org"));
        Assert.Equal(404, (int)(await developer.GetAsync("/open/api/v1/datasets/open-test-l4/records")).StatusCode);

        var search = await anonymous.GetStringAsync("/open/api/v1/datasets?pageSize=100&q=" + Q("开放测试"));
        Assert.Contains("open-test-masked", search);
        foreach (var slug in OpenDataServer.Hidden) Assert.DoesNotContain(slug, search);
        var ckan = await anonymous.GetStringAsync("/api/3/action/package_list");
        var dcat = await anonymous.GetStringAsync("/catalog.jsonld");
        foreach (var slug in OpenDataServer.Hidden)
        {
            Assert.DoesNotContain(slug, ckan);
            Assert.DoesNotContain(slug, dcat);
        }
    }

    [Fact]
    public async Task Masked_items_leave_masked_and_closed_items_not_at_all()
    {
        using var anonymous = server.Anonymous();
        var meta = await (await anonymous.GetAsync("/open/api/v1/datasets/open-test-masked")).OkJsonAsync<OpenDatasetDto>();
        Assert.Equal(["code", "title", "hotline"], meta.Items.Select(i => i.ColumnName).ToArray());
        Assert.True(meta.Items.Single(i => i.ColumnName == "hotline").Masked);

        var csv = await anonymous.GetStringAsync("/open/api/v1/datasets/open-test-masked/export?format=csv");
        Assert.DoesNotContain("person", csv);
        Assert.DoesNotContain("王", csv);
        Assert.DoesNotContain("13800130001", csv);
        Assert.Contains("138******01", csv);
        var json = await anonymous.GetStringAsync("/open/api/v1/datasets/open-test-masked/records");
        Assert.DoesNotContain("13800130001", json);
        Assert.Equal("bad-query", (await (await anonymous.GetAsync("/open/api/v1/datasets/open-test-masked/records?$select=person")).ProblemAsync(400)).Code);
        Assert.Equal("bad-query", (await (await anonymous.GetAsync("/open/api/v1/datasets/open-test-masked/records?$where=" + Q("hotline = '13800130001'"))).ProblemAsync(400)).Code);
    }

    [Fact]
    public async Task Developer_registers_by_mail_gets_a_key_and_sees_usage_with_rate_limit_headers()
    {
        using var anonymous = server.Anonymous();
        Assert.Equal("validation", (await (await anonymous.PostJsonAsync("/open/api/v1/developers", new { email = "not-an-address" })).ProblemAsync(400)).Code);
        var key = await server.RegisterDeveloperAsync("new-dev@example.org");
        Assert.Equal("invalid-token", (await (await anonymous.PostJsonAsync("/open/api/v1/developers/verify", new { token = "0000" })).ProblemAsync(400)).Code);

        using var developer = server.WithKey(key);
        var response = await developer.GetAsync("/open/api/v1/datasets/bus-routes/records?$limit=2");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(OpenDataServer.CallsPerDay.ToString(), response.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal((OpenDataServer.CallsPerDay - 1).ToString(), response.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.True(long.Parse(response.Headers.GetValues("X-RateLimit-Reset").Single()) > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var me = await (await developer.GetAsync("/open/api/v1/me")).OkJsonAsync<DeveloperUsageDto>();
        Assert.Equal("new-dev@example.org", me.Email);
        Assert.Equal(2, me.CallsToday);
        Assert.Single(me.Keys);
    }

    [Fact]
    public async Task Developer_quota_answers_429_with_headers_when_used_up()
    {
        using var developer = server.WithKey(await server.RegisterDeveloperAsync("quota-dev@example.org"));
        for (var i = 0; i < OpenDataServer.CallsPerDay; i++)
            Assert.Equal(HttpStatusCode.OK, (await developer.GetAsync("/open/api/v1/stats")).StatusCode);
        var refused = await developer.GetAsync("/open/api/v1/datasets/bus-routes/records");
        Assert.Equal("quota-exceeded", (await refused.ProblemAsync(429)).Code);
        Assert.Equal("0", refused.Headers.GetValues("X-RateLimit-Remaining").Single());
        Assert.Equal(OpenDataServer.CallsPerDay.ToString(), refused.Headers.GetValues("X-RateLimit-Limit").Single());
        // Another key, another quota: anonymous reads still work too.
        Assert.Equal(HttpStatusCode.OK, (await server.Anonymous().GetAsync("/open/api/v1/datasets/bus-routes/records")).StatusCode);
    }

    [Fact]
    public async Task Conditional_dataset_is_read_after_the_provider_approves_the_developers_application()
    {
        using var anonymous = server.Anonymous();
        Assert.Equal("developer-grant-required", (await (await anonymous.GetAsync("/open/api/v1/datasets/open-test-conditional/records")).ProblemAsync(403)).Code);
        var meta = await (await anonymous.GetAsync("/open/api/v1/datasets/open-test-conditional")).OkJsonAsync<OpenDatasetDto>();
        Assert.Equal("2", meta.OpenType);
        Assert.Contains(meta.Items, i => i.ColumnName == "person" && i.Masked);

        using var developer = server.WithKey(await server.RegisterDeveloperAsync("conditional-dev@example.org"));
        Assert.Equal("no-grant", (await (await developer.GetAsync("/open/api/v1/datasets/open-test-conditional/records")).ProblemAsync(403)).Code);
        Assert.Equal("validation", (await (await developer.PostJsonAsync("/open/api/v1/applications",
            new { resourceId = "open-test-conditional", purpose = "研究", scenario = "学术" })).ProblemAsync(400)).Code);
        Assert.Equal("not-conditional", (await (await developer.PostJsonAsync("/open/api/v1/applications",
            new { resourceId = "bus-routes", purpose = "研究", scenario = "学术", acceptAgreement = true })).ProblemAsync(409)).Code);
        var application = await (await developer.PostJsonAsync("/open/api/v1/applications",
            new { resourceId = "open-test-conditional", purpose = "城市研究", scenario = "学术论文", acceptAgreement = true })).OkJsonAsync<OpenApplicationDto>();
        Assert.Equal(OpenApplicationStatus.Pending, application.Status);
        Assert.Equal(["code", "title", "hotline", "person"], application.Fields.ToArray());

        using var consumer = await server.AsUserAsync("t-consumer");
        Assert.Equal(403, (int)(await consumer.PostJsonAsync($"/api/v1/open-applications/{application.Id}/approve", new { })).StatusCode);
        using var approver = await server.AsUserAsync("t-approver");
        var pending = await (await approver.GetAsync("/api/v1/open-applications/?status=Pending")).OkJsonAsync<List<OpenApplicationDto>>();
        Assert.Contains(pending, a => a.Id == application.Id);
        var approved = await (await approver.PostJsonAsync($"/api/v1/open-applications/{application.Id}/approve", new { comment = "同意" })).OkJsonAsync<OpenApplicationDto>();
        Assert.Equal(OpenApplicationStatus.Approved, approved.Status);
        Assert.NotNull(approved.GrantId);
        Assert.Equal(409, (int)(await approver.PostJsonAsync($"/api/v1/open-applications/{application.Id}/refuse", new { reason = "x" })).StatusCode);

        var body = await JsonAsync(await developer.GetAsync("/open/api/v1/datasets/open-test-conditional/records?$order=code"));
        var first = body.GetProperty("rows")[0];
        Assert.Equal("C1", first.GetProperty("code").GetString());
        Assert.DoesNotContain($"王{OpenDataServer.Marker}1", body.ToString());
        Assert.StartsWith("王", first.GetProperty("person").GetString());
        // Other developers still have no grant.
        using var other = server.WithKey(await server.RegisterDeveloperAsync("other-dev@example.org"));
        Assert.Equal(403, (int)(await other.GetAsync("/open/api/v1/datasets/open-test-conditional/records")).StatusCode);
        Assert.Contains(await server.AuditAsync("open.read"), a => a.TargetId == "open-test-conditional");
    }

    [Fact]
    public async Task Showcase_entries_appear_after_admin_review_and_feedback_reaches_admins()
    {
        using var developer = server.WithKey(await server.RegisterDeveloperAsync("showcase-dev@example.org"));
        Assert.Equal("validation", (await (await developer.PostJsonAsync("/open/api/v1/showcase",
            new { name = "x", description = "y", link = "javascript:alert(1)", datasets = new[] { "bus-routes" } })).ProblemAsync(400)).Code);
        Assert.Equal("validation", (await (await developer.PostJsonAsync("/open/api/v1/showcase",
            new { name = "x", description = "y", link = "https://example.org", datasets = new[] { "open-test-core" } })).ProblemAsync(400)).Code);
        var entry = await (await developer.PostJsonAsync("/open/api/v1/showcase",
            new { name = "公交到站提醒", description = "用公交线路和站点数据做的提醒小程序", link = "https://example.org/bus", datasets = new[] { "bus-routes", "bus-stops" } }))
            .OkJsonAsync<ShowcaseDto>();
        using var anonymous = server.Anonymous();
        Assert.DoesNotContain(await (await anonymous.GetAsync("/open/api/v1/showcase")).OkJsonAsync<List<ShowcaseDto>>(), s => s.Id == entry.Id);
        using var admin = await server.AsAdminAsync();
        await (await admin.PostJsonAsync($"/api/v1/open/showcase/{entry.Id}/review", new { approve = true })).OkJsonAsync<ShowcaseDto>();
        Assert.Contains(await (await anonymous.GetAsync("/open/api/v1/showcase?dataset=bus-stops")).OkJsonAsync<List<ShowcaseDto>>(), s => s.Id == entry.Id);

        await (await anonymous.PostJsonAsync("/open/api/v1/feedback", new { kind = "data-request", text = "希望开放公交实时位置", contact = "a@example.org" })).OkJsonAsync<FeedbackDto>();
        Assert.False((await anonymous.GetAsync("/api/v1/open/feedback")).IsSuccessStatusCode);
        Assert.Contains(await (await admin.GetAsync("/api/v1/open/feedback")).OkJsonAsync<List<FeedbackDto>>(), f => f.Text == "希望开放公交实时位置");
    }

    [Fact]
    public async Task Open_rate_is_full_for_admins_and_a_summary_for_the_public()
    {
        // The daily job's snapshot is the trend.
        await server.InScopeAsync(sp => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<OpenCatalog>(sp).SnapshotAsync(default));
        using var admin = await server.AsAdminAsync();
        var full = await (await admin.GetAsync("/api/v1/open-rate")).OkJsonAsync<OpenRateDto>();
        Assert.True(full.Total.Eligible > 0 && full.Total.Opened > 0 && full.Total.Opened <= full.Total.Eligible);
        Assert.Contains(full.Departments, d => d.Label == "市交通运输局" && d.Opened >= 3);
        Assert.Contains(full.Topics, t => t.Key == "交通");
        Assert.NotNull(full.NotOpened);
        Assert.Contains(full.NotOpened!, g => g.Id == "open-test-closed");
        Assert.DoesNotContain(full.NotOpened!, g => g.Id is "open-test-core" or "open-test-l4");
        Assert.False(string.IsNullOrWhiteSpace(full.Definition));
        var point = Assert.Single(full.Trend);
        Assert.Equal(full.Total.Rate, point.Rate);

        using var anonymous = server.Anonymous();
        Assert.False((await anonymous.GetAsync("/api/v1/open-rate")).IsSuccessStatusCode);
        var summary = await (await anonymous.GetAsync("/open/api/v1/open-rate")).OkJsonAsync<OpenRateDto>();
        Assert.Null(summary.NotOpened);
        Assert.Equal(full.Total, summary.Total);
    }
}
