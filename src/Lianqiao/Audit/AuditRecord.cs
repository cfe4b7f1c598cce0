using System.Text.Json;
using Lianqiao.Organizations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Audit;

/// <summary>One append-only line of the audit store. Never updated, never deleted.</summary>
public sealed class AuditRecord
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>Dotted verb, e.g. "auth.sign-in", "key.issue", "key.revoke", "role.change".</summary>
    public required string Action { get; set; }
    public required string Outcome { get; set; }
    public string? ActorKind { get; set; }
    public string? ActorId { get; set; }
    public string? ActorName { get; set; }
    public Guid? DepartmentId { get; set; }
    public string? TargetType { get; set; }
    public string? TargetId { get; set; }
    /// <summary>JSON with the action's particulars.</summary>
    public string? Detail { get; set; }
    public string? RemoteIp { get; set; }
    public string? RequestId { get; set; }
    /// <summary>
    /// SHA-256 of the canonical content (<see cref="LedgerFormat.ContentHash"/>), set by the writer before the insert so that
    /// sealing need not read the record back. Verify recomputes it and never relies on this copy.
    /// </summary>
    public byte[]? ContentHash { get; set; }

    public AuditRecordDto AsDto() => new(Id, At, Action, Outcome, ActorKind, ActorId, ActorName, DepartmentId, TargetType, TargetId, Detail, RemoteIp, RequestId);
}

public sealed record AuditRecordDto(long Id, DateTimeOffset At, string Action, string Outcome, string? ActorKind, string? ActorId,
    string? ActorName, Guid? DepartmentId, string? TargetType, string? TargetId, string? Detail, string? RemoteIp, string? RequestId);

/// <summary>What a module hands to <see cref="IAuditLog"/>.</summary>
public sealed record AuditEntry(string Action, string Outcome = AuditOutcome.Success)
{
    public string? ActorKind { get; init; }
    public string? ActorId { get; init; }
    public string? ActorName { get; init; }
    public Guid? DepartmentId { get; init; }
    public string? TargetType { get; init; }
    public string? TargetId { get; init; }
    public object? Detail { get; init; }
    public string? RemoteIp { get; init; }
    public string? RequestId { get; init; }

    /// <summary>An entry whose actor is the caller of <paramref name="http"/>.</summary>
    public static AuditEntry For(HttpContext http, string action, string? targetType = null, string? targetId = null,
        object? detail = null, string outcome = AuditOutcome.Success) =>
        For(http, Caller.From(http.User), action, targetType, targetId, detail, outcome);

    /// <summary>An entry whose actor is <paramref name="caller"/>, read from the request already.</summary>
    public static AuditEntry For(HttpContext http, Caller? caller, string action, string? targetType = null, string? targetId = null,
        object? detail = null, string outcome = AuditOutcome.Success)
    {
        return new AuditEntry(action, outcome)
        {
            ActorKind = caller?.Kind.ToString(),
            ActorId = caller?.Id,
            ActorName = caller?.Name,
            DepartmentId = caller?.DepartmentId,
            TargetType = targetType,
            TargetId = targetId,
            Detail = detail,
            RemoteIp = http.Connection.RemoteIpAddress?.ToString(),
            RequestId = http.TraceIdentifier,
        };
    }

    // Chinese stays readable in the ledger (auditors read it, exports carry it).
    static readonly JsonSerializerOptions DetailJson = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal AuditRecord ToRecord(DateTimeOffset at) =>
        ToRecord(at, Detail is null ? null : Detail as string ?? JsonSerializer.Serialize(Detail, DetailJson));

    internal AuditRecord ToRecord(DateTimeOffset at, string? detail)
    {
        var record = new AuditRecord
        {
            At = LedgerFormat.ToStoredPrecision(at),
            Action = Action,
            Outcome = Outcome,
            ActorKind = ActorKind,
            ActorId = ActorId,
            ActorName = ActorName,
            DepartmentId = DepartmentId,
            TargetType = TargetType,
            TargetId = TargetId,
            Detail = detail,
            RemoteIp = RemoteIp,
            RequestId = RequestId,
        };
        record.ContentHash = LedgerFormat.ContentHash(record);
        return record;
    }
}

/// <summary>
/// The detail of a record that holds a group's items (<see cref="IAuditLog.WriteItemAsync"/>): <c>{"count":N,"items":[…]}</c>,
/// each item the JSON object its writer gave.
/// </summary>
public static class AuditItems
{
    const string CountPrefix = "{\"count\":";
    const string ItemsStart = ",\"items\":[";

    internal static string Detail(IReadOnlyList<string> items)
    {
        // One string of the exact length: a busy gateway builds one per commit, a few kilobytes each.
        var head = $"{CountPrefix}{items.Count}{ItemsStart}";
        var length = head.Length + 2 + Math.Max(0, items.Count - 1);
        foreach (var item in items) length += item.Length;
        return string.Create(length, (head, items), static (chars, state) =>
        {
            state.head.CopyTo(chars);
            var at = state.head.Length;
            for (var i = 0; i < state.items.Count; i++)
            {
                if (i > 0) chars[at++] = ',';
                state.items[i].CopyTo(chars[at..]);
                at += state.items[i].Length;
            }
            "]}".CopyTo(chars[at..]);
        });
    }


    /// <summary>How many items a grouped record's detail holds; null for any other detail (read from its head, not parsed).</summary>
    public static int? CountOf(string? detail)
    {
        if (detail is null || !detail.StartsWith(CountPrefix, StringComparison.Ordinal) || !detail.Contains(ItemsStart, StringComparison.Ordinal)) return null;
        var digits = detail.AsSpan(CountPrefix.Length);
        var end = digits.IndexOf(',');
        return end > 0 && int.TryParse(digits[..end], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    /// <summary>The items of a grouped record's detail, as the auditors' tools and the tests read them.</summary>
    public static IReadOnlyList<JsonElement> Read(string detail)
    {
        using var doc = JsonDocument.Parse(detail);
        return doc.RootElement.GetProperty("items").EnumerateArray().Select(i => i.Clone()).ToList();
    }
}

public static class AuditOutcome
{
    public const string Success = "success";
    public const string Failure = "failure";
    public const string Denied = "denied";
}

internal sealed class AuditRecordConfiguration : IEntityTypeConfiguration<AuditRecord>
{
    public void Configure(EntityTypeBuilder<AuditRecord> b)
    {
        b.ToTable("audit_records");
        b.Property(r => r.Action).HasMaxLength(64);
        b.Property(r => r.Outcome).HasMaxLength(16);
        b.Property(r => r.ActorKind).HasMaxLength(16);
        b.Property(r => r.ActorId).HasMaxLength(64);
        b.Property(r => r.ActorName).HasMaxLength(200);
        b.Property(r => r.TargetType).HasMaxLength(64);
        b.Property(r => r.TargetId).HasMaxLength(200);
        b.Property(r => r.RemoteIp).HasMaxLength(64);
        b.Property(r => r.RequestId).HasMaxLength(64);
        b.HasIndex(r => r.At);
        b.HasIndex(r => new { r.Action, r.At });
    }
}
