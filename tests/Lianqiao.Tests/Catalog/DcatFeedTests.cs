using System.Diagnostics;
using Xunit;

namespace Lianqiao.Tests.Catalog;

public sealed class DcatFeedTests(CatalogServer server) : IClassFixture<CatalogServer>
{
    /// <summary>Parses a feed with Debian's python3-rdflib and returns the number of dcat:Dataset subjects.</summary>
    static async Task<int> DatasetsAsync(string text, string format)
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, text);
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/python3", ["-c",
                "import sys, rdflib; g = rdflib.Graph(); g.parse(sys.argv[1], format=sys.argv[2]); " +
                "print(len(set(g.subjects(rdflib.RDF.type, rdflib.URIRef('http://www.w3.org/ns/dcat#Dataset')))))", file, format])
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(psi)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, error);
            return int.Parse(output.Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Turtle_and_json_ld_feeds_parse_and_show_anonymous_callers_only_open_resources()
    {
        using var client = server.Anonymous();
        var ttl = await client.GetStringAsync("/catalog.ttl?pageSize=1000");
        Assert.Contains("/dataset/bus-routes>", ttl);
        Assert.DoesNotContain("/dataset/population-basic>", ttl);
        var jsonld = await client.GetStringAsync("/catalog.jsonld?pageSize=20&page=2");
        Assert.Contains("hydra:next", jsonld);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync("/dataset/population-basic.jsonld")).StatusCode);
        var one = await client.GetStringAsync("/dataset/bus-stops.jsonld");
        if (!File.Exists("/usr/bin/python3")) return;
        Assert.True(await DatasetsAsync(ttl, "turtle") > 50);
        Assert.Equal(20, await DatasetsAsync(jsonld, "json-ld"));
        Assert.Equal(1, await DatasetsAsync(one, "json-ld"));
    }
}
