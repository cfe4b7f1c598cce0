namespace Lianqiao.Data;

/// <summary>
/// How old a node's remembered copy of database state is (a resolved key, a grant, a service row, the allow-list), and who
/// re-reads it. A copy may be used for at most its maximum age. Past half of it, the first caller to ask re-reads it,
/// inline like a miss, while every other caller goes on with the copy, which is still within the bound. Why: when a copy
/// simply expired, every call in flight on a busy path missed at once and queued on the database together, once a
/// second per copy; that was a measurable part of the gateway's p99 (bench/gateway/README.md).
/// </summary>
internal sealed class Freshness(DateTimeOffset readAt)
{
    int reReading;

    /// <summary>When the copy was read (taken before the query, so its age is never understated).</summary>
    public DateTimeOffset ReadAt { get; } = readAt;

    /// <summary>
    /// True when this caller may use the copy: younger than half of <paramref name="maxAge"/>, or younger than
    /// <paramref name="maxAge"/> while another caller re-reads it. False for the one caller that is to re-read it, and
    /// for everyone once it is <paramref name="maxAge"/> old. A caller that cannot re-read (<paramref name="mayReRead"/>
    /// false) never takes the re-read on itself: past half the age it is served only once another caller has taken it.
    /// </summary>
    public bool Serves(DateTimeOffset now, TimeSpan maxAge, bool mayReRead = true)
    {
        var age = now - ReadAt;
        if (age >= maxAge) return false;
        if (age < maxAge / 2) return true;
        return mayReRead ? Interlocked.Exchange(ref reReading, 1) == 1 : Volatile.Read(ref reReading) == 1;
    }
}
