using System.Text.Json;
using Lianqiao.Cli;
using Lianqiao.Data;
using Lianqiao.Datasets.Loading;
using Lianqiao.Hosting;

namespace Lianqiao.Datasets;

/// <summary>`lianqiao load`: the same loader as the API, run as the system, with a progress bar on stderr.</summary>
internal static class DatasetsCli
{
    public static Task<int> LoadAsync(HostSettings settings, string resourceId, FileInfo file, string mode, string? format,
        Func<HostSettings, Func<IServiceProvider, Task<int>>, CancellationToken, Task<int>> withServices, CancellationToken ct) =>
        withServices(settings, async sp =>
        {
            if (!file.Exists)
            {
                await Console.Error.WriteLineAsync($"文件不存在 / no such file: {file.FullName}");
                return 1;
            }
            var time = sp.GetRequiredService<TimeProvider>();
            // Loads a killed earlier run left behind are failed first, so this one can take the resource.
            var recovered = await DatasetLoader.RecoverAsync(sp.GetRequiredService<LianqiaoDb>(), time, ct);
            if (recovered > 0) await Console.Error.WriteLineAsync($"已将 {recovered} 个中断的导入标记为失败 / marked {recovered} interrupted load(s) failed");

            var head = new byte[512];
            int n;
            await using (var f = file.OpenRead()) n = await f.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
            var detected = LoadFormats.Detect(format, null, file.Name, head.AsSpan(0, n));
            var bar = new ProgressBar();
            try
            {
                var load = await sp.GetRequiredService<DatasetLoader>().RunAsync(
                    new LoadRequest(resourceId, mode.ToLowerInvariant(), detected, file.FullName, file.Name, file.Length, "cli", "cli"), bar, ct);
                bar.Finish();
                Console.WriteLine(JsonSerializer.Serialize(load.AsDto(), Quality.QuarantineWriter.Json));
                return 0;
            }
            catch (LoadRefusedException refused)
            {
                bar.Finish();
                await Console.Error.WriteLineAsync($"{refused.TitleZh} / {refused.Message}");
                if (refused.Errors is not null)
                    foreach (var (key, values) in refused.Errors) await Console.Error.WriteLineAsync($"  {key}: {string.Join("; ", values)}");
                return refused.Status == 404 ? 3 : 1;
            }
        }, ct);
}
