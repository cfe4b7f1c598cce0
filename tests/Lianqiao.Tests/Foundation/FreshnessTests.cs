using Lianqiao.Data;
using Xunit;

namespace Lianqiao.Tests.Foundation;

public sealed class FreshnessTests
{
    static readonly DateTimeOffset ReadAt = new(2026, 11, 29, 8, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_young_copy_serves_everyone_and_past_half_its_age_exactly_one_caller_re_reads_it()
    {
        var copy = new Freshness(ReadAt);
        Assert.All(Enumerable.Range(0, 5), _ => Assert.True(copy.Serves(ReadAt.AddMilliseconds(499), MaxAge)));
        Assert.True(copy.Serves(ReadAt.AddMilliseconds(499), MaxAge, mayReRead: false));

        var later = ReadAt.AddMilliseconds(500);
        // Nobody has taken the re-read yet: a caller that cannot re-read does not use it, nor take it.
        Assert.False(copy.Serves(later, MaxAge, mayReRead: false));
        var answers = Enumerable.Range(0, 100).AsParallel().Select(_ => copy.Serves(later, MaxAge)).ToList();
        Assert.Equal(1, answers.Count(served => !served));
        Assert.True(copy.Serves(later, MaxAge, mayReRead: false));
    }

    [Fact]
    public void A_copy_at_its_maximum_age_serves_nobody()
    {
        var copy = new Freshness(ReadAt);
        Assert.False(copy.Serves(ReadAt.AddMilliseconds(600), MaxAge)); // this caller re-reads
        Assert.True(copy.Serves(ReadAt.AddMilliseconds(999), MaxAge));
        Assert.False(copy.Serves(ReadAt + MaxAge, MaxAge));
        Assert.False(copy.Serves(ReadAt + MaxAge, MaxAge, mayReRead: false));
    }
}
