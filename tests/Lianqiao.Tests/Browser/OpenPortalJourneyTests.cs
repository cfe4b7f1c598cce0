using System.Net;
using System.Net.Http.Json;
using System.Text;
using Lianqiao.Tests.OpenData;
using Microsoft.Playwright;
using Xunit;

namespace Lianqiao.Tests.Browser;

/// <summary>Journey 7 as a new visitor would try it, in headless Chromium with JavaScript off: nothing on the portal needs it.</summary>
public sealed class OpenPortalJourneyTests(OpenDataServer server, BrowserFixture browser)
    : IClassFixture<OpenDataServer>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Visitor_finds_bus_data_downloads_csv_registers_and_calls_the_open_api()
    {
        await using var context = await browser.Browser.NewContextAsync(new() { JavaScriptEnabled = false, AcceptDownloads = true, Locale = "zh-CN" });
        var page = await context.NewPageAsync();
        var failed = new List<string>();
        page.Response += (_, r) => { if (r.Status >= 400) failed.Add($"{r.Status} {r.Url}"); };

        await page.GotoAsync(server.BaseUrl + "/open");
        await Assertions.Expect(page.Locator("#stat-datasets strong")).Not.ToHaveTextAsync("0");
        await page.FillAsync("#q", "公交");
        await page.ClickAsync("#search");
        await Assertions.Expect(page.Locator("#hits")).ToContainTextAsync("公交线路");
        await Assertions.Expect(page.Locator("#hits")).ToContainTextAsync("公交站点");

        await page.Locator("#facet-format a", new() { HasText = "数据库" }).Or(page.Locator("#facet-format a").First).First.ClickAsync();
        Assert.Contains("format=", page.Url);
        await page.GotoAsync(server.BaseUrl + "/open/datasets?q=" + Uri.EscapeDataString("公交"));
        await page.Locator("#facet-topic a", new() { HasText = "交通" }).ClickAsync();
        Assert.Contains("topic=", page.Url);
        await page.Locator("#hits a.hit-title", new() { HasText = "公交线路" }).ClickAsync();
        await Assertions.Expect(page.Locator("#dataset-name")).ToHaveTextAsync("公交线路");
        await Assertions.Expect(page.Locator("#preview tbody tr")).ToHaveCountAsync(10);
        await Assertions.Expect(page.Locator("#records")).ToHaveTextAsync("40");

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-csv-bom"));
        var path = await download.PathAsync();
        var bytes = await File.ReadAllBytesAsync(path!);
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes[3..]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(41, lines.Length);
        Assert.StartsWith("route_id,route_name,origin,destination", lines[0]);
        Assert.EndsWith(".csv", download.SuggestedFilename);

        await page.ClickAsync("#nav-developer");
        await page.FillAsync("#Email", "visitor@example.org");
        await page.FillAsync("#DisplayName", "市民开发者");
        await page.ClickAsync("#register");
        await Assertions.Expect(page.Locator("#mail-sent")).ToBeVisibleAsync();
        await page.ClickAsync("#mail-sink");
        await page.Locator("article.mail", new() { HasText = "visitor@example.org" }).First.Locator("a.mail-link").First.ClickAsync();
        await page.ClickAsync("#confirm");
        var key = (await page.Locator("#api-key").TextContentAsync())!.Trim();
        Assert.StartsWith("lq_", key);

        using var client = server.WithKey(key);
        var response = await client.GetAsync("/open/api/v1/datasets/bus-stops/records?$limit=3&$select=stop_id,stop_name");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("stop_name", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.Contains("X-RateLimit-Remaining"));

        await page.GotoAsync(server.BaseUrl + "/open/developer");
        await page.FillAsync("#Key", key);
        await page.ClickAsync("#show-usage");
        await Assertions.Expect(page.Locator("#usage")).ToContainTextAsync("今日已调用 1 次");

        // A conditional dataset: apply on its page, the provider approves, the key then reads it.
        await page.GotoAsync(server.BaseUrl + "/open/datasets/open-test-conditional");
        await page.ClickAsync("#apply-toggle");
        await page.FillAsync("#ApplyKey", key);
        await page.FillAsync("#Purpose", "研究公交可达性");
        await page.FillAsync("#Scenario", "高校课题");
        await page.CheckAsync("#Accept");
        await page.ClickAsync("#apply");
        await Assertions.Expect(page.Locator("#applied")).ToBeVisibleAsync();
        using (var approver = await server.AsUserAsync("t-approver"))
        {
            var pending = await (await approver.GetAsync("/api/v1/open-applications/?status=Pending")).Content.ReadAsStringAsync();
            var id = System.Text.Json.JsonDocument.Parse(pending).RootElement.EnumerateArray()
                .First(a => a.GetProperty("developerName").GetString() == "市民开发者").GetProperty("id").GetString();
            Assert.True((await approver.PostAsync($"/api/v1/open-applications/{id}/approve", JsonContent.Create(new { comment = "同意" }))).IsSuccessStatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/open/api/v1/datasets/open-test-conditional/records")).StatusCode);

        await page.GotoAsync(server.BaseUrl + "/open/showcase");
        await page.FillAsync("#Key", key);
        await page.FillAsync("#Name", "公交出行助手");
        await page.FillAsync("#Description", "用开放的公交线路和站点数据规划出行");
        await page.FillAsync("#Link", "https://example.org/bus-helper");
        await page.FillAsync("#Datasets", "bus-routes,bus-stops");
        await page.ClickAsync("#submit-showcase");
        await Assertions.Expect(page.Locator("#showcase-submitted")).ToBeVisibleAsync();

        await page.GotoAsync(server.BaseUrl + "/open/feedback");
        await page.FillAsync("#Text", "希望开放共享单车停放点数据");
        await page.ClickAsync("#send-feedback");
        await Assertions.Expect(page.Locator("#feedback-saved")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "lianqiao-open.png"), FullPage = true });
        Assert.Empty(failed);
    }
}
