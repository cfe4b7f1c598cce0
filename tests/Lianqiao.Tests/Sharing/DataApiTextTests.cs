using System.Text;
using System.Text.Json;
using Lianqiao.Datasets;
using Lianqiao.Domain.Codes;
using Lianqiao.Domain.Synthetic;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Xunit;

namespace Lianqiao.Tests.Sharing;

/// <summary>
/// Text a grant leaves unmasked, of every awkward kind (and a masked name and birth date beside it), through the JSON page (written from the stored UTF-8 bytes on
/// PostgreSQL) and the NDJSON stream (strings): both must leave the same bytes, and the value must come back as stored.
/// </summary>
public sealed class DataApiTextTests : IAsyncLifetime
{
    readonly CatalogServer server = new();
    string appKey = "";

    /// <summary>Addresses as stored: escapes, relaxed-escaping characters, a surrogate pair, line separators, long values.</summary>
    static readonly string[] Addresses =
    [
        "海州区\"引号\"路\\1号",
        "<b>&'</b> 路 2 号",
        "朝阳路𠀋号😀院",
        "第一行\u2028第二行\u2029第三行",
        "长" + new string('街', 1500),              // 4,503 UTF-8 bytes: longer than the JSON rows' text buffer
        new string('a', 4095),                       // just under it
        new string('b', 4096),                       // exactly its size
        "滨河路" + new string('x', 300) + "号",
    ];

    /// <summary>The catalog allows 200 chars of address, so longer stored values (a longer item earlier, a direct load) are written by SQL.</summary>
    const int LoadableLength = 200;

    public async Task InitializeAsync()
    {
        await server.InitializeAsync();
        var data = new SyntheticData(11);
        var csv = new StringBuilder("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n");
        for (var i = 0; i < Addresses.Length; i++)
        {
            var birth = data.Date(new DateOnly(1950, 1, 1), new DateOnly(2005, 12, 31));
            var id = data.IdNumber("320706", birth, birth);
            var gender = ResidentIdNumber.GetGender(id) == Gender.Male ? "1" : "2";
            var address = Addresses[i].Length > LoadableLength ? "待写" : "\"" + Addresses[i].Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            csv.Append($"{id},{data.PersonName()},{gender},{birth:yyyy-MM-dd},{data.MobileNumber()},{address},H{i:D6},2026-11-01 08:00:00\n");
        }
        using var steward = await server.AsUserAsync("police-steward");
        var load = await (await steward.PostAsync("/api/v1/datasets/population-basic/loads?mode=replace",
            new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"))).OkJsonAsync<LoadDto>();
        Assert.True(load.Status == "succeeded" && load.RowsAccepted == Addresses.Length, JsonSerializer.Serialize(load));
        for (var i = 0; i < Addresses.Length; i++)
        {
            if (Addresses[i].Length <= LoadableLength) continue;
            // Only letters in these values: a literal is safe, and the same statement runs on SQLite and PostgreSQL.
            var updated = await server.TableRowsAsync("population-basic", table => $"UPDATE {table} SET address = '{Addresses[i]}' WHERE household_id = 'H{i:D6}' RETURNING \"_id\"");
            Assert.Single(updated);
        }

        using var hrss = await server.AsUserAsync("hrss-consumer");
        var submitted = await (await hrss.PostJsonAsync("/api/v1/share-requests", new
        {
            resourceId = "population-basic", appId = await server.AppIdAsync("人社业务系统"), fields = new[] { "name", "birth_date", "address", "household_id" },
            purpose = "社保资格认证", legalBasis = "《社会保险法》",
        })).OkJsonAsync<ShareRequestDto>();
        using var approver = await server.AsUserAsync("police-approver");
        await (await approver.PostJsonAsync($"/api/v1/share-requests/{submitted.Id}/approve", new { unmaskedFields = new[] { "address", "household_id" } }))
            .OkJsonAsync<ShareRequestDto>();
        appKey = await server.AppKeyAsync("人社业务系统");
    }

    public Task DisposeAsync() => server.DisposeAsync();

    [Fact]
    public async Task Unmasked_text_leaves_as_stored_and_json_rows_equal_ndjson_lines()
    {
        using var app = server.WithKey(appKey);
        var page = JsonDocument.Parse(await app.GetStringAsync("/api/v1/data/population-basic?$limit=100")).RootElement;
        var fromPage = page.GetProperty("rows").EnumerateArray().Select(r => r.GetRawText()).ToList();
        var fromStream = (await app.GetStringAsync("/api/v1/data/population-basic?format=ndjson")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(fromStream, fromPage);
        Assert.Equal(Addresses, page.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("address").GetString()));
        Assert.All(page.GetProperty("rows").EnumerateArray(), r => Assert.Contains('*', r.GetProperty("name").GetString()!));
        // The birth date stays masked, generalised to its year (a stored date read as such on PostgreSQL).
        Assert.All(page.GetProperty("rows").EnumerateArray(), r => Assert.Matches("^[0-9]{4}$", r.GetProperty("birth_date").GetString()!));
    }
}
