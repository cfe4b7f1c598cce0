using System.Text.Json;
using Lianqiao.Audit;
using Lianqiao.Catalog;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Storage;
using Lianqiao.Domain.Query;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Lianqiao.Quality;
using Lianqiao.Reference;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace Lianqiao.Sharing;

public sealed record ObjectionInput(string? ResourceId, Dictionary<string, string>? Key, string? Field, string? Reason, string? ProposedValue);
public sealed record ObjectionStepInput(string? Note, string? NewValue);

/// <summary>
/// 数据异议: consumers holding a grant flag a record or field; the provider's stewards accept, verify and correct or reject.
/// A correction updates the stored row under a new change sequence, so syncing consumers receive it, and the objection's
/// history keeps the value it replaced.
/// </summary>
internal static class ObjectionsApi
{
    public static void MapObjectionsApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/objections").WithTags("Sharing").RequireAuthorization(Policies.Member);
        api.MapPost("/", Raise);
        api.MapGet("/", List);
        api.MapGet("/{id:guid}", Get);
        api.MapPost("/{id:guid}/{step}", Step);
    }

    internal static async Task<Results<Created<DataObjectionDto>, ProblemHttpResult>> Raise(ObjectionInput input, HttpContext http, LianqiaoDb db, ICatalogReader catalog,
        WorkingCalendar calendar, IAuditLog audit, TimeProvider time, IOptions<SharingOptions> options, CancellationToken ct)
    {
        var caller = http.User.Caller();
        if (caller.DepartmentId is not { } consumer) return Problems.Forbidden("An objection is raised by a consuming department.");
        var resource = string.IsNullOrWhiteSpace(input.ResourceId) ? null : await catalog.FindAsync(input.ResourceId, ct);
        if (resource is null) return Problems.NotFound("资源", "resource");
        var now = time.GetUtcNow();
        var grants = await db.Set<Grant>().AsNoTracking()
            .Where(g => g.ResourceId == resource.Id && g.ConsumerDepartmentId == consumer && g.RevokedAt == null).ToListAsync(ct);
        if (!grants.Any(g => g.ExpiresAt > now))
            return Problems.Forbidden("Only a department that receives this resource under a grant raises objections on it.");
        var keys = resource.Items.Where(i => i.IsKey).Select(i => i.ColumnName).ToList();
        var errors = new Dictionary<string, string[]>();
        if (keys.Count == 0) errors["key"] = ["该资源没有主键，无法定位记录 / the resource has no key to locate a record by"];
        else if (input.Key is null || keys.Any(k => !input.Key.TryGetValue(k, out var v) || string.IsNullOrWhiteSpace(v)))
            errors["key"] = [$"请给出记录的主键：{string.Join(", ", keys)} / give the record's key: {string.Join(", ", keys)}"];
        if (input.Field is not null && !resource.Items.Any(i => i.ColumnName == input.Field)) errors["field"] = ["资源没有该信息项 / no such field"];
        if (string.IsNullOrWhiteSpace(input.Reason)) errors["reason"] = ["请说明异议理由 / give a reason"];
        if (errors.Count > 0) return Problems.Validation(errors);

        var objection = new DataObjection
        {
            ResourceId = resource.Id,
            ProviderDepartmentId = resource.DepartmentId,
            ConsumerDepartmentId = consumer,
            RecordKey = JsonSerializer.Serialize(keys.ToDictionary(k => k, k => input.Key![k])),
            Field = input.Field,
            Reason = input.Reason!.Trim(),
            ProposedValue = input.ProposedValue,
            RaisedAt = now,
            RaisedBy = caller.Name,
            Deadline = await calendar.AddWorkingDaysAsync(ChinaTime.DateOf(now), options.Value.ApprovalWorkingDays, ct),
        };
        objection.Events.Add(new ObjectionEvent { Action = "raise", Actor = caller.Name, At = now, Note = objection.Reason });
        db.Add(objection);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "objection.raise", "objection", objection.Id.ToString(), new { objection.ResourceId, objection.RecordKey, objection.Field }), ct);
        return TypedResults.Created($"/api/v1/objections/{objection.Id}", objection.AsDto());
    }

    static async Task<Ok<List<DataObjectionDto>>> List(HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var query = db.Set<DataObjection>().AsNoTracking().Include(o => o.Events).AsQueryable();
        if (!caller.IsAdmin) query = query.Where(o => o.ProviderDepartmentId == caller.DepartmentId || o.ConsumerDepartmentId == caller.DepartmentId);
        var list = await query.OrderByDescending(o => o.Id).Take(500).ToListAsync(ct);
        return TypedResults.Ok(list.Select(o => o.AsDto()).ToList());
    }

    static async Task<Results<Ok<DataObjectionDto>, ProblemHttpResult>> Get(Guid id, HttpContext http, LianqiaoDb db, CancellationToken ct)
    {
        var caller = http.User.Caller();
        var o = await db.Set<DataObjection>().AsNoTracking().Include(x => x.Events).FirstOrDefaultAsync(x => x.Id == id, ct);
        return o is not null && (caller.IsAdmin || caller.DepartmentId == o.ProviderDepartmentId || caller.DepartmentId == o.ConsumerDepartmentId)
            ? TypedResults.Ok(o.AsDto()) : Problems.NotFound("异议", "objection");
    }

    static readonly Dictionary<string, (ObjectionStatus[] From, ObjectionStatus To)> Steps = new()
    {
        ["accept"] = ([ObjectionStatus.Raised], ObjectionStatus.Accepted),
        ["verify"] = ([ObjectionStatus.Accepted], ObjectionStatus.Verified),
        ["correct"] = ([ObjectionStatus.Accepted, ObjectionStatus.Verified], ObjectionStatus.Corrected),
        ["reject"] = ([ObjectionStatus.Raised, ObjectionStatus.Accepted, ObjectionStatus.Verified], ObjectionStatus.Rejected),
        ["close"] = ([ObjectionStatus.Corrected, ObjectionStatus.Rejected], ObjectionStatus.Closed),
    };

    internal static async Task<Results<Ok<DataObjectionDto>, ProblemHttpResult>> Step(Guid id, string step, ObjectionStepInput? input, HttpContext http, LianqiaoDb db,
        ITableSchemaSource schemas, IAuditLog audit, TimeProvider time, CancellationToken ct)
    {
        if (!Steps.TryGetValue(step, out var move)) return Problems.NotFound("处理步骤", "step");
        var caller = http.User.Caller();
        var o = await db.Set<DataObjection>().Include(x => x.Events).FirstOrDefaultAsync(x => x.Id == id, ct);
        if (o is null) return Problems.NotFound("异议", "objection");
        // The consumer closes its own objection; every other step is the provider's.
        var mayAct = step == "close" ? caller.ActsFor(o.ConsumerDepartmentId, Roles.Steward) || caller.ActsFor(o.ConsumerDepartmentId, Roles.Consumer) || caller.ActsFor(o.ProviderDepartmentId, Roles.Steward)
            : caller.ActsFor(o.ProviderDepartmentId, Roles.Steward);
        if (!mayAct) return Problems.Forbidden("Only the providing department's stewards handle an objection; the raising department closes it.");
        if (!move.From.Contains(o.Status))
            return Problems.Conflict("objection-state", "异议当前状态不允许此操作", $"An objection in state {o.Status} cannot be {step}ed.");
        if (step == "reject" && string.IsNullOrWhiteSpace(input?.Note))
            return Problems.Validation(new Dictionary<string, string[]> { ["note"] = ["驳回须说明理由 / a rejection needs a reason"] });

        var evt = new ObjectionEvent { Action = step, Actor = caller.Name, At = time.GetUtcNow(), Note = input?.Note?.Trim() };
        if (step == "correct")
        {
            if (o.Field is null || input?.NewValue is null)
                return Problems.Validation(new Dictionary<string, string[]> { ["newValue"] = ["更正须针对某一信息项并给出新值 / a correction names a field and its new value"] });
            var schema = await schemas.FindAsync(o.ResourceId, ct);
            var column = schema?.Columns.FirstOrDefault(c => c.Column == o.Field);
            if (schema is null || column is null || !ValueParser.TryParse(column.Type[0], input.NewValue, out var typed))
                return Problems.Validation(new Dictionary<string, string[]> { ["newValue"] = ["新值与信息项类型不符 / the new value does not fit the field's type"] });
            var (found, old) = await CorrectAsync(db, o, column.Column, typed, ct);
            if (!found) return Problems.Conflict("record-gone", "记录已不存在", "The record the objection names no longer exists.");
            evt.OldValue = old;
            evt.NewValue = input.NewValue;
        }
        o.Status = move.To;
        o.Events.Add(evt);
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "objection." + step, "objection", id.ToString(), new { evt.Note, evt.OldValue, evt.NewValue }), ct);
        return TypedResults.Ok(o.AsDto());
    }

    /// <summary>Updates one field of the keyed row under a fresh change sequence; returns the value it replaced.</summary>
    static async Task<(bool Found, string? Old)> CorrectAsync(LianqiaoDb db, DataObjection o, string column, object? value, CancellationToken ct)
    {
        var table = await db.Set<DatasetTable>().AsNoTracking().FirstOrDefaultAsync(t => t.ResourceId == o.ResourceId, ct);
        if (table is null) return (false, null);
        var key = JsonSerializer.Deserialize<Dictionary<string, string>>(o.RecordKey)!;
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var where = string.Join(" AND ", key.Keys.Select((k, i) => $"{SqlRenderer.Quote(k)} = @k{i}"));

        await using var read = connection.CreateCommand();
        read.Transaction = tx.GetDbTransaction();
        read.CommandText = $"SELECT {SqlRenderer.Quote(column)} FROM {SqlRenderer.Quote(table.TableName)} WHERE NOT \"_deleted\" AND {where}";
        var i = 0;
        foreach (var v in key.Values) DatasetStore.AddParameter(read, "k" + i++, v);
        await using (var reader = await read.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct)) return (false, null);
            var old = reader.IsDBNull(0) ? null : ValueParser.Format(reader.GetValue(0));
            await reader.CloseAsync();

            var next = await DatasetStore.ReserveSequenceAsync(connection, tx.GetDbTransaction(), 1, ct);

            await using var update = connection.CreateCommand();
            update.Transaction = tx.GetDbTransaction();
            update.CommandText = $"UPDATE {SqlRenderer.Quote(table.TableName)} SET {SqlRenderer.Quote(column)} = @v, \"_seq\" = @seq WHERE NOT \"_deleted\" AND {where}";
            DatasetStore.AddParameter(update, "v", value);
            DatasetStore.AddParameter(update, "seq", next);
            i = 0;
            foreach (var v in key.Values) DatasetStore.AddParameter(update, "k" + i++, v);
            await update.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            return (true, old);
        }
    }
}
