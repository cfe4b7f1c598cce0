using System.Runtime.InteropServices;

namespace Lianqiao.Cli;

/// <summary>
/// Runtime settings the runtime reads only as it starts (environment variables, not runtimeconfig knobs), chosen for a verb
/// before the command line is parsed (Program.cs). On Linux the process replaces its own image with the same command line
/// and those settings: the same pid (a kill still stops it), the same stdio. Elsewhere, or when the verb's marker setting
/// is already in the environment (set by the operator, or by this restart), nothing happens.
/// </summary>
internal static class VerbRuntime
{
    public static void RestartWithVerbSettings(string[] args)
    {
        if (!OperatingSystem.IsLinux()) return;
        var settings = IsBulkVerb(args) ? BulkSettings : args is ["serve", ..] ? ServerSettings : null;
        if (settings is null || Environment.GetEnvironmentVariable(settings[0].Name) is not null) return;
        // The exact command line (host, dll, arguments), as `dotnet Lianqiao.dll load …` and the apphost differ.
        var argv = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}")
            .Concat(settings.Where(s => Environment.GetEnvironmentVariable(s.Name) is null).Select(s => $"{s.Name}={s.Value}"));
        Execve("/proc/self/exe", [.. argv, null], [.. env, null]);
        // Only a failed exec returns: the verb runs here, with the settings it started with.
    }

    /// <summary>
    /// The bulk verbs, `lianqiao load` and `lianqiao exchange run`, run with tiered PGO off, the workstation GC and a higher
    /// call count before a method is re-jitted. PGO pays off in a server that runs for days; in a load it instruments and
    /// recompiles thousands of start-up methods while the rows stream (measured: a third of the CPU of a 1M-row load), and
    /// one load has no use for a GC heap per core. `exchange run` is the same shape of work (a collection is a load, a
    /// delivery streams a resource's rows once). A method is re-jitted at full optimisation after 1,024 calls instead of 30
    /// (the runtime reads the number as hexadecimal: 0x400): start-up code (EF Core, DI) passes 30 calls but not 1,024 and
    /// was re-jitted for nothing, while the per-row code passes either at once (measured, 1M-row load on PostgreSQL: the
    /// tiered-compilation thread 0.6–0.9 → ~0.4 CPU s, the process ~4.85 → ~4.45 CPU s).
    /// </summary>
    static readonly (string Name, string Value)[] BulkSettings =
        [("DOTNET_TieredPGO", "0"), ("DOTNET_TC_CallCountThreshold", "400"), ("DOTNET_gcServer", "0")];

    /// <summary>
    /// `lianqiao serve` runs with a 64 MB young-generation budget (hexadecimal 0x4000000). Every young collection stops every
    /// request in flight for about 2.5 ms on 2 cores; with the default budget a busy gateway (about 7 KB allocated per call)
    /// collected 9 times a second, so 2 % of calls waited for one: the p99's tail. With 64 MB it collects about twice a
    /// second, for ~60 MB more memory (bench/gateway/README.md).
    /// </summary>
    static readonly (string Name, string Value)[] ServerSettings = [("DOTNET_GCgen0size", "0x4000000")];

    /// <summary>The one place that names the bulk verbs restarted with bulk settings.</summary>
    internal static bool IsBulkVerb(string[] args) => args is ["load", ..] or ["exchange", "run", ..];

    // LPStr is UTF-8 on Linux, the only place this is called.
    [DllImport("libc", EntryPoint = "execve")]
    static extern int Execve([MarshalAs(UnmanagedType.LPUTF8Str)] string path,
        [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string?[] argv,
        [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string?[] envp);
}
