using Lianqiao.Data;
using Lianqiao.Datasets.Loading;
using Lianqiao.Exchange;
using Lianqiao.Tests.Datasets;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Exchange;

/// <summary>A run started from the API works in the background: its rows so far reach its row, the API and the job page.</summary>
public sealed class RunProgressTests(ExchangeServer server) : IClassFixture<ExchangeServer>
{
    async Task<(JobDto Job, ExchangeRun Run)> RunningAsync(string resourceId)
    {
        using var admin = await server.AsAdminAsync();
        (await DatasetTestData.PutSchemaAsync(admin, resourceId, DatasetTestData.PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var folder = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "exchange", resourceId)).FullName;
        var connection = await (await admin.PostJsonAsync("/api/v1/exchange/connections", new { name = "目录 " + resourceId, kind = "drop-folder", departmentId = server.OwnDepartmentId, path = folder }))
            .OkJsonAsync<ConnectionDto>();
        var job = await (await admin.PostJsonAsync("/api/v1/exchange/jobs", new { name = "进度 " + resourceId, kind = "collect", connectionId = connection.Id, resourceId, mode = "incremental" }))
            .OkJsonAsync<JobDto>();
        // A run as another node's background run looks from here: its row, status running.
        var run = new ExchangeRun { JobId = job.Id, Trigger = "manual", Node = "elsewhere", StartedAt = DateTimeOffset.UtcNow };
        await server.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<LianqiaoDb>();
            db.Add(run);
            return await db.SaveChangesAsync();
        });
        return (job, run);
    }

    Task<ExchangeRun> StoredAsync(Guid runId) =>
        server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<ExchangeRun>().AsNoTracking().SingleAsync(r => r.Id == runId));

    [Fact]
    public async Task Progress_reaches_a_running_runs_row_the_api_and_the_page_and_never_a_finished_one()
    {
        var (job, run) = await RunningAsync("ex-progress");
        var writer = RunProgress.For(server.App.Services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, run.Id);
        writer.Report(new LoadProgress(12_345, 0));
        for (var i = 0; (await StoredAsync(run.Id)).RowsRead != 12_345; i++)
        {
            Assert.True(i < 100, "the progress was not written within 5 s");
            await Task.Delay(50);
        }

        using var steward = await server.AsUserAsync("t-steward");
        var polled = await (await steward.GetAsync($"/api/v1/exchange/jobs/{job.Id}/runs/{run.Id}")).OkJsonAsync<RunDto>();
        Assert.Equal((RunStatus.Running, 12_345L), (polled.Status, polled.RowsRead));
        var page = await steward.GetStringAsync($"/exchange/jobs/{job.Id}");
        Assert.Contains("id=\"running\"", page);
        Assert.Contains("12,345", page);
        Assert.Contains("http-equiv=\"refresh\"", page);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await steward.GetAsync($"/api/v1/exchange/jobs/{job.Id}/runs/{Guid.NewGuid()}")).StatusCode);

        // Finished: a late beat (after the one-second spacing) leaves the final counts alone, and the page stops refreshing.
        await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<ExchangeRun>().Where(r => r.Id == run.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RunStatus.Succeeded).SetProperty(r => r.RowsRead, 20_000)));
        await Task.Delay(1100);
        writer.Report(new LoadProgress(15_000, 0));
        await Task.Delay(500);
        Assert.Equal(20_000, (await StoredAsync(run.Id)).RowsRead);
        Assert.DoesNotContain("http-equiv=\"refresh\"", await steward.GetStringAsync($"/exchange/jobs/{job.Id}"));
    }
}
