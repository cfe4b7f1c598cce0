using System.Data.Common;
using System.Globalization;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Exchange;
using Lianqiao.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using Npgsql;
using Xunit;

namespace Lianqiao.Tests.Exchange;

/// <summary>The foundation and the catalog (population-basic with its masking), and 127.0.0.1 on the platform's allow-list.</summary>
public sealed class ExchangeServer : LianqiaoServer
{
    protected override bool IncludeSeedStep(Seeding.ISeedStep step) =>
        step.Id.StartsWith("p1-", StringComparison.Ordinal) || step.Id.StartsWith("p2-catalog/", StringComparison.Ordinal);

    public const string SqliteKind = ConnectionKinds.Sqlite;
    public const string PostgresKind = ConnectionKinds.Postgres;
    public const string MySqlKind = ConnectionKinds.MySql;

    readonly SemaphoreSlim once = new(1, 1);
    bool allowed;

    /// <summary>Puts 127.0.0.1 on the platform's allow-list once per fixture (the test databases listen there).</summary>
    public async Task AllowLoopbackAsync()
    {
        await once.WaitAsync();
        try
        {
            if (allowed) return;
            using var admin = await AsAdminAsync();
            var response = await admin.PostJsonAsync("/api/v1/gateway/allow-list/", new { pattern = "127.0.0.1", note = "test databases" });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            allowed = true;
        }
        finally
        {
            once.Release();
        }
    }

    /// <summary>One run through the runner itself (what the scheduler, the API and the CLI call).</summary>
    internal Task<ExchangeRun> RunAsync(Guid jobId, IProgress<global::Lianqiao.Datasets.Loading.LoadProgress>? progress = null, CancellationToken ct = default) =>
        App.Services.GetRequiredService<ExchangeRunner>().RunAsync(jobId, new RunActor("manual", "System", "test", "test"), progress, ct);

    /// <summary>
    /// A run through the API: POST …/run answers 202 with the run (running) and a Location, which is polled until the run ends.
    /// Null when the job is already running (409).
    /// </summary>
    public static async Task<RunDto?> RunThroughApiAsync(HttpClient client, Guid jobId)
    {
        var response = await client.PostAsync($"/api/v1/exchange/jobs/{jobId}/run", null);
        if (response.StatusCode == System.Net.HttpStatusCode.Conflict) return null;
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var started = await response.OkJsonAsync<RunDto>();
        Assert.Equal(RunStatus.Running, started.Status);
        var location = response.Headers.Location!.ToString();
        Assert.Equal($"/api/v1/exchange/jobs/{jobId}/runs/{started.Id}", location);
        for (var polls = 0; ; polls++)
        {
            var run = await (await client.GetAsync(location)).OkJsonAsync<RunDto>();
            Assert.Equal(started.Id, run.Id);
            if (run.Status != RunStatus.Running) return run;
            Assert.True(polls < 600, "the run did not end within a minute");
            await Task.Delay(100);
        }
    }

    public Task<DatasetTable> TableAsync(string resourceId) =>
        InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<DatasetTable>().AsNoTracking().SingleAsync(t => t.ResourceId == resourceId));

    public Task<ExchangeJob> JobAsync(Guid id) =>
        InScopeAsync(sp => sp.GetRequiredService<LianqiaoDb>().Set<ExchangeJob>().AsNoTracking().SingleAsync(j => j.Id == id));

    /// <summary>Stored rows of a resource as (key → column value), live ones only.</summary>
    public async Task<Dictionary<string, string?>> StoredAsync(string resourceId, string keyColumn, string column) =>
        (await TableRowsAsync(resourceId, table => $"SELECT \"{keyColumn}\", \"{column}\" FROM {table} WHERE NOT \"_deleted\""))
            .ToDictionary(row => (string)row[0]!, row => row[1] is null ? null : global::Lianqiao.Quality.ValueParser.Format(row[1]));
}

/// <summary>
/// A throwaway database of one kind acting as a department's system: SQLite files always; PostgreSQL and MariaDB when
/// the test command started them (ConnectionStrings__Postgres, LIANQIAO_TEST_MARIADB).
/// </summary>
public sealed class ExternalDb : IAsyncDisposable
{
    public required string Kind { get; init; }
    public string? Host { get; init; }
    public int? Port { get; init; }
    public string? Database { get; init; }
    public string? User { get; init; }
    public string? Password { get; init; }
    public string? Path { get; init; }
    string? adminConnectionString;

    public static readonly string[] Kinds = [ConnectionKinds.Sqlite, ConnectionKinds.Postgres, ConnectionKinds.MySql];

