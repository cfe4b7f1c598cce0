using Lianqiao.Audit;
using Lianqiao.Organizations;
using Lianqiao.Tests.Sharing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit;

namespace Lianqiao.Tests.Browser;

/// <summary>
/// Issue 5's pages in headless Chromium: 人社's consumer applies on the resource page and the police approver grants it in
/// the inbox; 人社 previews what its application receives under the police's grant (masked, audited), objects to a
/// record; the police steward answers in the objections inbox; 人社 closes it.
/// </summary>
public sealed class SharingPagesTests(DataApiFixture fixture, BrowserFixture browser) : IClassFixture<DataApiFixture>, IClassFixture<BrowserFixture>
{
    Infrastructure.LianqiaoServer Server => fixture.Server;

    /// <summary>A browser context signed in as a demo persona (a fresh password, as an admin's reset would give).</summary>
    async Task<(IBrowserContext Context, IPage Page)> SignInAsync(string userName)
    {
        var password = await Server.InScopeAsync(sp => sp.GetRequiredService<AccountService>()
            .ResetPasswordAsync(userName, new AuditEntry("user.password-reset") { ActorKind = "System", ActorName = "test" }));
        var context = await browser.Browser.NewContextAsync(new() { JavaScriptEnabled = false, Locale = "zh-CN" });
        var page = await context.NewPageAsync();
        await page.GotoAsync(Server.BaseUrl + "/login");
        await page.FillAsync("#userName", userName);
        await page.FillAsync("#password", password!);
        await page.ClickAsync("#login");
        await Assertions.Expect(page.Locator("#current-user")).ToHaveTextAsync(userName);
        return (context, page);
    }

    [Fact]
    public async Task Consumer_previews_masked_rows_objects_and_the_provider_steward_corrects_in_the_inbox()
    {
        var (hrssContext, hrss) = await SignInAsync("hrss-consumer");
        await using var _ = hrssContext;
        var previewsBefore = (await Server.AuditAsync("data.preview")).Count;
        var correctionsBefore = (await Server.AuditAsync("objection.correct")).Count;

        await hrss.GotoAsync(Server.BaseUrl + "/sharing");
        await hrss.Locator($"a.preview[href='/sharing/grants/{fixture.GrantId}/preview']").ClickAsync();
        await Assertions.Expect(hrss.Locator("#preview tbody tr")).ToHaveCountAsync(20);
        await Assertions.Expect(hrss.Locator("#preview thead")).ToContainTextAsync("id_number（已脱敏）");
        await Assertions.Expect(hrss.Locator("#preview thead")).Not.ToContainTextAsync("birth_date（已脱敏）");
        var html = await hrss.ContentAsync();
        // Masked as the application receives it: no real ID number or phone, the unmasked birth date as is; no ungranted field.
        Assert.DoesNotContain(fixture.People[0].Id, html);
        Assert.DoesNotContain(fixture.People[0].Phone, html);
        Assert.Contains(fixture.People[0].Birth, html);
        Assert.DoesNotContain("household_id", html);
        Assert.Equal(previewsBefore + 1, (await Server.AuditAsync("data.preview")).Count);

        // Filtering on the unmasked field works; on a masked one it is refused, as in the API.
        await hrss.FillAsync("#where", "birth_date >= '1990-01-01'");
        await hrss.ClickAsync("#run");
        var births = await hrss.Locator("#preview tbody tr td:nth-child(3)").AllTextContentsAsync();
        Assert.NotEmpty(births);
        Assert.All(births, b => Assert.True(string.CompareOrdinal(b, "1990-01-01") >= 0, b));
        await hrss.FillAsync("#where", $"phone = '{fixture.People[0].Phone}'");
        await hrss.ClickAsync("#run");
        await Assertions.Expect(hrss.Locator("#problem")).ToContainTextAsync("查询参数有误");
        await Assertions.Expect(hrss.Locator("#preview")).ToHaveCountAsync(0);

        // An objection without a reason lists the error; with one it reaches the provider.
        var person = fixture.People[1];
        await hrss.FillAsync("#key-id_number", person.Id);
        await hrss.SelectOptionAsync("#field", "phone");
        await hrss.ClickAsync("#raise");
        await Assertions.Expect(hrss.Locator("#raise-errors")).ToContainTextAsync("请说明异议理由");
        await hrss.FillAsync("#key-id_number", person.Id);
        await hrss.SelectOptionAsync("#field", "phone");
        await hrss.FillAsync("#reason", "电话号码已变更");
        await hrss.FillAsync("#proposed", "13900001111");
        await hrss.ClickAsync("#raise");
        await Assertions.Expect(hrss.Locator("#raised")).ToContainTextAsync("异议已提交");
        await hrss.GotoAsync(Server.BaseUrl + "/sharing/objections");
        var mine = hrss.Locator("#mine tbody tr", new() { HasText = person.Id });
        await Assertions.Expect(mine).ToContainTextAsync("已提出");

        var (policeContext, police) = await SignInAsync("police-steward");
        await using var __ = policeContext;
        await police.GotoAsync(Server.BaseUrl + "/sharing/objections");
        var row = police.Locator("#inbox tbody tr", new() { HasText = person.Id });
        await Assertions.Expect(row).ToContainTextAsync("电话号码已变更");
        await Assertions.Expect(row).ToContainTextAsync("市人社局");
        await row.Locator("form.step-reject button").ClickAsync();
        await Assertions.Expect(police.Locator("#message")).ToContainTextAsync("驳回须说明理由");
        await row.Locator("form.step-accept button").ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("已受理");
        await row.Locator("form.step-verify button").ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("已核实");
        // The proposed value is offered as the correction; the history keeps the value it replaced.
        await Assertions.Expect(row.Locator("form.step-correct input[name=NewValue]")).ToHaveValueAsync("13900001111");
        await row.Locator("form.step-correct input[name=Note]").FillAsync("已电话核实");
        await row.Locator("form.step-correct button").ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("已更正");
        await Assertions.Expect(row.Locator("details.history")).ToContainTextAsync($"{person.Phone} → 13900001111");
        await Assertions.Expect(row.Locator("form.step-close")).ToHaveCountAsync(1);

        await hrss.ReloadAsync();
        await Assertions.Expect(mine).ToContainTextAsync("已更正");
        await mine.Locator("form.step-close button").ClickAsync();
        await Assertions.Expect(mine).ToContainTextAsync("已关闭");
        Assert.Equal(correctionsBefore + 1, (await Server.AuditAsync("objection.correct")).Count);
    }

