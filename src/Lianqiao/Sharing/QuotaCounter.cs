using Lianqiao.Data;
using Lianqiao.Reference;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Sharing;

/// <summary>
/// Daily quotas counted in the database with one conditional upsert per use (<see cref="CounterUpsert"/>), so every node
/// sees one count and a quota is never overshot (APISIX and Kong batch locally and drift; this does not batch, at one
/// statement per call).
/// </summary>
internal sealed class QuotaCounter(LianqiaoDb db, TimeProvider time)
{
    /// <summary>The quota day is the calendar day in China Standard Time (UTC+8), when a city's counters reset.</summary>
    public DateOnly Today() => time.Today();

    /// <summary>
    /// Takes <paramref name="amount"/> from today's quota if it fits (a negative amount gives back). Returns today's use
    /// after the take; null, and nothing taken, when it does not fit under <paramref name="limit"/>.
    /// </summary>
    public Task<long?> ConsumeAsync(Guid grantId, long amount, long? limit, CancellationToken ct) =>
        CounterUpsert.AddAsync(db, new QuotaUsage { GrantId = grantId, Day = Today(), Used = amount }, [nameof(QuotaUsage.Used)], limit, ct);

    /// <summary>Takes <paramref name="amount"/> from today's quota if it fits; false (and nothing taken) when it does not.</summary>
    public async Task<bool> TryConsumeAsync(Guid grantId, long amount, long? limit, CancellationToken ct) =>
        await ConsumeAsync(grantId, amount, limit, ct) is not null;

    /// <summary>What is left today; null when unlimited.</summary>
    public async Task<long?> RemainingAsync(Guid grantId, long? limit, CancellationToken ct)
    {
        if (limit is null) return null;
        var day = Today();
        var used = await db.Set<QuotaUsage>().Where(q => q.GrantId == grantId && q.Day == day).Select(q => (long?)q.Used).FirstOrDefaultAsync(ct) ?? 0;
        return Math.Max(0, limit.Value - used);
    }
}
