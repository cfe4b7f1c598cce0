using System.Text;
using Lianqiao.Tests.Browser;
using Lianqiao.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Datasets;

public sealed class LoadWizardBrowserTests(LianqiaoServer server, BrowserFixture browser)
    : IClassFixture<LianqiaoServer>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task The_wizard_works_in_a_browser_without_javascript_from_upload_to_report()
    {
        using var admin = await server.AsAdminAsync();
        (await PutSchemaAsync(admin, "pop-browser", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var born = new DateOnly(1988, 8, 8);
        // Header 身份证 is not an item name: the steward maps it by hand.
        // The ID's sequence part repeats every few hundred rows: a new birth date every 400 keeps the keys unique.
        var csv = Csv(Enumerable.Range(1, 3000).Select(i => Row(i, born.AddDays(i / 400))).ToArray()).Replace("id_number,", "身份证,", StringComparison.Ordinal);

        await using var context = await browser.Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();
        await page.GotoAsync(server.BaseUrl + "/login");
        await page.FillAsync("#userName", "admin");
        await page.FillAsync("#password", server.AdminPassword);
        await page.ClickAsync("#login");
        await page.GotoAsync(server.BaseUrl + "/datasets/pop-browser");
        await page.SetInputFilesAsync("#load-file", new FilePayload { Name = "人口.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv) });
        await page.SelectOptionAsync("#load-mode", "replace");
        await page.ClickAsync("#load-submit");

        await Assertions.Expect(page.Locator("#upload-encoding")).ToHaveTextAsync("UTF-8");
        await Assertions.Expect(page.Locator("#preview-rows tbody tr")).ToHaveCountAsync(10);
        var idSelect = page.Locator("select[name=map]").First;
        await Assertions.Expect(idSelect).ToHaveValueAsync("?");
        await Assertions.Expect(page.Locator("select[name=map]").Nth(1)).ToHaveValueAsync("name");
        await Assertions.Expect(page.Locator("#run-mode")).ToHaveValueAsync("replace");
        await idSelect.SelectOptionAsync("id_number");
        await page.ClickAsync("#run-load");

        // The load page refreshes itself (meta refresh) until the load has ended.
        await Assertions.Expect(page.Locator("#counts-add-up")).ToContainTextAsync("✓", new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator("#rows-read")).ToHaveTextAsync("3,000");
        await Assertions.Expect(page.Locator("#rows-accepted")).ToHaveTextAsync("3,000");
        await Assertions.Expect(page.Locator("#load-status")).ToHaveTextAsync("succeeded");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "lianqiao-load-report.png"), FullPage = true });
    }
}
