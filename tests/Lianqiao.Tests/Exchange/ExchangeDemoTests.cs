using System.Net.Http.Json;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Exchange;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Lianqiao.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Lianqiao.Tests.Exchange;

/// <summary>The demo city with its exchange: the sample registration database, the collection job and the delivery job.</summary>
public sealed class ExchangeDemoServer : LianqiaoServer
{
    protected override bool IncludeSeedStep(Seeding.ISeedStep step) =>
        step.Id.StartsWith("p1-", StringComparison.Ordinal) || step.Id.StartsWith("p2-catalog/", StringComparison.Ordinal)
        || step.Id.StartsWith("p4-exchange/", StringComparison.Ordinal);
}

public sealed class ExchangeDemoTests(ExchangeDemoServer server) : IClassFixture<ExchangeDemoServer>
{
    [Fact]
    public async Task The_demo_collects_from_its_sample_database_delivers_masked_rows_and_shows_both_jobs()
    {
        using var admin = await server.AsAdminAsync();
        var jobs = (await admin.GetFromJsonAsync<List<JobDto>>("/api/v1/exchange/jobs", HttpAssertions.Json))!;
        var collect = Assert.Single(jobs, j => j.Kind == JobKinds.Collect);
        var deliver = Assert.Single(jobs, j => j.Kind == JobKinds.Deliver);
        Assert.NotNull(collect.IntervalSeconds);

        var collected = await RunWhenFreeAsync(admin, collect.Id);
        Assert.True(collected.Status == RunStatus.Succeeded, collected.Error);
        var delivered = await RunWhenFreeAsync(admin, deliver.Id);
        Assert.True(delivered.Status == RunStatus.Succeeded, delivered.Error);

        var table = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DatasetTable>().AsNoTracking().SingleAsync(t => t.ResourceId == "legal-entity-basic"));
        Assert.True(table.LiveRows >= 250, $"{table.LiveRows} rows collected");

        // The consumer's table: one row per live registration, the legal representative masked.
        var folder = Path.Combine(server.DataDirectory, "exchange");
        await using var consumer = new SqliteConnection($"Data Source={Path.Combine(folder, ExchangeDemoSeed.ConsumerFile)};Pooling=False");
        await using var source = new SqliteConnection($"Data Source={Path.Combine(folder, ExchangeDemoSeed.SourceFile)};Pooling=False");
        await consumer.OpenAsync();
        await source.OpenAsync();
        await using var rows = consumer.CreateCommand();
        rows.CommandText = "SELECT credit_code, legal_representative FROM legal_entities";
        var delivered2 = new Dictionary<string, string?>();
        await using (var reader = await rows.ExecuteReaderAsync())
            while (await reader.ReadAsync()) delivered2[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        Assert.Equal(table.LiveRows, delivered2.Count);
        await using var people = source.CreateCommand();
        people.CommandText = "SELECT uscc, legal_person FROM biz_registrations";
        var compared = 0;
        await using (var reader = await people.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                if (!delivered2.TryGetValue(reader.GetString(0), out var masked)) continue;
                var real = reader.GetString(1);
                Assert.NotEqual(real, masked);
                Assert.StartsWith(real[..1], masked);
                compared++;
            }
        }
        Assert.True(compared > 200);

        var list = await admin.GetStringAsync("/exchange");
        Assert.Contains(collect.Name, list);
        Assert.Contains(deliver.Name, list);
        var page = await admin.GetStringAsync($"/exchange/jobs/{deliver.Id}");
        Assert.Contains("succeeded", page);
        Assert.Contains("id=\"receipts\"", page);
    }

    /// <summary>The scheduler runs the demo's jobs too: a manual run waits its turn (409 while the job's lease is held).</summary>
    static async Task<RunDto> RunWhenFreeAsync(HttpClient client, Guid jobId)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await ExchangeServer.RunThroughApiAsync(client, jobId) is { } run) return run;
            Assert.True(attempt < 120, "the job stayed busy for a minute");
            await Task.Delay(500);
        }
    }
}
