using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Seeding;

/// <summary>
/// A versioned piece of seed data a module contributes. Steps run in Id order, each once per database,
/// so a later version adds its steps to an existing database (demo steps only with --demo).
/// </summary>
public interface ISeedStep
{
    /// <summary>
    /// "pN-module/NNN-name", applied in ordinal order. The phase prefix orders modules by what they
    /// build on: p1 foundation (organizations, reference), p2 catalog, p3 datasets, p4 sharing and later modules.
    /// </summary>
    string Id { get; }
    bool DemoOnly { get; }
    Task ApplyAsync(SeedContext context, CancellationToken cancellationToken);
}

public sealed class SeedContext(IServiceProvider services, string dataDirectory)
{
    public IServiceProvider Services { get; } = services;
    public string DataDirectory { get; } = dataDirectory;
    /// <summary>Accounts and keys a step created, to print once and write to demo-accounts.txt.</summary>
    public List<string> Credentials { get; } = [];
}

public sealed class AppliedSeed
{
    public required string Id { get; set; }
    public DateTimeOffset AppliedAt { get; set; }
}

internal sealed class AppliedSeedConfiguration : IEntityTypeConfiguration<AppliedSeed>
{
    public void Configure(EntityTypeBuilder<AppliedSeed> b)
    {
        b.ToTable("applied_seeds");
        b.HasKey(s => s.Id);
        b.Property(s => s.Id).HasMaxLength(200);
    }
}

internal sealed partial class SeedRunner(IEnumerable<ISeedStep> steps, IServiceScopeFactory scopes, TimeProvider time, ILogger<SeedRunner> logger)
{
    public async Task<SeedContext> RunAsync(string dataDirectory, bool demo, CancellationToken ct, Func<ISeedStep, bool>? only = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        var context = new SeedContext(scope.ServiceProvider, dataDirectory);
        var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
        var applied = (await db.Set<AppliedSeed>().Select(s => s.Id).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        foreach (var step in steps.OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            // Base steps always run; `only` narrows the demo steps (tests seed the demo city without every module's demo data).
            if (applied.Contains(step.Id) || (step.DemoOnly && (!demo || (only is not null && !only(step))))) continue;
            LogApplying(step.Id);
            await step.ApplyAsync(context, ct);
            db.ChangeTracker.Clear();
            db.Add(new AppliedSeed { Id = step.Id, AppliedAt = time.GetUtcNow() });
            await db.SaveChangesAsync(ct);
        }
        return context;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Applying seed step {Step}")]
    partial void LogApplying(string step);
}
