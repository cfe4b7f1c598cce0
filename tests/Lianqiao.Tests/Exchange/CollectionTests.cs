using System.Globalization;
using System.Net.Http.Json;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Loading;
using Lianqiao.Exchange;
using Lianqiao.Tests.Datasets;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace Lianqiao.Tests.Exchange;

/// <summary>汇聚 from PostgreSQL, MariaDB and SQLite sources into resources, through the one load path.</summary>
public sealed class CollectionTests(ExchangeServer server, ITestOutputHelper output) : IClassFixture<ExchangeServer>
{
    static readonly DateTime T1 = new(2026, 11, 20, 10, 0, 0);
    static readonly DateTime T2 = new(2026, 11, 20, 10, 5, 0);

    public static TheoryData<string> Kinds => [.. ExternalDb.Kinds];

    async Task<ExternalDb?> SourceAsync(string kind)
    {
        await server.AllowLoopbackAsync();
        var db = await ExternalDb.CreateAsync(kind, server.DataDirectory);
        if (db is null) output.WriteLine($"skipped: no {kind} server here (the test command starts one)");
        return db;
    }

    async Task<string> PeopleResourceAsync(string id)
    {
        using var admin = await server.AsAdminAsync();
        var response = await DatasetTestData.PutSchemaAsync(admin, id, DatasetTestData.PopulationSchema(server.OwnDepartmentId));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return id;
    }

    async Task<Guid> ConnectionAsync(ExternalDb db)
    {
        using var admin = await server.AsAdminAsync();
        var created = await (await admin.PostJsonAsync("/api/v1/exchange/connections", db.ConnectionInput("源库 " + Guid.NewGuid().ToString("N")[..6], server.OwnDepartmentId)))
            .OkJsonAsync<ConnectionDto>();
        return created.Id;
    }

    async Task<HttpResponseMessage> CreateJobAsync(object job)
    {
        using var admin = await server.AsAdminAsync();
        return await admin.PostJsonAsync("/api/v1/exchange/jobs", job);
    }

    static readonly object[] Mapping = ExternalDb.PeopleMapping[..7];

