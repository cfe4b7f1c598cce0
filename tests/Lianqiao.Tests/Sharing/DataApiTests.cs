using System.Net;
using System.Text;
using System.Text.Json;
using Lianqiao.Datasets;
using Lianqiao.Domain.Codes;
using Lianqiao.Domain.Synthetic;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Xunit;

namespace Lianqiao.Tests.Sharing;

/// <summary>The journey: the police load population data, 人社 applies, the approver approves, the app pulls masked rows.</summary>
public sealed class DataApiFixture : IAsyncLifetime
{
    public CatalogServer Server { get; } = new();
    public string AppKey { get; private set; } = "";
    public Guid GrantId { get; private set; }
    public List<(string Name, string Id, string Birth, string Phone)> People { get; } = [];

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        var data = new SyntheticData(7);
        var csv = new StringBuilder("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n");
        for (var i = 0; i < 50; i++)
        {
            var birth = data.Date(new DateOnly(1950, 1, 1), new DateOnly(2005, 12, 31));
            var id = data.IdNumber("320706", birth, birth);
            var person = (data.PersonName(), id, birth.ToString("yyyy-MM-dd"), data.MobileNumber());
            People.Add(person);
            var gender = ResidentIdNumber.GetGender(id) == Gender.Male ? "1" : "2";
            csv.Append($"{id},{person.Item1},{gender},{person.Item3},{person.Item4},{data.Address("连云港市", "海州区")},H{i:D6},2026-11-01 08:00:00\n");
        }
        // One cell a spreadsheet would run as a formula, to prove the CSV export neutralises it.
        var formulaId = data.IdNumber("320706", new DateOnly(1990, 3, 7), new DateOnly(1990, 3, 7), Gender.Male);
        csv.Append($"{formulaId},=HYPERLINK(\"x\"),1,1990-03-07,13800000000,海州区某路1号,H999999,2026-11-01 08:00:00\n");
        using var steward = await Server.AsUserAsync("police-steward");
        var load = await (await steward.PostAsync("/api/v1/datasets/population-basic/loads?mode=replace",
            new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"))).OkJsonAsync<LoadDto>();
        Assert.True(load.Status == "succeeded", JsonSerializer.Serialize(load));
        Assert.Equal(51, load.RowsAccepted);

        using var hrss = await Server.AsUserAsync("hrss-consumer");
        var appId = await Server.AppIdAsync("人社业务系统");
        var submitted = await (await hrss.PostJsonAsync("/api/v1/share-requests", new
        {
            resourceId = "population-basic", appId, fields = new[] { "name", "id_number", "birth_date", "phone" },
            purpose = "社保资格认证", legalBasis = "《社会保险法》",
        })).OkJsonAsync<ShareRequestDto>();
        using var approver = await Server.AsUserAsync("police-approver");
        var approved = await (await approver.PostJsonAsync($"/api/v1/share-requests/{submitted.Id}/approve", new { unmaskedFields = new[] { "birth_date" } }))
            .OkJsonAsync<ShareRequestDto>();
        GrantId = approved.GrantId!.Value;
        AppKey = await Server.AppKeyAsync("人社业务系统");
    }

    public Task DisposeAsync() => Server.DisposeAsync();
}

public sealed class DataApiTests(DataApiFixture fixture) : IClassFixture<DataApiFixture>
{
    LianqiaoServer Server => fixture.Server;
    HttpClient App() => Server.WithKey(fixture.AppKey);

