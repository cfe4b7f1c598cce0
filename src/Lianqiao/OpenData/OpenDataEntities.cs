using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.OpenData;

/// <summary>Views, downloads and API calls per open dataset and day (China time); every node adds its sums once a second (<see cref="OpenCounterBuffer"/>).</summary>
public sealed class OpenCounter
{
    public required string ResourceId { get; set; }
    public DateOnly Day { get; set; }
    public long Views { get; set; }
    public long Downloads { get; set; }
    public long ApiCalls { get; set; }
}

/// <summary>A message the mail sink kept (demo and test mode): what would have been sent.</summary>
public sealed class MailMessage
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string To { get; set; }
    public required string Subject { get; set; }
    public required string Body { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A one-time e-mail link: proves the developer owns the address, then issues a key. Only the hash is stored.</summary>
public sealed class DeveloperToken
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DeveloperId { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? UsedAt { get; set; }
}

public enum OpenApplicationStatus { Pending, Approved, Refused }

/// <summary>有条件开放 application: a registered developer asks for a conditional dataset; the provider's approver decides.</summary>
public sealed class OpenApplication
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DeveloperId { get; set; }
    public required string DeveloperName { get; set; }
    public required string ResourceId { get; set; }
    public required string ResourceName { get; set; }
    public Guid ProviderDepartmentId { get; set; }
    public List<string> Fields { get; set; } = [];
    public required string Purpose { get; set; }
    public required string Scenario { get; set; }
    public DateTimeOffset AgreementAcceptedAt { get; set; }
    public int ValidDays { get; set; }
    public OpenApplicationStatus Status { get; set; }
    public DateTimeOffset SubmittedAt { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? DecidedBy { get; set; }
    public string? DecisionComment { get; set; }
    public Guid? GrantId { get; set; }

    public OpenApplicationDto AsDto() => new(Id, DeveloperId, DeveloperName, ResourceId, ResourceName, ProviderDepartmentId, Fields, Purpose,
        Scenario, ValidDays, Status, SubmittedAt, DecidedAt, DecidedBy, DecisionComment, GrantId);
}

public sealed record OpenApplicationDto(Guid Id, Guid DeveloperId, string DeveloperName, string ResourceId, string ResourceName,
    Guid ProviderDepartmentId, IReadOnlyList<string> Fields, string Purpose, string Scenario, int ValidDays, OpenApplicationStatus Status,
    DateTimeOffset SubmittedAt, DateTimeOffset? DecidedAt, string? DecidedBy, string? DecisionComment, Guid? GrantId);

public enum ReviewStatus { Pending, Approved, Rejected }

/// <summary>开发利用场景: an application built on open data, shown once the admin approved it.</summary>
public sealed class ShowcaseEntry
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DeveloperId { get; set; }
    public required string DeveloperName { get; set; }
    public required string Name { get; set; }
    public required string Description { get; set; }
    public required string Link { get; set; }
    public List<string> Datasets { get; set; } = [];
    public ReviewStatus Status { get; set; }
    public DateTimeOffset SubmittedAt { get; set; }
    public DateTimeOffset? ReviewedAt { get; set; }
    public string? ReviewedBy { get; set; }
    public string? ReviewComment { get; set; }

    public ShowcaseDto AsDto() => new(Id, DeveloperName, Name, Description, Link, Datasets, Status, SubmittedAt, ReviewedAt, ReviewComment);
}

public sealed record ShowcaseDto(Guid Id, string DeveloperName, string Name, string Description, string Link, IReadOnlyList<string> Datasets,
    ReviewStatus Status, DateTimeOffset SubmittedAt, DateTimeOffset? ReviewedAt, string? ReviewComment);

/// <summary>Feedback on a dataset or a request for data not yet open (互动反馈), kept for the admins.</summary>
public sealed class OpenFeedback
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>"feedback" or "data-request".</summary>
    public required string Kind { get; set; }
    public string? ResourceId { get; set; }
    public string Name { get; set; } = "";
    public string Contact { get; set; } = "";
    public required string Text { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public FeedbackDto AsDto() => new(Id, Kind, ResourceId, Name, Contact, Text, CreatedAt);
}

