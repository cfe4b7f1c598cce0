using System.Diagnostics;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Jobs;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Xunit;

namespace Lianqiao.Tests.Audit;

/// <summary>Seals only when a test asks, so each test knows exactly which seals exist.</summary>
public sealed class LedgerServer : LianqiaoServer
{
    protected override void Configure(WebApplicationBuilder builder) =>
        builder.Services.Configure<JobOptions>(o => o.Enabled = false);
}

/// <summary>
/// Each test seals, tampers with the database behind the application's back (raw SQL; on PostgreSQL as
/// the superuser with triggers bypassed), checks that verify names the damage over HTTP and on the
/// command line, then puts the rows back and checks the ledger holds again.
/// </summary>
public sealed class AuditLedgerTests(LedgerServer server) : IClassFixture<LedgerServer>
{
    [Fact]
    public async Task Intact_ledger_verifies_over_http_and_on_the_command_line()
    {
        await AddRecordsAsync(3);
        var sealedNow = await SealAsync();
        Assert.True(sealedNow.Seals >= 1);

        var report = await VerifyOverHttpAsync();
        Assert.True(report.Intact, report.Summary);
        Assert.Null(report.Problem);
        Assert.True(report.SealedRecords >= 3);

        var (code, stdout, stderr) = await RunCliAsync("audit", "verify");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("audit ledger intact", stdout);
    }

    [Fact]
    public async Task An_edited_record_is_named()
    {
        await AddRecordsAsync(3);
        await SealAsync();
        var victim = await SealedRecordAsync();
        await AssertEditIsNamedAsync(victim, (await LastSealAsync()).Number,
            $"record {victim.Id} was altered", $"记录 {victim.Id} 被篡改");
    }

    [Fact]
    public async Task An_edited_record_not_yet_sealed_is_named()
    {
        await SealAsync();
        await AddRecordsAsync(2);
        var victim = await NewestRecordAsync("test.ledger");
        Assert.NotNull(victim.ContentHash);
        await AssertEditIsNamedAsync(victim, null,
            $"record {victim.Id}, not yet sealed, was altered", $"待封存的记录 {victim.Id} 被篡改");
    }

    [Fact]
    public async Task A_record_inserted_around_the_writer_is_sealed_from_what_it_holds()
    {
        await SealAsync();
        await ReinsertAsync(new AuditRecord
        {
            At = LedgerFormat.ToStoredPrecision(DateTimeOffset.UtcNow),
            Action = "test.around-writer",
            Outcome = AuditOutcome.Success,
            ActorName = "没有内容哈希 no content hash",
        });
        var stray = await NewestRecordAsync("test.around-writer");
        Assert.Null(stray.ContentHash);

        var sealedNow = await SealAsync();
        Assert.True(sealedNow.Seals >= 1);
        var seal = await LastSealAsync();
        Assert.InRange(stray.Id, seal.FirstRecordId, seal.LastRecordId);
        Assert.True((await VerifyOverHttpAsync()).Intact);

        // Sealed by its content: an edit now breaks the seal.
        await AssertEditIsNamedAsync(stray, seal.Number, $"record {stray.Id} was altered", $"记录 {stray.Id} 被篡改");
    }

