using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lianqiao.Tests.Infrastructure;
using Xunit;

namespace Lianqiao.Tests.Catalog;

/// <summary>Shapes written by hand from CKAN's API documentation (ckan.logic.action.get), not from our own DTOs.</summary>
public sealed class CkanApiTests(CatalogServer server) : IClassFixture<CatalogServer>
{
    static async Task<JsonElement> EnvelopeAsync(HttpResponseMessage response, bool success = true)
    {
        var text = await response.Content.ReadAsStringAsync();
        var root = JsonDocument.Parse(text).RootElement;
        Assert.True(root.TryGetProperty("help", out var help) && help.ValueKind == JsonValueKind.String, text);
        Assert.Equal(success, root.GetProperty("success").GetBoolean());
        if (success) return root.GetProperty("result");
        var error = root.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("__type").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        return error;
    }

    [Fact]
    public async Task Package_search_returns_count_results_and_search_facets()
    {
        using var client = server.Anonymous();
        var result = await EnvelopeAsync(await client.GetAsync("/api/3/action/package_search?q=" + Uri.EscapeDataString("公交")
            + "&rows=2&facet.field=" + Uri.EscapeDataString("[\"organization\",\"res_format\",\"tags\"]")));
        Assert.Equal(3, result.GetProperty("count").GetInt32());
        Assert.Equal(2, result.GetProperty("results").GetArrayLength());
        var package = result.GetProperty("results")[0];
        foreach (var field in new[] { "id", "name", "title", "notes", "metadata_modified", "organization", "tags", "resources", "extras", "num_resources" })
            Assert.True(package.TryGetProperty(field, out _), field);
        var facets = result.GetProperty("search_facets");
        var org = facets.GetProperty("organization");
        Assert.Equal(JsonValueKind.String, org.GetProperty("title").ValueKind);
        var item = Assert.Single(org.GetProperty("items").EnumerateArray());
        Assert.Equal("市交通运输局", item.GetProperty("display_name").GetString());
        Assert.Equal(3, item.GetProperty("count").GetInt32());
        Assert.Equal(3, result.GetProperty("facets").GetProperty("organization").GetProperty(item.GetProperty("name").GetString()!).GetInt32());

        // CKAN clients POST a JSON body; fq narrows by organization name.
        var posted = await EnvelopeAsync(await client.PostAsJsonAsync("/api/3/action/package_search",
            new Dictionary<string, object> { ["q"] = "公交", ["fq"] = $"organization:{item.GetProperty("name").GetString()} res_format:7", ["rows"] = 10 }));
        Assert.Equal("bus-arrivals", Assert.Single(posted.GetProperty("results").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Anonymous_callers_see_only_open_resources_and_open_fields()
    {
        using var anonymous = server.Anonymous();
        var names = (await EnvelopeAsync(await anonymous.GetAsync("/api/3/action/package_list"))).EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("bus-routes", names);
        Assert.Contains("legal-entity-basic", names);
        Assert.DoesNotContain("population-basic", names);
        var notFound = await anonymous.GetAsync("/api/3/action/package_show?id=population-basic");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("Not Found Error", (await EnvelopeAsync(notFound, success: false)).GetProperty("__type").GetString());
        var search = await EnvelopeAsync(await anonymous.GetAsync("/api/3/action/package_search?q=" + Uri.EscapeDataString("人口") + "&rows=100"));
        Assert.DoesNotContain(search.GetProperty("results").EnumerateArray(), p => p.GetProperty("name").GetString() == "population-basic");

        var legal = await EnvelopeAsync(await anonymous.GetAsync("/api/3/action/package_show?id=legal-entity-basic"));
        var fields = legal.GetProperty("resources")[0].GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("id").GetString()).ToList();
        Assert.Contains("credit_code", fields);
        Assert.DoesNotContain("legal_representative", fields);

        // A developer key is the public with a key; a department member sees the unopened resource by its standard code.
        using var developer = server.WithKey(await server.DeveloperKeyAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await developer.GetAsync("/api/3/action/package_show?id=population-basic")).StatusCode);
        using var member = await server.AsUserAsync("t-consumer");
        var population = await EnvelopeAsync(await member.GetAsync("/api/3/action/package_show?id=" + Uri.EscapeDataString("101001/000001")));
        Assert.Equal("population-basic", population.GetProperty("name").GetString());
        Assert.Equal(8, population.GetProperty("resources")[0].GetProperty("fields").GetArrayLength());
    }

    [Fact]
    public async Task Other_actions_answer_in_the_ckan_envelope()
    {
        using var client = server.Anonymous();
        Assert.Equal(JsonValueKind.String, (await EnvelopeAsync(await client.GetAsync("/api/3/action/status_show"))).GetProperty("ckan_version").ValueKind);
        var orgs = await EnvelopeAsync(await client.GetAsync("/api/3/action/organization_list"));
        var first = orgs[0].GetString()!;
        Assert.Matches("^[a-z0-9-]+$", first);
        Assert.Equal(first, (await EnvelopeAsync(await client.GetAsync($"/api/3/action/organization_show?id={first}"))).GetProperty("name").GetString());
        Assert.Contains("base", (await EnvelopeAsync(await client.GetAsync("/api/3/action/group_list"))).EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("公交", (await EnvelopeAsync(await client.GetAsync("/api/3/action/tag_list"))).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("bus-stops", (await EnvelopeAsync(await client.GetAsync("/api/3/action/resource_show?id=bus-stops"))).GetProperty("package_id").GetString());
        var missing = await client.GetAsync("/api/3/action/package_show");
        Assert.Equal(HttpStatusCode.Conflict, missing.StatusCode);
        Assert.Equal("Validation Error", (await EnvelopeAsync(missing, success: false)).GetProperty("__type").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/3/action/no_such_action")).StatusCode);
    }
}
