using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Domain.Codes;
using Lianqiao.Domain.Synthetic;
using Lianqiao.Exchange;
using Lianqiao.Organizations;
using Lianqiao.Sharing;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace Lianqiao.Tests.Exchange;

/// <summary>分发 of population-basic (catalog masking) into SQLite, PostgreSQL and MariaDB targets under an application's grant.</summary>
public sealed class DeliveryTests(ExchangeServer server, ITestOutputHelper output) : IClassFixture<ExchangeServer>
{
    const string Resource = "population-basic";
    static readonly SemaphoreSlim Loading = new(1, 1);
    static readonly Dictionary<ExchangeServer, List<Person>> Loaded = [];

    public sealed record Person(string Id, string Name, string Birth, string Phone);

    /// <summary>The police load 40 people once per fixture, through the ordinary upload.</summary>
    async Task<List<Person>> PeopleAsync()
    {
        await Loading.WaitAsync();
        try
        {
            if (Loaded.TryGetValue(server, out var people)) return people;
            await server.AllowLoopbackAsync();
            people = [];
            var data = new SyntheticData(17);
            var csv = new StringBuilder("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n");
            for (var i = 0; i < 40; i++)
            {
                var birth = data.Date(new DateOnly(1950, 1, 1), new DateOnly(2005, 12, 31));
                var id = data.IdNumber("320706", birth, birth);
                var p = new Person(id, data.PersonName(), birth.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), data.MobileNumber());
                people.Add(p);
                csv.Append(Line(p, ResidentIdNumber.GetGender(id) == Gender.Male ? "1" : "2"));
            }
            await LoadCsvAsync(csv.ToString(), "replace");
            Loaded[server] = people;
            return people;
        }
        finally
        {
            Loading.Release();
        }
    }

    static string Line(Person p, string gender = "1") => $"{p.Id},{p.Name},{gender},{p.Birth},{p.Phone},连云港市海州区某路1号,H000001,2026-11-01 08:00:00\n";

    async Task LoadCsvAsync(string csv, string mode)
    {
        using var steward = await server.AsUserAsync("t-steward");
        var load = await (await steward.PostAsync($"/api/v1/datasets/{Resource}/loads?mode={mode}", new StringContent(csv, Encoding.UTF8, "text/csv"))).OkJsonAsync<LoadDto>();
        Assert.True(load.Status == "succeeded", System.Text.Json.JsonSerializer.Serialize(load));
    }

    Task<Grant> GrantAsync(string appName, Guid department, string[] fields, string[] unmasked) => server.InScopeAsync(async sp =>
    {
        var app = await sp.GetRequiredService<LianqiaoDb>().Set<ConsumerApp>().SingleAsync(a => a.Name == appName);
        return await sp.GetRequiredService<GrantService>().IssueAsync(new Grant
        {
            PrincipalKind = PrincipalKind.Application, PrincipalId = app.Id.ToString(), ConsumerDepartmentId = department, ResourceId = Resource,
            ProviderDepartmentId = server.OwnDepartmentId, Kind = GrantKind.Table, Fields = [.. fields], UnmaskedFields = [.. unmasked],
            ExpiresAt = DateTimeOffset.UtcNow.AddDays(30),
        }, new AuditEntry("grant.issue") { ActorKind = "System", ActorName = "test" }, default);
    });

    async Task<JobDto> DeliveryAsync(ExternalDb target, string appName, Guid department, string table, int batchSize)
    {
        using var admin = await server.AsAdminAsync();
        var connection = await (await admin.PostJsonAsync("/api/v1/exchange/connections", target.ConnectionInput("前置库 " + Guid.NewGuid().ToString("N")[..6], department)))
            .OkJsonAsync<ConnectionDto>();
        return await (await admin.PostJsonAsync("/api/v1/exchange/jobs", new
        {
            name = $"分发 {target.Kind} {table}", kind = "deliver", connectionId = connection.Id, resourceId = Resource, appId = await server.AppIdAsync(appName),
            targetTable = table, batchSize,
        })).OkJsonAsync<JobDto>();
    }

    /// <summary>The platform's live rows: row id → ID number.</summary>
    async Task<Dictionary<long, string>> LiveAsync() =>
        (await server.TableRowsAsync(Resource, table => $"SELECT \"_id\", \"id_number\" FROM {table} WHERE NOT \"_deleted\""))
            .ToDictionary(row => Convert.ToInt64(row[0], CultureInfo.InvariantCulture), row => (string)row[1]!);

    /// <summary>The target's rows: row id → column → value as text.</summary>
    static async Task<Dictionary<long, Dictionary<string, string?>>> TargetAsync(ExternalDb target, string table)
    {
        await using var c = target.Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT * FROM {table}";
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new Dictionary<long, Dictionary<string, string?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, string?>();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var v = reader.IsDBNull(i) ? null : reader.GetValue(i);
                row[reader.GetName(i)] = v switch
                {
                    DateTime d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    _ => Convert.ToString(v, CultureInfo.InvariantCulture),
                };
            }
            rows.Add(long.Parse(row["lq_row_id"]!, CultureInfo.InvariantCulture), row);
        }
        return rows;
    }

    static async Task<long> CheckpointAsync(ExternalDb target, Guid jobId)
    {
        var rows = await target.QueryAsync($"SELECT last_seq FROM lianqiao_checkpoints WHERE subscription = '{jobId}'");
        return Convert.ToInt64(Assert.Single(rows)[0], CultureInfo.InvariantCulture);
    }

    async Task<List<ReceiptDto>> ReceiptsAsync(Guid jobId)
    {
        using var admin = await server.AsAdminAsync();
        return (await admin.GetFromJsonAsync<List<ReceiptDto>>($"/api/v1/exchange/jobs/{jobId}/receipts", HttpAssertions.Json))!;
    }

    static void AssertContiguous(List<ReceiptDto> receipts)
    {
        Assert.NotEmpty(receipts);
        Assert.Equal(0, receipts[0].FromSeq);
        for (var i = 1; i < receipts.Count; i++) Assert.Equal(receipts[i - 1].ToSeq, receipts[i].FromSeq);
        Assert.All(receipts, r => Assert.True(r.ToSeq > r.FromSeq));
    }

    async Task<List<ExternalDb>> TargetsAsync()
    {
        var targets = new List<ExternalDb>();
        foreach (var kind in ExternalDb.Kinds)
        {
            if (await ExternalDb.CreateAsync(kind, server.DataDirectory) is { } t) targets.Add(t);
            else output.WriteLine($"no {kind} server here: that target is skipped");
        }
        return targets;
    }

    [Fact]
    public async Task Delivery_keeps_each_kind_of_target_in_step_masked_as_granted_and_stops_after_a_revoke()
    {
        var people = await PeopleAsync();
        var grant = await GrantAsync("t-app", server.OwnDepartmentId, ["name", "id_number", "birth_date", "phone"], ["birth_date"]);
        var targets = await TargetsAsync();
        try
        {
            var jobs = new List<JobDto>();
            foreach (var t in targets) jobs.Add(await DeliveryAsync(t, "t-app", server.OwnDepartmentId, "population_copy", 7));
            foreach (var job in jobs)
            {
                var run = await server.RunAsync(job.Id);
                Assert.True(run.Status == RunStatus.Succeeded, run.Error);
            }
            var live = await LiveAsync();
            foreach (var t in targets)
            {
                var rows = await TargetAsync(t, "population_copy");
                Assert.Equal(live.Keys.Order(), rows.Keys.Order());
                var columns = rows.First().Value.Keys.ToList();
                Assert.DoesNotContain("address", columns);
                Assert.DoesNotContain("household_id", columns);
                foreach (var (rowId, id) in live)
                {
                    var person = people.FirstOrDefault(p => p.Id == id);
                    if (person is null) continue;
                    var row = rows[rowId];
                    Assert.NotEqual(person.Name, row["name"]);
                    Assert.StartsWith(person.Name[..1], row["name"]);
                    Assert.Equal(person.Id[..6] + "********" + person.Id[^4..], row["id_number"]);
                    Assert.Equal(person.Phone[..3] + "****" + person.Phone[^4..], row["phone"]);
                    Assert.Equal(person.Birth, row["birth_date"]);   // lifted explicitly by the grant
                }
            }

            // The provider changes one phone and deletes one person: the next runs carry both.
            var changed = people[0] with { Phone = "13900009876" };
            await LoadCsvAsync("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n" + Line(changed, ResidentIdNumber.GetGender(changed.Id) == Gender.Male ? "1" : "2"), "upsert");
            await LoadCsvAsync("id_number\n" + people[1].Id + "\n", "delete");
            foreach (var job in jobs) Assert.Equal(RunStatus.Succeeded, (await server.RunAsync(job.Id)).Status);
            live = await LiveAsync();
            Assert.DoesNotContain(people[1].Id, live.Values);
            var changedRow = live.Single(l => l.Value == changed.Id).Key;
            for (var i = 0; i < targets.Count; i++)
            {
                var rows = await TargetAsync(targets[i], "population_copy");
                Assert.Equal(live.Keys.Order(), rows.Keys.Order());
                Assert.Equal("139****9876", rows[changedRow]["phone"]);
                var receipts = await ReceiptsAsync(jobs[i].Id);
                AssertContiguous(receipts);
                Assert.Equal(receipts[^1].ToSeq, await CheckpointAsync(targets[i], jobs[i].Id));
                Assert.Contains(receipts, r => r.Deletes == 1);
            }
            Assert.Contains(await server.AuditAsync("data.deliver"), a => a.ActorId == grant.PrincipalId);

            // Revoked: the runs stop and write nothing more.
            await server.InScopeAsync(sp => sp.GetRequiredService<GrantService>().RevokeAsync(grant.Id, "test", new AuditEntry("grant.revoke") { ActorKind = "System" }, default));
            var later = people[2] with { Phone = "13700001111" };
            await LoadCsvAsync("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n" + Line(later, ResidentIdNumber.GetGender(later.Id) == Gender.Male ? "1" : "2"), "upsert");
            var laterRow = live.Single(l => l.Value == later.Id).Key;
            for (var i = 0; i < targets.Count; i++)
            {
                var run = await server.RunAsync(jobs[i].Id);
                Assert.Equal(RunStatus.Stopped, run.Status);
                Assert.Contains("授权", run.Error);
                var rows = await TargetAsync(targets[i], "population_copy");
                Assert.Equal(people[2].Phone[..3] + "****" + people[2].Phone[^4..], rows[laterRow]["phone"]);
            }
        }
        finally
        {
            foreach (var t in targets) await t.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(ExchangeServer.SqliteKind)]
    [InlineData(ExchangeServer.PostgresKind)]
    [InlineData(ExchangeServer.MySqlKind)]
    public async Task A_delivery_killed_mid_way_resumes_from_its_checkpoint_with_no_loss_and_no_duplicates(string kind)
    {
        await PeopleAsync();
        await using var target = await ExternalDb.CreateAsync(kind, server.DataDirectory);
        if (target is null) return;
        await GrantAsync("t-other-app", server.OtherDepartmentId, ["name", "id_number"], []);
        var job = await DeliveryAsync(target, "t-other-app", server.OtherDepartmentId, "resumed", 10);

        using var kill = new CancellationTokenSource();
        var killed = await server.RunAsync(job.Id, new CollectionTests.CancelAt(10, kill), kill.Token);
        Assert.Equal(RunStatus.Interrupted, killed.Status);
        var first = await ReceiptsAsync(job.Id);
        Assert.Equal(10, (await TargetAsync(target, "resumed")).Count);
        Assert.Equal(first[^1].ToSeq, await CheckpointAsync(target, job.Id));

        var resumed = await server.RunAsync(job.Id);
        Assert.True(resumed.Status == RunStatus.Succeeded, resumed.Error);
        var live = await LiveAsync();
        var rows = await TargetAsync(target, "resumed");
        Assert.Equal(live.Keys.Order(), rows.Keys.Order());
        var receipts = await ReceiptsAsync(job.Id);
        AssertContiguous(receipts);
        Assert.Equal(receipts[^1].ToSeq, await CheckpointAsync(target, job.Id));
    }

    [Fact]
    public async Task Delivered_rows_count_against_the_grants_daily_row_quota_which_is_never_overshot()
    {
        await PeopleAsync();
        await using var target = await ExternalDb.CreateAsync(ExchangeServer.SqliteKind, server.DataDirectory);
        Assert.NotNull(target);
        var grant = await GrantAsync("t-other-app", server.OtherDepartmentId, ["name", "id_number"], []);
        await SetQuotaAsync(grant.Id, 15);
        var job = await DeliveryAsync(target, "t-other-app", server.OtherDepartmentId, "quota_limited", 7);
        try
        {
            // 7 + 7 + 1 rows fit under 15; the feed holds more, so the run stops and says why.
            var stopped = await server.RunAsync(job.Id);
            Assert.Equal(RunStatus.Stopped, stopped.Status);
            Assert.Contains("配额", stopped.Error);
            Assert.Equal(15, stopped.RowsRead);
            Assert.Equal(15, (await TargetAsync(target, "quota_limited")).Count);
            Assert.Equal(15, await QuotaUsedAsync(grant.Id));

            // Nothing left today: the next run delivers nothing and takes nothing.
            var again = await server.RunAsync(job.Id);
            Assert.Equal(RunStatus.Stopped, again.Status);
            Assert.Equal(15, (await TargetAsync(target, "quota_limited")).Count);
            Assert.Equal(15, await QuotaUsedAsync(grant.Id));

            // A larger quota: the rest comes from the checkpoint, and what each batch did not fill is given back.
            await SetQuotaAsync(grant.Id, 1_000);
            var rest = await server.RunAsync(job.Id);
            Assert.True(rest.Status == RunStatus.Succeeded, rest.Error);
            var live = await LiveAsync();
            Assert.Equal(live.Keys.Order(), (await TargetAsync(target, "quota_limited")).Keys.Order());
            Assert.Equal(stopped.RowsRead + rest.RowsRead, await QuotaUsedAsync(grant.Id));
            Assert.True(rest.RowsRead >= live.Count - 15);

            // Exactly used up with nothing left in the feed: the run succeeds rather than stopping.
            await SetQuotaAsync(grant.Id, stopped.RowsRead + rest.RowsRead);
            Assert.Equal(RunStatus.Succeeded, (await server.RunAsync(job.Id)).Status);
        }
        finally
        {
            await server.InScopeAsync(sp => sp.GetRequiredService<GrantService>().RevokeAsync(grant.Id, "test", new AuditEntry("grant.revoke") { ActorKind = "System" }, default));
        }
    }

    Task SetQuotaAsync(Guid grantId, long perDay) => server.InScopeAsync(sp =>
        sp.GetRequiredService<LianqiaoDb>().Set<Grant>().Where(g => g.Id == grantId).ExecuteUpdateAsync(s => s.SetProperty(g => g.QuotaPerDay, perDay)));

    Task<long> QuotaUsedAsync(Guid grantId) => server.InScopeAsync(sp =>
        sp.GetRequiredService<LianqiaoDb>().Set<QuotaUsage>().Where(q => q.GrantId == grantId).SumAsync(q => q.Used));

    /// <summary>
    /// A first copy into an empty PostgreSQL table COPYs every batch straight in; a row changed while the run goes on comes
    /// again in a later batch, which then meets the primary key and is written through the upsert instead.
    /// </summary>
    [Fact]
    public async Task A_first_copy_goes_straight_in_and_a_row_changed_during_the_run_is_upserted_not_duplicated()
    {
        var people = await PeopleAsync();
        await using var target = await ExternalDb.CreateAsync(ExchangeServer.PostgresKind, server.DataDirectory);
        if (target is null)
        {
            output.WriteLine("no PostgreSQL server here: the straight copy is PostgreSQL's only");
            return;
        }
        var grant = await GrantAsync("t-other-app", server.OtherDepartmentId, ["name", "id_number", "phone"], []);
        var job = await DeliveryAsync(target, "t-other-app", server.OtherDepartmentId, "straight", 7);
        Person? original = null;
        try
        {
            Person? changed = null;
            var afterFirstBatch = new ChangeOnce(7, () =>
            {
                // A person the first batch delivered gets a new phone: the feed hands the row out again at its end.
                var delivered = TargetAsync(target, "straight").GetAwaiter().GetResult();
                var live = LiveAsync().GetAwaiter().GetResult();
                // (Not one of the first three people, whom the other tests change.)
                original = people.Skip(3).First(p => delivered.Keys.Any(id => live.TryGetValue(id, out var number) && number == p.Id));
                changed = original with { Phone = "13600002222" };
                LoadCsvAsync("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n"
                    + Line(changed, ResidentIdNumber.GetGender(changed.Id) == Gender.Male ? "1" : "2"), "upsert").GetAwaiter().GetResult();
            });
            var run = await server.RunAsync(job.Id, afterFirstBatch);
            Assert.True(run.Status == RunStatus.Succeeded, run.Error);
            Assert.NotNull(changed);
            var liveNow = await LiveAsync();
            var rows = await TargetAsync(target, "straight");
            Assert.Equal(liveNow.Keys.Order(), rows.Keys.Order());
            Assert.Equal("136****2222", rows[liveNow.Single(l => l.Value == changed!.Id).Key]["phone"]);
            var receipts = await ReceiptsAsync(job.Id);
            AssertContiguous(receipts);
            Assert.Equal(receipts[^1].ToSeq, await CheckpointAsync(target, job.Id));
        }
        finally
        {
            await server.InScopeAsync(sp => sp.GetRequiredService<GrantService>().RevokeAsync(grant.Id, "test", new AuditEntry("grant.revoke") { ActorKind = "System" }, default));
            // The other tests of the class expect the fixture's people as loaded.
            if (original is not null)
                await LoadCsvAsync("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n"
                    + Line(original, ResidentIdNumber.GetGender(original.Id) == Gender.Male ? "1" : "2"), "upsert");
        }
    }

    /// <summary>
    /// PostgreSQL targets are written with COPY in text format: a value holding a tab, a newline, a carriage return or a
    /// backslash must arrive escaped and come back as stored, as must a missing value, a date and a timestamp.
    /// </summary>
    [Fact]
    public async Task Values_with_tabs_newlines_and_backslashes_arrive_in_a_postgresql_target_as_stored()
    {
        var people = await PeopleAsync();
        await using var target = await ExternalDb.CreateAsync(ExchangeServer.PostgresKind, server.DataDirectory);
        if (target is null)
        {
            output.WriteLine("no PostgreSQL server here: the text COPY is PostgreSQL's only");
            return;
        }
        var grant = await GrantAsync("t-other-app", server.OtherDepartmentId, ["id_number", "address", "birth_date", "household_id", "updated_at"], ["address", "birth_date"]);
        var original = people[4];
        const string Address = "连云港市\t海州区\\某路\n1号\r\n2室 \\N";
        try
        {
            // Quoted, so the CSV field keeps its line breaks; no household number, so it is stored as missing.
            var gender = ResidentIdNumber.GetGender(original.Id) == Gender.Male ? "1" : "2";
            await LoadCsvAsync("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n"
                + $"{original.Id},{original.Name},{gender},{original.Birth},{original.Phone},\"{Address}\",,2026-11-01 08:30:15\n", "upsert");
            var job = await DeliveryAsync(target, "t-other-app", server.OtherDepartmentId, "escaped", 7);
            var run = await server.RunAsync(job.Id);
            Assert.True(run.Status == RunStatus.Succeeded, run.Error);

            var rowId = (await LiveAsync()).Single(l => l.Value == original.Id).Key;
            var row = (await TargetAsync(target, "escaped"))[rowId];
            Assert.Equal(Address, row["address"]);
            Assert.Equal(original.Birth, row["birth_date"]);
            Assert.Equal(original.Id[..6] + "********" + original.Id[^4..], row["id_number"]);
            // (TargetAsync shows a missing value as ""; the database tells them apart.)
            var stored = await target.QueryAsync($"SELECT household_id IS NULL, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US') FROM escaped WHERE lq_row_id = {rowId}");
            Assert.Equal(true, Assert.Single(stored)[0]);
            Assert.Equal("2026-11-01 08:30:15.000000", stored[0][1]);
        }
        finally
        {
            await server.InScopeAsync(sp => sp.GetRequiredService<GrantService>().RevokeAsync(grant.Id, "test", new AuditEntry("grant.revoke") { ActorKind = "System" }, default));
            // The other tests of the class expect the fixture's people as loaded.
            await LoadCsvAsync("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n"
                + Line(original, ResidentIdNumber.GetGender(original.Id) == Gender.Male ? "1" : "2"), "upsert");
        }
    }

    /// <summary>Runs <paramref name="change"/> once, on its own thread, when the reported rows first reach <paramref name="rows"/>.</summary>
    sealed class ChangeOnce(long rows, Action change) : IProgress<global::Lianqiao.Datasets.Loading.LoadProgress>
    {
        bool done;

        public void Report(global::Lianqiao.Datasets.Loading.LoadProgress value)
        {
            if (done || value.Rows < rows) return;
            done = true;
            Task.Run(change).GetAwaiter().GetResult();
        }
    }
}

