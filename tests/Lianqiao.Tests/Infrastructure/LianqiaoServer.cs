using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Hosting;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Lianqiao.Tests.Infrastructure;

/// <summary>
/// The real host on a loopback port with its own database (a temp SQLite file, or a fresh PostgreSQL
/// database). Seeds the demo city's departments and personas, plus test users with exactly one role each.
/// Use as IClassFixture; derive to add services or seed steps.
/// </summary>
public class LianqiaoServer : IAsyncLifetime
{
    public const string OwnDepartment = "市公安局";
    public const string OtherDepartment = "市市场监管局";

    public WebApplication App { get; private set; } = default!;
    public string BaseUrl { get; private set; } = "";
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("lianqiao-test-").FullName;
    public string? PostgresConnectionString { get; private set; }
    public Guid OwnDepartmentId { get; private set; }
    public Guid OtherDepartmentId { get; private set; }
    public string AdminPassword { get; private set; } = "";

    readonly Dictionary<string, string> keys = [];
    readonly List<WebApplication> extraHosts = [];

    /// <summary>Which demo seed steps this fixture applies (the foundation's by default; later modules widen it). Base steps always run.</summary>
    protected virtual bool IncludeSeedStep(Seeding.ISeedStep step) => step.Id.StartsWith("p1-", StringComparison.Ordinal);

    protected virtual void Configure(WebApplicationBuilder builder) { }

    public async Task InitializeAsync()
    {
        if (TestDatabase.UsePostgres) PostgresConnectionString = await TestDatabase.CreatePostgresDatabaseAsync();
        App = await StartHostAsync();
        BaseUrl = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        OwnDepartmentId = await db.Set<Department>().Where(d => d.Name == OwnDepartment).Select(d => d.Id).SingleAsync();
        OtherDepartmentId = await db.Set<Department>().Where(d => d.Name == OtherDepartment).Select(d => d.Id).SingleAsync();
        await CreateTestPrincipalsAsync(scope.ServiceProvider);
    }

