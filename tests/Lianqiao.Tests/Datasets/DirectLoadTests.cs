using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Loading;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Datasets;

/// <summary>
/// A load into an empty table writes its rows straight into the resource table and rebuilds the key index at the end;
/// these check that the table comes out exactly as a staged load would leave it, and that a kill rolls it all back.
/// </summary>
public sealed class DirectLoadTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    static readonly DateOnly Born = new(1979, 3, 1);

    sealed record RowsPageBody(List<Dictionary<string, System.Text.Json.JsonElement>> Rows, long? NextSince);

    static async Task<List<Dictionary<string, System.Text.Json.JsonElement>>> RowsAsync(HttpClient client, string resourceId, long since = 0) =>
        (await (await client.GetAsync($"/api/v1/datasets/{resourceId}/rows?since={since}&limit=10000")).OkJsonAsync<RowsPageBody>()).Rows;

    async Task<HttpClient> StewardWithSchemaAsync(string resourceId)
    {
        var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, resourceId, PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        return steward;
    }

    [Fact]
    public async Task First_load_keeps_the_key_unique_and_later_loads_find_the_key_index()
    {
        using var steward = await StewardWithSchemaAsync("pop-direct");
        var first = await (await LoadCsvAsync(steward, "pop-direct", Csv(Row(1, Born), Row(2, Born), Row(3, Born), Row(2, Born, name: "重复")))).OkJsonAsync<LoadDto>();
        Assert.Equal((4, 3, 1, 3), (first.RowsRead, first.RowsAccepted, first.RowsQuarantined, first.RowsInserted));
        var rows = await RowsAsync(steward, "pop-direct");
        // Change numbers follow the file's order, and the first of the repeated keys is the one kept.
        Assert.Equal(new string?[] { Id(1, Born), Id(2, Born), Id(3, Born) }, rows.Select(r => r["id_number"].GetString()).ToArray());
        Assert.Equal("张三", rows[1]["name"].GetString());
        var seqs = rows.Select(r => r["_seq"].GetInt64()).ToList();
        Assert.Equal(seqs.Order(), seqs);

        // The unique key index is back: append refuses a stored key, upsert updates through ON CONFLICT.
        var append = await (await LoadCsvAsync(steward, "pop-direct", Csv(Row(1, Born)))).OkJsonAsync<LoadDto>();
        Assert.Equal(1, append.RowsQuarantined);
        var upsert = await (await LoadCsvAsync(steward, "pop-direct", Csv(Row(3, Born, name: "李四"), Row(4, Born)), "upsert")).OkJsonAsync<LoadDto>();
        Assert.Equal((1, 1), (upsert.RowsInserted, upsert.RowsUpdated));
        var changed = await RowsAsync(steward, "pop-direct", seqs.Max());
        Assert.Equal(new string?[] { Id(3, Born), Id(4, Born) }, changed.Select(r => r["id_number"].GetString()).Order().ToArray());
    }

    [Fact]
    public async Task Rows_handed_over_by_code_load_like_a_file_with_or_without_a_known_size()
    {
        using var steward = await StewardWithSchemaAsync("pop-stream");
        string[] header = ["id_number", "name", "gender", "birth_date", "phone", "address", "household_id"];
        static async IAsyncEnumerable<string?[]> RowsOf(params string[] csvRows)
        {
            foreach (var row in csvRows)
            {
                await Task.Yield();
                yield return row.Split(',');
            }
        }

        // Known size: the direct path into the empty table.
        var first = await server.InScopeAsync(sp => sp.GetRequiredService<DatasetLoader>().RunAsync(
            LoadRequest.FromRows("pop-stream", LoadModes.Append, new RowStream(header, RowsOf(Row(1, Born), Row(2, Born, id: "320706197903010000")), MaxRows: 2),
                "exchange:test", "test", "测试"), null, CancellationToken.None));
        Assert.Equal((LoadStatus.Succeeded, 2L, 1L, 1L), (first.Status, first.RowsRead, first.RowsAccepted, first.RowsQuarantined));
        Assert.Equal(LoadFormats.Rows, first.Format);

        // Unknown size: staged, then merged into the rows already there.
        var second = await server.InScopeAsync(sp => sp.GetRequiredService<DatasetLoader>().RunAsync(
            LoadRequest.FromRows("pop-stream", LoadModes.Upsert, new RowStream(header, RowsOf(Row(1, Born, name: "王五"), Row(3, Born))),
                "exchange:test", "test", "测试"), null, CancellationToken.None));
        Assert.Equal((2L, 1L, 1L), (second.RowsAccepted, second.RowsInserted, second.RowsUpdated));
        var rows = await RowsAsync(steward, "pop-stream");
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r["name"].GetString() == "王五");

        // A source that announces fewer rows than it has cannot take others' change numbers: the load fails, nothing changes.
        (await PutSchemaAsync(steward, "pop-stream-lie", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        await server.InScopeAsync(sp => Assert.ThrowsAsync<InvalidOperationException>(() => sp.GetRequiredService<DatasetLoader>().RunAsync(
            LoadRequest.FromRows("pop-stream-lie", LoadModes.Append, new RowStream(header, RowsOf(Row(1, Born), Row(2, Born)), MaxRows: 1),
                "exchange:test", "test", "测试"), null, CancellationToken.None)));
        Assert.Empty(await RowsAsync(steward, "pop-stream-lie"));
    }

    [Fact]
    public async Task Killed_first_load_leaves_the_table_empty_with_its_key_index()
    {
        using var steward = await StewardWithSchemaAsync("pop-killed-direct");
        var running = await KillCliLoadMidwayAsync(server, "pop-killed-direct", Born);

        Assert.Empty(await RowsAsync(steward, "pop-killed-direct"));
        await server.StartHostAsync();
        var load = await (await steward.GetAsync($"/api/v1/datasets/pop-killed-direct/loads/{running.Id}")).OkJsonAsync<LoadDto>();
        Assert.Equal("failed", load.Status);
        // The key index the load had dropped came back with the rollback.
        Assert.True(await KeyIndexExistsAsync("pop-killed-direct"));
        (await LoadCsvAsync(steward, "pop-killed-direct", Csv(Row(1, Born)))).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_staged_merge_bigger_than_the_table_updates_revives_inserts_and_keeps_the_key_index()
    {
        // On PostgreSQL an upsert bringing at least as many rows as the table holds merges with the key index dropped and
        // rebuilt; on SQLite it is the one ON CONFLICT statement. Either way the outcome must be the upsert's.
        using var steward = await StewardWithSchemaAsync("pop-bulk-merge");
        (await LoadCsvAsync(steward, "pop-bulk-merge", Csv(Row(1, Born), Row(2, Born), Row(3, Born)))).EnsureSuccessStatusCode();
        var replaced = await (await LoadCsvAsync(steward, "pop-bulk-merge", Csv(Row(1, Born), Row(2, Born, name: "王五")), "replace")).OkJsonAsync<LoadDto>();
        Assert.Equal(1, replaced.RowsDeleted);
        var before = await RowsAsync(steward, "pop-bulk-merge");
        var seqOfOne = before.Single(r => r["id_number"].GetString() == Id(1, Born))["_seq"].GetInt64();
        var since = before.Max(r => r["_seq"].GetInt64());

        // 3 rows stored (3 a tombstone), 5 coming: 1 unchanged, 2 changed, 3 revived, 4 and 5 new.
        var upsert = await (await LoadCsvAsync(steward, "pop-bulk-merge",
            Csv(Row(1, Born), Row(2, Born, name: "李四"), Row(3, Born), Row(4, Born), Row(5, Born)), "upsert")).OkJsonAsync<LoadDto>();
        Assert.Equal((5, 3, 1), (upsert.RowsAccepted, upsert.RowsInserted, upsert.RowsUpdated));
        var changed = await RowsAsync(steward, "pop-bulk-merge", since);
        Assert.Equal(new[] { 2, 3, 4, 5 }.Select(n => Id(n, Born)).Order().ToArray(), changed.Select(r => r["id_number"].GetString()).Order().ToArray());
        Assert.Equal("李四", changed.Single(r => r["id_number"].GetString() == Id(2, Born))["name"].GetString());
        var after = await RowsAsync(steward, "pop-bulk-merge");
        Assert.Equal(5, after.Count);
        Assert.Equal(seqOfOne, after.Single(r => r["id_number"].GetString() == Id(1, Born))["_seq"].GetInt64());

        // The index is back and still unique: an append of a stored key is refused.
        Assert.True(await KeyIndexExistsAsync("pop-bulk-merge"));
        var append = await (await LoadCsvAsync(steward, "pop-bulk-merge", Csv(Row(5, Born)))).OkJsonAsync<LoadDto>();
        Assert.Equal((0, 1), (append.RowsAccepted, append.RowsQuarantined));
    }

    [Fact]
    public async Task A_replace_into_a_small_table_keeps_row_ids_and_unchanged_sequences_like_a_merge()
    {
        // On PostgreSQL a replace into a table of at most 10,000 rows sets those rows aside and loads directly; on SQLite it
        // stages and merges. Either way the rows, their ids, their change numbers and the counts must be the merge's.
        using var steward = await StewardWithSchemaAsync("pop-small-replace");
        (await LoadCsvAsync(steward, "pop-small-replace", Csv(Row(1, Born), Row(2, Born), Row(3, Born), Row(4, Born)))).EnsureSuccessStatusCode();
        (await LoadCsvAsync(steward, "pop-small-replace", "id_number\n" + Id(4, Born) + "\n", "delete")).EnsureSuccessStatusCode();
        var before = await RowsAsync(steward, "pop-small-replace");
        var since = before.Max(r => r["_seq"].GetInt64());
        var seqOfOne = before.Single(r => r["id_number"].GetString() == Id(1, Born))["_seq"].GetInt64();
        var idsBefore = await RowIdsAsync("pop-small-replace");

        // Stored: 1, 2, 3 live, 4 a tombstone. Coming: 1 unchanged, 2 changed, 4 revived, 5 new, 5 again (quarantined); 3 goes.
        var replaced = await (await LoadCsvAsync(steward, "pop-small-replace",
            Csv(Row(1, Born), Row(2, Born, name: "李四"), Row(4, Born), Row(5, Born), Row(5, Born, name: "重复")), "replace")).OkJsonAsync<LoadDto>();
        Assert.Equal((5, 4, 1), (replaced.RowsRead, replaced.RowsAccepted, replaced.RowsQuarantined));
        Assert.Equal((2, 1, 1), (replaced.RowsInserted, replaced.RowsUpdated, replaced.RowsDeleted));

        var all = await RowsAsync(steward, "pop-small-replace");
        var live = all.Where(r => !r["_deleted"].GetBoolean()).Select(r => r["id_number"].GetString()).Order().ToArray();
        Assert.Equal(new[] { 1, 2, 4, 5 }.Select(n => Id(n, Born)).Order().ToArray(), live);
        Assert.Equal("李四", all.Single(r => r["id_number"].GetString() == Id(2, Born))["name"].GetString());
        Assert.Equal("张三", all.Single(r => r["id_number"].GetString() == Id(5, Born))["name"].GetString());
        // Changed, revived, new and gone rows carry new change numbers; the unchanged row keeps its own.
        var changed = await RowsAsync(steward, "pop-small-replace", since);
        Assert.Equal(new[] { 2, 3, 4, 5 }.Select(n => Id(n, Born)).Order().ToArray(), changed.Select(r => r["id_number"].GetString()).Order().ToArray());
        Assert.True(changed.Single(r => r["id_number"].GetString() == Id(3, Born))["_deleted"].GetBoolean());
        Assert.Equal(seqOfOne, all.Single(r => r["id_number"].GetString() == Id(1, Born))["_seq"].GetInt64());
        Assert.Equal(all.Count, all.Select(r => r["_seq"].GetInt64()).Distinct().Count());
        // Every key keeps its row id (delivery targets are keyed on it).
        var idsAfter = await RowIdsAsync("pop-small-replace");
        foreach (var (key, id) in idsBefore) Assert.Equal(id, idsAfter[key]);
        Assert.Equal(5, idsAfter.Count);

        // The key index is back and unique; a later load of the table still works through it.
        Assert.True(await KeyIndexExistsAsync("pop-small-replace"));
        var append = await (await LoadCsvAsync(steward, "pop-small-replace", Csv(Row(5, Born)))).OkJsonAsync<LoadDto>();
        Assert.Equal((0, 1), (append.RowsAccepted, append.RowsQuarantined));
    }

    /// <summary>The table's rows, tombstones included: ID number → row id.</summary>
    async Task<Dictionary<string, long>> RowIdsAsync(string resourceId) =>
        (await server.TableRowsAsync(resourceId, table => $"SELECT \"id_number\", \"_id\" FROM {table}"))
            .ToDictionary(row => (string)row[0]!, row => Convert.ToInt64(row[1], System.Globalization.CultureInfo.InvariantCulture));

    Task<bool> KeyIndexExistsAsync(string resourceId) => server.InScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<LianqiaoDb>();
        var table = await db.Set<DatasetTable>().AsNoTracking().SingleAsync(t => t.ResourceId == resourceId);
        var index = Lianqiao.Datasets.Storage.SqlDialect.KeyIndex(table.TableName);
        var sql = db.IsPostgres
            ? "SELECT count(*) FROM pg_indexes WHERE indexname = @name"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = @name";
        var conn = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        var p = cmd.CreateParameter();
        p.ParameterName = "name";
        p.Value = index;
        cmd.Parameters.Add(p);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) == 1;
    });
}