/// <summary>`lianqiao exchange run` as its own process, killed with SIGKILL mid-delivery, then run again.</summary>
public sealed class KilledDeliveryProcessTests(ExchangeServer server) : IClassFixture<ExchangeServer>
{
    [Fact]
    public async Task A_killed_cli_delivery_resumes_from_the_targets_checkpoint_with_no_loss_and_no_duplicates()
    {
        await server.AllowLoopbackAsync();
        var data = new SyntheticData(23);
        var csv = new StringBuilder("id_number,name,gender,birth_date,phone,address,household_id,updated_at\n");
        for (var i = 0; i < 3000; i++)
        {
            var birth = data.Date(new DateOnly(1950, 1, 1), new DateOnly(2005, 12, 31));
            var id = data.IdNumber("320706", birth, birth);
            csv.Append($"{id},{data.PersonName()},{(ResidentIdNumber.GetGender(id) == Gender.Male ? "1" : "2")},{birth:yyyy-MM-dd},{data.MobileNumber()},连云港市某路,H1,2026-11-01 08:00:00\n");
        }
        using (var steward = await server.AsUserAsync("t-steward"))
            (await steward.PostAsync("/api/v1/datasets/population-basic/loads?mode=replace", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"))).EnsureSuccessStatusCode();
        var appId = await server.AppIdAsync("t-app");
        await server.InScopeAsync(sp => sp.GetRequiredService<GrantService>().IssueAsync(new Grant
        {
            PrincipalKind = PrincipalKind.Application, PrincipalId = appId.ToString(), ConsumerDepartmentId = server.OwnDepartmentId, ResourceId = "population-basic",
            ProviderDepartmentId = server.OwnDepartmentId, Kind = GrantKind.Table, Fields = ["name", "id_number"], ExpiresAt = DateTimeOffset.UtcNow.AddDays(1),
        }, new AuditEntry("grant.issue") { ActorKind = "System" }, default));
        await using var target = await ExternalDb.CreateAsync(ConnectionKinds.Sqlite, server.DataDirectory);
        using var admin = await server.AsAdminAsync();
        var connection = await (await admin.PostJsonAsync("/api/v1/exchange/connections", target!.ConnectionInput("进程测试", server.OwnDepartmentId))).OkJsonAsync<ConnectionDto>();
        var job = await (await admin.PostJsonAsync("/api/v1/exchange/jobs", new
        {
            name = "进程分发", kind = "deliver", connectionId = connection.Id, resourceId = "population-basic", appId, targetTable = "killed_copy", batchSize = 1,
        })).OkJsonAsync<JobDto>();

        var args = new List<string> { typeof(Lianqiao.Hosting.LianqiaoApp).Assembly.Location, "exchange", "run", job.Id.ToString(), "--data", server.DataDirectory };
        if (server.PostgresConnectionString is { } pg) args.AddRange(["--db", pg]);
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var child = System.Diagnostics.Process.Start(start)!;
        try
        {
            await KillAfterFirstCommittedBatchAsync(child);
        }
        finally
        {
            // A failed assertion must not leave the CLI running beside the next tests.
            if (!child.HasExited) child.Kill(entireProcessTree: true);
        }

        // The dead process's lease does not block the next run on this machine; the run resumes from the target's checkpoint.
        var resumed = await server.RunAsync(job.Id);
        Assert.True(resumed.Status == RunStatus.Succeeded, resumed.Error);
        Assert.NotEqual("0", resumed.CheckpointBefore);
        var runs = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<ExchangeRun>().AsNoTracking().Where(r => r.JobId == job.Id).ToListAsync());
        Assert.True(runs.Any(r => r.Status == RunStatus.Interrupted && r.Trigger == "cli"), string.Join("; ", runs.Select(r => $"{r.Trigger} {r.Status} {r.Error}")));
        var live = await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<LianqiaoDb>();
            var table = await db.Set<DatasetTable>().AsNoTracking().SingleAsync(t => t.ResourceId == "population-basic");
            var sql = "SELECT count(*) AS \"Value\" FROM \"" + table.TableName + "\" WHERE NOT \"_deleted\"";
            return await db.Database.SqlQueryRaw<long>(sql).SingleAsync();
        });
        var ids = await target.QueryAsync("SELECT lq_row_id FROM killed_copy");
        Assert.Equal(live, ids.Count);
        Assert.Equal(ids.Count, ids.Select(r => r[0]).Distinct().Count());
        var all = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DeliveryReceipt>().AsNoTracking().Where(r => r.JobId == job.Id).ToListAsync());
        var ordered = all.OrderBy(r => r.ToSeq).ToList();
        for (var i = 1; i < ordered.Count; i++) Assert.Equal(ordered[i - 1].ToSeq, ordered[i].FromSeq);
    }

    /// <summary>
    /// Kills the CLI once it has committed at least one batch (its progress line is drawn only after a committed batch),
    /// while it still has batches to go (3,000 one-row batches). No fixed deadline decides the outcome: on a loaded
    /// 2-core CI box the process start alone can take a minute, so the wait ends on progress or exit, and the long
    /// timeout is only a guard against a hung process (and then the test says so).
    /// </summary>
    static async Task KillAfterFirstCommittedBatchAsync(System.Diagnostics.Process child)
    {
        var progressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new StringBuilder();
        _ = Task.Run(async () =>
        {
            var buffer = new char[512];
            int n;
            while ((n = await child.StandardError.ReadAsync(buffer)) > 0)
            {
                lock (stderr)
                {
                    stderr.Append(buffer, 0, n);
                    if (stderr.ToString().Contains("行/rows", StringComparison.Ordinal)) progressed.TrySetResult();
                }
            }
        });
        _ = child.StandardOutput.ReadToEndAsync();
        var exited = child.WaitForExitAsync();
        var first = await Task.WhenAny(progressed.Task, exited, Task.Delay(TimeSpan.FromMinutes(10)));
        string Err() { lock (stderr) return stderr.ToString(); }
        Assert.True(first != exited, "the delivery ended before it could be killed: " + Err());
        Assert.True(first == progressed.Task, "no batch committed within 10 minutes: " + Err());
        // A moment later, so the kill usually lands inside a later batch rather than on a boundary; whether it does is
        // luck either way, and the assertions hold for both.
        await Task.Delay(200);
        Assert.False(child.HasExited, "the delivery ended before it could be killed: " + Err());
        child.Kill(entireProcessTree: true);
        await child.WaitForExitAsync();
    }
}
