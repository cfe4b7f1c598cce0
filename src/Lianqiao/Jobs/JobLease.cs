using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Jobs;

/// <summary>
/// One row per scheduled job, shared by every node. A node runs a job only after it wins the row
/// with a conditional UPDATE, so N nodes on one database run each due job once.
/// </summary>
public sealed class JobLease
{
    public required string JobName { get; set; }
    public string? Holder { get; set; }
    public DateTimeOffset LeaseUntil { get; set; }
    public DateTimeOffset NextRunAt { get; set; }
    public DateTimeOffset? LastRunAt { get; set; }
    public string? LastRunBy { get; set; }
    public string? LastResult { get; set; }
    public long Runs { get; set; }
}

public sealed record JobDto(string Name, DateTimeOffset NextRunAt, DateTimeOffset? LastRunAt, string? LastRunBy, string? LastResult, long Runs, string? Holder);

internal sealed class JobLeaseConfiguration : IEntityTypeConfiguration<JobLease>
{
    public void Configure(EntityTypeBuilder<JobLease> b)
    {
        b.ToTable("job_leases");
        b.HasKey(j => j.JobName);
        b.Property(j => j.JobName).HasMaxLength(100);
        b.Property(j => j.Holder).HasMaxLength(200);
        b.Property(j => j.LastRunBy).HasMaxLength(200);
        b.Property(j => j.LastResult).HasMaxLength(2000);
    }
}

/// <summary>A job the scheduler runs every <see cref="Interval"/> on exactly one node.</summary>
public interface IScheduledJob
{
    string Name { get; }
    TimeSpan Interval { get; }
    /// <summary>Runs in its own DI scope. Return a short summary for the jobs page.</summary>
    Task<string> RunAsync(IServiceProvider services, CancellationToken cancellationToken);
}
