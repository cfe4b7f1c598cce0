using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Datasets;

public sealed partial class LoadWizardPageTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    /// <summary>Uploads through the dataset page's form; returns the preview page's address.</summary>
    async Task<string> UploadAsync(HttpClient steward, string resourceId, byte[] file, string fileName, string mode = "append")
    {
        var token = TokenField().Match(await steward.GetStringAsync($"/datasets/{resourceId}")).Groups[1].Value;
        Assert.NotEmpty(token);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new StringContent(mode), "mode" },
            { new ByteArrayContent(file), "file", fileName },
        };
        var posted = await steward.PostAsync($"/datasets/{resourceId}/upload", form);
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var preview = posted.Headers.Location!.ToString();
        Assert.Matches($"^/datasets/{resourceId}/uploads/[0-9a-f]{{32}}$", preview);
        return preview;
    }

    /// <summary>Posts the mapping form as a browser would; returns where the server sends the steward.</summary>
    static async Task<string> RunAsync(HttpClient steward, string previewUrl, string previewHtml, IEnumerable<string> map, string mode = "append")
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("__RequestVerificationToken", TokenField().Match(previewHtml).Groups[1].Value), new("mode", mode),
        };
        fields.AddRange(map.Select(m => new KeyValuePair<string, string>("map", m)));
        var posted = await steward.PostAsync(previewUrl + "/run", new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        return posted.Headers.Location!.ToString();
    }

    /// <summary>Follows the load page's self-refresh until the load has ended, as a browser would.</summary>
    static async Task<string> FinishedReportAsync(HttpClient steward, string loadUrl)
    {
        for (var i = 0; i < 300; i++)
        {
            var page = await steward.GetStringAsync(loadUrl);
            if (!page.Contains("http-equiv=\"refresh\"", StringComparison.Ordinal)) return page;
            await Task.Delay(200);
        }
        throw new TimeoutException("the load page kept refreshing");
    }

    static IEnumerable<string> Selected(string previewHtml) =>
        SelectField().Matches(previewHtml).Select(m => SelectedOption().Match(m.Value) is { Success: true } s ? s.Groups[1].Value : "?");

    [Fact]
    public async Task Steward_previews_maps_runs_and_reads_counts_scores_and_quarantine()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "pop-page", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var born = new DateOnly(1990, 3, 3);
        var previewUrl = await UploadAsync(steward, "pop-page", Encoding.UTF8.GetBytes(Csv(Row(1, born), Row(2, born), Row(3, born, id: "320706199003030019"))), "人口.csv");

        var preview = await steward.GetStringAsync(previewUrl);
        Assert.Contains("id=\"upload-encoding\">UTF-8<", preview, StringComparison.Ordinal);
        Assert.Contains("320706199003030019", preview, StringComparison.Ordinal);
        // Every header matches an item by column name, so the form proposes the identity mapping.
        Assert.Equal(Header.Split(','), Selected(preview));

        var loadUrl = await RunAsync(steward, previewUrl, preview, Selected(preview));
        Assert.Matches("^/datasets/pop-page/loads/[0-9a-f-]{36}$", loadUrl);
        var report = await FinishedReportAsync(steward, loadUrl);
        Assert.Contains("id=\"rows-read\">3<", report, StringComparison.Ordinal);
        Assert.Contains("id=\"rows-accepted\">2<", report, StringComparison.Ordinal);
        Assert.Contains("读取 ✓", report, StringComparison.Ordinal);
        Assert.Contains("完整性", report, StringComparison.Ordinal);
        // The staged file is gone once the load has run.
        Assert.Equal(HttpStatusCode.NotFound, (await steward.GetAsync(previewUrl)).StatusCode);

        var quarantine = await steward.GetStringAsync("/datasets/pop-page/quarantine");
        Assert.Contains("320706199003030019", quarantine, StringComparison.Ordinal);
        using var approver = await server.AsUserAsync("t-approver");
        var masked = await approver.GetStringAsync("/datasets/pop-page/quarantine");
        Assert.DoesNotContain("320706199003030019", masked, StringComparison.Ordinal);
        Assert.Contains("320706********0019", masked, StringComparison.Ordinal);
        Assert.Contains("pop-page", await steward.GetStringAsync("/datasets"), StringComparison.Ordinal);
        // Only the uploader sees the preview.
        Assert.Equal(HttpStatusCode.Forbidden, (await approver.GetAsync(previewUrl)).StatusCode);
    }

    [Fact]
    public async Task A_GB18030_file_with_foreign_headers_loads_after_the_steward_maps_and_ignores_columns()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "pop-map", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var born = new DateOnly(1985, 2, 28);
        var csv = "身份证,名字,性别,生日,手机,住址,户号,备注\n"
            + string.Join("\n", Enumerable.Range(1, 4).Select(i => Row(i, born, name: "𠀀王") + ",内部备注")) + "\n";
        var previewUrl = await UploadAsync(steward, "pop-map", Encoding.GetEncoding("GB18030").GetBytes(csv), "人口.csv");
        var preview = await steward.GetStringAsync(previewUrl);
        Assert.Contains("id=\"upload-encoding\">GB18030", preview, StringComparison.Ordinal);
        // Characters outside the BMP reach the page intact (HTML-escaped as character references).
        Assert.Contains("𠀀王", WebUtility.HtmlDecode(preview), StringComparison.Ordinal);
        Assert.Contains("内部备注", preview, StringComparison.Ordinal);
        // 姓名 and 性别 / 住址 / 户号 match by item name; 身份证, 生日, 手机 and 备注 are for the steward to decide.
        Assert.Equal(["?", "?", "gender", "?", "?", "address", "household_id", "?"], Selected(preview));

        // Undecided columns and a missing key are refused back on the preview, all at once.
        var refused = await RunAsync(steward, previewUrl, preview, Selected(preview));
        Assert.StartsWith(previewUrl + "?error=", refused, StringComparison.Ordinal);
        var again = await steward.GetStringAsync(refused);
        Assert.Contains("id=\"mapping-error\"", again, StringComparison.Ordinal);
        Assert.Contains("第 1 列「身份证」未选择信息项", again, StringComparison.Ordinal);
        Assert.Contains("公民身份号码（id_number）", again, StringComparison.Ordinal);

        var loadUrl = await RunAsync(steward, previewUrl, again, ["id_number", "name", "gender", "birth_date", "phone", "address", "household_id", ""]);
        var report = await FinishedReportAsync(steward, loadUrl);
        Assert.Contains("id=\"rows-read\">4<", report, StringComparison.Ordinal);
        Assert.Contains("id=\"rows-accepted\">4<", report, StringComparison.Ordinal);
        using var client = await server.AsUserAsync("t-steward");
        using var rows = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/api/v1/datasets/pop-map/rows"));
        var stored = rows.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(4, stored.Count);
        Assert.All(stored, r => Assert.Equal("𠀀王", r.GetProperty("name").GetString()));
        Assert.All(stored, r => Assert.DoesNotContain(r.EnumerateObject(), p => p.Value.ToString() == "内部备注"));
    }

    [Fact]
    public async Task The_load_page_of_a_running_load_shows_progress_and_refreshes_itself()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "pop-progress", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var loadId = Guid.CreateVersion7();
        await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<LianqiaoDb>();
            db.Add(new DatasetLoad
            {
                Id = loadId, ResourceId = "pop-progress", DepartmentId = server.OwnDepartmentId, TableName = "t", Mode = "append", Format = "csv",
                Node = "elsewhere:1:x", StartedAt = DateTimeOffset.UtcNow, HeartbeatAt = DateTimeOffset.UtcNow, RowsRead = 123_456, Progress = 0.42,
            });
            return await db.SaveChangesAsync();
        });
        var page = await steward.GetStringAsync($"/datasets/pop-progress/loads/{loadId}");
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"2\"", page, StringComparison.Ordinal);
        Assert.Contains("<progress max=\"100\" value=\"42\"", page, StringComparison.Ordinal);
        Assert.Contains("123,456", page, StringComparison.Ordinal);
        var api = await steward.GetStringAsync($"/api/v1/datasets/pop-progress/loads/{loadId}");
        Assert.Contains("\"progress\":0.42", api, StringComparison.Ordinal);

        await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DatasetLoad>().Where(l => l.Id == loadId)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Status, LoadStatus.Failed)));
        Assert.DoesNotContain("http-equiv=\"refresh\"", await steward.GetStringAsync($"/datasets/pop-progress/loads/{loadId}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_load_refused_before_it_starts_is_explained_on_its_page()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "pop-busy", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var born = new DateOnly(1970, 1, 1);
        await (await LoadCsvAsync(steward, "pop-busy", Csv(Row(1, born)))).OkJsonAsync<LoadDto>();
        // Another node holds the resource's load lock.
        await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DatasetTable>().Where(t => t.ResourceId == "pop-busy")
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RunningLoadId, Guid.NewGuid())));
        try
        {
            var previewUrl = await UploadAsync(steward, "pop-busy", Encoding.UTF8.GetBytes(Csv(Row(2, born))), "人口.csv");
            var preview = await steward.GetStringAsync(previewUrl);
            var page = await FinishedReportAsync(steward, await RunAsync(steward, previewUrl, preview, Selected(preview)));
            Assert.Contains("id=\"load-refused\"", page, StringComparison.Ordinal);
            Assert.Contains("该资源正在导入", page, StringComparison.Ordinal);
            Assert.Contains(await server.AuditAsync("dataset.load"), a => a.TargetId == "pop-busy" && a.Outcome == "failure");
        }
        finally
        {
            await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DatasetTable>().Where(t => t.ResourceId == "pop-busy")
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.RunningLoadId, (Guid?)null)));
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    [GeneratedRegex("<select name=\"map\"[^>]*>.*?</select>", RegexOptions.Singleline)]
    private static partial Regex SelectField();

    [GeneratedRegex("<option value=\"([^\"]*)\" selected")]
    private static partial Regex SelectedOption();
}
