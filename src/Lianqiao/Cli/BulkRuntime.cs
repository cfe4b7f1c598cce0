using System.Runtime.InteropServices;

namespace Lianqiao.Cli;

/// <summary>Runtime settings for the CLI's bulk verbs, chosen before the command line is parsed (Program.cs).</summary>
internal static class BulkRuntime
{
    /// <summary>
    /// The bulk verbs, `lianqiao load` and `lianqiao exchange run`, run with tiered PGO off, the workstation GC and a higher
    /// call count before a method is re-jitted, which the runtime reads only as it starts. PGO
    /// pays off in a server that runs for days; in a load it instruments and recompiles thousands of start-up methods
    /// while the rows stream (measured: a third of the CPU of a 1M-row load), and one load has no use for a GC heap per
    /// core. `exchange run` is the same shape of work (a collection is a load, a delivery streams a resource's rows once).
    /// A method is re-jitted at full optimisation after 1,024 calls instead of 30: start-up code (EF Core, DI) passes 30
    /// calls but not 1,024 and was re-jitted for nothing, while the per-row code passes either at once (measured, 1M-row
    /// load on PostgreSQL: the tiered-compilation thread 0.6–0.9 → ~0.4 CPU s, the process ~4.85 → ~4.45 CPU s).
    /// On Linux the process replaces its own image with the same command line and those settings: the same
    /// pid (a kill still stops the load), the same stdio. Elsewhere, or when DOTNET_TieredPGO is already set, nothing happens.
    /// </summary>
    public static void RestartIfBulkVerb(string[] args)
    {
        if (!OperatingSystem.IsLinux() || !IsBulkVerb(args) || Environment.GetEnvironmentVariable("DOTNET_TieredPGO") is not null) return;
        // The exact command line (host, dll, arguments), as `dotnet Lianqiao.dll load …` and the apphost differ.
        var argv = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}")
            .Append("DOTNET_TieredPGO=0");
        // The runtime reads this number as hexadecimal: 0x400 = 1,024.
        if (Environment.GetEnvironmentVariable("DOTNET_TC_CallCountThreshold") is null) env = env.Append("DOTNET_TC_CallCountThreshold=400");
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
}