public sealed record FeedbackDto(Guid Id, string Kind, string? ResourceId, string Name, string Contact, string Text, DateTimeOffset CreatedAt);

/// <summary>One day's open rate for one scope ("all", a department id, or a topic), written by the daily job: the trend.</summary>
public sealed class OpenRateSnapshot
{
    public DateOnly Day { get; set; }
    /// <summary>"all", "dept:{guid}" or "topic:{name}".</summary>
    public required string Scope { get; set; }
    public int Eligible { get; set; }
    public int Opened { get; set; }
}

internal sealed class OpenDataConfiguration :
    IEntityTypeConfiguration<OpenCounter>, IEntityTypeConfiguration<MailMessage>, IEntityTypeConfiguration<DeveloperToken>,
    IEntityTypeConfiguration<OpenApplication>, IEntityTypeConfiguration<ShowcaseEntry>, IEntityTypeConfiguration<OpenFeedback>,
    IEntityTypeConfiguration<OpenRateSnapshot>
{
    public void Configure(EntityTypeBuilder<OpenCounter> b)
    {
        b.ToTable("open_counters");
        b.HasKey(c => new { c.ResourceId, c.Day });
        b.Property(c => c.ResourceId).HasMaxLength(100);
    }

    public void Configure(EntityTypeBuilder<MailMessage> b)
    {
        b.ToTable("mail_messages");
        b.Property(m => m.To).HasMaxLength(320);
        b.Property(m => m.Subject).HasMaxLength(300);
        b.Property(m => m.Body).HasMaxLength(8000);
        b.HasIndex(m => m.To);
    }

    public void Configure(EntityTypeBuilder<DeveloperToken> b)
    {
        b.ToTable("developer_tokens");
        b.Property(t => t.Hash).HasMaxLength(64);
        b.HasIndex(t => t.Hash).IsUnique();
        b.HasOne<Organizations.Developer>().WithMany().HasForeignKey(t => t.DeveloperId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<OpenApplication> b)
    {
        b.ToTable("open_applications");
        b.Property(a => a.DeveloperName).HasMaxLength(100);
        b.Property(a => a.ResourceId).HasMaxLength(100);
        b.Property(a => a.ResourceName).HasMaxLength(300);
        b.Property(a => a.Purpose).HasMaxLength(2000);
        b.Property(a => a.Scenario).HasMaxLength(2000);
        b.Property(a => a.DecidedBy).HasMaxLength(200);
        b.Property(a => a.DecisionComment).HasMaxLength(2000);
        b.Property(a => a.Status).HasConversion<string>().HasMaxLength(20);
        b.HasIndex(a => new { a.ProviderDepartmentId, a.Status });
        b.HasIndex(a => a.DeveloperId);
    }

    public void Configure(EntityTypeBuilder<ShowcaseEntry> b)
    {
        b.ToTable("open_showcase");
        b.Property(s => s.DeveloperName).HasMaxLength(100);
        b.Property(s => s.Name).HasMaxLength(200);
        b.Property(s => s.Description).HasMaxLength(4000);
        b.Property(s => s.Link).HasMaxLength(500);
        b.Property(s => s.ReviewedBy).HasMaxLength(200);
        b.Property(s => s.ReviewComment).HasMaxLength(2000);
        b.Property(s => s.Status).HasConversion<string>().HasMaxLength(20);
        b.HasIndex(s => s.Status);
    }

    public void Configure(EntityTypeBuilder<OpenFeedback> b)
    {
        b.ToTable("open_feedback");
        b.Property(f => f.Kind).HasMaxLength(20);
        b.Property(f => f.ResourceId).HasMaxLength(100);
        b.Property(f => f.Name).HasMaxLength(100);
        b.Property(f => f.Contact).HasMaxLength(200);
        b.Property(f => f.Text).HasMaxLength(4000);
    }

    public void Configure(EntityTypeBuilder<OpenRateSnapshot> b)
    {
        b.ToTable("open_rate_snapshots");
        b.HasKey(s => new { s.Day, s.Scope });
        b.Property(s => s.Scope).HasMaxLength(100);
    }
}
