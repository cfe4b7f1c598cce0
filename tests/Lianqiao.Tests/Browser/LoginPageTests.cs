using Lianqiao.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit;

namespace Lianqiao.Tests.Browser;

public sealed class LoginPageTests(LianqiaoServer server, BrowserFixture browser)
    : IClassFixture<LianqiaoServer>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Admin_signs_in_sees_the_home_page_and_signs_out()
    {
        var page = await browser.Browser.NewPageAsync();
        var failed = new List<string>();
        page.Response += (_, r) => { if (r.Status >= 400) failed.Add($"{r.Status} {r.Url}"); };

        await page.GotoAsync(server.BaseUrl + "/");
        Assert.EndsWith("/login?ReturnUrl=%2F", page.Url);
        await page.FillAsync("#userName", "admin");
        await page.FillAsync("#password", "not-the-password");
        await page.ClickAsync("#login");
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("用户名或密码错误");

        await page.FillAsync("#userName", "admin");
        await page.FillAsync("#password", server.AdminPassword);
        await page.ClickAsync("#login");
        await Assertions.Expect(page.Locator("#welcome")).ToContainTextAsync("欢迎");
        await Assertions.Expect(page.Locator("#current-user")).ToHaveTextAsync("admin");
        await Assertions.Expect(page.Locator(".tile strong").First).Not.ToHaveTextAsync("0");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "lianqiao-home.png"), FullPage = true });

        await page.GotoAsync(server.BaseUrl + "/admin");
        await Assertions.Expect(page.Locator("#apps")).ToContainTextAsync("人社业务系统");
        await page.Locator("tr", new() { HasText = "人社业务系统" }).Locator("button.issue-key").ClickAsync();
        await Assertions.Expect(page.Locator("#issued-key code")).ToContainTextAsync("lq_");

        await page.ClickAsync("#logout");
        await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();
        Assert.DoesNotContain(failed, f => !f.StartsWith("401", StringComparison.Ordinal));
    }
}
