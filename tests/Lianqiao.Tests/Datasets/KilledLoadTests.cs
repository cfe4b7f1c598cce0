using Lianqiao.Datasets;
using Lianqiao.Tests.Infrastructure;
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

        var running = await KillCliLoadMidwayAsync(server, "pop-killed", born, "--mode", "replace");

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
