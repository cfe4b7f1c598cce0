using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Gateway;

public enum ServiceLevel { National, Provincial, Municipal }
public enum LoadBalancing { RoundRobin, FirstHealthy }
public enum UpstreamAuthKind { None, Header, Basic }

/// <summary>
/// An upstream interface the gateway proxies, keyed by its catalog resource (a published 服务接口).
/// Read from the database on every call, so a change or a disable applies on every node at once.
/// </summary>
public sealed class GatewayService
{
    public required string ResourceId { get; set; }
    public Guid DepartmentId { get; set; }
    public string Name { get; set; } = "";
    public ServiceLevel Level { get; set; } = ServiceLevel.Municipal;
    /// <summary>Absolute base URLs; the consumer's path is appended below them.</summary>
    public List<string> Upstreams { get; set; } = [];
    public LoadBalancing LoadBalancing { get; set; }
    public List<string> Methods { get; set; } = [];
    public List<string> PathPrefixes { get; set; } = [];
    public UpstreamAuthKind AuthKind { get; set; }
    /// <summary>Header name (Header) or user name (Basic); not secret.</summary>
    public string? AuthName { get; set; }
    /// <summary>The header value or password, encrypted with Data Protection; never leaves through the API.</summary>
    public string? ProtectedSecret { get; set; }
    /// <summary>The service's own key for keyed pseudonyms in masked answers (base64, encrypted with Data Protection).</summary>
    public string? ProtectedPseudonymKey { get; set; }
    public int TimeoutMs { get; set; } = 10_000;
    public long MaxRequestBytes { get; set; } = 1024 * 1024;
    public long MaxResponseBytes { get; set; } = 4 * 1024 * 1024;
    public string? HealthPath { get; set; }
    public int HealthIntervalSeconds { get; set; } = 30;
    /// <summary>Consecutive failures that open the circuit.</summary>
    public int BreakerFailures { get; set; } = 5;
    public int BreakerOpenSeconds { get; set; } = 30;
    /// <summary>Calls per second per application on this node; null means no rate limit beyond the daily quota.</summary>
    public int? RateLimitPerSecond { get; set; }
    /// <summary>JSON list of <see cref="FieldMask"/>.</summary>
    public string MaskingJson { get; set; } = "[]";
    public bool Enabled { get; set; } = true;
    public int Version { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";

    public IReadOnlyList<FieldMask> Masks() => JsonSerializer.Deserialize<List<FieldMask>>(MaskingJson, GatewayJson.Options) ?? [];

    public GatewayServiceDto AsDto() => new(ResourceId, DepartmentId, Name, Level, Upstreams, LoadBalancing, Methods, PathPrefixes, AuthKind,
        AuthName, ProtectedSecret is not null, TimeoutMs, MaxRequestBytes, MaxResponseBytes, HealthPath, HealthIntervalSeconds, BreakerFailures,
        BreakerOpenSeconds, RateLimitPerSecond, Masks(), Enabled, Version, CreatedAt, UpdatedAt, UpdatedBy);
}

/// <summary>
/// One masked JSON field: a dotted path ("data.holder.idNumber"; arrays on the way are walked element by element)
/// and either a catalog data item (its column name, whose masking rule applies) or an explicit rule code.
/// </summary>
public sealed record FieldMask(string Path, string? Item = null, string? Rule = null, int? KeepFirst = null, int? KeepLast = null);

/// <summary>Every change is a row: who, when, and the configuration as it became (without its secret).</summary>
public sealed class GatewayServiceVersion
{
    public long Id { get; set; }
    public required string ResourceId { get; set; }
    public int Version { get; set; }
    public DateTimeOffset ChangedAt { get; set; }
    public string ChangedBy { get; set; } = "";
    public string Snapshot { get; set; } = "{}";
    public bool SecretChanged { get; set; }
}

public sealed record GatewayServiceDto(string ResourceId, Guid DepartmentId, string Name, ServiceLevel Level, IReadOnlyList<string> Upstreams,
    LoadBalancing LoadBalancing, IReadOnlyList<string> Methods, IReadOnlyList<string> PathPrefixes, UpstreamAuthKind AuthKind, string? AuthName,
    bool HasSecret, int TimeoutMs, long MaxRequestBytes, long MaxResponseBytes, string? HealthPath, int HealthIntervalSeconds, int BreakerFailures,
    int BreakerOpenSeconds, int? RateLimitPerSecond, IReadOnlyList<FieldMask> Masking, bool Enabled, int Version, DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt, string UpdatedBy);

public sealed record GatewayServiceVersionDto(int Version, DateTimeOffset ChangedAt, string ChangedBy, bool SecretChanged, JsonElement Snapshot);

/// <summary>What a steward or the admin sends; null fields keep their current value (or the default for a new service).</summary>
public sealed record GatewayServiceInput
{
    public ServiceLevel? Level { get; init; }
    public List<string>? Upstreams { get; init; }
    public LoadBalancing? LoadBalancing { get; init; }
    public List<string>? Methods { get; init; }
    public List<string>? PathPrefixes { get; init; }
    public UpstreamAuthKind? AuthKind { get; init; }
    public string? AuthName { get; init; }
    /// <summary>Write-only: set to replace the stored secret; never returned.</summary>
    public string? AuthSecret { get; init; }
    public int? TimeoutMs { get; init; }
    public long? MaxRequestBytes { get; init; }
    public long? MaxResponseBytes { get; init; }
    public string? HealthPath { get; init; }
    public int? HealthIntervalSeconds { get; init; }
    public int? BreakerFailures { get; init; }
    public int? BreakerOpenSeconds { get; init; }
    public int? RateLimitPerSecond { get; init; }
    public List<FieldMask>? Masking { get; init; }
    public bool? Enabled { get; init; }
}

internal static class GatewayJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>Masked answers keep Chinese as characters.</summary>
    public static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

internal sealed class GatewayServiceConfiguration : IEntityTypeConfiguration<GatewayService>, IEntityTypeConfiguration<GatewayServiceVersion>
{
    public void Configure(EntityTypeBuilder<GatewayService> b)
    {
        b.ToTable("gateway_services");
        b.HasKey(s => s.ResourceId);
        b.Property(s => s.ResourceId).HasMaxLength(100);
        b.Property(s => s.Name).HasMaxLength(200);
        b.Property(s => s.Level).HasConversion<string>().HasMaxLength(20);
        b.Property(s => s.LoadBalancing).HasConversion<string>().HasMaxLength(20);
        b.Property(s => s.AuthKind).HasConversion<string>().HasMaxLength(20);
        b.Property(s => s.AuthName).HasMaxLength(200);
        b.Property(s => s.ProtectedSecret).HasMaxLength(4000);
        b.Property(s => s.ProtectedPseudonymKey).HasMaxLength(1000);
        b.Property(s => s.HealthPath).HasMaxLength(500);
        b.Property(s => s.MaskingJson).HasMaxLength(20000);
        b.Property(s => s.UpdatedBy).HasMaxLength(200);
        b.HasIndex(s => s.DepartmentId);
    }

    public void Configure(EntityTypeBuilder<GatewayServiceVersion> b)
    {
        b.ToTable("gateway_service_versions");
        b.Property(v => v.ResourceId).HasMaxLength(100);
        b.Property(v => v.ChangedBy).HasMaxLength(200);
        b.HasIndex(v => new { v.ResourceId, v.Version }).IsUnique();
    }
}
