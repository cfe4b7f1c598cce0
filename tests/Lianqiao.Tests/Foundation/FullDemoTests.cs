using System.Text.Json;
using Lianqiao.Tests.Infrastructure;
using Xunit;

namespace Lianqiao.Tests.Foundation;

/// <summary>Every module's demo seed, as `serve --demo` runs it: the README's first command must start.</summary>
public sealed class FullDemoServer : LianqiaoServer
{
    protected override bool IncludeSeedStep(Lianqiao.Seeding.ISeedStep step) => true;
}

public sealed class FullDemoTests(FullDemoServer server) : IClassFixture<FullDemoServer>
{
    [Fact]
    public async Task The_whole_demo_seeds_and_the_journey_resources_hold_data()
    {
        using var steward = await server.AsUserAsync("police-steward");
        var loads = JsonDocument.Parse(await steward.GetStringAsync("/api/v1/datasets/population-basic/loads")).RootElement;
        var load = loads.EnumerateArray().First();
        Assert.Equal("succeeded", load.GetProperty("status").GetString());
        var read = load.GetProperty("rowsRead").GetInt64();
        Assert.True(read > 0);
        Assert.Equal(read, load.GetProperty("rowsAccepted").GetInt64() + load.GetProperty("rowsQuarantined").GetInt64());
        Assert.True(load.GetProperty("rowsQuarantined").GetInt64() > 0, "the demo file carries invalid rows for the quarantine pages");

        using var anonymous = server.Anonymous();
        var search = JsonDocument.Parse(await anonymous.GetStringAsync("/api/3/action/package_search?q=" + Uri.EscapeDataString("公交"))).RootElement;
        Assert.True(search.GetProperty("result").GetProperty("count").GetInt32() > 0);
    }
}
