namespace Lianqiao.Domain.Calendar;

/// <summary>
/// Working-day arithmetic for statutory deadlines. The override says whether a date is a working
/// day (true for a 调休 weekend day, false for a holiday) or returns null to fall back to Mon–Fri.
/// </summary>
public sealed class WorkingDays(Func<DateOnly, bool?> overrideIsWorkingDay)
{
    // No real calendar has a year without a working day; more means a broken override.
    private const int MaxDaysWithoutWork = 366;

    private readonly Func<DateOnly, bool?> overrideIsWorkingDay =
        overrideIsWorkingDay ?? throw new ArgumentNullException(nameof(overrideIsWorkingDay));

    /// <summary>Monday to Friday, no holidays.</summary>
    public static WorkingDays Weekdays { get; } = new(_ => null);

    public bool IsWorkingDay(DateOnly date) =>
        overrideIsWorkingDay(date) ?? date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    /// <summary>The date on which n working days after start have passed; start itself is not counted.</summary>
    public DateOnly AddWorkingDays(DateOnly start, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var date = start;
        for (var counted = 0; counted < n;)
        {
            var idle = 0;
            do
            {
                date = date.AddDays(1);
                if (++idle > MaxDaysWithoutWork)
                {
                    throw new InvalidOperationException($"No working day within {MaxDaysWithoutWork} days after {date.AddDays(-idle):yyyy-MM-dd}.");
                }
            }
            while (!IsWorkingDay(date));

            counted++;
        }

        return date;
    }

    /// <summary>Working days in (fromExclusive, toInclusive]; 0 when the range is empty.</summary>
    public int CountWorkingDays(DateOnly fromExclusive, DateOnly toInclusive)
    {
        var count = 0;
        for (var date = fromExclusive.AddDays(1); date <= toInclusive; date = date.AddDays(1))
        {
            if (IsWorkingDay(date))
            {
                count++;
            }
        }

        return count;
    }
}
