using Lianqiao.Audit;
using Lianqiao.Data;
using Lianqiao.Errors;
using Lianqiao.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Reference;

public sealed record CodeEntryInput(string? Code, string? Label, string? LabelEn, int? SortOrder);
public sealed record CalendarDayInput(bool IsWorkingDay, string? Note);

internal static class ReferenceApi
{
    public static void MapReferenceApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1").WithTags("Reference data").RequireAuthorization(Policies.Member);

        api.MapGet("/code-tables", async (LianqiaoDb db, CancellationToken ct) =>
            TypedResults.Ok(await db.Set<CodeTable>().AsNoTracking().OrderBy(t => t.Code)
                .Select(t => new { t.Code, t.Name, t.NameEn, t.Source, t.Version }).ToListAsync(ct)));
        api.MapGet("/code-tables/{code}", GetTable);
        api.MapPut("/code-tables/{code}/entries/{entryCode}", UpsertEntry).RequireAuthorization(Policies.PlatformAdmin);
        api.MapDelete("/code-tables/{code}/entries/{entryCode}", RetireEntry).RequireAuthorization(Policies.PlatformAdmin);

        api.MapGet("/calendar", async (int? year, LianqiaoDb db, TimeProvider time, CancellationToken ct) =>
        {
            var y = year ?? time.GetUtcNow().Year;
            var from = new DateOnly(y, 1, 1);
            var to = new DateOnly(y, 12, 31);
            return TypedResults.Ok(await db.Set<CalendarDay>().AsNoTracking().Where(d => d.Date >= from && d.Date <= to)
                .OrderBy(d => d.Date).Select(d => new CalendarDayDto(d.Date, d.IsWorkingDay, d.Note)).ToListAsync(ct));
        });
        api.MapPut("/calendar/{date}", SetDay).RequireAuthorization(Policies.PlatformAdmin);
        api.MapGet("/calendar/deadline", async (DateOnly start, int workingDays, WorkingCalendar calendar, CancellationToken ct) =>
            TypedResults.Ok(new { start, workingDays, deadline = await calendar.AddWorkingDaysAsync(start, workingDays, ct) }));
    }

    static async Task<Results<Ok<CodeTableDto>, ProblemHttpResult>> GetTable(string code, bool? includeRetired, LianqiaoDb db, CancellationToken ct) =>
        await db.Set<CodeTable>().AsNoTracking().Include(t => t.Entries).FirstOrDefaultAsync(t => t.Code == code, ct) is { } table
            ? TypedResults.Ok(table.AsDto(includeRetired == true))
            : Problems.NotFound("代码表", "code table");

    static async Task<Results<Ok<CodeTableDto>, ProblemHttpResult>> UpsertEntry(
        string code, string entryCode, CodeEntryInput input, LianqiaoDb db, IAuditLog audit, HttpContext http, CancellationToken ct)
    {
        var table = await db.Set<CodeTable>().Include(t => t.Entries).FirstOrDefaultAsync(t => t.Code == code, ct);
        if (table is null) return Problems.NotFound("代码表", "code table");
        if (string.IsNullOrWhiteSpace(input.Label) || entryCode.Length > 64)
            return Problems.Validation(new Dictionary<string, string[]> { ["label"] = ["名称必填 / label is required"] });
        table.Version++;
        var entry = table.Entries.FirstOrDefault(e => e.Code == entryCode);
        if (entry is null)
        {
            entry = new CodeEntry { TableCode = code, Code = entryCode, Label = input.Label.Trim(), AddedInVersion = table.Version };
            table.Entries.Add(entry);
        }
        entry.Label = input.Label.Trim();
        entry.LabelEn = input.LabelEn?.Trim() ?? entry.LabelEn;
        entry.SortOrder = input.SortOrder ?? entry.SortOrder;
        entry.RetiredInVersion = null;
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "code-table.change", "code-table", code, new { entryCode, input, table.Version }), ct);
        return TypedResults.Ok(table.AsDto(false));
    }

    static async Task<Results<Ok<CodeTableDto>, ProblemHttpResult>> RetireEntry(
        string code, string entryCode, LianqiaoDb db, IAuditLog audit, HttpContext http, CancellationToken ct)
    {
        var table = await db.Set<CodeTable>().Include(t => t.Entries).FirstOrDefaultAsync(t => t.Code == code, ct);
        var entry = table?.Entries.FirstOrDefault(e => e.Code == entryCode && e.IsCurrent);
        if (table is null || entry is null) return Problems.NotFound("代码项", "code entry");
        table.Version++;
        entry.RetiredInVersion = table.Version;
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "code-table.retire", "code-table", code, new { entryCode, table.Version }), ct);
        return TypedResults.Ok(table.AsDto(false));
    }

    static async Task<Ok<CalendarDayDto>> SetDay(DateOnly date, CalendarDayInput input, LianqiaoDb db, IAuditLog audit, HttpContext http, CancellationToken ct)
    {
        var day = await db.Set<CalendarDay>().FirstOrDefaultAsync(d => d.Date == date, ct);
        if (day is null) db.Add(day = new CalendarDay { Date = date });
        day.IsWorkingDay = input.IsWorkingDay;
        day.Note = input.Note?.Trim() ?? "";
        await db.SaveChangesAsync(ct);
        await audit.WriteAsync(AuditEntry.For(http, "calendar.change", "calendar-day", date.ToString("yyyy-MM-dd"), input), ct);
        return TypedResults.Ok(new CalendarDayDto(day.Date, day.IsWorkingDay, day.Note));
    }
}
