using System.Runtime.InteropServices;
using System.Text.Json;
using Lianqiao.Cli;
using Lianqiao.Data;
using Lianqiao.Datasets.Loading;
using Lianqiao.Hosting;

namespace Lianqiao.Datasets;

/// <summary>`lianqiao load`: the same loader as the API, run as the system, with a progress bar on stderr.</summary>
internal static class DatasetsCli
{
    /// <summary>
    /// The bulk verbs, `lianqiao load` and `lianqiao exchange run`, run with tiered PGO off and the workstation GC, which the runtime reads only as it starts. PGO
    /// pays off in a server that runs for days; in a load it instruments and recompiles thousands of start-up methods
    /// while the rows stream (measured: a third of the CPU of a 1M-row load), and one load has no use for a GC heap per
    /// core. `exchange run` is the same shape of work (a collection is a load, a delivery streams a resource's rows once).
    /// On Linux the process replaces its own image with the same command line and those two settings: the same
    /// pid (a kill still stops the load), the same stdio. Elsewhere, or when the variables are already set, nothing happens.
    /// </summary>
    public static void RestartForBulkLoad(string[] args)
    {
        if (!OperatingSystem.IsLinux() || !IsBulkVerb(args) || Environment.GetEnvironmentVariable("DOTNET_TieredPGO") is not null) return;
        // The exact command line (host, dll, arguments), as `dotnet Lianqiao.dll load …` and the apphost differ.
        var argv = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}")
            .Append("DOTNET_TieredPGO=0");
        if (Environment.GetEnvironmentVariable("DOTNET_gcServer") is null) env = env.Append("DOTNET_gcServer=0");
        Execve("/proc/self/exe", [.. argv, null], [.. env, null]);
        // Only a failed exec returns: the load runs here, with the settings it started with.
    }

    /// <summary>The one place that names the bulk verbs restarted with bulk settings.</summary>
    internal static bool IsBulkVerb(string[] args) => args is ["load", ..] or ["exchange", "run", ..];

    // LPStr is UTF-8 on Linux, the only place this is called.
    [DllImport("libc", EntryPoint = "execve")]
    static extern int Execve([MarshalAs(UnmanagedType.LPUTF8Str)] string path,
        [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string?[] argv,
        [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string?[] envp);

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
