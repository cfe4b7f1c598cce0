using System.Diagnostics;
using System.Text;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static Lianqiao.Tests.Datasets.DatasetTestData;

namespace Lianqiao.Tests.Datasets;

/// <summary>A `lianqiao load` process killed mid-way: the previous rows stay, and a restart marks the load failed.</summary>
public sealed class KilledLoadTests(LianqiaoServer server) : IClassFixture<LianqiaoServer>
{
    [Fact]
    public async Task Killed_cli_load_leaves_previous_rows_intact_and_is_marked_failed_on_restart()
    {
        using var steward = await server.AsUserAsync("t-steward");
        (await PutSchemaAsync(steward, "pop-killed", PopulationSchema(server.OwnDepartmentId))).EnsureSuccessStatusCode();
        var born = new DateOnly(1970, 1, 1);
        (await LoadCsvAsync(steward, "pop-killed", Csv(Row(1, born), Row(2, born)))).EnsureSuccessStatusCode();
        var before = await (await steward.GetAsync("/api/v1/datasets/pop-killed/rows")).Content.ReadAsStringAsync();

        var file = Path.Combine(server.DataDirectory, "big.csv");
        await using (var w = new StreamWriter(file, false, new UTF8Encoding(false)))
        {
            await w.WriteLineAsync(Header);
            for (var i = 0; i < 400_000; i++) await w.WriteLineAsync(Row(i, born.AddDays(i / 500)));
        }

        var args = new List<string> { typeof(Lianqiao.Hosting.LianqiaoApp).Assembly.Location, "load", "pop-killed", file, "--mode", "replace", "--data", server.DataDirectory };
        if (server.PostgresConnectionString is { } pg) args.AddRange(["--db", pg]);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        _ = child.StandardError.ReadToEndAsync();
        _ = child.StandardOutput.ReadToEndAsync();

        var deadline = DateTime.UtcNow.AddSeconds(90);
        DatasetLoad? running = null;
        while (running is null && DateTime.UtcNow < deadline && !child.HasExited)
        {
            running = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DatasetLoad>().AsNoTracking()
                .FirstOrDefaultAsync(l => l.ResourceId == "pop-killed" && l.Status == LoadStatus.Running));
            if (running is null) await Task.Delay(100);
        }
        Assert.NotNull(running);
        await Task.Delay(1000); // well into staging
        child.Kill(entireProcessTree: true);
        await child.WaitForExitAsync();

        var after = await (await steward.GetAsync("/api/v1/datasets/pop-killed/rows")).Content.ReadAsStringAsync();
        Assert.Equal(before, after);

        // A restart (another host on the same database) fails the dead process's load and frees the resource.
        await server.StartHostAsync();
        var load = await (await steward.GetAsync($"/api/v1/datasets/pop-killed/loads/{running.Id}")).OkJsonAsync<LoadDto>();
        Assert.Equal("failed", load.Status);
        Assert.Contains("中断", load.Error, StringComparison.Ordinal);
        (await LoadCsvAsync(steward, "pop-killed", Csv(Row(3, born)))).EnsureSuccessStatusCode();
    }
}
