using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lianqiao.Catalog;
using Lianqiao.Tests.Infrastructure;
using MiniExcelLibs;
using Xunit;

namespace Lianqiao.Tests.Catalog;

public sealed class CatalogExcelTests(CatalogServer server) : IClassFixture<CatalogServer>
{
    const string Xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    static Dictionary<string, object?> Resource(string key, string name, string? shareCondition = "依法定职责共享", string? updateCycle = "每日") => new()
    {
        ["行键"] = key, ["信息资源名称"] = name, ["信息资源提供方"] = null, ["类"] = "主题", ["项"] = 5, ["目"] = "009", ["细目"] = null,
        ["信息资源代码"] = null, ["资源标识"] = null, ["信息资源提供方代码"] = null, ["信息资源摘要"] = name + "的摘要",
        ["信息资源格式分类"] = "3", ["信息资源格式类型"] = "PostgreSQL", ["共享类型"] = "2", ["共享条件"] = shareCondition,
        ["共享方式分类"] = "1", ["共享方式类型"] = "1", ["不予共享依据"] = null, ["开放类型"] = "3", ["开放条件"] = null,
        ["更新周期"] = updateCycle, ["发布日期"] = null, ["关联资源代码"] = null, ["主题标签"] = "交通", ["关键字"] = "表格导入；驾驶",
        ["联系方式"] = "=HYPERLINK(\"http://evil\")", ["所属库"] = "topic", ["数据级别"] = "general",
    };

    static Dictionary<string, object?> Item(string key, string name, string type = "C", object? length = null, string? sensitivity = null) => new()
    {
        ["资源行键"] = key, ["信息项名称"] = name, ["字段名"] = null, ["数据类型"] = type, ["数据长度"] = length, ["是否必填"] = "是",
        ["是否主键"] = "否", ["代码表"] = null, ["敏感级别"] = sensitivity, ["信息项类别"] = null, ["脱敏规则"] = null,
        ["保留前N位"] = null, ["保留后M位"] = null, ["说明"] = null,
    };

    static byte[] Workbook(List<Dictionary<string, object?>> resources, List<Dictionary<string, object?>> items)
    {
        using var ms = new MemoryStream();
        ms.SaveAs(new Dictionary<string, object> { [CatalogSheets.Resources] = resources, [CatalogSheets.Items] = items });
        return ms.ToArray();
    }

