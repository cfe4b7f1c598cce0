using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Sharing;

public enum GrantKind { Table, File, Service }

/// <summary>
/// The one permission model every way data leaves uses (data API, files, gateway, open portal, delivery):
/// a principal (an application or a public developer, never a person's own key) × a catalog resource × a scope
/// × an expiry × a daily quota. Checked from the database on every call, so a revoke or an expiry
/// takes effect on every node at once; the gateway alone remembers an active grant for up to one second
/// (<see cref="GrantService.RecentFor"/>), so there a revoke reaches other nodes within a second.
/// </summary>
public sealed class Grant
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public PrincipalKind PrincipalKind { get; set; }
    public required string PrincipalId { get; set; }
    /// <summary>The consumer department of an application; null for developers.</summary>
    public Guid? ConsumerDepartmentId { get; set; }
    /// <summary>The catalog resource's URL-safe id.</summary>
    public required string ResourceId { get; set; }
    public Guid ProviderDepartmentId { get; set; }
    public GrantKind Kind { get; set; }

    /// <summary>Table scope: column names the grant exposes.</summary>
    public List<string> Fields { get; set; } = [];
    /// <summary>Table scope: a $where expression every query is ANDed with.</summary>
    public string? RowFilter { get; set; }
    /// <summary>Table scope: only the verification API (match / no match), never rows.</summary>
    public bool VerificationOnly { get; set; }
    /// <summary>Columns whose masking the approval lifted explicitly; every other column leaves masked.</summary>
    public List<string> UnmaskedFields { get; set; } = [];
    /// <summary>File scope: may download attachments.</summary>
    public bool Download { get; set; }
    /// <summary>Service scope: HTTP methods and path prefixes (e.g. "/arrivals") the gateway lets through.</summary>
    public List<string> Methods { get; set; } = [];
    public List<string> Paths { get; set; } = [];

    /// <summary>Rows per day (tables) or calls per day (services); null means unlimited.</summary>
    public long? QuotaPerDay { get; set; }
    public DateTimeOffset GrantedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedReason { get; set; }
    public string GrantedBy { get; set; } = "";
    /// <summary>The application (共享申请) that led to this grant, if any.</summary>
    public Guid? ShareRequestId { get; set; }

    public bool IsActive(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;

    public GrantDto AsDto(DateTimeOffset now) => new(Id, PrincipalKind, PrincipalId, ConsumerDepartmentId, ResourceId, ProviderDepartmentId, Kind,
        Fields, RowFilter, VerificationOnly, UnmaskedFields, Download, Methods, Paths, QuotaPerDay, GrantedAt, ExpiresAt, RevokedAt,
        RevokedReason, ShareRequestId, IsActive(now));

    /// <summary>Does the service scope let <paramref name="method"/> on <paramref name="path"/> through?</summary>
    /// <remarks>Asked on every gateway call: loops, not LINQ with captured arguments.</remarks>
    public bool AllowsCall(string method, string path)
    {
        if (Kind != GrantKind.Service) return false;
        var methodAllowed = false;
        foreach (var m in Methods) methodAllowed |= string.Equals(m, method, StringComparison.OrdinalIgnoreCase);
        if (!methodAllowed) return false;
        foreach (var p in Paths)
        {
            if (PathMatches(p, path)) return true;
        }
        return false;
    }

    /// <summary>Prefix match on whole segments: "/arrivals" allows "/arrivals" and "/arrivals/12", not "/arrivalsX".</summary>
    internal static bool PathMatches(string allowed, string path)
    {
        var a = allowed.AsSpan().Trim('/');
        var p = path.AsSpan().Trim('/');
        return a.IsEmpty || (p.StartsWith(a, StringComparison.Ordinal) && (p.Length == a.Length || p[a.Length] == '/'));
    }
}

public sealed record GrantDto(Guid Id, PrincipalKind PrincipalKind, string PrincipalId, Guid? ConsumerDepartmentId, string ResourceId,
    Guid ProviderDepartmentId, GrantKind Kind, IReadOnlyList<string> Fields, string? RowFilter, bool VerificationOnly,
    IReadOnlyList<string> UnmaskedFields, bool Download, IReadOnlyList<string> Methods, IReadOnlyList<string> Paths, long? QuotaPerDay,
    DateTimeOffset GrantedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, string? RevokedReason, Guid? ShareRequestId, bool Active);

/// <summary>One counter per grant and day, shared by every node: quotas hold exactly, with no local batching.</summary>
public sealed class QuotaUsage
{
    public Guid GrantId { get; set; }
    public DateOnly Day { get; set; }
    public long Used { get; set; }
}

internal sealed class GrantConfiguration : IEntityTypeConfiguration<Grant>, IEntityTypeConfiguration<QuotaUsage>
{
    public void Configure(EntityTypeBuilder<Grant> b)
    {
        b.ToTable("grants");
        b.Property(g => g.PrincipalKind).HasConversion<string>().HasMaxLength(20);
        b.Property(g => g.Kind).HasConversion<string>().HasMaxLength(20);
        b.Property(g => g.PrincipalId).HasMaxLength(64);
        b.Property(g => g.ResourceId).HasMaxLength(100);
        b.Property(g => g.RowFilter).HasMaxLength(4000);
        b.Property(g => g.RevokedReason).HasMaxLength(1000);
        b.Property(g => g.GrantedBy).HasMaxLength(200);
        b.HasIndex(g => new { g.PrincipalKind, g.PrincipalId, g.ResourceId });
        b.HasIndex(g => g.ResourceId);
    }

    public void Configure(EntityTypeBuilder<QuotaUsage> b)
    {
        b.ToTable("quota_usage");
        b.HasKey(q => new { q.GrantId, q.Day });
    }
}
