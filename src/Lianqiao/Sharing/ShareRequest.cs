using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Sharing;

public enum ShareRequestStatus { Pending, Approved, Refused, Withdrawn }

/// <summary>
/// 共享申请: a consumer department asks, on behalf of one of its applications, for a resource. 无条件共享 is
/// granted at once; 有条件共享 waits for the provider's approver until a deadline counted in working days.
/// </summary>
public sealed class ShareRequest
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string ResourceId { get; set; }
    public required string ResourceName { get; set; }
    public required string ShareType { get; set; }
    public Guid ProviderDepartmentId { get; set; }
    public Guid ConsumerDepartmentId { get; set; }
    public Guid AppId { get; set; }
    public GrantKind Kind { get; set; }
    public List<string> Fields { get; set; } = [];
    public List<string> Methods { get; set; } = [];
    public List<string> Paths { get; set; } = [];
    public bool Download { get; set; }
    public required string Purpose { get; set; }
    public required string LegalBasis { get; set; }
    public string Scenario { get; set; } = "";
    public int ValidDays { get; set; }

    public ShareRequestStatus Status { get; set; }
    public DateTimeOffset SubmittedAt { get; set; }
    public string SubmittedBy { get; set; } = "";
    /// <summary>The last day the provider may answer on (working days from submission, on the platform calendar).</summary>
    public DateOnly? Deadline { get; set; }
    public bool Escalated { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? DecidedBy { get; set; }
    public string? DecisionComment { get; set; }
    public Guid? GrantId { get; set; }
    public Guid? RenewalOf { get; set; }

    public ShareRequestDto AsDto() => new(Id, ResourceId, ResourceName, ShareType, ProviderDepartmentId, ConsumerDepartmentId, AppId, Kind,
        Fields, Methods, Paths, Download, Purpose, LegalBasis, Scenario, ValidDays, Status, SubmittedAt, SubmittedBy, Deadline, Escalated,
        DecidedAt, DecidedBy, DecisionComment, GrantId, RenewalOf);
}

public sealed record ShareRequestDto(Guid Id, string ResourceId, string ResourceName, string ShareType, Guid ProviderDepartmentId,
    Guid ConsumerDepartmentId, Guid AppId, GrantKind Kind, IReadOnlyList<string> Fields, IReadOnlyList<string> Methods,
    IReadOnlyList<string> Paths, bool Download, string Purpose, string LegalBasis, string Scenario, int ValidDays, ShareRequestStatus Status,
    DateTimeOffset SubmittedAt, string SubmittedBy, DateOnly? Deadline, bool Escalated, DateTimeOffset? DecidedAt, string? DecidedBy,
    string? DecisionComment, Guid? GrantId, Guid? RenewalOf);

/// <summary>供需对接: a need no resource meets, routed by the platform admin to a department that answers with a resource.</summary>
public sealed class DataDemand
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ConsumerDepartmentId { get; set; }
    public required string Title { get; set; }
    public string Description { get; set; } = "";
    /// <summary>A 不予共享 resource the demand was posted against, if any.</summary>
    public string? AboutResourceId { get; set; }
    public DemandStatus Status { get; set; }
    public Guid? RoutedToDepartmentId { get; set; }
    public string? AnswerResourceId { get; set; }
    public string? Answer { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";

    public DataDemandDto AsDto() => new(Id, ConsumerDepartmentId, Title, Description, AboutResourceId, Status, RoutedToDepartmentId,
        AnswerResourceId, Answer, CreatedAt, CreatedBy);
}

public enum DemandStatus { Open, Routed, Answered }

public sealed record DataDemandDto(Guid Id, Guid ConsumerDepartmentId, string Title, string Description, string? AboutResourceId,
    DemandStatus Status, Guid? RoutedToDepartmentId, string? AnswerResourceId, string? Answer, DateTimeOffset CreatedAt, string CreatedBy);

internal sealed class ShareRequestConfiguration : IEntityTypeConfiguration<ShareRequest>, IEntityTypeConfiguration<DataDemand>
{
    public void Configure(EntityTypeBuilder<ShareRequest> b)
    {
        b.ToTable("share_requests");
        b.Property(r => r.ResourceId).HasMaxLength(100);
        b.Property(r => r.ResourceName).HasMaxLength(300);
        b.Property(r => r.ShareType).HasMaxLength(8);
        b.Property(r => r.Kind).HasConversion<string>().HasMaxLength(20);
        b.Property(r => r.Status).HasConversion<string>().HasMaxLength(20);
        b.Property(r => r.Purpose).HasMaxLength(2000);
        b.Property(r => r.LegalBasis).HasMaxLength(2000);
        b.Property(r => r.Scenario).HasMaxLength(2000);
        b.Property(r => r.SubmittedBy).HasMaxLength(200);
        b.Property(r => r.DecidedBy).HasMaxLength(200);
        b.Property(r => r.DecisionComment).HasMaxLength(2000);
        b.HasIndex(r => new { r.ProviderDepartmentId, r.Status });
        b.HasIndex(r => new { r.ConsumerDepartmentId, r.Status });
    }

    public void Configure(EntityTypeBuilder<DataDemand> b)
    {
        b.ToTable("data_demands");
        b.Property(d => d.Title).HasMaxLength(300);
        b.Property(d => d.Description).HasMaxLength(4000);
        b.Property(d => d.AboutResourceId).HasMaxLength(100);
        b.Property(d => d.AnswerResourceId).HasMaxLength(100);
        b.Property(d => d.Answer).HasMaxLength(4000);
        b.Property(d => d.CreatedBy).HasMaxLength(200);
        b.Property(d => d.Status).HasConversion<string>().HasMaxLength(20);
    }
}