    static (string Id, DateOnly Born) Person(int i)
    {
        var born = new DateOnly(1980, 1, 1).AddDays(i / 400);
        return (DatasetTestData.Id(i, born), born);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Incremental_pull_rereads_rows_at_the_checkpoint_edge_and_late_rows_within_the_overlap(string kind)
    {
        await using var source = await SourceAsync(kind);
        if (source is null) return;
        await source.CreatePeopleAsync();
        for (var i = 1; i <= 3; i++) await source.InsertPersonAsync("people", Person(i).Id, "张" + i, Person(i).Born, i == 1 ? T1 : T2);
        var resource = await PeopleResourceAsync($"ex-inc-{kind}");
        var job = await (await CreateJobAsync(new
        {
            name = "增量 " + kind, kind = "collect", connectionId = await ConnectionAsync(source), resourceId = resource, sourceTable = "people",
            mapping = Mapping, mode = "incremental", changeColumn = "gxsj", changeKind = "timestamp", overlapSeconds = 120,
        })).OkJsonAsync<JobDto>();

        var first = await server.RunAsync(job.Id);
        Assert.True(first.Status == RunStatus.Succeeded && first.RowsAccepted == 3, System.Text.Json.JsonSerializer.Serialize(first.AsDto()));
        Assert.Equal(T2, DateTime.Parse((await server.JobAsync(job.Id)).Checkpoint!, CultureInfo.InvariantCulture));

        // A row committed late with the checkpoint's own timestamp, one stamped by a clock a minute behind, and a real update.
        await source.InsertPersonAsync("people", Person(4).Id, "李四", Person(4).Born, T2);
        await source.InsertPersonAsync("people", Person(5).Id, "王五", Person(5).Born, T2.AddSeconds(-60));
        await source.ExecAsync("UPDATE people SET xm = @n, gxsj = @t WHERE sfzh = @id", ("n", "张一改"), ("t", source.Ts(T2.AddMinutes(1))), ("id", Person(1).Id));
        var second = await server.RunAsync(job.Id);
        Assert.True(second.Status == RunStatus.Succeeded, second.Error);
        var load = await LoadAsync(second.LoadId!.Value);
        Assert.Equal(2, load.RowsInserted);
        Assert.Equal(1, load.RowsUpdated);
        var stored = await server.StoredAsync(resource, "id_number", "name");
        Assert.Equal(5, stored.Count);
        Assert.Equal("张一改", stored[Person(1).Id]);
        Assert.Equal("李四", stored[Person(4).Id]);
        Assert.Equal("王五", stored[Person(5).Id]);

        // Nothing new: the overlap re-reads rows, and re-read rows change nothing (no new sequence numbers for consumers).
        var third = await server.RunAsync(job.Id);
        Assert.True(third.RowsRead > 0);
        var quiet = await LoadAsync(third.LoadId!.Value);
        Assert.Equal(0, quiet.RowsInserted);
        Assert.Equal(0, quiet.RowsUpdated);
        Assert.Equal(T2.AddMinutes(1), DateTime.Parse((await server.JobAsync(job.Id)).Checkpoint!, CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Snapshot_turns_rows_deleted_at_the_source_into_tombstones(string kind)
    {
        await using var source = await SourceAsync(kind);
        if (source is null) return;
        await source.CreatePeopleAsync();
        for (var i = 1; i <= 3; i++) await source.InsertPersonAsync("people", Person(i).Id, "赵" + i, Person(i).Born, T1);
        var resource = await PeopleResourceAsync($"ex-snap-{kind}");
        var job = await (await CreateJobAsync(new
        {
            name = "全量 " + kind, kind = "collect", connectionId = await ConnectionAsync(source), resourceId = resource, sourceTable = "people", mapping = Mapping, mode = "snapshot",
        })).OkJsonAsync<JobDto>();
        Assert.Equal(RunStatus.Succeeded, (await server.RunAsync(job.Id)).Status);

        await source.ExecAsync("DELETE FROM people WHERE sfzh = @id", ("id", Person(2).Id));
        var run = await server.RunAsync(job.Id);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(1, run.RowsDeleted);
        var stored = await server.StoredAsync(resource, "id_number", "name");
        Assert.Equal([Person(1).Id, Person(3).Id], stored.Keys.Order().ToArray());
        var table = await server.TableAsync(resource);
        var sql = "SELECT \"id_number\" AS \"Value\" FROM \"" + table.TableName + "\" WHERE \"_deleted\"";
        var tombstones = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Database.SqlQueryRaw<string>(sql).ToListAsync());
        Assert.Equal([Person(2).Id], tombstones);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_mapping_whose_types_cannot_fit_is_refused_and_bad_values_are_quarantined(string kind)
    {
        await using var source = await SourceAsync(kind);
        if (source is null) return;
        await source.ExecAsync($"CREATE TABLE odd (sfzh VARCHAR(18) NOT NULL, xm VARCHAR(50), age INTEGER, birth VARCHAR(20), gxsj {source.TimestampType})");
        await source.ExecAsync("INSERT INTO odd (sfzh, xm, age, birth, gxsj) VALUES (@a, '甲', 40, @b, @t)", ("a", Person(1).Id), ("b", Person(1).Born.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), ("t", source.Ts(T1)));
        await source.ExecAsync("INSERT INTO odd (sfzh, xm, age, birth, gxsj) VALUES (@a, '乙', 41, 'not-a-date', @t)", ("a", Person(2).Id), ("t", source.Ts(T1)));
        var resource = await PeopleResourceAsync($"ex-map-{kind}");
        var connection = await ConnectionAsync(source);

        var refused = await (await CreateJobAsync(new
        {
            name = "错配 " + kind, kind = "collect", connectionId = connection, resourceId = resource, sourceTable = "odd", mode = "snapshot",
            mapping = new object[] { new { source = "xm", column = "name" }, new { source = "age", column = "birth_date" }, new { source = "gxsj", column = "phone" }, new { source = "nope", column = "address" } },
        })).ProblemAsync(400);
        Assert.Equal("mapping-invalid", refused.Code);
        var errors = string.Join(" ", refused.Errors!.Keys);
        Assert.Contains("mapping.birth_date", errors);      // an integer can never be a date
        Assert.Contains("mapping.id_number", errors);       // the key is not mapped
        Assert.Contains("mapping.address", errors);         // no such source column
        Assert.DoesNotContain("mapping.phone", errors);     // a timestamp into text is fine

        var job = await (await CreateJobAsync(new
        {
            name = "文本日期 " + kind, kind = "collect", connectionId = connection, resourceId = resource, sourceTable = "odd", mode = "snapshot",
            mapping = new object[] { new { source = "sfzh", column = "id_number" }, new { source = "xm", column = "name" }, new { source = "birth", column = "birth_date" } },
        })).OkJsonAsync<JobDto>();
        using (var admin = await server.AsAdminAsync())
        {
            var preview = await (await admin.PostAsync($"/api/v1/exchange/jobs/{job.Id}/preview", null)).OkJsonAsync<PreviewDto>();
            Assert.Equal(["id_number", "name", "birth_date"], preview.Columns);
            Assert.Equal(2, preview.Rows.Count);
            Assert.Single(preview.Rows, r => r.Issues.Any(i => i.StartsWith("birth_date", StringComparison.Ordinal)));
        }
        var run = await server.RunAsync(job.Id);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(1, run.RowsAccepted);
        Assert.Equal(1, run.RowsQuarantined);
    }

    [Fact]
    public async Task A_source_that_disappears_mid_run_fails_the_run_and_leaves_the_stored_rows()
    {
        await using var source = await SourceAsync(ExchangeServer.PostgresKind);
        if (source is null) return;
        await source.CreatePeopleAsync();
        await source.ExecAsync("INSERT INTO people SELECT 'K' || i, '名' || i, '1', DATE '1980-01-01', '13812345678', '地址', 'H1', TIMESTAMP '2026-11-20' + i * INTERVAL '1 second' FROM generate_series(1, 3000) i");
        var resource = await SimpleResourceAsync("ex-gone");
        var connection = await ConnectionAsync(source);
        var good = await (await CreateJobAsync(new
        {
            name = "正常", kind = "collect", connectionId = connection, resourceId = resource, sourceTable = "people", mode = "snapshot",
            mapping = new object[] { new { source = "sfzh", column = "code" }, new { source = "xm", column = "title" } },
        })).OkJsonAsync<JobDto>();
        Assert.Equal(RunStatus.Succeeded, (await server.RunAsync(good.Id)).Status);

        // The source's server drops the connection after 2,000 rows have streamed. A snapshot first counts the rows in the
        // read's snapshot (one pass over the query), so the connection goes on the second pass, the read itself.
        await source.ExecAsync("CREATE SEQUENCE passes_at_k2000");
        var dying = await (await CreateJobAsync(new
        {
            name = "中断", kind = "collect", connectionId = connection, resourceId = resource, mode = "snapshot",
            sourceQuery = "SELECT * FROM people WHERE CASE WHEN sfzh = 'K2000' THEN CASE WHEN nextval('passes_at_k2000') > 1 THEN pg_terminate_backend(pg_backend_pid()) ELSE true END ELSE true END",
            mapping = new object[] { new { source = "sfzh", column = "code" }, new { source = "xm", column = "title" } },
        })).OkJsonAsync<JobDto>();
        await source.ExecAsync("UPDATE people SET xm = 'changed'");
        var run = await server.RunAsync(dying.Id);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.False(string.IsNullOrEmpty(run.Error));
        var load = await LoadAsync(run.LoadId!.Value);
        Assert.Equal(LoadStatus.Failed, load.Status);
        var stored = await server.StoredAsync(resource, "code", "title");
        Assert.Equal(3000, stored.Count);
        Assert.DoesNotContain("changed", stored.Values);
        var job = await server.JobAsync(dying.Id);
        Assert.Equal(RunStatus.Failed, job.LastStatus);
        Assert.Equal(1, job.Failures);
        Assert.Contains(await server.AuditAsync("exchange.run"), a => a.TargetId == dying.Id.ToString() && a.Outcome == global::Lianqiao.Audit.AuditOutcome.Failure);
    }

    [Theory]
    [InlineData(ExchangeServer.SqliteKind)]
    [InlineData(ExchangeServer.PostgresKind)]
    [InlineData(ExchangeServer.MySqlKind)]
    public async Task A_run_killed_mid_way_leaves_nothing_and_the_next_run_loads_every_row_once(string kind)
    {
        await using var source = await SourceAsync(kind);
        if (source is null) return;
        await source.ExecAsync($"CREATE TABLE items (code VARCHAR(20) NOT NULL PRIMARY KEY, title VARCHAR(100), changed {source.TimestampType})");
        var series = kind == ExchangeServer.PostgresKind
            ? "INSERT INTO items SELECT 'K' || i, 'item ' || i, TIMESTAMP '2026-11-20' + i * INTERVAL '1 second' FROM generate_series(1, 20000) i"
            : kind == ExchangeServer.SqliteKind
                ? "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO items SELECT 'K' || i, 'item ' || i, datetime('2026-11-20', '+' || i || ' seconds') FROM n"
                : "SET SESSION max_recursive_iterations = 100000; INSERT INTO items WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT CONCAT('K', i), CONCAT('item ', i), TIMESTAMP '2026-11-20 00:00:00' + INTERVAL i SECOND FROM n";
        await source.ExecAsync(series);
        var resource = await SimpleResourceAsync($"ex-kill-{kind}");
        var job = await (await CreateJobAsync(new
        {
            name = "断点 " + kind, kind = "collect", connectionId = await ConnectionAsync(source), resourceId = resource, sourceTable = "items", mode = "incremental",
            changeColumn = "changed", changeKind = "timestamp", mapping = new object[] { new { source = "code", column = "code" }, new { source = "title", column = "title" } },
        })).OkJsonAsync<JobDto>();

        using var kill = new CancellationTokenSource();
        var killed = await server.RunAsync(job.Id, new CancelAt(8192, kill), kill.Token);
        Assert.Equal(RunStatus.Interrupted, killed.Status);
        Assert.Null((await server.JobAsync(job.Id)).Checkpoint);
        Assert.Empty(await server.StoredAsync(resource, "code", "title"));

        var resumed = await server.RunAsync(job.Id);
        Assert.True(resumed.Status == RunStatus.Succeeded, resumed.Error);
        var stored = await server.StoredAsync(resource, "code", "title");
        Assert.Equal(20000, stored.Count);
        Assert.Equal("item 12345", stored["K12345"]);
        Assert.Equal(new DateTime(2026, 11, 20).AddSeconds(20000), DateTime.Parse((await server.JobAsync(job.Id)).Checkpoint!, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task The_api_starts_a_run_with_202_and_a_location_to_poll_and_lists_its_runs()
    {
        await using var source = await SourceAsync(ExchangeServer.SqliteKind);
        await source!.CreatePeopleAsync();
        await source.InsertPersonAsync("people", Person(1).Id, "钱一", Person(1).Born, T1);
        var resource = await PeopleResourceAsync("ex-api");
        var job = await (await CreateJobAsync(new
        {
            name = "接口运行", kind = "collect", connectionId = await ConnectionAsync(source), resourceId = resource, sourceTable = "people", mapping = Mapping,
            mode = "snapshot", intervalSeconds = 3600,
        })).OkJsonAsync<JobDto>();
        using var steward = await server.AsUserAsync("t-steward");
        var run = await ExchangeServer.RunThroughApiAsync(steward, job.Id);
        Assert.True(run!.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(1, run.RowsRead);
        Assert.Equal("manual", run.Trigger);
        var runs = await steward.GetFromJsonAsync<List<RunDto>>($"/api/v1/exchange/jobs/{job.Id}/runs", HttpAssertions.Json);
        Assert.Equal(run.Id, Assert.Single(runs!).Id);
        var after = await server.JobAsync(job.Id);
        Assert.True(after.NextRunAt > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.Null(after.LeaseHolder);
    }

    [Fact]
    public async Task A_drop_folder_loads_each_file_once_through_the_upload_path()
    {
        var folder = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "exchange", "drop-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        var born = new DateOnly(1985, 5, 5);
        await File.WriteAllTextAsync(Path.Combine(folder, "001.csv"), DatasetTestData.Csv(DatasetTestData.Row(1, born), DatasetTestData.Row(2, born)));
        await File.WriteAllTextAsync(Path.Combine(folder, "002.csv"), DatasetTestData.Csv(DatasetTestData.Row(3, born), DatasetTestData.Row(4, born, phone: "12")));
        var resource = await PeopleResourceAsync("ex-drop");
        using var admin = await server.AsAdminAsync();
        var connection = await (await admin.PostJsonAsync("/api/v1/exchange/connections", new { name = "投递目录", kind = "drop-folder", departmentId = server.OwnDepartmentId, path = folder }))
            .OkJsonAsync<ConnectionDto>();
        var job = await (await CreateJobAsync(new { name = "目录汇聚", kind = "collect", connectionId = connection.Id, resourceId = resource, mode = "incremental" })).OkJsonAsync<JobDto>();
        var run = await server.RunAsync(job.Id);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(2, run.Batches);
        Assert.Equal(4, run.RowsAccepted);   // the malformed phone is a warning in this schema: kept and flagged
        Assert.Equal(4, (await server.StoredAsync(resource, "id_number", "name")).Count);
        Assert.Empty(Directory.GetFiles(folder));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(folder, "done")).Length);
        Assert.Equal(0, (await server.RunAsync(job.Id)).Batches);
    }

    [Fact]
    public async Task The_scheduler_runs_a_job_when_its_interval_comes_round_and_records_the_lag()
    {
        await using var source = await SourceAsync(ExchangeServer.SqliteKind);
        await source!.CreatePeopleAsync();
        await source.InsertPersonAsync("people", Person(7).Id, "孙七", Person(7).Born, T1);
        var resource = await PeopleResourceAsync("ex-scheduled");
        var job = await (await CreateJobAsync(new
        {
            name = "定时", kind = "collect", connectionId = await ConnectionAsync(source), resourceId = resource, sourceTable = "people", mapping = Mapping,
            mode = "snapshot", intervalSeconds = 10,
        })).OkJsonAsync<JobDto>();
        using var admin = await server.AsAdminAsync();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        List<RunDto> runs = [];
        while (DateTime.UtcNow < deadline && !runs.Any(r => r.Status == RunStatus.Succeeded))
        {
            await Task.Delay(500);
            runs = (await admin.GetFromJsonAsync<List<RunDto>>($"/api/v1/exchange/jobs/{job.Id}/runs", HttpAssertions.Json))!;
        }
        var run = runs.Last(r => r.Status == RunStatus.Succeeded);
        Assert.Equal("schedule", run.Trigger);
        Assert.NotNull(run.ScheduleLagSeconds);
        Assert.Single(await server.StoredAsync(resource, "id_number", "name"));
        // The scheduler writes the run's audit record after its status (ExchangeRunner.FinishAsync): wait for it as for the run.
        List<global::Lianqiao.Audit.AuditRecord> audited = [];
        while (DateTime.UtcNow < deadline && !(audited = await server.AuditAsync("exchange.run")).Any(a => a.TargetId == job.Id.ToString()))
            await Task.Delay(100);
        Assert.Contains(audited, a => a.TargetId == job.Id.ToString() && a.ActorKind == "System");
    }

    async Task<string> SimpleResourceAsync(string id)
    {
        using var admin = await server.AsAdminAsync();
        var response = await DatasetTestData.PutSchemaAsync(admin, id, new
        {
            name = "交换测试", departmentId = server.OwnDepartmentId,
            columns = new object[]
            {
                new { name = "编号", column = "code", type = "C", length = 20, required = true, key = true },
                new { name = "名称", column = "title", type = "C", length = 100 },
            },
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return id;
    }

    Task<DatasetLoad> LoadAsync(Guid id) =>
        server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DatasetLoad>().AsNoTracking().SingleAsync(l => l.Id == id));

    /// <summary>Cancels the run once this many rows have been read: a process killed mid-way, at a point it does not choose.</summary>
    internal sealed class CancelAt(long rows, CancellationTokenSource kill) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value)
        {
            if (value.Rows >= rows) kill.Cancel();
        }
    }
}
