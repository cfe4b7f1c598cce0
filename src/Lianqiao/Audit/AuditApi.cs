using System.Globalization;
using System.Text;
using Lianqiao.Data;
using Lianqiao.Domain.Text;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Audit;

public sealed record AuditPage(IReadOnlyList<AuditRecordDto> Records, long? NextBefore);

internal static class AuditApi
{
    public static void MapAuditApi(this IEndpointRouteBuilder routes)
    {
        // Read-only by construction: there is no endpoint that changes or deletes a record.
        var audit = routes.MapGroup("/api/v1/audit").WithTags("Audit").RequireAuthorization(Policies.Auditor);

        audit.MapGet("", async (string? action, string? actorId, string? actor, long? before, int? limit, LianqiaoDb db, CancellationToken ct) =>
        {
            var take = Math.Clamp(limit ?? 100, 1, 1000);
            var records = await Filter(db, action, actorId, actor, null, null).Where(r => before == null || r.Id < before)
                .OrderByDescending(r => r.Id).Take(take).ToListAsync(ct);
            return TypedResults.Ok(new AuditPage(records.Select(r => r.AsDto()).ToList(), records.Count == take ? records[^1].Id : null));
        });

        audit.MapGet("/verify", Verify);
        audit.MapGet("/export", Export);
    }

    /// <summary>The auditors' filter, shared by the list, the export and the audit page.</summary>
    internal static IQueryable<AuditRecord> Filter(LianqiaoDb db, string? action, string? actorId, string? actor, DateTimeOffset? from, DateTimeOffset? to)
    {
        var query = db.Set<AuditRecord>().AsNoTracking();
        if (!string.IsNullOrWhiteSpace(action)) query = query.Where(r => r.Action == action);
        if (!string.IsNullOrWhiteSpace(actorId)) query = query.Where(r => r.ActorId == actorId);
        // By id or by name: the page offers one box, and auditors know people by name.
        if (!string.IsNullOrWhiteSpace(actor)) query = query.Where(r => r.ActorId == actor || r.ActorName == actor);
        if (from is { } f) query = query.Where(r => r.At >= f);
        if (to is { } t) query = query.Where(r => r.At < t);
        return query;
    }

    /// <summary>Recomputes the whole chain; 200 with <c>intact: false</c> and the first problem when it does not hold.</summary>
    static async Task<Ok<LedgerReport>> Verify(AuditLedger ledger, IAuditLog log, HttpContext http, CancellationToken ct)
    {
        var report = await ledger.VerifyAsync(ct);
        await log.WriteAsync(AuditEntry.For(http, "audit.verify", "audit-ledger", report.LastSealNumber?.ToString(CultureInfo.InvariantCulture),
            new { report.Intact, problem = report.Problem?.Code, report.Seals }, report.Intact ? AuditOutcome.Success : AuditOutcome.Failure), ct);
        return TypedResults.Ok(report);
    }

    /// <summary>
    /// The records as CSV (UTF-8 with BOM, so spreadsheets read the Chinese), streamed in id order.
    /// Text cells are formula-guarded: a record's content is whatever a caller sent and must not run in Excel.
    /// </summary>
    static async Task<PushStreamHttpResult> Export(string? action, string? actorId, string? actor, DateTimeOffset? from, DateTimeOffset? to,
        LianqiaoDb db, IAuditLog log, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        // The auditor's own export is itself audited.
        await log.WriteAsync(AuditEntry.For(http, "audit.export", "audit-ledger", null, new { action, actorId, actor, from, to }), ct);
        var name = $"audit-{time.GetUtcNow():yyyyMMdd-HHmmss}.csv";
        return TypedResults.Stream(async body =>
        {
            await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), 64 * 1024);
            await writer.WriteLineAsync(Csv.Line(Header));
            await foreach (var r in Filter(db, action, actorId, actor, from, to).OrderBy(r => r.Id).AsAsyncEnumerable().WithCancellation(ct))
            {
                await writer.WriteAsync(r.Id.ToString(CultureInfo.InvariantCulture));
                await writer.WriteAsync(',');
                await writer.WriteLineAsync(Csv.Line([
                    r.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                    r.Action, r.Outcome, r.ActorKind, r.ActorId, r.ActorName, r.DepartmentId?.ToString(),
                    r.TargetType, r.TargetId, r.Detail, r.RemoteIp, r.RequestId]));
            }
        }, "text/csv; charset=utf-8", name);
    }

    static readonly string[] Header =
        ["id", "at", "action", "outcome", "actor_kind", "actor_id", "actor_name", "department_id", "target_type", "target_id", "detail", "remote_ip", "request_id"];
}