    static MultipartFormDataContent Upload(byte[] bytes)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(Xlsx);
        return new MultipartFormDataContent { { file, "file", "catalog.xlsx" } };
    }

    [Fact]
    public async Task The_template_round_trips_into_drafts_of_the_stewards_department()
    {
        using var steward = await server.AsUserAsync("t-steward");
        var template = await steward.GetAsync("/api/v1/catalog/template");
        Assert.Equal(HttpStatusCode.OK, template.StatusCode);
        Assert.Equal(Xlsx, template.Content.Headers.ContentType?.MediaType);
        using (var stream = new MemoryStream(await template.Content.ReadAsByteArrayAsync()))
        {
            Assert.Equal([CatalogSheets.Resources, CatalogSheets.Items, CatalogSheets.Codes, CatalogSheets.Guide], MiniExcel.GetSheetNames(stream));
            stream.Position = 0;
            var header = ((IDictionary<string, object?>)stream.Query(sheetName: CatalogSheets.Resources).First()).Values.Select(v => v?.ToString()).ToList();
            foreach (var element in new[] { "信息资源名称", "信息资源代码", "信息资源提供方", "信息资源提供方代码", "信息资源摘要", "共享类型", "开放类型", "更新周期", "发布日期", "关联资源代码" })
                Assert.Contains(element, header);
            stream.Position = 0;
            var codes = stream.Query(useHeaderRow: true, sheetName: CatalogSheets.Codes).Cast<IDictionary<string, object?>>().ToList();
            Assert.Contains(codes, c => (string?)c["代码表"] == CatalogVocabulary.ShareType && (string?)c["名称"] == "有条件共享");
            Assert.Contains(codes, c => (string?)c["代码表"] == CatalogSheets.DepartmentTable && (string?)c["名称"] == LianqiaoServer.OwnDepartment);
        }

        var book = Workbook(
            [Resource("A", "表格导入驾驶人信息"), Resource("B", "=表格导入车辆信息", updateCycle: "2")],
            [Item("A", "姓名", length: 50, sensitivity: "L3"), Item("A", "驾驶证号", length: 18), Item("B", "号牌号码", length: 10)]);
        var report = await (await steward.PostAsync("/api/v1/catalog/import?mode=all", Upload(book))).OkJsonAsync<ImportReport>();
        Assert.True(report.Committed, string.Join("\n", report.Errors.Select(e => $"{e.Sheet} {e.Row} {e.Field} {e.Zh}")));
        Assert.Equal(2, report.Imported);
        Assert.Empty(report.Errors);

        var a = await (await steward.GetAsync($"/api/v1/catalog/{report.Created[0].Id}")).OkJsonAsync<ResourceDto>();
        Assert.Equal(ResourceStatus.Draft, a.Status);
        Assert.Equal(server.OwnDepartmentId, a.DepartmentId);
        Assert.Equal("2", a.UpdateCycle);
        Assert.Equal("05", a.SubjectCode);
        Assert.Equal(["name", "item_2"], a.Items.Select(i => i.ColumnName));
        Assert.Equal("L3", a.Grade);
        Assert.StartsWith("205009/", a.Code);
        Assert.NotEqual(a.Code, report.Created[1].Code);
        Assert.Contains(await server.AuditAsync("catalog.import"), r => r.Detail!.Contains(a.Code, StringComparison.Ordinal));
        Assert.Contains(await server.AuditAsync("catalog.create"), r => r.TargetId == a.Id);

        // Raw bodies work too, and the same codes are then taken.
        var again = new ByteArrayContent(Workbook([Resource("C", "表格导入原始请求体")], [Item("C", "姓名")]));
        again.Headers.ContentType = new MediaTypeHeaderValue(Xlsx);
        Assert.True((await (await steward.PostAsync("/api/v1/catalog/import", again)).OkJsonAsync<ImportReport>()).Committed);

        // The export is the search result, with formula-looking text defused.
        var export = await steward.GetAsync("/api/v1/catalog/export?q=" + Uri.EscapeDataString("表格导入") + "&status=Draft");
        Assert.Equal(Xlsx, export.Content.Headers.ContentType?.MediaType);
        using var exported = new MemoryStream(await export.Content.ReadAsByteArrayAsync());
        var rows = exported.Query(useHeaderRow: true).Cast<IDictionary<string, object?>>().ToList();
        Assert.Equal(3, rows.Count);
        Assert.Contains(rows, r => (string?)r["信息资源名称"] == "表格导入驾驶人信息" && (string?)r["状态"] == "草稿");
        Assert.Contains(rows, r => (string?)r["信息资源名称"] == "'=表格导入车辆信息");
    }

    [Fact]
    public async Task A_bad_row_rejects_the_whole_import_in_all_mode_and_only_itself_in_valid_mode()
    {
        using var steward = await server.AsUserAsync("t-steward");
        var good = Resource("G", "全有或全无正确行");
        var bad = Resource("X", "全有或全无错误行", shareCondition: null);
        bad["信息资源提供方"] = LianqiaoServer.OtherDepartment;
        var book = Workbook([good, bad, Resource("Y", "全有或全无无信息项")],
            [Item("G", "姓名"), Item("X", "甲", type: "Q", length: "很长"), Item("Z", "孤儿")]);

        var rejected = await steward.PostAsync("/api/v1/catalog/import?mode=all", Upload(book));
        var problem = await rejected.ProblemAsync(422);
        Assert.Equal("import-rejected", problem.Code);
        using var json = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());
        var errors = json.RootElement.GetProperty("report").GetProperty("errors").EnumerateArray()
            .Select(e => (Sheet: e.GetProperty("sheet").GetString(), Row: e.GetProperty("row").GetInt32(), Field: e.GetProperty("field").GetString(),
                Zh: e.GetProperty("zh").GetString(), En: e.GetProperty("en").GetString())).ToList();
        Assert.Contains(errors, e => e is { Sheet: CatalogSheets.Resources, Row: 3, Field: "信息资源提供方" });
        Assert.Contains(errors, e => e is { Sheet: CatalogSheets.Items, Row: 3, Field: "数据长度" });
        Assert.Contains(errors, e => e is { Sheet: CatalogSheets.Items, Row: 4, Field: "资源行键" });
        Assert.Contains(errors, e => e is { Sheet: CatalogSheets.Resources, Row: 4, Field: "信息项" });
        Assert.All(errors, e => Assert.False(string.IsNullOrEmpty(e.Zh) || string.IsNullOrEmpty(e.En)));
        var none = await (await steward.GetAsync("/api/v1/catalog/?q=" + Uri.EscapeDataString("全有或全无") + "&status=Draft")).OkJsonAsync<SearchResult>();
        Assert.Equal(0, none.Total);

        // A row that fails only the catalog rules is reported on its own field, as the API would.
        var invalid = Workbook([Resource("V", "规则错误行", shareCondition: null)], [Item("V", "甲", type: "Q")]);
        var ruleErrors = (await (await steward.PostAsync("/api/v1/catalog/import?mode=valid", Upload(invalid))).OkJsonAsync<ImportReport>()).Errors;
        Assert.Contains(ruleErrors, e => e is { Sheet: CatalogSheets.Resources, Row: 2, Field: "共享条件" });
        Assert.Contains(ruleErrors, e => e is { Sheet: CatalogSheets.Items, Row: 2, Field: "数据类型" });

        var partial = await (await steward.PostAsync("/api/v1/catalog/import?mode=valid", Upload(book))).OkJsonAsync<ImportReport>();
        Assert.True(partial.Committed);
        Assert.Equal(1, partial.Imported);
        Assert.Equal(2, partial.Failed);
        Assert.Equal("G", partial.Created.Single().RowKey);
        var one = await (await steward.GetAsync("/api/v1/catalog/?q=" + Uri.EscapeDataString("全有或全无") + "&status=Draft")).OkJsonAsync<SearchResult>();
        Assert.Equal(1, one.Total);
    }

    [Fact]
    public async Task Zip_bombs_oversized_and_foreign_uploads_are_refused_before_parsing()
    {
        using var admin = await server.AsAdminAsync();
        using var bomb = new MemoryStream();
        using (var zip = new ZipArchive(bomb, ZipArchiveMode.Create, leaveOpen: true))
        {
            await using var entry = zip.CreateEntry("xl/worksheets/sheet1.xml", CompressionLevel.SmallestSize).Open();
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 200; i++) await entry.WriteAsync(zeros);
        }
        Assert.True(bomb.Length < CatalogExcel.MaxUploadBytes);
        var refused = await (await admin.PostAsync("/api/v1/catalog/import", Upload(bomb.ToArray()))).ProblemAsync(413);
        Assert.Equal("xlsx-too-large-uncompressed", refused.Code);

        var big = new byte[CatalogExcel.MaxUploadBytes + 1024];
        Random.Shared.NextBytes(big);
        var tooBig = await admin.PostAsync("/api/v1/catalog/import", new ByteArrayContent(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);

        var text = await (await admin.PostAsync("/api/v1/catalog/import", Upload("not a workbook"u8.ToArray()))).ProblemAsync(400);
        Assert.Equal("invalid-xlsx", text.Code);
        Assert.Contains(await server.AuditAsync("catalog.import"), r => r.Outcome == "failure");

        using var consumer = await server.AsUserAsync("t-consumer");
        await (await consumer.PostAsync("/api/v1/catalog/import", Upload(Workbook([], [])))).ProblemAsync(403);
    }

    [Fact]
    public async Task The_standard_export_names_the_core_elements_and_holds_published_resources_only()
    {
        using var consumer = await server.AsUserAsync("t-consumer");
        using var json = JsonDocument.Parse(await (await consumer.GetAsync("/api/v1/catalog/standard-export?format=json")).Content.ReadAsStringAsync());
        var resources = json.RootElement.GetProperty("信息资源").EnumerateArray().ToList();
        var published = await (await consumer.GetAsync("/api/v1/catalog/?pageSize=1")).OkJsonAsync<SearchResult>();
        Assert.Equal(published.Total, resources.Count);
        var first = resources[0];
        foreach (var element in new[] { "信息资源分类", "信息资源名称", "信息资源代码", "信息资源提供方", "信息资源提供方代码", "信息资源摘要", "信息资源格式",
                     "信息项信息", "共享属性", "开放属性", "更新周期", "发布日期", "关联资源代码" })
            Assert.True(first.TryGetProperty(element, out _), element);
        Assert.True(first.GetProperty("信息项信息")[0].TryGetProperty("数据类型", out _));
        Assert.Contains(first.GetProperty("开放属性").GetProperty("是否向社会开放").GetString(), new[] { "是", "否" });

        var xlsx = await consumer.GetAsync("/api/v1/catalog/standard-export?format=xlsx");
        using var book = new MemoryStream(await xlsx.Content.ReadAsByteArrayAsync());
        Assert.Equal(["信息资源", "信息项信息"], MiniExcel.GetSheetNames(book));
        book.Position = 0;
        Assert.Equal(resources.Count, book.Query(useHeaderRow: true, sheetName: "信息资源").Count());
        await (await consumer.GetAsync("/api/v1/catalog/standard-export?format=csv")).ProblemAsync(400);
    }

    [Fact]
    public async Task The_import_page_uploads_a_workbook_and_shows_the_report()
    {
        using var steward = await server.AsUserAsync("t-steward");
        var browse = await steward.GetStringAsync("/catalog?q=" + Uri.EscapeDataString("人口"));
        Assert.Contains("id=\"import-link\"", browse);
        Assert.Contains("/api/v1/catalog/export?q=" + Uri.EscapeDataString("人口"), browse);

        async Task<string> PostAsync(byte[] book, string mode)
        {
            var page = await steward.GetStringAsync("/catalog/import");
            var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
            var form = Upload(book);
            form.Add(new StringContent(token), "__RequestVerificationToken");
            form.Add(new StringContent("import"), "_handler");
            form.Add(new StringContent(mode), "Mode");
            var response = await steward.PostAsync("/catalog/import", form);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }

        var bad = await PostAsync(Workbook([Resource("P", "页面导入错误行", shareCondition: null)], [Item("P", "姓名")]), "all");
        Assert.Contains("id=\"import-errors\"", bad);
        Assert.Contains("共享条件", bad);
        Assert.DoesNotContain("id=\"imported\"", bad);

        var good = await PostAsync(Workbook([Resource("P", "页面导入正确行")], [Item("P", "姓名")]), "all");
        Assert.Contains("id=\"imported\"", good);
        Assert.Contains("页面导入正确行", good);

        using var consumer = await server.AsUserAsync("t-consumer");
        Assert.DoesNotContain("id=\"file\"", await consumer.GetStringAsync("/catalog/import"));
    }
}
