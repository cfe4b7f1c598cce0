using System.Runtime.CompilerServices;
using System.Text;

namespace Lianqiao.Tests.Infrastructure;

internal static class ConsoleStartup
{
    /// <summary>
    /// Gives the test process console writers of its own before any test runs. Playwright sets Console.OutputEncoding
    /// each time it starts its driver; on the console's own writers that flushes the old writer under the console's lock
    /// and drops it, while a host's console logger, holding the old writer's lock, asks the console for the new one: a
    /// lock-order deadlock, seen as a test run hanging at 0% CPU (creating the writers early only moved the race).
    /// Writers set with SetOut/SetError count as redirected, and the console leaves redirected writers alone when the
    /// encoding changes.
    /// </summary>
#pragma warning disable CA2255 // A test assembly, not a library: this must run before the first fixture.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RedirectConsoleWriters()
    {
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        Console.SetOut(new StreamWriter(Console.OpenStandardOutput(), utf8) { AutoFlush = true });
        Console.SetError(new StreamWriter(Console.OpenStandardError(), utf8) { AutoFlush = true });
    }
}
