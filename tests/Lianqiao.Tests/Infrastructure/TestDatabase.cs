using Npgsql;

namespace Lianqiao.Tests.Infrastructure;

/// <summary>
/// The suite runs once per provider: LIANQIAO_TEST_DB=sqlite (default) or postgres. On PostgreSQL each
/// fixture gets a database of its own on the server that ConnectionStrings__Postgres names (test.sh starts it).
/// </summary>
public static class TestDatabase
{
    public static bool UsePostgres =>
        string.Equals(Environment.GetEnvironmentVariable("LIANQIAO_TEST_DB"), "postgres", StringComparison.OrdinalIgnoreCase);

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
        ?? throw new InvalidOperationException(
            "LIANQIAO_TEST_DB=postgres but ConnectionStrings__Postgres is not set: start PostgreSQL with `eval \"$(bash .ci/pg-up.sh)\"` or run ./test.sh.");

    /// <summary>A fresh, empty PostgreSQL database; returns its connection string.</summary>
    public static async Task<string> CreatePostgresDatabaseAsync()
    {
        var name = "lq_" + Guid.NewGuid().ToString("N")[..16];
        await using var admin = new NpgsqlConnection(ServerConnectionString);
        await admin.OpenAsync();
        await using (var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", admin)) await cmd.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task DropPostgresDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(ServerConnectionString);
        await admin.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await cmd.ExecuteNonQueryAsync();
    }
}
