using Lianqiao.Domain.Calendar;

namespace Lianqiao.Domain.Tests.Calendar;

public class WorkingDaysTests
{
    // 2024 National Day: 1–7 October off, Sunday 29 September and Saturday 12 October worked (调休).
    private static readonly Dictionary<DateOnly, bool> NationalDay2024 = new()
    {
        [new(2024, 9, 29)] = true,
        [new(2024, 10, 1)] = false,
        [new(2024, 10, 2)] = false,
        [new(2024, 10, 3)] = false,
        [new(2024, 10, 4)] = false,
        [new(2024, 10, 7)] = false,
        [new(2024, 10, 12)] = true,
    };

    private static readonly WorkingDays Calendar2024 =
        new(d => NationalDay2024.TryGetValue(d, out var working) ? working : null);

    [Fact]
    public void Weekends_are_skipped_without_overrides() =>
        Assert.Equal(new DateOnly(2025, 6, 9), WorkingDays.Weekdays.AddWorkingDays(new DateOnly(2025, 6, 6), 1));

    [Fact]
    public void Start_day_is_not_counted_and_zero_days_is_the_start()
    {
        var monday = new DateOnly(2025, 6, 2);

        Assert.Equal(new DateOnly(2025, 6, 3), WorkingDays.Weekdays.AddWorkingDays(monday, 1));
        Assert.Equal(monday, WorkingDays.Weekdays.AddWorkingDays(monday, 0));
    }

    [Fact]
    public void Ten_working_days_span_two_weekends() =>
        Assert.Equal(new DateOnly(2025, 6, 16), WorkingDays.Weekdays.AddWorkingDays(new DateOnly(2025, 6, 2), 10));

    [Fact]
    public void Tiaoxiu_saturday_counts_as_a_working_day() =>
        Assert.Equal(new DateOnly(2024, 10, 12), Calendar2024.AddWorkingDays(new DateOnly(2024, 10, 8), 4));

    [Fact]
    public void Holiday_monday_is_skipped() =>
        Assert.Equal(new DateOnly(2024, 10, 8), Calendar2024.AddWorkingDays(new DateOnly(2024, 10, 4), 1));

    [Fact]
    public void Deadline_across_the_national_day_holiday()
    {
        var friday = new DateOnly(2024, 9, 27);

        Assert.Equal(new DateOnly(2024, 9, 29), Calendar2024.AddWorkingDays(friday, 1));
        Assert.Equal(new DateOnly(2024, 10, 8), Calendar2024.AddWorkingDays(friday, 3));
        Assert.Equal(new DateOnly(2024, 10, 15), Calendar2024.AddWorkingDays(friday, 9));
    }

    [Fact]
    public void Count_includes_the_end_but_not_the_start()
    {
        Assert.Equal(5, Calendar2024.CountWorkingDays(new DateOnly(2024, 9, 30), new DateOnly(2024, 10, 12)));
        Assert.Equal(2, Calendar2024.CountWorkingDays(new DateOnly(2024, 9, 27), new DateOnly(2024, 9, 30)));
        Assert.Equal(0, Calendar2024.CountWorkingDays(new DateOnly(2024, 10, 12), new DateOnly(2024, 10, 1)));
    }

    [Fact]
    public void Count_and_add_agree()
    {
        var start = new DateOnly(2024, 9, 20);
        for (var n = 0; n < 40; n++)
        {
            Assert.Equal(n, Calendar2024.CountWorkingDays(start, Calendar2024.AddWorkingDays(start, n)));
        }
    }

    [Fact]
    public void Calendar_without_any_working_day_fails_instead_of_looping() =>
        Assert.Throws<InvalidOperationException>(() => new WorkingDays(_ => false).AddWorkingDays(new DateOnly(2025, 1, 1), 1));

    [Fact]
    public void Negative_day_count_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkingDays.Weekdays.AddWorkingDays(new DateOnly(2025, 1, 1), -1));
}