    /// <summary>Starts a host on this fixture's database: the first one prepares it, later ones are extra nodes.</summary>
    public async Task<WebApplication> StartHostAsync(Action<WebApplicationBuilder>? configure = null)
    {
        var app = LianqiaoApp.Build(new HostSettings
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = DataDirectory,
            PostgresConnectionString = PostgresConnectionString,
            EnvironmentName = "Testing",
        }, b =>
        {
            Configure(b);
            configure?.Invoke(b);
        });
        var report = await LianqiaoApp.PrepareAsync(app, demo: true, onlySeedSteps: IncludeSeedStep);
        if (report.Admin is { } admin) AdminPassword = admin.Password;
        await app.StartAsync();
        if (App is not null) extraHosts.Add(app);
        return app;
    }

    public static string UrlOf(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    /// <summary>Test principals with exactly one role each, in <see cref="OwnDepartment"/>.</summary>
    async Task CreateTestPrincipalsAsync(IServiceProvider sp)
    {
        var accounts = sp.GetRequiredService<AccountService>();
        var system = new AuditEntry("user.create") { ActorKind = "System", ActorName = "test fixture" };
        foreach (var (user, role) in new[] { ("t-steward", Roles.Steward), ("t-approver", Roles.Approver), ("t-consumer", Roles.Consumer), ("t-auditor", Roles.Auditor) })
        {
            var (account, errors) = await accounts.CreateAsync(user, user, OwnDepartmentId, [role], system);
            if (account is null) throw new InvalidOperationException(string.Join("; ", errors.SelectMany(e => e.Value)));
        }
        var db = sp.GetRequiredService<LianqiaoDb>();
        db.Add(new ConsumerApp { Name = "t-app", DepartmentId = OwnDepartmentId, CreatedAt = DateTimeOffset.UtcNow });
        db.Add(new ConsumerApp { Name = "t-other-app", DepartmentId = OtherDepartmentId, CreatedAt = DateTimeOffset.UtcNow });
        db.Add(new Developer { Email = "t-dev@example.org", DisplayName = "t-dev", EmailVerified = true, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
    }

    /// <summary>An API key for a user (by user name), cached per fixture.</summary>
    public async Task<string> UserKeyAsync(string userName)
    {
        if (keys.TryGetValue("user:" + userName, out var cached)) return cached;
        await using var scope = App.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<User>>().FindByNameAsync(userName)
            ?? throw new InvalidOperationException("no user " + userName);
        var issued = await IssueAsync(scope.ServiceProvider, PrincipalKind.User, user.Id);
        return keys["user:" + userName] = issued;
    }

    public async Task<string> AppKeyAsync(string appName)
    {
        if (keys.TryGetValue("app:" + appName, out var cached)) return cached;
        await using var scope = App.Services.CreateAsyncScope();
        var app = await scope.ServiceProvider.GetRequiredService<LianqiaoDb>().Set<ConsumerApp>().SingleAsync(a => a.Name == appName);
        return keys["app:" + appName] = await IssueAsync(scope.ServiceProvider, PrincipalKind.Application, app.Id.ToString());
    }

    public async Task<string> DeveloperKeyAsync(string email = "t-dev@example.org")
    {
        if (keys.TryGetValue("dev:" + email, out var cached)) return cached;
        await using var scope = App.Services.CreateAsyncScope();
        var dev = await scope.ServiceProvider.GetRequiredService<LianqiaoDb>().Set<Developer>().SingleAsync(d => d.Email == email);
        return keys["dev:" + email] = await IssueAsync(scope.ServiceProvider, PrincipalKind.Developer, dev.Id.ToString());
    }

    public async Task<Guid> AppIdAsync(string appName)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LianqiaoDb>().Set<ConsumerApp>().Where(a => a.Name == appName).Select(a => a.Id).SingleAsync();
    }

    /// <summary>A fresh table grant on a resource provided by <paramref name="providerDepartmentId"/> to the test application.</summary>
    public async Task<Guid> GrantIdAsync(Guid providerDepartmentId, string resourceId = "matrix-resource")
    {
        var appId = await AppIdAsync("t-app");
        return await InScopeAsync(async sp =>
        {
            var grant = await sp.GetRequiredService<global::Lianqiao.Sharing.GrantService>().IssueAsync(new global::Lianqiao.Sharing.Grant
            {
                PrincipalKind = PrincipalKind.Application,
                PrincipalId = appId.ToString(),
                ConsumerDepartmentId = OwnDepartmentId,
                ResourceId = resourceId,
                ProviderDepartmentId = providerDepartmentId,
                Kind = global::Lianqiao.Sharing.GrantKind.Table,
                Fields = ["name"],
                ExpiresAt = DateTimeOffset.UtcNow.AddDays(30),
            }, new AuditEntry("grant.issue") { ActorKind = "System", ActorName = "test fixture" }, default);
            return grant.Id;
        });
    }

    static async Task<string> IssueAsync(IServiceProvider sp, PrincipalKind kind, string ownerId) =>
        (await sp.GetRequiredService<KeyService>().IssueAsync(kind, ownerId, "test", null,
            new AuditEntry("key.issue") { ActorKind = "System", ActorName = "test fixture" }, default)).Secret;

    public HttpClient Anonymous(bool followRedirects = false) =>
        new(new HttpClientHandler { AllowAutoRedirect = followRedirects, UseCookies = true }) { BaseAddress = new Uri(BaseUrl) };

    public HttpClient WithKey(string key, string? baseUrl = null)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl ?? BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task<HttpClient> AsUserAsync(string userName) => WithKey(await UserKeyAsync(userName));
    public async Task<HttpClient> AsAdminAsync() => await AsUserAsync(AccountService.AdminUserName);

    /// <summary>Reads the audit store directly: what an auditor would see.</summary>
    public async Task<List<AuditRecord>> AuditAsync(string action)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LianqiaoDb>().Set<AuditRecord>().AsNoTracking()
            .Where(r => r.Action == action).OrderBy(r => r.Id).ToListAsync();
    }

    /// <summary>
    /// Every gateway call in the audit store, each with the record that holds it. A call does not wait for its commit
    /// (<see cref="IAuditLog.WriteItemAsync"/>), so this host's writer is settled first.
    /// </summary>
    public async Task<List<(AuditRecord Record, JsonElement Call)>> GatewayCallsAsync()
    {
        await App.Services.GetRequiredService<IAuditLog>().SettleAsync();
        return (await AuditAsync("gateway.calls")).SelectMany(r => AuditItems.Read(r.Detail!).Select(call => (r, call))).ToList();
    }

    /// <summary>Runs one raw statement on this server's database through a connection of its own.</summary>
    public async Task ExecuteSqlAsync(string sql)
    {
        await using var connection = await OpenConnectionAsync();
        await ExecuteAsync(connection, sql);
    }

    /// <summary>Runs one raw statement on an open connection (one that holds a transaction, say).</summary>
    public static async Task ExecuteAsync(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A new open connection to this server's database, outside the application's pool and contexts.</summary>
    public async Task<System.Data.Common.DbConnection> OpenConnectionAsync()
    {
        System.Data.Common.DbConnection connection = PostgresConnectionString is { } pg
            ? new Npgsql.NpgsqlConnection(pg)
            : new Microsoft.Data.Sqlite.SqliteConnection(await InScopeAsync(sp => Task.FromResult(sp.GetRequiredService<LianqiaoDb>().Database.GetConnectionString()!)));
        await connection.OpenAsync();
        return connection;
    }

    public async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    /// <summary>
    /// The rows a raw statement reads from a resource's stored table (tombstones and bookkeeping columns are there to see):
    /// <paramref name="select"/> gets the quoted table name. SQL NULL comes back as null.
    /// </summary>
    public Task<List<object?[]>> TableRowsAsync(string resourceId, Func<string, string> select) => InScopeAsync(async sp =>
    {
        var db = sp.GetRequiredService<LianqiaoDb>();
        var table = await db.Set<Lianqiao.Datasets.DatasetTable>().AsNoTracking().SingleAsync(t => t.ResourceId == resourceId);
        await db.Database.OpenConnectionAsync();
        await using var cmd = db.Database.GetDbConnection().CreateCommand();
        cmd.CommandText = select($"\"{table.TableName}\"");
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    });

    public async Task DisposeAsync()
    {
        foreach (var host in extraHosts) await host.DisposeAsync();
        await App.DisposeAsync();
        if (PostgresConnectionString is not null) await TestDatabase.DropPostgresDatabaseAsync(PostgresConnectionString);
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { /* SQLite may still hold the file briefly */ }
    }
}

public static class HttpAssertions
{
    /// <summary>Asserts an RFC 9457 body with the house shape and returns it.</summary>
    public static async Task<ProblemBody> ProblemAsync(this HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = System.Text.Json.JsonSerializer.Deserialize<ProblemBody>(text, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
        Assert.StartsWith("urn:lianqiao:problem:", body.Type);
        Assert.False(string.IsNullOrWhiteSpace(body.Title));
        Assert.False(string.IsNullOrWhiteSpace(body.Detail));
        return body;
    }

    public static async Task<T> OkJsonAsync<T>(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"expected success, got {(int)response.StatusCode}: {text}");
        return System.Text.Json.JsonSerializer.Deserialize<T>(text, Json)!;
    }

    public static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static Task<HttpResponseMessage> PostJsonAsync<T>(this HttpClient client, string url, T body) => client.PostAsJsonAsync(url, body, Json);
}

public sealed record ProblemBody(string Type, string Title, int Status, string Detail, string? Code,
    Dictionary<string, string[]>? Errors);
