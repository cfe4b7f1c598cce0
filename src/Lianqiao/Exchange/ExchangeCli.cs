using System.Text.Json;
using Lianqiao.Cli;
using Lianqiao.Hosting;

namespace Lianqiao.Exchange;

/// <summary>`lianqiao exchange run JOB_ID`: one run on demand, under the job's lease, with progress on stderr and the run as JSON on stdout.</summary>
internal static class ExchangeCli
{
    public static Task<int> RunAsync(HostSettings settings, Guid jobId,
        Func<HostSettings, Func<IServiceProvider, Task<int>>, CancellationToken, Task<int>> withServices, CancellationToken ct) =>
        withServices(settings, async sp =>
        {
            var progress = new ProgressBar(showsFraction: false);
            try
            {
                var run = await sp.GetRequiredService<ExchangeRunner>().RunAsync(jobId, new RunActor("cli", "System", "cli", "cli"), progress, ct);
                progress.Finish();
                Console.WriteLine(JsonSerializer.Serialize(run.AsDto(), Quality.QuarantineWriter.Json));
                if (run.Error is not null) await Console.Error.WriteLineAsync(run.Error);
                return run.Status == RunStatus.Succeeded ? 0 : 1;
            }
            catch (JobBusyException)
            {
                await Console.Error.WriteLineAsync("该任务正在运行 / the job is running elsewhere; try again when it has finished");
                return 4;
            }
            catch (KeyNotFoundException)
            {
                await Console.Error.WriteLineAsync($"任务不存在 / no exchange job {jobId}");
                return 3;
            }
        }, ct);
}