    [Fact]
    public async Task Items_committed_together_are_one_record_per_group_and_a_call_cut_from_one_is_named()
    {
        var log = server.App.Services.GetRequiredService<IAuditLog>();
        AuditEntry[] groups = [new("test.items") { ActorId = "app-a", TargetId = "svc" }, new("test.items") { ActorId = "app-b", TargetId = "svc" }];
        // Queued without waiting for each other, as concurrent calls are: items that meet in a batch share a record.
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => log.WriteItemAsync(groups[i % 2], $$"""{"n":{{i}},"note":"调用 call"}""")));
        await log.SettleAsync();

        var records = await server.AuditAsync("test.items");
        var items = records.SelectMany(r => AuditItems.Read(r.Detail!).Select(item => (r.ActorId, N: item.GetProperty("n").GetInt32()))).ToList();
        Assert.Equal(Enumerable.Range(0, 400), items.Select(i => i.N).Order());
        Assert.All(items, i => Assert.Equal(i.N % 2 == 0 ? "app-a" : "app-b", i.ActorId));
        Assert.All(records, r => Assert.Equal(AuditItems.Read(r.Detail!).Count,
            System.Text.Json.JsonDocument.Parse(r.Detail!).RootElement.GetProperty("count").GetInt32()));
        // 400 items queued within a millisecond or so cannot each have had a commit of their own.
        Assert.True(records.Count < 100, $"{records.Count} records for 400 items");
        await Assert.ThrowsAsync<ArgumentException>(() => log.WriteItemAsync(groups[0] with { RequestId = "r-1" }, "{}"));

        // The audit page counts a record's items and opens them on demand.
        using var auditor = await server.AsUserAsync("t-auditor");
        var page = await auditor.GetStringAsync("/audit?action=test.items");
        Assert.Contains($"<details><summary>{AuditItems.CountOf(records[0].Detail)} 项</summary>", page);

        await SealAsync();
        Assert.True((await VerifyOverHttpAsync()).Intact);
        // One call cut out of a sealed group record, its count made to match: the record no longer matches its seal.
        var victim = records.First(r => AuditItems.Read(r.Detail!).Count > 1);
        var kept = AuditItems.Read(victim.Detail!).Skip(1).Select(i => i.GetRawText()).ToList();
        await TamperAsync($"UPDATE audit_records SET \"Detail\" = {Literal(AuditItems.Detail(kept))} WHERE \"Id\" = {victim.Id}");
        try
        {
            var report = await VerifyOverHttpAsync();
            Assert.Equal("record-altered", report.Problem?.Code);
            Assert.Equal(victim.Id, report.Problem!.RecordId);
        }
        finally
        {
            await TamperAsync($"UPDATE audit_records SET \"Detail\" = {Literal(victim.Detail)} WHERE \"Id\" = {victim.Id}");
        }
        Assert.True((await VerifyOverHttpAsync()).Intact);
    }

    [Fact]
    public void Packing_keeps_the_batch_order_and_puts_each_group_where_its_first_item_came()
    {
        var at = LedgerFormat.ToStoredPrecision(DateTimeOffset.UtcNow);
        var a = new AuditEntry("test.items") { ActorId = "a" };
        var b = new AuditEntry("test.items") { ActorId = "b" };
        GroupCommitAuditLog.Pending Item(AuditEntry group, int n) => new() { Group = group, Item = $$"""{"n":{{n}}}""", At = at.AddMilliseconds(n) };
        GroupCommitAuditLog.Pending Plain(string action) => new() { Record = new AuditEntry(action).ToRecord(at) };

        var records = GroupCommitAuditLog.Pack([Plain("first"), Item(a, 1), Item(b, 2), Plain("middle"), Item(a, 3), Item(a with { }, 4)]);

        Assert.Equal(["first", "test.items", "test.items", "middle"], records.Select(r => r.Action));
        Assert.Equal("""{"count":3,"items":[{"n":1},{"n":3},{"n":4}]}""", records[1].Detail);
        Assert.Equal("a", records[1].ActorId);
        Assert.Equal(at.AddMilliseconds(1), records[1].At);
        Assert.Equal("""{"count":1,"items":[{"n":2}]}""", records[2].Detail);
        Assert.Equal([null, 3, 1, null], records.Select(r => AuditItems.CountOf(r.Detail)));
        Assert.All(records, r => Assert.Equal(LedgerFormat.ContentHash(r), r.ContentHash));
    }

    [Fact]
    public async Task A_deleted_record_is_detected()
    {
        await AddRecordsAsync(4);
        await SealAsync();
        var seal = await LastSealAsync();
        var records = await RecordsAsync(seal.FirstRecordId, seal.LastRecordId);
        Assert.True(records.Count >= 3);
        var victim = records[1];

        await TamperAsync($"DELETE FROM audit_records WHERE \"Id\" = {victim.Id}");
        try
        {
            var report = await VerifyOverHttpAsync();
            Assert.False(report.Intact);
            Assert.Equal("record-deleted", report.Problem!.Code);
            Assert.Equal(seal.Number, report.Problem.SealNumber);
            Assert.Contains($"after record {records[0].Id}", report.Problem.MessageEn);

            var (code, stdout, _) = await RunCliAsync("audit", "verify");
            Assert.Equal(1, code);
            Assert.Contains("was deleted", stdout);
        }
        finally
        {
            await ReinsertAsync(victim);
        }
        Assert.True((await VerifyOverHttpAsync()).Intact);
    }

    [Fact]
    public async Task A_truncated_tail_is_detected_against_the_signed_head()
    {
        await AddRecordsAsync(2);
        await SealAsync();
        await AddRecordsAsync(2);
        await SealAsync();
        var last = await LastSealAsync();
        Assert.True(last.Number >= 2);
        var tail = await RecordsAsync(last.FirstRecordId, last.LastRecordId);

        // The newest seal and every record it covers disappear: the remaining chain is valid, but shorter than the head says.
        await TamperAsync($"DELETE FROM audit_records WHERE \"Id\" >= {last.FirstRecordId} AND \"Id\" <= {last.LastRecordId}");
        await TamperAsync($"DELETE FROM audit_seals WHERE \"Number\" = {last.Number}");
        try
        {
            var report = await VerifyOverHttpAsync();
            Assert.False(report.Intact);
            Assert.Equal("truncated", report.Problem!.Code);
            Assert.Equal(last.Number, report.Problem.SealNumber);

            var (code, stdout, _) = await RunCliAsync("audit", "verify");
            Assert.Equal(1, code);
            Assert.Contains("truncated", stdout);

            // Sealing refuses to extend a cut chain, which would hide the cut.
            Assert.True((await SealAsync()) is { Seals: 0, Refused: true });
        }
        finally
        {
            foreach (var r in tail) await ReinsertAsync(r);
            await server.InScopeAsync(async sp =>
            {
                var db = sp.GetRequiredService<LianqiaoDb>();
                db.Add(last);
                return await db.SaveChangesAsync();
            });
        }
        Assert.True((await VerifyOverHttpAsync()).Intact);
    }

    [Fact]
    public async Task A_deleted_head_is_detected()
    {
        await AddRecordsAsync(1);
        await SealAsync();
        var head = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<AuditLedgerHead>().AsNoTracking().SingleAsync());
        await TamperAsync("DELETE FROM audit_ledger_head");
        try
        {
            var report = await VerifyOverHttpAsync();
            Assert.Equal("head-missing", report.Problem?.Code);
            Assert.True((await SealAsync()) is { Seals: 0, Refused: true });
        }
        finally
        {
            await server.InScopeAsync(async sp =>
            {
                var db = sp.GetRequiredService<LianqiaoDb>();
                db.Add(head);
                return await db.SaveChangesAsync();
            });
        }
        Assert.True((await VerifyOverHttpAsync()).Intact);
    }

    [Fact]
    public async Task Records_cut_from_the_end_of_the_last_seal_are_detected()
    {
        await AddRecordsAsync(3);
        await SealAsync();
        var last = await LastSealAsync();
        var records = await RecordsAsync(last.FirstRecordId, last.LastRecordId);

        await TamperAsync($"DELETE FROM audit_records WHERE \"Id\" = {last.LastRecordId}");
        try
        {
            var report = await VerifyOverHttpAsync();
            Assert.False(report.Intact);
            Assert.Equal("record-deleted", report.Problem!.Code);
            Assert.Contains($"after record {records[^2].Id}", report.Problem.MessageEn);
        }
        finally
        {
            await ReinsertAsync(records[^1]);
        }
        Assert.True((await VerifyOverHttpAsync()).Intact);
    }

    [Fact]
    public async Task A_chain_rehashed_without_the_key_fails_its_signature()
    {
        await AddRecordsAsync(3);
        await SealAsync();
        var seal = await LastSealAsync();
        var victim = (await RecordsAsync(seal.FirstRecordId, seal.LastRecordId))[0];
        var original = victim.ActorName;

        // The forger edits a record and recomputes the seal's digests and hash exactly, but can only sign with a key of their own.
        await TamperAsync($"UPDATE audit_records SET \"ActorName\" = 'mallory' WHERE \"Id\" = {victim.Id}");
        var forged = await RecordsAsync(seal.FirstRecordId, seal.LastRecordId);
        var hashes = forged.Select(LedgerFormat.RecordHash).ToList();
        var hash = LedgerFormat.SealHash(seal.Number, seal.FirstRecordId, seal.LastRecordId, seal.RecordCount, seal.PreviousHash, hashes);
        var forgedSignature = LedgerFormat.SignSeal(new byte[32], hash);
        await TamperAsync($"UPDATE audit_seals SET \"Hash\" = '{hash}', \"Signature\" = '{forgedSignature}', " +
            $"\"RecordDigests\" = {Bytes(LedgerFormat.Digests(hashes))} WHERE \"Number\" = {seal.Number}");
        try
        {
            var report = await VerifyOverHttpAsync();
            Assert.False(report.Intact);
            Assert.Equal("signature-invalid", report.Problem!.Code);
            Assert.Equal(seal.Number, report.Problem.SealNumber);

            var (code, stdout, _) = await RunCliAsync("audit", "verify");
            Assert.Equal(1, code);
            Assert.Contains("rewritten without the ledger key", stdout);
        }
        finally
        {
            await TamperAsync($"UPDATE audit_records SET \"ActorName\" = {Literal(original)} WHERE \"Id\" = {victim.Id}");
            await TamperAsync($"UPDATE audit_seals SET \"Hash\" = '{seal.Hash}', \"Signature\" = '{seal.Signature}', " +
                $"\"RecordDigests\" = {Bytes(seal.RecordDigests)} WHERE \"Number\" = {seal.Number}");
        }
        Assert.True((await VerifyOverHttpAsync()).Intact);
    }

    [Fact]
    public async Task Items_wait_for_their_commit_only_past_the_bound_and_every_one_reaches_the_ledger()
    {
        var log = server.App.Services.GetRequiredService<IAuditLog>();
        var bound = server.App.Services.GetRequiredService<IOptions<AuditLedgerOptions>>().Value.MaxUnsettledItems;
        var group = new AuditEntry("test.unsettled") { ActorId = "app-u", TargetId = "svc" };
        await log.SettleAsync();

        // Commits are held up behind a transaction that holds the audit table: nothing written now can commit.
        await using var blocker = await server.OpenConnectionAsync();
        await LianqiaoServer.ExecuteAsync(blocker, server.PostgresConnectionString is null ? "BEGIN IMMEDIATE" : "BEGIN; LOCK TABLE audit_records IN EXCLUSIVE MODE");
        Task past;
        try
        {
            // Up to the bound, an item is taken without waiting for its commit; the next one waits for it.
            var within = Enumerable.Range(0, bound).Select(i => log.WriteItemAsync(group, $$"""{"n":{{i}}}""")).ToList();
            Assert.All(within, t => Assert.True(t.IsCompletedSuccessfully));
            past = log.WriteItemAsync(group, $$"""{"n":{{bound}}}""");
            await Task.Delay(300);
            Assert.False(past.IsCompleted, "an item past the bound was taken before any commit");
        }
        finally
        {
            await LianqiaoServer.ExecuteAsync(blocker, "COMMIT");
        }

        await past.WaitAsync(TimeSpan.FromSeconds(30));
        await log.SettleAsync();
        var items = (await server.AuditAsync("test.unsettled")).SelectMany(r => AuditItems.Read(r.Detail!)).Select(i => i.GetProperty("n").GetInt32());
        Assert.Equal(Enumerable.Range(0, bound + 1), items.Order());
    }

    [Fact]
    public async Task Sealing_while_two_nodes_write_leaves_no_record_behind_or_out_of_order()
    {
        // A second node has its own group-commit writer: two writers' transactions interleave, which is
        // where a later-committed lower id could slip behind a seal on PostgreSQL.
        var other = await server.StartHostAsync(b => b.Services.Configure<JobOptions>(o => o.Enabled = false));
        var logs = new[] { server.App.Services.GetRequiredService<IAuditLog>(), other.Services.GetRequiredService<IAuditLog>() };
        var seals = 0;
        var written = 0;
        // The writers go on until sealing has run between their writes a few times: a fixed number of records can be
        // written before the first seal finishes when the writer is fast (and the box idle), which would test nothing.
        var writing = Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 40 || (Volatile.Read(ref seals) < 3 && i < 2_000); i++)
            {
                await logs[(w + i) % 2].WriteAsync(new AuditEntry("test.concurrent") { ActorName = $"writer {w}", TargetId = i.ToString() });
                Interlocked.Increment(ref written);
            }
        })));
        while (!writing.IsCompleted)
        {
            Interlocked.Add(ref seals, (await SealAsync()).Seals);
            await Task.Delay(5);
        }
        await writing;
        await SealAsync();
        Assert.True(seals > 1, $"only {seals} seals were made while writing");

        var report = await VerifyOverHttpAsync();
        Assert.True(report.Intact, report.Summary);
        Assert.Equal(written, (await server.AuditAsync("test.concurrent")).Count);
    }

    [Fact]
    public async Task On_PostgreSQL_sealing_waits_for_an_insert_still_in_flight()
    {
        if (server.PostgresConnectionString is null) return;   // SQLite has one writer at a time: ids commit in order
        await using var connection = new NpgsqlConnection(server.PostgresConnectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO audit_records (\"At\", \"Action\", \"Outcome\") VALUES (date_trunc('milliseconds', now()), 'test.in-flight', 'success')", connection, tx))
        {
            await insert.ExecuteNonQueryAsync();
        }
        // A higher id commits first, as a concurrent request's would.
        await AddRecordsAsync(1);

        var sealing = SealAsync();
        await Task.Delay(500);
        Assert.False(sealing.IsCompleted, "the seal must not pass an id whose insert has not committed");
        await tx.CommitAsync();
        await sealing;

        var report = await VerifyOverHttpAsync();
        Assert.True(report.Intact, report.Summary);
        Assert.True(report.LastRecordId >= (await server.AuditAsync("test.in-flight")).Single().Id);
    }

    [Fact]
    public async Task The_ledger_key_is_a_file_only_its_owner_reads_and_survives_rotation()
    {
        await AddRecordsAsync(1);
        await SealAsync();
        var keys = Path.Combine(server.DataDirectory, "keys");
        var keyFile = Path.Combine(keys, "audit-ledger.key");
        Assert.True(File.Exists(keyFile));
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(keyFile).Trim()).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keys));
        }

        // Rotation as documented: retire the key under another name; the next seal creates a new one.
        File.Move(keyFile, Path.Combine(keys, $"audit-ledger.retired-{Guid.NewGuid():N}.key"));
        await AddRecordsAsync(1);
        await SealAsync();
        Assert.True(File.Exists(keyFile));
        var seals = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<AuditSeal>().AsNoTracking().Select(s => s.KeyId).Distinct().ToListAsync());
        Assert.True(seals.Count >= 2);
        Assert.True((await VerifyOverHttpAsync()).Intact);
    }

    [Fact]
    public async Task PostgreSQL_refuses_to_update_or_delete_audit_rows()
    {
        if (server.PostgresConnectionString is null) return;   // the trigger is PostgreSQL's; SQLite relies on the chain alone
        await AddRecordsAsync(1);
        var id = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<AuditRecord>().MaxAsync(r => r.Id));
        await using var connection = new NpgsqlConnection(server.PostgresConnectionString);
        await connection.OpenAsync();
        await using var update = new NpgsqlCommand($"UPDATE audit_records SET \"ActorName\" = 'x' WHERE \"Id\" = {id}", connection);
        var ex = await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync());
        Assert.Contains("append-only", ex.MessageText);
        await using var delete = new NpgsqlCommand("DELETE FROM audit_seals", connection);
        await Assert.ThrowsAsync<PostgresException>(() => delete.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task Export_is_csv_with_formulas_neutralised()
    {
        await server.InScopeAsync(async sp =>
        {
            await sp.GetRequiredService<IAuditLog>().WriteAsync(new AuditEntry("test.export")
            {
                ActorName = "=HYPERLINK(\"http://evil\",\"x\")",
                TargetId = "+1-2",
                Detail = "@SUM(A1), \"quoted\"",
            });
            return 0;
        });
        using var auditor = await server.AsUserAsync("t-auditor");
        using var response = await auditor.GetAsync("/api/v1/audit/export?action=test.export");
        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var lines = System.Text.Encoding.UTF8.GetString(bytes[3..]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(l => l.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.StartsWith("id,at,action,outcome", lines[0]);
        var row = Assert.Single(lines.Skip(1));
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",", row);
        Assert.Contains(",'+1-2,", row);
        Assert.Contains(",\"'@SUM(A1), \"\"quoted\"\"\",", row);
        Assert.DoesNotContain(",=", row);
        Assert.Contains(await server.AuditAsync("audit.export"), r => r.ActorName == "t-auditor");

        using var xlsx = await auditor.GetAsync("/api/v1/audit/export?format=xlsx&action=test.export");
        Assert.Equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx.Content.Headers.ContentType?.MediaType);
        Assert.Equal("format", Assert.Single((await (await auditor.GetAsync("/api/v1/audit/export?format=exe")).ProblemAsync(400)).Errors!).Key);
    }

    [Fact]
    public async Task Auditors_browse_filter_page_and_verify_on_the_audit_page()
    {
        await AddRecordsAsync(3);
        await SealAsync();
        using var auditor = await server.AsUserAsync("t-auditor");

        var html = await auditor.GetStringAsync("/audit");
        Assert.Contains("id=\"nav-audit\"", html);
        Assert.Contains("审计日志", html);
        Assert.Contains("test.ledger", html);
        Assert.Contains("/api/v1/audit/export", html);
        Assert.Contains("最近封存", html);

        var filtered = await auditor.GetStringAsync("/audit?action=key.issue&culture=en");
        Assert.Contains("Audit log", filtered);
        Assert.DoesNotContain("<code>test.ledger</code>", filtered);
        Assert.Contains("<code>key.issue</code>", filtered);
        Assert.Contains("/api/v1/audit/export?action=key.issue", filtered);

        var verified = await auditor.GetStringAsync("/audit?verify=true");
        Assert.Contains("data-intact=\"true\"", verified);
        Assert.Contains("账本完整", verified);

        // Keyset paging: 50 a page, then older ones.
        await AddRecordsAsync(60);
        var first = await auditor.GetStringAsync("/audit?action=test.ledger");
        var next = System.Text.RegularExpressions.Regex.Match(first, "href=\"(/audit\\?action=test.ledger&amp;before=\\d+)\"").Groups[1].Value;
        Assert.NotEmpty(next);
        Assert.Contains("id=\"first-page\"", await auditor.GetStringAsync(System.Net.WebUtility.HtmlDecode(next)));

        using var consumer = await server.AsUserAsync("t-consumer");
        Assert.DoesNotContain("nav-audit", await consumer.GetStringAsync("/"));
    }

    // --- helpers ---

    async Task AddRecordsAsync(int count)
    {
        await server.InScopeAsync(async sp =>
        {
            var log = sp.GetRequiredService<IAuditLog>();
            await Task.WhenAll(Enumerable.Range(0, count).Select(i => log.WriteAsync(new AuditEntry("test.ledger")
            {
                ActorKind = "System",
                ActorName = $"ledger test {i} 测试",
                Detail = new { i, note = "审计 ledger" },
            })));
            return 0;
        });
    }

    /// <summary>
    /// Edits the record's actor behind the application's back, checks that verify names that record (and the seal, if
    /// any) over HTTP and on the command line in both languages, then puts it back and checks the ledger holds again.
    /// </summary>
    async Task AssertEditIsNamedAsync(AuditRecord victim, long? sealNumber, string messageEn, string messageZh)
    {
        await TamperAsync($"UPDATE audit_records SET \"ActorName\" = 'mallory' WHERE \"Id\" = {victim.Id}");
        try
        {
            var report = await VerifyOverHttpAsync();
            Assert.False(report.Intact);
            Assert.Equal("record-altered", report.Problem!.Code);
            Assert.Equal(victim.Id, report.Problem.RecordId);
            Assert.Equal(sealNumber, report.Problem.SealNumber);

            var (code, stdout, _) = await RunCliAsync("audit", "verify");
            Assert.Equal(1, code);
            Assert.Contains(messageEn, stdout);
            Assert.Contains(messageZh, stdout);
        }
        finally
        {
            await TamperAsync($"UPDATE audit_records SET \"ActorName\" = {Literal(victim.ActorName)} WHERE \"Id\" = {victim.Id}");
        }
        Assert.True((await VerifyOverHttpAsync()).Intact);
    }

    Task<SealResult> SealAsync() => server.InScopeAsync(sp => sp.GetRequiredService<AuditLedger>().SealAsync(default));

    Task<AuditSeal> LastSealAsync() => server.InScopeAsync(sp =>
        sp.GetRequiredService<LianqiaoDb>().Set<AuditSeal>().AsNoTracking().OrderByDescending(s => s.Number).FirstAsync());

    async Task<AuditRecord> SealedRecordAsync()
    {
        var seal = await LastSealAsync();
        return (await RecordsAsync(seal.FirstRecordId, seal.LastRecordId))[^1];
    }

    Task<AuditRecord> NewestRecordAsync(string action) => server.InScopeAsync(sp =>
        sp.GetRequiredService<LianqiaoDb>().Set<AuditRecord>().AsNoTracking().Where(r => r.Action == action).OrderByDescending(r => r.Id).FirstAsync());

    Task<List<AuditRecord>> RecordsAsync(long from, long to) => server.InScopeAsync(sp =>
        sp.GetRequiredService<LianqiaoDb>().Set<AuditRecord>().AsNoTracking().Where(r => r.Id >= from && r.Id <= to).OrderBy(r => r.Id).ToListAsync());

    async Task<LedgerReport> VerifyOverHttpAsync()
    {
        using var auditor = await server.AsUserAsync("t-auditor");
        return await (await auditor.GetAsync("/api/v1/audit/verify")).OkJsonAsync<LedgerReport>();
    }

    Task ReinsertAsync(AuditRecord record) => server.InScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<LianqiaoDb>();
        db.Add(record);
        return await db.SaveChangesAsync();
    });

    /// <summary>Raw SQL behind the application's back; on PostgreSQL as the superuser, past the append-only triggers.</summary>
    async Task TamperAsync(string sql)
    {
        // A plain command, not ExecuteSqlRaw: that formats the text, and a record's JSON holds braces. On PostgreSQL as the
        // superuser with the append-only triggers bypassed.
        await using var connection = await server.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = (server.PostgresConnectionString is null ? "" : "SET session_replication_role = replica; ") + sql;
        Assert.True(await command.ExecuteNonQueryAsync() > 0, sql);
    }

    static string Literal(string? value) => value is null ? "NULL" : "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    string Bytes(byte[] value) => server.PostgresConnectionString is null
        ? $"X'{Convert.ToHexString(value)}'"
        : $"decode('{Convert.ToHexString(value)}', 'hex')";

    Task<(int Code, string Stdout, string Stderr)> RunCliAsync(params string[] command) => Cli.RunAsync(server, null, command);
}