    static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task App_pulls_masked_rows_and_only_granted_fields()
    {
        using var app = App();
        var response = await app.GetAsync("/api/v1/data/population-basic?$limit=100");
        var body = await JsonAsync(response);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        var rows = body.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(51, rows.Count);
        var first = rows[0];
        var person = fixture.People[0];
        Assert.Equal(["id_number", "name", "birth_date", "phone"], first.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.NotEqual(person.Name, first.GetProperty("name").GetString());
        Assert.StartsWith(person.Name[..1], first.GetProperty("name").GetString());
        Assert.Equal(person.Id[..6] + "********" + person.Id[^4..], first.GetProperty("id_number").GetString());
        Assert.Equal(person.Birth, first.GetProperty("birth_date").GetString());   // lifted explicitly by the approval
        Assert.Equal(person.Phone[..3] + "****" + person.Phone[^4..], first.GetProperty("phone").GetString());
        Assert.DoesNotContain("address", body.ToString());
        Assert.DoesNotContain(rows, r => r.GetProperty("id_number").GetString() == person.Id);
    }

    [Fact]
    public async Task Masked_fields_cannot_be_filtered_or_sorted_and_ungranted_fields_are_not_there()
    {
        using var app = App();
        foreach (var url in new[]
        {
            "/api/v1/data/population-basic?$where=" + Uri.EscapeDataString("id_number = '" + fixture.People[0].Id + "'"),
            "/api/v1/data/population-basic?$where=" + Uri.EscapeDataString("name LIKE '王%'"),
            "/api/v1/data/population-basic?$order=id_number",
            "/api/v1/data/population-basic?$select=address",
            "/api/v1/data/population-basic?$where=" + Uri.EscapeDataString("address IS NOT NULL"),
        })
        {
            var problem = await (await app.GetAsync(url)).ProblemAsync(400);
            Assert.Equal("bad-query", problem.Code);
        }
        var ok = await JsonAsync(await app.GetAsync("/api/v1/data/population-basic?$where=" + Uri.EscapeDataString("birth_date >= '1990-01-01'") + "&$order=birth_date desc"));
        var births = ok.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("birth_date").GetString()!).ToList();
        Assert.Equal(fixture.People.Count(p => string.CompareOrdinal(p.Birth, "1990-01-01") >= 0) + 1, births.Count);
        Assert.Equal(births.OrderDescending(StringComparer.Ordinal), births);
    }

    [Theory]
    [InlineData("birth_date = '1990-01-01' OR 1=1")]
    [InlineData("birth_date = ''; DROP TABLE grants; --'")]
    [InlineData("birth_date = '1990-01-01' /* x */")]
    [InlineData("\"birth_date\" = '1990' UNION SELECT * FROM api_keys")]
    public async Task Injection_attempts_are_refused_as_bad_queries(string where)
    {
        using var app = App();
        var response = await app.GetAsync("/api/v1/data/population-basic?$where=" + Uri.EscapeDataString(where));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var still = await JsonAsync(await app.GetAsync("/api/v1/data/population-basic?$limit=1"));
        Assert.Equal(1, still.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Keyset_cursor_pages_through_every_row_once()
    {
        using var app = App();
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await JsonAsync(await app.GetAsync("/api/v1/data/population-basic?$limit=20" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))));
            seen.AddRange(page.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("id_number").GetString()!));
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(51, seen.Count);
    }

