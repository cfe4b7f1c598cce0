using System.Globalization;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Output;
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
    /// The records in id order, streamed through the platform's one tabular writer: CSV by default (UTF-8 with
    /// BOM so spreadsheets read the Chinese, text cells formula-guarded: a record holds whatever a caller sent),
    /// or any other format it knows (xlsx, json, ndjson, parquet).
    /// </summary>
    static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> Export(string? action, string? actorId, string? actor,
        DateTimeOffset? from, DateTimeOffset? to, string? format, LianqiaoDb db, IAuditLog log, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        if (!TabularOutput.TryParse(format ?? "csv", out var output))
            return Problems.Validation(new Dictionary<string, string[]> { ["format"] = ["格式应为 csv、xlsx、json、ndjson 或 parquet / format must be csv, xlsx, json, ndjson or parquet"] });
        // The auditor's own export is itself audited.
        await log.WriteAsync(AuditEntry.For(http, "audit.export", "audit-ledger", null, new { action, actorId, actor, from, to, format = output.ToString() }), ct);
        var rows = Filter(db, action, actorId, actor, from, to).OrderBy(r => r.Id).AsAsyncEnumerable()
            .Select(r => new object?[] { r.Id, r.At, r.Action, r.Outcome, r.ActorKind, r.ActorId, r.ActorName, r.DepartmentId?.ToString(),
                r.TargetType, r.TargetId, r.Detail, r.RemoteIp, r.RequestId });
        return TypedResults.Stream(body => TabularOutput.WriteAsync(body, output, ExportColumns, rows, ct, csvBom: true),
            TabularOutput.ContentType(output), $"audit-{time.GetUtcNow():yyyyMMdd-HHmmss}.{TabularOutput.Extension(output)}");
    }

    static readonly OutputColumn[] ExportColumns =
    [
        new("id", "编号", OutputType.Integer), new("at", "时间", OutputType.DateTime), new("action", "操作", OutputType.Text),
        new("outcome", "结果", OutputType.Text), new("actor_kind", "操作人类型", OutputType.Text), new("actor_id", "操作人标识", OutputType.Text),
        new("actor_name", "操作人", OutputType.Text), new("department_id", "部门", OutputType.Text), new("target_type", "对象类型", OutputType.Text),
        new("target_id", "对象", OutputType.Text), new("detail", "详情", OutputType.Text), new("remote_ip", "IP", OutputType.Text),
        new("request_id", "请求编号", OutputType.Text),
    ];
}
