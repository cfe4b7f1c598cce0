using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Data;

internal enum SchemaState { Empty, Current, Older, Newer }

/// <summary>Decides whether a database may be served, migrated or must be refused.</summary>
internal sealed class DatabaseSchema(IServiceScopeFactory scopes)
{
    public async Task<(SchemaState State, IReadOnlyList<string> Unknown)> InspectAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        if (!db.IsPostgres) await EnableWalAsync(db, ct);
        var known = db.Database.GetMigrations().ToHashSet(StringComparer.Ordinal);
        var applied = (await db.Database.GetAppliedMigrationsAsync(ct)).ToList();
        var unknown = applied.Where(m => !known.Contains(m)).ToList();
        if (unknown.Count > 0) return (SchemaState.Newer, unknown);
        if (applied.Count == 0) return (SchemaState.Empty, []);
        return (applied.Count < known.Count ? SchemaState.Older : SchemaState.Current, []);
    }

    public async Task MigrateAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        await db.Database.MigrateAsync(ct);
    }

    // WAL lets readers go on while the group-committed writers append.
    static async Task EnableWalAsync(LianqiaoDb db, CancellationToken ct)
    {
        var directory = Path.GetDirectoryName(db.Database.GetDbConnection().DataSource);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
    }
}
