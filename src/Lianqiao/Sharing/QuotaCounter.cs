using Lianqiao.Data;
using Lianqiao.Reference;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Sharing;

/// <summary>
/// Daily quotas counted in the database with one conditional UPDATE per use, so every node sees one count and a
/// quota is never overshot (APISIX and Kong batch locally and drift; this does not batch, at one write per call).
/// </summary>
internal sealed class QuotaCounter(LianqiaoDb db, TimeProvider time)
{
    /// <summary>The quota day is the calendar day in China Standard Time (UTC+8), when a city's counters reset.</summary>
    public DateOnly Today() => time.Today();

    /// <summary>Takes <paramref name="amount"/> from today's quota if it fits; false (and nothing taken) when it does not.</summary>
    public async Task<bool> TryConsumeAsync(Guid grantId, long amount, long? limit, CancellationToken ct)
    {
        var day = Today();
        await EnsureRowAsync(grantId, day, ct);
        var query = db.Set<QuotaUsage>().Where(q => q.GrantId == grantId && q.Day == day);
        if (limit is { } max) query = query.Where(q => q.Used + amount <= max);
        return await query.ExecuteUpdateAsync(s => s.SetProperty(q => q.Used, q => q.Used + amount), ct) == 1;
    }

    /// <summary>What is left today; null when unlimited.</summary>
    public async Task<long?> RemainingAsync(Guid grantId, long? limit, CancellationToken ct)
    {
        if (limit is null) return null;
        var day = Today();
        var used = await db.Set<QuotaUsage>().Where(q => q.GrantId == grantId && q.Day == day).Select(q => (long?)q.Used).FirstOrDefaultAsync(ct) ?? 0;
        return Math.Max(0, limit.Value - used);
    }

    async Task EnsureRowAsync(Guid grantId, DateOnly day, CancellationToken ct)
    {
        if (await db.Set<QuotaUsage>().AnyAsync(q => q.GrantId == grantId && q.Day == day, ct)) return;
        var row = new QuotaUsage { GrantId = grantId, Day = day };
        db.Add(row);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another request or node created today's row first: that is the row to count in.
        }
        finally
        {
            db.Entry(row).State = EntityState.Detached;
        }
    }
}
