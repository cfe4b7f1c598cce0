using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Lianqiao.Exchange;
using Lianqiao.Tests.Datasets;
using Lianqiao.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Lianqiao.Tests.Exchange;

/// <summary>汇聚 from a department's HTTP JSON API: a real Kestrel server on loopback answering pages.</summary>
public sealed class HttpCollectionTests(ExchangeServer server) : IClassFixture<ExchangeServer>, IAsyncLifetime
{
    const string Token = "source-api-token";
    static readonly DateOnly Born = new(1988, 3, 4);
    readonly ConcurrentQueue<(string Path, string Authorization)> calls = new();
    WebApplication? api;
    string baseUrl = "";

    static JsonObject Person(int i, string? id = null) => new()
    {
        ["id_number"] = id ?? DatasetTestData.Id(i, Born), ["name"] = "接口" + i, ["gender"] = "1", ["birth_date"] = Born.ToString("yyyy-MM-dd"),
        ["phone"] = "13812345678", ["address"] = $"江苏省连云港市海州区朝阳路{i}号", ["household_id"] = $"H{i:D6}",
    };

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        api = builder.Build();
        api.Use((ctx, next) =>
        {
            calls.Enqueue((ctx.Request.Path + ctx.Request.QueryString, ctx.Request.Headers.Authorization.ToString()));
            return next(ctx);
        });
        // Three pages, three shapes: an envelope naming the next page, an array with a Link header, an envelope that ends.
        api.MapGet("/people", (HttpContext ctx, int? page) =>
        {
            switch (page ?? 1)
            {
                case 1:
                    return Results.Json(new JsonObject { ["data"] = new JsonArray(Person(1), Person(2)), ["next"] = "/people?page=2" });
                case 2:
                    ctx.Response.Headers.Link = "</people?page=3>; rel=\"next\"";
                    // The second row's ID number has a wrong check character: the row rules quarantine it.
                    var bad = DatasetTestData.Id(4, Born);
                    return Results.Json(new JsonArray(Person(3), Person(4, bad[..17] + (bad[17] == '0' ? '1' : '0'))));
                default:
                    return Results.Json(new JsonObject { ["items"] = new JsonArray(Person(5)) });
            }
        });
        // A page that sends the next request, and so the token, to another host.
        api.MapGet("/elsewhere", (HttpContext ctx) => Results.Json(new JsonObject
        {
            ["data"] = new JsonArray(Person(6)), ["next"] = $"http://localhost:{ctx.Connection.LocalPort}/people?page=2",
        }));
        await api.StartAsync();
        baseUrl = api.Urls.Single();
    }

    public async Task DisposeAsync()
    {
        if (api is not null) await api.DisposeAsync();
    }

    async Task<JobDto> JobAsync(string resourceId, string path)
    {
        await server.AllowLoopbackAsync();
        using var admin = await server.AsAdminAsync();
        var schema = await DatasetTestData.PutSchemaAsync(admin, resourceId, DatasetTestData.PopulationSchema(server.OwnDepartmentId));
        Assert.True(schema.IsSuccessStatusCode, await schema.Content.ReadAsStringAsync());
        var created = await admin.PostJsonAsync("/api/v1/exchange/connections", new
        {
            name = "人口接口 " + resourceId, kind = ConnectionKinds.HttpJson, departmentId = server.OwnDepartmentId, url = baseUrl + path, secret = Token,
        });
        var connection = await created.OkJsonAsync<ConnectionDto>();
        Assert.True(connection.HasSecret);
        Assert.DoesNotContain(Token, await created.Content.ReadAsStringAsync());
        Assert.DoesNotContain(Token, await admin.GetStringAsync($"/api/v1/exchange/connections/{connection.Id}"));
        return await (await admin.PostJsonAsync("/api/v1/exchange/jobs", new
        {
            name = "接口汇聚 " + resourceId, kind = "collect", connectionId = connection.Id, resourceId, mode = "snapshot",
        })).OkJsonAsync<JobDto>();
    }

    [Fact]
    public async Task A_paged_json_api_loads_every_page_as_one_load_and_quarantines_a_bad_row()
    {
        var job = await JobAsync("ex-http-paged", "/people");
        var run = await server.RunAsync(job.Id);

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(1, run.Batches);
        Assert.Equal(5, run.RowsRead);
        Assert.Equal(4, run.RowsAccepted);
        Assert.Equal(1, run.RowsQuarantined);
        var stored = await server.StoredAsync("ex-http-paged", "id_number", "name");
        Assert.Equal(["接口1", "接口2", "接口3", "接口5"], stored.Values.Select(v => v!).Order().ToArray());
        Assert.Equal(["/people", "/people?page=2", "/people?page=3"], calls.Select(c => c.Path).ToArray());
        Assert.All(calls, c => Assert.Equal("Bearer " + Token, c.Authorization));
    }

    [Fact]
    public async Task A_next_page_on_another_host_is_refused_and_the_token_not_sent_there()
    {
        var job = await JobAsync("ex-http-offsite", "/elsewhere");
        var run = await server.RunAsync(job.Id);

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("another host", run.Error);
        Assert.Equal(["/elsewhere"], calls.Select(c => c.Path).ToArray());
        Assert.Null(run.LoadId);
    }
}
