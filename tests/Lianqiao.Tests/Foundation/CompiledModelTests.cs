using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Xunit;

namespace Lianqiao.Tests.Foundation;

/// <summary>
/// The compiled models in src/Lianqiao/Data/CompiledModels are what the running program uses (EF finds them by their
/// assembly attribute); OnModelCreating and the entity configurations are what migrations and people read. These tests
/// fail when the two disagree, i.e. when a model change was made without regenerating the compiled model
/// (docs/architecture.md, "Compiled EF models"). No database is opened: both models are built from the code.
/// </summary>
public sealed class CompiledModelTests
{
    [Fact]
    public void The_compiled_PostgreSQL_model_matches_OnModelCreating()
    {
        using var db = new PgLianqiaoDb(new DbContextOptionsBuilder<PgLianqiaoDb>().UseNpgsql("Host=127.0.0.1;Database=none").Options);
        AssertCompiledMatchesCode(db, typeof(Lianqiao.Data.CompiledModels.Pg.PgLianqiaoDbModel));
    }

    [Fact]
    public void The_compiled_SQLite_model_matches_OnModelCreating()
    {
        using var db = new SqliteLianqiaoDb(new DbContextOptionsBuilder<SqliteLianqiaoDb>().UseSqlite("Data Source=:memory:").Options);
        AssertCompiledMatchesCode(db, typeof(Lianqiao.Data.CompiledModels.Sqlite.SqliteLianqiaoDbModel));
    }

    static void AssertCompiledMatchesCode(LianqiaoDb db, Type compiledModelType)
    {
        // db.Model is the runtime model: the compiled one, unless EF fell back to building it (then this test is moot).
        var compiled = db.Model;
        Assert.IsType(compiledModelType, compiled);
        // The design-time model is always built from OnModelCreating, as `dotnet ef migrations add` builds it.
        var fromCode = db.GetService<IDesignTimeModel>().Model;
        Assert.IsNotType(compiledModelType, fromCode);
        Assert.Equal(Describe(fromCode), Describe(compiled));
    }

    /// <summary>Entity types and properties, and the tables they map to: columns with store types, keys, indexes, foreign keys.</summary>
    static List<string> Describe(IModel model)
    {
        var lines = new List<string>();
        foreach (var entity in model.GetEntityTypes())
        {
            lines.Add($"entity {entity.Name} → {entity.GetSchema()}.{entity.GetTableName()}");
            foreach (var p in entity.GetProperties())
                lines.Add($"property {entity.Name}.{p.Name}: {p.ClrType} nullable={p.IsNullable} max={p.GetMaxLength()} converter={p.GetTypeMapping().Converter?.GetType().Name}");
        }
        foreach (var table in model.GetRelationalModel().Tables)
        {
            var t = $"{table.Schema}.{table.Name}";
            foreach (var c in table.Columns) lines.Add($"column {t}.{c.Name} {c.StoreType} nullable={c.IsNullable} default={c.DefaultValueSql ?? c.DefaultValue} computed={c.ComputedColumnSql}");
            if (table.PrimaryKey is { } pk) lines.Add($"primary key {t} {pk.Name} ({string.Join(", ", pk.Columns.Select(c => c.Name))})");
            foreach (var u in table.UniqueConstraints) lines.Add($"unique {t} {u.Name} ({string.Join(", ", u.Columns.Select(c => c.Name))})");
            foreach (var i in table.Indexes) lines.Add($"index {t} {i.Name} ({string.Join(", ", i.Columns.Select(c => c.Name))}) unique={i.IsUnique} filter={i.Filter}");
            foreach (var f in table.ForeignKeyConstraints)
                lines.Add($"foreign key {t} {f.Name} ({string.Join(", ", f.Columns.Select(c => c.Name))}) → {f.PrincipalTable.Name} on delete {f.OnDeleteAction}");
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }
}
