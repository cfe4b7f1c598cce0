using System.Net.Http.Json;
using Lianqiao.Data;
using Lianqiao.Exchange;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Exchange;

/// <summary>Connections: secrets go in and never come out; hosts must be on the platform's allow-list; "test connection" really connects.</summary>
public sealed class ConnectionTests(ExchangeServer server) : IClassFixture<ExchangeServer>
{
    const string Secret = "pw-Zq9!never-shown";

    [Fact]
    public async Task Secrets_are_stored_encrypted_and_never_returned_anywhere()
    {
        await server.AllowLoopbackAsync();
        using var admin = await server.AsAdminAsync();
        var response = await admin.PostJsonAsync("/api/v1/exchange/connections", new
        {
            name = "带密码的连接", kind = "postgres", departmentId = server.OwnDepartmentId, host = "127.0.0.1", port = 1, database = "x", userName = "u", secret = Secret,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        Assert.DoesNotContain(Secret, body);
        var created = System.Text.Json.JsonSerializer.Deserialize<ConnectionDto>(body, HttpAssertions.Json)!;
        Assert.True(created.HasSecret);

        foreach (var url in new[] { "/api/v1/exchange/connections", $"/api/v1/exchange/connections/{created.Id}" })
            Assert.DoesNotContain(Secret, await admin.GetStringAsync(url));
        // A failing test connection reports the driver's message, not the connection string.
        var test = await (await admin.PostAsync($"/api/v1/exchange/connections/{created.Id}/test", null)).OkJsonAsync<ConnectionTestDto>();
        Assert.False(test.Ok);
        Assert.DoesNotContain(Secret, test.Message);
        var changed = await admin.PutAsJsonAsync($"/api/v1/exchange/connections/{created.Id}", new { name = "改名" }, HttpAssertions.Json);
        Assert.DoesNotContain(Secret, await changed.Content.ReadAsStringAsync());

        var stored = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<ExchangeConnection>().AsNoTracking().SingleAsync(c => c.Id == created.Id));
        Assert.NotNull(stored.ProtectedSecret);
        Assert.DoesNotContain(Secret, stored.ProtectedSecret);
        var audit = await server.InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<global::Lianqiao.Audit.AuditRecord>().AsNoTracking().ToListAsync());
        Assert.Contains(audit, a => a.Action == "exchange.connection.create");
        Assert.DoesNotContain(audit, a => System.Text.Json.JsonSerializer.Serialize(a).Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Hosts_off_the_allow_list_and_files_outside_the_exchange_folder_are_refused()
    {
        using var admin = await server.AsAdminAsync();
        var host = await (await admin.PostJsonAsync("/api/v1/exchange/connections", new
        {
            name = "外网库", kind = "mysql", departmentId = server.OwnDepartmentId, host = "10.9.8.7", database = "x", userName = "u", secret = "p",
        })).ProblemAsync(400);
        Assert.Contains("host", host.Errors!.Keys);
        var file = await (await admin.PostJsonAsync("/api/v1/exchange/connections", new
        {
            name = "系统文件", kind = "sqlite", departmentId = server.OwnDepartmentId, path = "/etc/passwd",
        })).ProblemAsync(400);
        Assert.Contains("path", file.Errors!.Keys);
        // Stewards act for their own department only.
        using var steward = await server.AsUserAsync("t-steward");
        var other = await steward.PostJsonAsync("/api/v1/exchange/connections", new
        {
            name = "别人的库", kind = "sqlite", departmentId = server.OtherDepartmentId, path = Path.Combine(server.DataDirectory, "exchange", "x.db"),
        });
        await other.ProblemAsync(403);
    }

    [Fact]
    public async Task Test_connection_reaches_real_servers()
    {
        await server.AllowLoopbackAsync();
        using var admin = await server.AsAdminAsync();
        foreach (var kind in ExternalDb.Kinds)
        {
            await using var db = await ExternalDb.CreateAsync(kind, server.DataDirectory);
            if (db is null) continue;
            var created = await (await admin.PostJsonAsync("/api/v1/exchange/connections", db.ConnectionInput("测试 " + kind, server.OwnDepartmentId))).OkJsonAsync<ConnectionDto>();
            var test = await (await admin.PostAsync($"/api/v1/exchange/connections/{created.Id}/test", null)).OkJsonAsync<ConnectionTestDto>();
            Assert.True(test.Ok, kind + ": " + test.Message);
            var after = await admin.GetFromJsonAsync<ConnectionDto>($"/api/v1/exchange/connections/{created.Id}", HttpAssertions.Json);
            Assert.True(after!.LastTestOk);
        }
    }
}
