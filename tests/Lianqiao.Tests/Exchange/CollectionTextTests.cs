using Lianqiao.Exchange;
using Lianqiao.Quality;
using Xunit;

namespace Lianqiao.Tests.Exchange;

/// <summary>A source's date and timestamp values become the text the row checker parses; the fast path must write what ValueParser.Format writes.</summary>
public sealed class CollectionTextTests
{
    public static TheoryData<DateTime> Times =>
    [
        new DateTime(2026, 11, 28, 0, 0, 0),
        new DateTime(2026, 1, 2, 3, 4, 5),
        new DateTime(1999, 12, 31, 23, 59, 59),
        new DateTime(987, 6, 5, 4, 3, 2),
        new DateTime(1, 1, 1, 0, 0, 0),
        new DateTime(9999, 12, 31, 23, 59, 59),
        new DateTime(2026, 11, 28, 10, 0, 0).AddTicks(1_234_500),
    ];

    [Theory]
    [MemberData(nameof(Times))]
    public void A_timestamp_is_written_as_the_platform_formats_it(DateTime value) =>
        Assert.Equal(ValueParser.Format(value), Collection.Text(value, 'T'));

    [Theory]
    [MemberData(nameof(Times))]
    public void A_date_is_written_as_its_day(DateTime value) =>
        Assert.Equal(ValueParser.Format(DateOnly.FromDateTime(value)), Collection.Text(value, 'D'));

    [Fact]
    public void A_UTC_timestamp_is_written_as_China_wall_clock_time() =>
        Assert.Equal("2026-11-28 18:30:00", Collection.Text(new DateTime(2026, 11, 28, 10, 30, 0, DateTimeKind.Utc), 'T'));
}
