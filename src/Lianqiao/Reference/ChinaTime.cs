namespace Lianqiao.Reference;

/// <summary>
/// The city's calendar day: quotas reset, deadlines start and counters roll over at midnight China Standard Time
/// (UTC+8, no daylight saving), whatever zone the server runs in.
/// </summary>
public static class ChinaTime
{
    public static readonly TimeSpan Offset = TimeSpan.FromHours(8);

    public static DateOnly DateOf(DateTimeOffset instant) => DateOnly.FromDateTime(instant.ToOffset(Offset).DateTime);

    public static DateOnly Today(this TimeProvider time) => DateOf(time.GetUtcNow());

    /// <summary>The instant a day of the city's calendar begins: its midnight, UTC+8.</summary>
    public static DateTimeOffset StartOf(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), Offset);
}