    [Fact]
    public async Task Consumer_applies_on_the_resource_page_and_the_provider_approver_grants_it_in_the_inbox()
    {
        // A purpose of its own picks this application out of the inbox.
        var purpose = "医保待遇资格核验 " + Guid.NewGuid().ToString("N")[..8];
        var approvalsBefore = (await Server.AuditAsync("share-request.approve")).Count;
        var (hrssContext, hrss) = await SignInAsync("hrss-consumer");
        await using var _ = hrssContext;
        await hrss.GotoAsync(Server.BaseUrl + "/sharing/apply?resource=population-basic");
        await Assertions.Expect(hrss.Locator("#app")).ToContainTextAsync("人社业务系统");
        await hrss.FillAsync("#purpose", purpose);
        await hrss.FillAsync("#basis", "《社会保险法》");
        await hrss.ClickAsync("#send");
        // 有条件共享: submitted with a deadline, not granted.
        await Assertions.Expect(hrss.Locator("#created")).ToContainTextAsync("已提交");

        var (policeContext, police) = await SignInAsync("police-approver");
        await using var __ = policeContext;
        await police.GotoAsync(Server.BaseUrl + "/sharing");
        var row = police.Locator("#inbox tbody tr", new() { HasText = purpose });
        await Assertions.Expect(row).ToContainTextAsync("人社业务系统");
        await Assertions.Expect(row).ToContainTextAsync("《社会保险法》");
        await row.Locator("button.approve").ClickAsync();
        await Assertions.Expect(police.Locator("#message")).ToContainTextAsync("已同意，授权已生效");
        await Assertions.Expect(police.Locator("#inbox tbody tr", new() { HasText = purpose })).ToHaveCountAsync(0);

        var approvals = await Server.AuditAsync("share-request.approve");
        Assert.Equal(approvalsBefore + 1, approvals.Count);
        var grants = await Server.InScopeAsync(sp => sp.GetRequiredService<Lianqiao.Data.LianqiaoDb>().Set<Lianqiao.Sharing.Grant>()
            .Where(g => g.ResourceId == "population-basic").ToListAsync());
        Assert.Contains(grants, g => g.Id != fixture.GrantId && g.Fields.Contains("id_number"));
    }

    [Fact]
    public async Task Preview_is_only_for_the_consuming_department()
    {
        // The provider's steward sees the grant in its list but cannot look through the consumer's eyes.
        var (context, police) = await SignInAsync("police-steward");
        await using var _ = context;
        var response = await police.GotoAsync($"{Server.BaseUrl}/sharing/grants/{fixture.GrantId}/preview");
        Assert.Equal(404, response!.Status);
        await Assertions.Expect(police.Locator("#preview")).ToHaveCountAsync(0);
        await police.GotoAsync(Server.BaseUrl + "/sharing");
        await Assertions.Expect(police.Locator($"a.preview[href='/sharing/grants/{fixture.GrantId}/preview']")).ToHaveCountAsync(0);
    }
}