    [Fact]
    public async Task Csv_ndjson_and_parquet_are_masked_too_and_csv_is_formula_safe()
    {
        using var app = App();
        var csv = await app.GetStringAsync("/api/v1/data/population-basic?format=csv");
        Assert.StartsWith("id_number,name,birth_date,phone", csv);
        Assert.DoesNotContain(fixture.People[0].Id, csv);
        Assert.Contains("'=", csv);
        var ndjson = await app.GetStringAsync("/api/v1/data/population-basic?format=ndjson");
        Assert.Equal(51, ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain(fixture.People[0].Id, ndjson);
        var parquet = await app.GetByteArrayAsync("/api/v1/data/population-basic?format=parquet");
        Assert.Equal("PAR1"u8.ToArray(), parquet[..4]);
        Assert.DoesNotContain(fixture.People[0].Id, Encoding.UTF8.GetString(parquet));
    }

    [Fact]
    public async Task Json_pages_write_each_row_exactly_as_the_ndjson_stream_does()
    {
        // JSON pages are written from the database reader with typed reads (PostgreSQL) and masking into a buffer; NDJSON
        // goes through the row arrays and MaskingService.Apply: both must leave the same bytes for every row.
        using var app = App();
        var page = await JsonAsync(await app.GetAsync("/api/v1/data/population-basic?$limit=100"));
        var fromPage = page.GetProperty("rows").EnumerateArray().Select(r => r.GetRawText()).ToList();
        var fromStream = (await app.GetStringAsync("/api/v1/data/population-basic?format=ndjson")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(51, fromPage.Count);
        Assert.Equal(fromStream, fromPage);
        Assert.All(fromPage, row => Assert.DoesNotContain(fixture.People[0].Id, row));
    }

    [Fact]
    public async Task Every_read_is_in_the_ledger_with_its_row_count()
    {
        using var app = App();
        await app.GetStringAsync("/api/v1/data/population-basic?$limit=7");
        var reads = await Server.AuditAsync("data.read");
        Assert.Contains(reads, r => r.TargetId == "population-basic" && r.ActorName == "人社业务系统" && r.Detail!.Contains("\"rows\":7", StringComparison.Ordinal)
            && r.Detail.Contains("社保资格认证", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Personal_keys_and_apps_without_a_grant_read_nothing()
    {
        using var person = await Server.AsUserAsync("hrss-consumer");
        Assert.Equal("grant-required", (await (await person.GetAsync("/api/v1/data/population-basic")).ProblemAsync(403)).Code);
        using var other = Server.WithKey(await Server.AppKeyAsync("医保业务系统"));
        Assert.Equal("no-grant", (await (await other.GetAsync("/api/v1/data/population-basic")).ProblemAsync(403)).Code);
    }

    [Fact]
    public async Task Verification_answers_match_without_rows()
    {
        using var app = App();
        var person = fixture.People[3];
        var yes = await (await app.PostJsonAsync("/api/v1/verify/population-basic", new { values = new Dictionary<string, string> { ["name"] = person.Name, ["id_number"] = person.Id } }))
            .OkJsonAsync<VerifyResult>();
        Assert.True(yes.Match);
        var no = await (await app.PostJsonAsync("/api/v1/verify/population-basic", new { values = new Dictionary<string, string> { ["name"] = "不存在", ["id_number"] = person.Id } }))
            .OkJsonAsync<VerifyResult>();
        Assert.False(no.Match);
        await (await app.PostJsonAsync("/api/v1/verify/population-basic", new { values = new Dictionary<string, string> { ["address"] = "x" } })).ProblemAsync(403);
        Assert.Contains(await Server.AuditAsync("data.verify"), r => r.Detail!.Contains("\"match\":true", StringComparison.Ordinal) && !r.Detail.Contains(person.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Objection_correction_keeps_the_old_value_and_reaches_the_change_feed()
    {
        using var app = App();
        var feed = await JsonAsync(await app.GetAsync("/api/v1/data/population-basic?since=0&$limit=1000"));
        var checkpoint = feed.GetProperty("nextSince").GetInt64();
        Assert.Equal(51, feed.GetProperty("count").GetInt64());

        var person = fixture.People[5];
        using var hrss = await Server.AsUserAsync("hrss-consumer");
        var raised = await (await hrss.PostJsonAsync("/api/v1/objections", new
        {
            resourceId = "population-basic", key = new Dictionary<string, string> { ["id_number"] = person.Id }, field = "phone",
            reason = "联系电话已停机", proposedValue = "13912345678",
        })).OkJsonAsync<DataObjectionDto>();
        Assert.Equal(ObjectionStatus.Raised, raised.Status);

        using var other = await Server.AsUserAsync("market-steward");
        await (await other.PostAsync($"/api/v1/objections/{raised.Id}/accept", null)).ProblemAsync(403);
        using var police = await Server.AsUserAsync("police-steward");
        await (await police.PostAsync($"/api/v1/objections/{raised.Id}/accept", null)).OkJsonAsync<DataObjectionDto>();
        var corrected = await (await police.PostJsonAsync($"/api/v1/objections/{raised.Id}/correct", new { note = "已核实", newValue = "13912345678" }))
            .OkJsonAsync<DataObjectionDto>();
        Assert.Equal(ObjectionStatus.Corrected, corrected.Status);
        var correction = corrected.History.Single(h => h.Action == "correct");
        Assert.Equal(person.Phone, correction.OldValue);
        Assert.Equal("13912345678", correction.NewValue);

        var changes = await JsonAsync(await app.GetAsync($"/api/v1/data/population-basic?since={checkpoint}"));
        var changed = Assert.Single(changes.GetProperty("rows").EnumerateArray());
        Assert.Equal("139****5678", changed.GetProperty("phone").GetString());
        Assert.False(changed.GetProperty("_deleted").GetBoolean());
        Assert.True(changes.GetProperty("nextSince").GetInt64() > checkpoint);
        await (await hrss.PostAsync($"/api/v1/objections/{raised.Id}/close", null)).OkJsonAsync<DataObjectionDto>();
    }
}
