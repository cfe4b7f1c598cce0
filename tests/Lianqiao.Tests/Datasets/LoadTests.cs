using System.Net;
using System.Text;
using Lianqiao.Datasets;
using Lianqiao.Quality;
using Lianqiao.Tests.Infrastructure;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Datasets;

public sealed class LoadTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    static readonly DateOnly Born = new(1985, 6, 15);

    async Task<HttpClient> StewardWithSchemaAsync(string resourceId)
    {
        var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, resourceId, PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        return steward;
    }

    static async Task<List<Dictionary<string, System.Text.Json.JsonElement>>> RowsAsync(HttpClient client, string resourceId, long since = 0)
    {
        var page = await (await client.GetAsync($"/api/v1/datasets/{resourceId}/rows?since={since}&limit=10000")).OkJsonAsync<RowsPageBody>();
        return page.Rows;
    }

    sealed record RowsPageBody(List<Dictionary<string, System.Text.Json.JsonElement>> Rows, long? NextSince);

    [Fact]
    public async Task Csv_load_accepts_good_rows_quarantines_bad_ones_and_counts_add_up()
    {
        using var steward = await StewardWithSchemaAsync("pop-basic");
        var bad = Row(3, Born, id: "320706198506150019"); // wrong check character
        var badGender = Row(4, Born, male: true).Replace(",1,1985", ",2,1985", StringComparison.Ordinal); // gender disagrees with the ID
        var warnPhone = Row(5, Born, phone: "12345");
        var lowerX = LowerX();
        var csv = Csv(Row(1, Born), Row(2, Born, male: false), bad, badGender, warnPhone, lowerX, ",无号码,1,1985-06-15,13800000000,某地,H1");
        var load = await (await LoadCsvAsync(steward, "pop-basic", csv)).OkJsonAsync<LoadDto>();

        Assert.Equal("succeeded", load.Status);
        Assert.Equal(7, load.RowsRead);
        Assert.Equal(4, load.RowsAccepted);
        Assert.Equal(3, load.RowsQuarantined);
        Assert.Equal(load.RowsRead, load.RowsAccepted + load.RowsQuarantined);
        Assert.Equal(1, load.RowsWarned);
        var rules = load.Report!.Rules.ToDictionary(r => r.Rule, r => r.Count);
        Assert.Equal(1, rules["id-number"]);
        Assert.Equal(1, rules["id-consistency"]);
        Assert.Equal(1, rules["required"]);
        Assert.Equal(1, rules["mobile"]);
        var completeness = load.Report.Dimensions.Single(d => d.Dimension == Dimension.Completeness);
        Assert.Equal(completeness.B - 1, completeness.A);
        Assert.All(load.Report.Dimensions.Where(d => d.B > 0), d => Assert.InRange(d.Score!.Value, 0, 1));

        var rows = await RowsAsync(steward, "pop-basic");
        Assert.Equal(4, rows.Count);
        // Stored in canonical form: the lower-case x became X.
        Assert.Contains(rows, r => r["id_number"].GetString() == lowerX[..18].ToUpperInvariant());

        var quarantine = await (await steward.GetAsync($"/api/v1/datasets/pop-basic/quarantine?loadId={load.Id}&severity=error")).OkJsonAsync<QuarantinePageBody>();
        Assert.Equal(3, quarantine.Total);
        Assert.Equal([4L, 5L, 8L], quarantine.Items.Select(i => i.Line).Order().ToArray());
        Assert.Contains(quarantine.Items, i => i.Rule == "id-number" && i.Raw["id_number"] == "320706198506150019");

        var listed = await (await steward.GetAsync($"/api/v1/datasets/pop-basic/loads/{load.Id}")).OkJsonAsync<LoadDto>();
        Assert.Equal(load.RowsAccepted, listed.RowsAccepted);
    }

    static string LowerX()
    {
        for (var i = 100; ; i++)
        {
            var id = Id(i, Born);
            if (id[17] == 'X') return Row(i, Born, id: id.ToLowerInvariant());
        }
    }

    internal sealed record QuarantinePageBody(List<QuarantineDto> Items, long Total, int Page, int PageSize);

    [Fact]
    public async Task Gb18030_file_with_characters_outside_the_bmp_and_crlf_is_read_exactly()
    {
        using var steward = await StewardWithSchemaAsync("pop-gb18030");
        var name = "𠀀𪚥林"; // U+20000 and U+2A6A5 are four-byte sequences in GB18030
        var csv = "公民身份号码,姓名,性别,出生日期,手机号码,住址,户号\r\n" + Row(1, Born, name: name) + "\r\n" + Row(2, Born, name: "王芳", male: false) + "\r\n";
        var bytes = Encoding.GetEncoding("GB18030").GetBytes(csv);
        var load = await (await LoadAsync(steward, "pop-gb18030", bytes)).OkJsonAsync<LoadDto>();
        Assert.Equal(2, load.RowsAccepted);
        var rows = await RowsAsync(steward, "pop-gb18030");
        Assert.Contains(rows, r => r["name"].GetString() == name);
        Assert.Contains(rows, r => r["name"].GetString() == "王芳");
        Assert.DoesNotContain(rows, r => r["household_id"].GetString()!.EndsWith('\r'));
    }

    [Fact]
    public async Task Utf8_with_bom_is_read_and_the_bom_is_not_part_of_the_first_header()
    {
        using var steward = await StewardWithSchemaAsync("pop-bom");
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(Csv(Row(1, Born, name: "李四")))).ToArray();
        var load = await (await LoadAsync(steward, "pop-bom", bytes)).OkJsonAsync<LoadDto>();
        Assert.Equal(1, load.RowsAccepted);
        Assert.Equal("李四", (await RowsAsync(steward, "pop-bom"))[0]["name"].GetString());
    }

    [Fact]
    public async Task Ragged_rows_and_nul_bytes_are_quarantined_not_dropped()
    {
        using var steward = await StewardWithSchemaAsync("pop-ragged");
        var csv = Csv(Row(1, Born), Row(2, Born) + ",extra", "320706198506150011,缺列", Row(3, Born).Replace("张三", "张\0三", StringComparison.Ordinal));
        var load = await (await LoadCsvAsync(steward, "pop-ragged", csv)).OkJsonAsync<LoadDto>();
        Assert.Equal(4, load.RowsRead);
        Assert.Equal(1, load.RowsAccepted);
        Assert.Equal(3, load.RowsQuarantined);
        var rules = load.Report!.Rules.ToDictionary(r => r.Rule, r => r.Count);
        Assert.Equal(2, rules["structure"]);
        Assert.Equal(1, rules["type"]);
        var quarantine = await (await steward.GetAsync($"/api/v1/datasets/pop-ragged/quarantine?loadId={load.Id}")).OkJsonAsync<QuarantinePageBody>();
        Assert.Contains(quarantine.Items, q => q.Line == 3 && q.Raw.ContainsKey("_8"));
    }

    [Fact]
    public async Task An_unterminated_quote_refuses_the_whole_file_and_names_the_row()
    {
        using var steward = await StewardWithSchemaAsync("pop-quote");
        (await LoadCsvAsync(steward, "pop-quote", Csv(Row(1, Born)))).EnsureSuccessStatusCode();
        var csv = Csv(Row(2, Born), Row(3, Born).Replace("张三", "\"张三", StringComparison.Ordinal), Row(4, Born));
        var problem = await (await LoadCsvAsync(steward, "pop-quote", csv, "replace")).ProblemAsync(400);
        Assert.Equal("malformed-csv", problem.Code);
        Assert.Contains("row", problem.Detail, StringComparison.Ordinal);
        var rows = await RowsAsync(steward, "pop-quote");
        Assert.Equal(Id(1, Born), Assert.Single(rows)["id_number"].GetString());
    }

    [Fact]
    public async Task A_ten_megabyte_field_is_checked_against_its_length_and_reported_truncated()
    {
        using var steward = await StewardWithSchemaAsync("pop-bigfield");
        var huge = new string('长', 10 * 1024 * 1024 / 3);
        var csv = Csv(Row(1, Born), Row(2, Born).Replace("江苏省", huge, StringComparison.Ordinal));
        var load = await (await LoadCsvAsync(steward, "pop-bigfield", csv)).OkJsonAsync<LoadDto>();
        Assert.Equal(1, load.RowsAccepted);
        Assert.Equal(1, load.RowsQuarantined);
        Assert.Equal("length", load.Report!.Rules.Single().Rule);
    }

    [Fact]
    public async Task Empty_file_and_mismatched_header_fail_with_every_problem_listed()
    {
        using var steward = await StewardWithSchemaAsync("pop-header");
        var empty = await (await LoadAsync(steward, "pop-header", [])).ProblemAsync(400);
        Assert.Equal("empty-file", empty.Code);

        var problem = await (await LoadCsvAsync(steward, "pop-header", "id_number,nom,gender,gender\n1,2,3,4\n")).ProblemAsync(400);
        Assert.Equal("header-mismatch", problem.Code);
        Assert.Contains("nom", problem.Errors!["unknownColumns"]);
        Assert.Contains("gender", problem.Errors["duplicateColumns"]);
        Assert.Contains(problem.Errors["missingColumns"], m => m.StartsWith("name", StringComparison.Ordinal));

        var loads = await (await steward.GetAsync("/api/v1/datasets/pop-header/loads")).OkJsonAsync<List<LoadDto>>();
        Assert.All(loads, l => Assert.Equal("failed", l.Status));
    }

    [Fact]
    public async Task Upsert_updates_by_key_and_replace_leaves_tombstones_with_new_sequence_numbers()
    {
        using var steward = await StewardWithSchemaAsync("pop-replace");
        (await LoadCsvAsync(steward, "pop-replace", Csv(Row(1, Born), Row(2, Born), Row(3, Born)))).EnsureSuccessStatusCode();
        var before = await RowsAsync(steward, "pop-replace");
        var top = before.Max(r => r["_seq"].GetInt64());

        var upsert = await (await LoadCsvAsync(steward, "pop-replace", Csv(Row(1, Born), Row(2, Born, name: "改名"), Row(4, Born)), "upsert")).OkJsonAsync<LoadDto>();
        Assert.Equal(1, upsert.RowsInserted);
        Assert.Equal(1, upsert.RowsUpdated);
        var changed = await RowsAsync(steward, "pop-replace", top);
        // Only the renamed and the new row changed: the unchanged row keeps its sequence number.
        Assert.Equal(2, changed.Count);

        var replace = await (await LoadCsvAsync(steward, "pop-replace", Csv(Row(2, Born), Row(5, Born)), "replace")).OkJsonAsync<LoadDto>();
        Assert.Equal(3, replace.RowsDeleted);
        var all = await RowsAsync(steward, "pop-replace");
        var live = all.Where(r => !r["_deleted"].GetBoolean()).Select(r => r["id_number"].GetString()).Order().ToList();
        Assert.Equal(new[] { Id(2, Born), Id(5, Born) }.Order(), live);
        var tombstones = all.Where(r => r["_deleted"].GetBoolean()).ToList();
        Assert.Equal(3, tombstones.Count);
        Assert.All(tombstones, t => Assert.True(t["_seq"].GetInt64() > top));
        Assert.Equal(all.Count, all.Select(r => r["_seq"].GetInt64()).Distinct().Count());

        var delete = await (await LoadCsvAsync(steward, "pop-replace", "id_number\n" + Id(5, Born) + "\n", "delete")).OkJsonAsync<LoadDto>();
        Assert.Equal(1, delete.RowsDeleted);
        var again = await (await LoadCsvAsync(steward, "pop-replace", Csv(Row(1, Born)), "append")).OkJsonAsync<LoadDto>();
        Assert.Equal(1, again.RowsInserted); // a tombstoned key comes back to life
    }

    [Fact]
    public async Task Duplicate_keys_within_a_load_and_against_stored_rows_go_to_quarantine()
    {
        using var steward = await StewardWithSchemaAsync("pop-dup");
        var first = await (await LoadCsvAsync(steward, "pop-dup", Csv(Row(1, Born), Row(2, Born), Row(1, Born, name: "重复")))).OkJsonAsync<LoadDto>();
        Assert.Equal(2, first.RowsAccepted);
        Assert.Equal(1, first.RowsQuarantined);
        var second = await (await LoadCsvAsync(steward, "pop-dup", Csv(Row(2, Born), Row(3, Born)))).OkJsonAsync<LoadDto>();
        Assert.Equal(1, second.RowsAccepted);
        Assert.Equal(1, second.RowsQuarantined);
        Assert.Equal(2, second.Report!.Rules.Single(r => r.Rule == "unique").Count + first.Report!.Rules.Single(r => r.Rule == "unique").Count);
    }

    [Fact]
    public async Task A_failed_load_leaves_the_previous_rows_exactly_intact()
    {
        using var steward = await StewardWithSchemaAsync("pop-intact");
        (await LoadCsvAsync(steward, "pop-intact", Csv(Row(1, Born), Row(2, Born)))).EnsureSuccessStatusCode();
        var before = await RowsAsync(steward, "pop-intact");

        // Valid UTF-8 for well over the detection window, then a byte that is not: the read fails mid-file,
        // after thousands of rows were staged.
        var sb = new StringBuilder(Header + "\n");
        for (var i = 10; i < 3000; i++) sb.Append(Row(i, Born)).Append('\n');
        var bytes = Encoding.UTF8.GetBytes(sb.ToString()).Concat(new byte[] { 0xFF, 0xFE, (byte)'\n' }).ToArray();
        var problem = await (await LoadAsync(steward, "pop-intact", bytes, "replace")).ProblemAsync(400);
        Assert.Equal("encoding", problem.Code);

        var after = await RowsAsync(steward, "pop-intact");
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(before), System.Text.Json.JsonSerializer.Serialize(after));
        var loads = await (await steward.GetAsync("/api/v1/datasets/pop-intact/loads")).OkJsonAsync<List<LoadDto>>();
        Assert.Equal("failed", loads[0].Status);
        Assert.Equal("succeeded", loads[1].Status);
        // The resource is free again.
        (await LoadCsvAsync(steward, "pop-intact", Csv(Row(3, Born)))).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Json_array_and_ndjson_load_by_column_or_item_name()
    {
        using var steward = await StewardWithSchemaAsync("pop-json");
        var id1 = Id(1, Born);
        var array = $$"""[{"id_number":"{{id1}}","name":"甲","gender":"1","birth_date":"1985-06-15"},{"公民身份号码":"{{Id(2, Born)}}","姓名":"乙"}]""";
        var a = await (await LoadAsync(steward, "pop-json", Encoding.UTF8.GetBytes(array), contentType: "application/json")).OkJsonAsync<LoadDto>();
        Assert.Equal(2, a.RowsAccepted);
        var nd = $"{{\"id_number\":\"{Id(3, Born)}\",\"name\":\"丙\"}}\n{{\"id_number\":\"{Id(4, Born)}\"}}\n";
        var b = await (await LoadAsync(steward, "pop-json", Encoding.UTF8.GetBytes(nd), contentType: "application/x-ndjson")).OkJsonAsync<LoadDto>();
        Assert.Equal(1, b.RowsAccepted);
        Assert.Equal(1, b.RowsQuarantined);
    }

    [Fact]
    public async Task Multipart_upload_is_accepted_like_a_raw_body()
    {
        using var steward = await StewardWithSchemaAsync("pop-multipart");
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(Csv(Row(1, Born), Row(2, Born))));
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "人口.csv");
        var load = await (await steward.PostAsync("/api/v1/datasets/pop-multipart/loads?mode=append", form)).OkJsonAsync<LoadDto>();
        Assert.Equal(2, load.RowsAccepted);
        Assert.Equal("人口.csv", load.FileName);
    }

    [Fact]
    public async Task Concurrent_loads_to_one_resource_run_one_at_a_time()
    {
        using var steward = await StewardWithSchemaAsync("pop-concurrent");
        var sb = new StringBuilder(Header + "\n");
        for (var i = 0; i < 20000; i++) sb.Append(Row(i, new DateOnly(1950, 1, 1).AddDays(i % 20000))).Append('\n');
        var big = Encoding.UTF8.GetBytes(sb.ToString());
        var tasks = Enumerable.Range(0, 3).Select(_ => LoadAsync(steward, "pop-concurrent", big, "replace")).ToList();
        var responses = await Task.WhenAll(tasks);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var rows = await RowsAsync(steward, "pop-concurrent");
        Assert.Equal(rows.Count, rows.Select(r => r["id_number"].GetString()).Distinct().Count());
    }
}