    /// <summary>Null when the server of that kind is not running here (and CI does not require it).</summary>
    public static async Task<ExternalDb?> CreateAsync(string kind, string dataDirectory)
    {
        var name = "ex_" + Guid.NewGuid().ToString("N")[..12];
        switch (kind)
        {
            case ConnectionKinds.Sqlite:
                var folder = Directory.CreateDirectory(System.IO.Path.Combine(dataDirectory, "exchange")).FullName;
                return new ExternalDb { Kind = kind, Path = System.IO.Path.Combine(folder, name + ".db") };
            case ConnectionKinds.Postgres:
            {
                var server = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
                if (server is null) return Missing("PostgreSQL (ConnectionStrings__Postgres)");
                await using (var admin = new NpgsqlConnection(server))
                {
                    await admin.OpenAsync();
                    await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
                    await cmd.ExecuteNonQueryAsync();
                }
                var b = new NpgsqlConnectionStringBuilder(server);
                return new ExternalDb { Kind = kind, Host = "127.0.0.1", Port = b.Port, Database = name, User = b.Username, Password = b.Password, adminConnectionString = server };
            }
            case ConnectionKinds.MySql:
            {
                var server = Environment.GetEnvironmentVariable("LIANQIAO_TEST_MARIADB");
                if (server is null) return Missing("MariaDB (LIANQIAO_TEST_MARIADB)");
                await using (var admin = new MySqlConnection(server))
                {
                    await admin.OpenAsync();
                    await using var cmd = new MySqlCommand($"CREATE DATABASE {name} CHARACTER SET utf8mb4", admin);
                    await cmd.ExecuteNonQueryAsync();
                }
                var b = new MySqlConnectionStringBuilder(server);
                return new ExternalDb { Kind = kind, Host = "127.0.0.1", Port = (int)b.Port, Database = name, User = b.UserID, Password = b.Password, adminConnectionString = server };
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    static ExternalDb? Missing(string what)
    {
        // The test command starts both; a developer's partial run skips, CI does not.
        if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException(what + " is required in CI.");
        return null;
    }

    public object ConnectionInput(string name, Guid departmentId) => new
    {
        name, kind = Kind, departmentId, host = Host, port = Port, database = Database, userName = User, secret = Password, path = Path,
    };

    public DbConnection Open()
    {
        DbConnection c = Kind switch
        {
            ConnectionKinds.Sqlite => new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path};Pooling=False"),
            ConnectionKinds.Postgres => new NpgsqlConnection(new NpgsqlConnectionStringBuilder { Host = Host, Port = Port!.Value, Database = Database, Username = User, Password = Password, Pooling = false }.ConnectionString),
            _ => new MySqlConnection(new MySqlConnectionStringBuilder { Server = Host, Port = (uint)Port!.Value, Database = Database, UserID = User, Password = Password, Pooling = false }.ConnectionString),
        };
        c.Open();
        return c;
    }

    public async Task<int> ExecAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var c = Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = n;
            p.Value = v ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return await cmd.ExecuteNonQueryAsync();
    }

    public async Task<List<object?[]>> QueryAsync(string sql)
    {
        await using var c = Open();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The column type for a source timestamp in this kind.</summary>
    public string TimestampType => Kind switch { ConnectionKinds.Postgres => "timestamp", ConnectionKinds.MySql => "DATETIME(6)", _ => "TEXT" };

    /// <summary>A timestamp parameter as this kind stores one (SQLite keeps text).</summary>
    public object Ts(DateTime t) => Kind == ConnectionKinds.Sqlite ? t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : t;

    /// <summary>The population source table: the department's own column names.</summary>
    public Task CreatePeopleAsync(string table = "people") => ExecAsync(
        $"CREATE TABLE {table} (sfzh VARCHAR(18) NOT NULL PRIMARY KEY, xm VARCHAR(50) NOT NULL, xb VARCHAR(4), csrq DATE, lxdh VARCHAR(20), dz VARCHAR(200), hh VARCHAR(16), gxsj {TimestampType} NOT NULL)");

    public Task InsertPersonAsync(string table, string id, string name, DateOnly born, DateTime updated, string phone = "13812345678") => ExecAsync(
        $"INSERT INTO {table} (sfzh, xm, xb, csrq, lxdh, dz, hh, gxsj) VALUES (@id, @name, @gender, @born, @phone, @address, @hh, @ts)",
        ("id", id), ("name", name), ("gender", "1"), ("born", Kind == ConnectionKinds.Sqlite ? born.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : born.ToDateTime(TimeOnly.MinValue)),
        ("phone", phone), ("address", "江苏省连云港市海州区朝阳路1号"), ("hh", "H000001"), ("ts", Ts(updated)));

    public static readonly object[] PeopleMapping =
    [
        new { source = "sfzh", column = "id_number" }, new { source = "xm", column = "name" }, new { source = "xb", column = "gender" },
        new { source = "csrq", column = "birth_date" }, new { source = "lxdh", column = "phone" }, new { source = "dz", column = "address" },
        new { source = "hh", column = "household_id" }, new { source = "gxsj", column = "updated_at" },
    ];

    public async ValueTask DisposeAsync()
    {
        try
        {
            switch (Kind)
            {
                case ConnectionKinds.Postgres:
                    NpgsqlConnection.ClearAllPools();
                    await using (var admin = new NpgsqlConnection(adminConnectionString))
                    {
                        await admin.OpenAsync();
                        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)", admin);
                        await cmd.ExecuteNonQueryAsync();
                    }
                    break;
                case ConnectionKinds.MySql:
                    await using (var admin = new MySqlConnection(adminConnectionString))
                    {
                        await admin.OpenAsync();
                        await using var cmd = new MySqlCommand($"DROP DATABASE IF EXISTS {Database}", admin);
                        await cmd.ExecuteNonQueryAsync();
                    }
                    break;
            }
        }
        catch (DbException)
        {
            // A server already stopped at the end of the run.
        }
    }
}
