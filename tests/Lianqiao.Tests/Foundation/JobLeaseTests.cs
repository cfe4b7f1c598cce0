using Lianqiao.Jobs;
using Lianqiao.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Foundation;

public sealed class CountingJob : IScheduledJob
{
    public static int Runs;
    public string Name => "test-counting-job";
    public TimeSpan Interval => TimeSpan.FromHours(1);

    public async Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Runs);
        await Task.Delay(200, cancellationToken);   // long enough for the other node to try while this one holds the lease
        return "counted";
    }
}

public sealed class JobLeaseServer : LianqiaoServer
{
    protected override void Configure(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IScheduledJob, CountingJob>();
        builder.Services.Configure<JobOptions>(o => o.PollInterval = TimeSpan.FromMilliseconds(50));
    }
}

public sealed class JobLeaseTests(JobLeaseServer server) : IClassFixture<JobLeaseServer>
{
    [Fact]
    public async Task Two_nodes_on_one_database_run_a_due_job_once()
    {
        await server.StartHostAsync();
        await server.StartHostAsync();
        // Three schedulers polling every 50 ms for over a second: the hourly job must have run exactly once.
        await Task.Delay(1500);
        Assert.Equal(1, Volatile.Read(ref CountingJob.Runs));

        using var admin = await server.AsAdminAsync();
        var jobs = await (await admin.GetAsync("/api/v1/jobs")).OkJsonAsync<List<JobDto>>();
        var job = Assert.Single(jobs, j => j.Name == "test-counting-job");
        Assert.Equal(1, job.Runs);
        Assert.Equal("counted", job.LastResult);
        Assert.Null(job.Holder);
        Assert.True(job.NextRunAt > job.LastRunAt);
    }
}