internal static class Cli
{
    /// <summary>Runs the built CLI as a child process on the fixture's data folder and database.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(LianqiaoServer server, IDictionary<string, string>? environment, params string[] command)
    {
        var args = new List<string> { Path.Combine(AppContext.BaseDirectory, "Lianqiao.dll") };
        args.AddRange(command);
        args.AddRange(["--data", server.DataDirectory]);
        var psi = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (server.PostgresConnectionString is { } pg) psi.Environment["LIANQIAO_DB"] = pg;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>The default host seals on its own: the scheduled job, not a test, makes the seals.</summary>
public sealed class FastSealServer : LianqiaoServer
{
    protected override void Configure(WebApplicationBuilder builder)
    {
        builder.Services.Configure<JobOptions>(o => o.PollInterval = TimeSpan.FromMilliseconds(100));
        builder.Services.Configure<AuditLedgerOptions>(o => o.SealInterval = TimeSpan.FromMilliseconds(200));
    }
}

public sealed class AuditSealJobTests(FastSealServer server) : IClassFixture<FastSealServer>
{
    [Fact]
    public async Task The_sealing_job_seals_new_records_within_its_interval()
    {
        await server.InScopeAsync(async sp =>
        {
            await sp.GetRequiredService<IAuditLog>().WriteAsync(new AuditEntry("test.job-seal"));
            return 0;
        });
        var id = (await server.AuditAsync("test.job-seal")).Single().Id;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        long sealedUpTo = 0;
        while (DateTime.UtcNow < deadline)
        {
            sealedUpTo = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<AuditLedgerHead>().Select(h => h.LastRecordId).SingleOrDefaultAsync());
            if (sealedUpTo >= id) break;
            await Task.Delay(100);
        }
        Assert.True(sealedUpTo >= id, $"record {id} not sealed; head at {sealedUpTo}");

        using var admin = await server.AsAdminAsync();
        var jobs = await (await admin.GetAsync("/api/v1/jobs")).OkJsonAsync<List<JobDto>>();
        Assert.Contains(jobs, j => j.Name == "audit.seal" && j.Runs > 0);
        using var auditor = await server.AsUserAsync("t-auditor");
        Assert.True((await (await auditor.GetAsync("/api/v1/audit/verify")).OkJsonAsync<LedgerReport>()).Intact);
    }
}

/// <summary>A host that never seals by itself, so the key in use is only ever the one a command is given.</summary>
public sealed class EnvironmentKeyTests(LedgerServer server) : IClassFixture<LedgerServer>
{
    [Fact]
    public async Task A_ledger_sealed_with_an_environment_key_verifies_only_where_that_key_is()
    {
        var key = new Dictionary<string, string> { ["LIANQIAO_AUDIT_KEY"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) };
        var (sealCode, sealOut, sealErr) = await Cli.RunAsync(server, key, "audit", "seal");
        Assert.True(sealCode == 0, sealOut + sealErr);
        Assert.Contains("seal(s)", sealOut);
        Assert.False(File.Exists(Path.Combine(server.DataDirectory, "keys", "audit-ledger.key")));

        var (okCode, okOut, _) = await Cli.RunAsync(server, key, "audit", "verify");
        Assert.True(okCode == 0, okOut);

        var (code, stdout, _) = await Cli.RunAsync(server, null, "audit", "verify");
        Assert.Equal(1, code);
        Assert.Contains("key-missing", stdout);
        Assert.Contains("LIANQIAO_AUDIT_KEY", stdout);
    }
}
