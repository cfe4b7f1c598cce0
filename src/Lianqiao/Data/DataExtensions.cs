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
            services.AddDbContextPool<PgLianqiaoDb>(o => o.UseNpgsql(settings.PostgresConnectionString));
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

    public static string SqliteConnectionString(HostSettings settings) => new SqliteConnectionStringBuilder
    {
        DataSource = settings.SqlitePath,
        Pooling = true,
        // Microsoft.Data.Sqlite retries SQLITE_BUSY until this many seconds pass; concurrent writers wait, not fail.
        DefaultTimeout = 30,
    }.ToString();
}
