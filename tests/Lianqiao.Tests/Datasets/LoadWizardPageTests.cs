using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Lianqiao.Tests.Infrastructure;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Datasets;

public sealed partial class LoadWizardPageTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    [Fact]
    public async Task Steward_uploads_through_the_wizard_and_reads_counts_scores_and_quarantine()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "pop-page", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var page = await steward.GetStringAsync("/datasets/pop-page");
        var token = TokenField().Match(page).Groups[1].Value;
        Assert.NotEmpty(token);

        var born = new DateOnly(1990, 3, 3);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new StringContent("append"), "mode" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(Csv(Row(1, born), Row(2, born), Row(3, born, id: "320706199003030019")))), "file", "人口.csv" },
        };
        var posted = await steward.PostAsync("/datasets/pop-page/upload", form);
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var report = await steward.GetStringAsync(posted.Headers.Location!.ToString());
        Assert.Contains("id=\"rows-read\">3<", report, StringComparison.Ordinal);
        Assert.Contains("id=\"rows-accepted\">2<", report, StringComparison.Ordinal);
        Assert.Contains("读取 ✓", report, StringComparison.Ordinal);
        Assert.Contains("完整性", report, StringComparison.Ordinal);

        var quarantine = await steward.GetStringAsync("/datasets/pop-page/quarantine");
        Assert.Contains("320706199003030019", quarantine, StringComparison.Ordinal);
        using var approver = await server.AsUserAsync("t-approver");
        var masked = await approver.GetStringAsync("/datasets/pop-page/quarantine");
        Assert.DoesNotContain("320706199003030019", masked, StringComparison.Ordinal);
        Assert.Contains("320706********0019", masked, StringComparison.Ordinal);
        Assert.Contains("pop-page", await steward.GetStringAsync("/datasets"), StringComparison.Ordinal);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
