using Lianqiao.Data;
using Lianqiao.Domain.Calendar;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Reference;

/// <summary>An exception to Monday–Friday: a public holiday, or a 调休 weekend day that is worked.</summary>
public sealed class CalendarDay
{
    public DateOnly Date { get; set; }
    public bool IsWorkingDay { get; set; }
    public string Note { get; set; } = "";
}

public sealed record CalendarDayDto(DateOnly Date, bool IsWorkingDay, string Note);

internal sealed class CalendarDayConfiguration : IEntityTypeConfiguration<CalendarDay>
{
    public void Configure(EntityTypeBuilder<CalendarDay> b)
    {
        b.ToTable("calendar_days");
        b.HasKey(d => d.Date);
        b.Property(d => d.Note).HasMaxLength(100);
    }
}

/// <summary>The working-day calendar every deadline counts in (approvals, objections, timeliness).</summary>
public sealed class WorkingCalendar(LianqiaoDb db)
{
    public async Task<DateOnly> AddWorkingDaysAsync(DateOnly start, int days, CancellationToken ct = default)
    {
        // Holidays are sparse: loading the window the deadline can reach keeps this one query.
        var overrides = await LoadAsync(start, start.AddDays(days * 3 + 40), ct);
        return new WorkingDays(d => overrides.TryGetValue(d, out var w) ? w : null).AddWorkingDays(start, days);
    }

    public async Task<int> CountWorkingDaysAsync(DateOnly fromExclusive, DateOnly toInclusive, CancellationToken ct = default)
    {
        var overrides = await LoadAsync(fromExclusive, toInclusive, ct);
        return new WorkingDays(d => overrides.TryGetValue(d, out var w) ? w : null).CountWorkingDays(fromExclusive, toInclusive);
    }

    async Task<Dictionary<DateOnly, bool>> LoadAsync(DateOnly from, DateOnly to, CancellationToken ct) =>
        await db.Set<CalendarDay>().AsNoTracking().Where(d => d.Date >= from && d.Date <= to)
            .ToDictionaryAsync(d => d.Date, d => d.IsWorkingDay, ct);
}
