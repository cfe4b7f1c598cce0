using System.Runtime.CompilerServices;

namespace Lianqiao.Tests.Infrastructure;

internal static class ConsoleStartup
{
    /// <summary>
    /// Creates Console.Out and Console.Error before any test runs. Otherwise Playwright setting Console.OutputEncoding
    /// (it flushes both writers under the console lock) can deadlock with a host's console logger that is writing to
    /// stderr while lazily creating Console.Out: seen as a test run hanging at 0% CPU.
    /// </summary>
#pragma warning disable CA2255 // A test assembly, not a library: this must run before the first fixture.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void CreateConsoleWriters()
    {
        _ = Console.Out;
        _ = Console.Error;
    }
}
