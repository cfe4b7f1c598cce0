using Lianqiao.Audit;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Lianqiao.Data;

/// <summary>
/// The one metadata model. Each module keeps its entity configurations in its own folder
/// (IEntityTypeConfiguration), so adding a module never edits this class.
/// </summary>
public abstract class LianqiaoDb(DbContextOptions options)
    : IdentityDbContext<User, IdentityRole, string>(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public abstract bool IsPostgres { get; }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(LianqiaoDb).Assembly);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        RefuseAuditRewrites();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        RefuseAuditRewrites();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    // The audit store is append-only for every role (GB/T 39477 separation of duties).
    void RefuseAuditRewrites()
    {
        foreach (var entry in ChangeTracker.Entries<AuditRecord>())
        {
            if (entry.State is EntityState.Modified or EntityState.Deleted)
                throw new InvalidOperationException("Audit records are append-only.");
        }
    }
}

public sealed class SqliteLianqiaoDb(DbContextOptions<SqliteLianqiaoDb> options) : LianqiaoDb(options)
{
    public override bool IsPostgres => false;

    // SQLite cannot order or compare DateTimeOffset; stored as a UTC tick count it sorts correctly.
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PgLianqiaoDb(DbContextOptions<PgLianqiaoDb> options) : LianqiaoDb(options)
{
    public override bool IsPostgres => true;
}

// Design time only: `dotnet ef migrations add` never connects.
internal sealed class SqliteDesignFactory : IDesignTimeDbContextFactory<SqliteLianqiaoDb>
{
    public SqliteLianqiaoDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteLianqiaoDb>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PgDesignFactory : IDesignTimeDbContextFactory<PgLianqiaoDb>
{
    public PgLianqiaoDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PgLianqiaoDb>().UseNpgsql("Host=127.0.0.1;Database=design").Options);
}
