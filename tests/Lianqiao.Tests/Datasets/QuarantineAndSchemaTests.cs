using System.IO.Compression;
using System.Text;
using Lianqiao.Datasets;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MiniExcelLibs;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Datasets;

public sealed class QuarantineAndSchemaTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    static readonly DateOnly Born = new(1979, 2, 28);

    async Task<HttpClient> StewardWithSchemaAsync(string resourceId)
    {
        var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, resourceId, PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        return steward;
    }

    [Fact]
    public async Task Owning_steward_sees_rejected_rows_whole_other_members_masked_other_departments_not_at_all()
    {
        using var steward = await StewardWithSchemaAsync("pop-mask");
        var badId = "320706197902280019";
        var load = await (await LoadCsvAsync(steward, "pop-mask", Csv(Row(1, Born, name: "欧阳娜娜", id: badId, phone: "13912345678")))).OkJsonAsync<LoadDto>();
        Assert.Equal(1, load.RowsQuarantined);

        var raw = await (await steward.GetAsync("/api/v1/datasets/pop-mask/quarantine")).OkJsonAsync<LoadTests.QuarantinePageBody>();
        Assert.Equal(badId, raw.Items.Single().Raw["id_number"]);
        Assert.False(raw.Items.Single().Masked);

        using var approver = await server.AsUserAsync("t-approver");
        var masked = (await (await approver.GetAsync("/api/v1/datasets/pop-mask/quarantine")).OkJsonAsync<LoadTests.QuarantinePageBody>()).Items.Single();
        Assert.True(masked.Masked);
        Assert.Equal("320706********0019", masked.Raw["id_number"]);
        Assert.StartsWith("欧", masked.Raw["name"], StringComparison.Ordinal);
        Assert.DoesNotContain("阳娜娜", masked.Raw["name"], StringComparison.Ordinal);
        Assert.Equal("139****5678", masked.Raw["phone"]);

        var admin = await server.AsAdminAsync();
        var otherSteward = await MakeOtherStewardAsync(admin);
        (await (await otherSteward.GetAsync("/api/v1/datasets/pop-mask/quarantine")).ProblemAsync(403)).ToString();
    }

    async Task<HttpClient> MakeOtherStewardAsync(HttpClient admin)
    {
        var created = await admin.PostJsonAsync("/api/v1/users", new { userName = "other-steward-" + Guid.NewGuid().ToString("N")[..6], displayName = "其他", departmentId = server.OtherDepartmentId, roles = new[] { "steward" } });
        var body = await created.OkJsonAsync<System.Text.Json.JsonElement>();
        return await server.AsUserAsync(body.GetProperty("user").GetProperty("userName").GetString()!);
    }

    [Fact]
    public async Task Quarantine_export_is_csv_with_formula_guard_and_is_audited()
    {
        using var steward = await StewardWithSchemaAsync("pop-export");
        var evil = Row(1, Born, name: "=HYPERLINK(\"http://x\")", id: "320706197902280019");
        var minus = Row(2, Born, name: "-2+3", id: "320706197902280029");
        (await LoadCsvAsync(steward, "pop-export", Csv(evil, minus))).EnsureSuccessStatusCode();

        var response = await steward.GetAsync("/api/v1/datasets/pop-export/quarantine/export");
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var text = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()).TrimStart('\uFEFF');
        Assert.Contains("\"'=HYPERLINK(\"\"http://x\"\")\"", text, StringComparison.Ordinal);
        Assert.Contains("'-2+3", text, StringComparison.Ordinal);
        Assert.DoesNotContain(",=HYPERLINK", text, StringComparison.Ordinal);
        var audits = await server.AuditAsync("dataset.quarantine.export");
        Assert.Contains(audits, a => a.TargetId == "pop-export");
    }

    [Fact]
    public async Task Xlsx_loads_and_a_zip_bomb_disguised_as_xlsx_is_refused()
    {
        using var steward = await StewardWithSchemaAsync("pop-xlsx");
        var rows = new[]
        {
            new Dictionary<string, object> { ["公民身份号码"] = Id(1, Born), ["姓名"] = "赵六", ["性别"] = "1", ["出生日期"] = new DateTime(1979, 2, 28) },
            new Dictionary<string, object> { ["公民身份号码"] = Id(2, Born), ["姓名"] = "钱七", ["性别"] = "1", ["出生日期"] = new DateTime(1979, 2, 28) },
        };
        using var xlsx = new MemoryStream();
        await xlsx.SaveAsAsync(rows);
        var load = await (await LoadAsync(steward, "pop-xlsx", xlsx.ToArray(), contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")).OkJsonAsync<LoadDto>();
        Assert.Equal(2, load.RowsAccepted);
        Assert.Equal("xlsx", load.Format);

        using var bomb = new MemoryStream();
        using (var zip = new ZipArchive(bomb, ZipArchiveMode.Create, leaveOpen: true))
        {
            await using var entry = await zip.CreateEntry("xl/worksheets/sheet1.xml", CompressionLevel.SmallestSize).OpenAsync();
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 64; i++) await entry.WriteAsync(zeros);
        }
        var problem = await (await LoadAsync(steward, "pop-xlsx", bomb.ToArray(), contentType: "application/octet-stream", format: "xlsx")).ProblemAsync(400);
        Assert.Equal("zip-bomb", problem.Code);
    }

    [Fact]
    public async Task Added_columns_alter_the_table_and_an_incompatible_change_starts_a_new_version_keeping_the_old()
    {
        using var steward = await StewardWithSchemaAsync("pop-evolve");
        (await LoadCsvAsync(steward, "pop-evolve", Csv(Row(1, Born)))).EnsureSuccessStatusCode();

        var schema = System.Text.Json.JsonSerializer.SerializeToNode(PopulationSchema(server.OwnDepartmentId), HttpAssertions.Json)!;
        schema["columns"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{"name":"民族","column":"ethnicity","type":"C","length":2}"""));
        var added = await (await steward.PutJsonAsync("/api/v1/datasets/pop-evolve/schema", schema)).OkJsonAsync<SchemaView>();
        Assert.Equal("added ethnicity", added.Change);
        Assert.Equal(1, added.TableVersion);
        Assert.Equal(1, added.LiveRows);

        schema["columns"]![6]!["type"] = "I"; // household_id: text → integer cannot be altered in place safely
        var changed = await (await steward.PutJsonAsync("/api/v1/datasets/pop-evolve/schema", schema)).OkJsonAsync<SchemaView>();
        Assert.Equal(2, changed.TableVersion);
        Assert.Equal(["ds_pop_evolve_v1"], changed.RetiredTables);
        Assert.Equal("ds_pop_evolve_v2", changed.TableName);
        var v1Rows = await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Lianqiao.Data.LianqiaoDb>();
            var conn = db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync();
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM \"ds_pop_evolve_v1\"";
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        });
        Assert.Equal(1, v1Rows);
    }

    [Fact]
    public async Task Schema_registration_validates_everything_and_only_for_the_stewards_own_department()
    {
        using var steward = await server.AsUserAsync("t-steward");
        var problem = await (await PutSchemaAsync(steward, "Bad-ID", new { name = "", columns = new[] { new { name = "x", column = "1x", type = "Q" } } })).ProblemAsync(400);
        Assert.Contains("resourceId", problem.Errors!.Keys);
        Assert.Contains("columns[0].column", problem.Errors.Keys);
        Assert.Contains("columns[0].type", problem.Errors.Keys);
        await (await PutSchemaAsync(steward, "pop-elsewhere", PopulationSchema(server.OtherDepartmentId))).ProblemAsync(403);
    }
}
