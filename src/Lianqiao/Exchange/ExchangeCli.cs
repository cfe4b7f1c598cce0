using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lianqiao.Datasets.Loading;
using Lianqiao.Hosting;

namespace Lianqiao.Exchange;

/// <summary>`lianqiao exchange run JOB_ID`: one run on demand, under the job's lease, with progress on stderr and the run as JSON on stdout.</summary>
internal static class ExchangeCli
{
    public static Task<int> RunAsync(HostSettings settings, Guid jobId,
        Func<HostSettings, Func<IServiceProvider, Task<int>>, CancellationToken, Task<int>> withServices, CancellationToken ct) =>
        withServices(settings, async sp =>
        {
            var progress = new Progress();
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

    /// <summary>Rows so far and the rate, redrawn at most five times a second (the total of a source query is not known in advance).</summary>
    sealed class Progress : IProgress<LoadProgress>
    {
        readonly Stopwatch clock = Stopwatch.StartNew();
        long lastDraw = -1000;
        long rows;

        public void Report(LoadProgress value)
        {
            rows = value.Rows;
            if (clock.ElapsedMilliseconds - lastDraw < 200) return;
            lastDraw = clock.ElapsedMilliseconds;
            var rate = rows / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{rows:N0} 行/rows  {rate:N0} 行/秒 rows/s  {clock.Elapsed.TotalSeconds:F1} s "));
        }

        public void Finish() =>
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\r{rows:N0} 行，用时 {clock.Elapsed.TotalSeconds:F1} 秒 / {rows:N0} rows in {clock.Elapsed.TotalSeconds:F1} s").PadRight(80));
    }
}
