using Lianqiao.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Data;

internal static class DataExtensions
{
    public static IServiceCollection AddLianqiaoDb(this IServiceCollection services, HostSettings settings)
    {
        // Pooled: contexts (stateless beyond their options) are reset and reused, not built per request. Building one, with
        // its options, cost a gateway call more CPU and allocation than its own checks (bench/gateway/README.md).
        if (settings.UsesPostgres)
        {
            services.AddDbContextPool<PgLianqiaoDb>(o => o.UseNpgsql(PostgresConnectionString(settings.PostgresConnectionString!)));
            services.AddScoped<LianqiaoDb>(sp => sp.GetRequiredService<PgLianqiaoDb>());
        }
        else
        {
            var connection = SqliteConnectionString(settings);
            services.AddDbContextPool<SqliteLianqiaoDb>(o => o.UseSqlite(connection));
            services.AddScoped<LianqiaoDb>(sp => sp.GetRequiredService<SqliteLianqiaoDb>());
        }
        services.AddSingleton<DatabaseSchema>();
        return services;
    }

    /// <summary>
    /// The operator's PostgreSQL connection string, with two defaults where it does not say otherwise: statements run
    /// often are prepared (`Max Auto Prepare`), and a pooled connection is not reset when it returns to the pool
    /// (`No Reset On Close`). A data-API lookup or gateway call is a few short statements on a connection rented for
    /// it; parsing and planning them again, and the reset sent with each rent, cost more of PostgreSQL's CPU than the
    /// lookup itself (bench/data-api/README.md: p99 20.8 → 12.7 ms at 32 connections). Nothing here leaves session
    /// state behind: no session-level SET, temporary tables are dropped by their load or at commit, no session locks.
    /// </summary>
    public static string PostgresConnectionString(string configured)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = configured };
        bool Says(string key) => given.Keys.Cast<string>().Any(k => string.Equals(k.Replace(" ", ""), key, StringComparison.OrdinalIgnoreCase));
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(configured);
        if (!Says("MaxAutoPrepare")) builder.MaxAutoPrepare = 32;
        if (!Says("NoResetOnClose")) builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }

    public static string SqliteConnectionString(HostSettings settings) => new SqliteConnectionStringBuilder
    {
        DataSource = settings.SqlitePath,
        Pooling = true,
        // Microsoft.Data.Sqlite retries SQLITE_BUSY until this many seconds pass; concurrent writers wait, not fail.
        DefaultTimeout = 30,
    }.ToString();
}
