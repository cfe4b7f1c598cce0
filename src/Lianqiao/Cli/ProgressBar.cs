using System.Diagnostics;
using System.Globalization;
using Lianqiao.Datasets.Loading;

namespace Lianqiao.Cli;

/// <summary>
/// The CLI's one progress line on stderr (`lianqiao load`, `lianqiao exchange run`), redrawn at most five times a second.
/// With <paramref name="showsFraction"/> false (a source query, whose total is not known in advance) it shows rows and rate only.
/// </summary>
internal sealed class ProgressBar(bool showsFraction = true) : IProgress<LoadProgress>
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    long lastDraw = -1000;
    long rows;

    public void Report(LoadProgress value)
    {
        rows = value.Rows;
        if (clock.ElapsedMilliseconds - lastDraw < 200 && value.Fraction < 1) return;
        lastDraw = clock.ElapsedMilliseconds;
        var rate = rows / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
        var counts = string.Create(CultureInfo.InvariantCulture, $"{rows:N0} 行/rows  {rate:N0} 行/秒 rows/s ");
        if (!showsFraction)
        {
            Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{counts} {clock.Elapsed.TotalSeconds:F1} s "));
            return;
        }
        const int width = 30;
        var filled = (int)Math.Round(Math.Clamp(value.Fraction, 0, 1) * width);
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r[{new string('#', filled)}{new string('.', width - filled)}] {value.Fraction,4:P0}  {counts}"));
    }

    public void Finish()
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"读取 {rows:N0} 行，用时 {clock.Elapsed.TotalSeconds:F1} 秒 / read {rows:N0} rows in {clock.Elapsed.TotalSeconds:F1} s");
        Console.Error.WriteLine("\r" + line.PadRight(80));
    }
}
