using System.Collections.Concurrent;
using Lianqiao.Reference;
using Lianqiao.Sharing;

namespace Lianqiao.Gateway;

/// <summary>
/// Gateway quotas with bounded local batching. A node takes calls from a grant's daily quota in the database a block at
/// a time (one conditional upsert, <see cref="QuotaCounter.ConsumeAsync"/>) and hands them out from memory; a busy grant
/// costs one statement per block instead of one per call.
/// <para>
/// The database row counts every call a node may make, handed out or not, and the upsert never lets it pass the limit,
/// so the quota is never overshot, whatever the number of nodes. The price is the other way: calls a node holds but has
/// not used are counted, so while another node holds some, a node may refuse at most <c>(block − 1) × (other nodes)</c>
/// calls the quota still had room for. Blocks are small to keep that small — <see cref="BlockFor"/>: 1 % of the daily
/// quota, at most <see cref="MaxBlock"/>, and single calls (exact) under 200 a day — and a node gives back what it holds
/// once a grant has been idle there for <see cref="IdleGiveBack"/>, so the refused room comes back within two seconds.
/// When a whole block no longer fits, calls are counted one by one, exactly.
/// </para>
/// A revoked grant stops before this (the grant is checked first); what its node held goes back when idle.
/// </summary>
internal sealed partial class QuotaLeases(IServiceScopeFactory scopes, TimeProvider time, ILogger<QuotaLeases> logger) : BackgroundService
{
    public const long MaxBlock = 1000;
    public static readonly TimeSpan IdleGiveBack = TimeSpan.FromSeconds(1);

    /// <summary>Calls taken from the database at a time for a grant with this daily limit.</summary>
    public static long BlockFor(long? limit) => limit is { } max ? Math.Clamp(max / 100, 1, MaxBlock) : MaxBlock;

    /// <summary>What this node holds of one grant's quota for one day. Fields are guarded by the lease's own lock.</summary>
    sealed class Lease
    {
        public readonly Lock Sync = new();
        public readonly SemaphoreSlim Refill = new(1, 1);
        public DateOnly Day;
        public long Held;
        /// <summary>The database count after this node's last take: remaining = limit − this + held, a lower bound.</summary>
        public long CountedAtLastTake;
        public DateTimeOffset LastUsed;
    }

    readonly ConcurrentDictionary<Guid, Lease> leases = new();

    /// <summary>
    /// Takes one call from the grant's quota today. Returns what is left for the headers (a lower bound; null when unlimited),
    /// or Taken = false when the quota is used up.
    /// </summary>
    /// <remarks>The quota counter (and its database context) comes from the request's services (a scope, opened on first
    /// use) only for a refill; a call served from the held block allocates nothing here.</remarks>
    public async ValueTask<(bool Taken, long? Remaining)> TryTakeAsync(Guid grantId, long? limit, HttpContext http, CancellationToken ct)
    {
        var lease = leases.GetOrAdd(grantId, _ => new Lease());
        if (TryTakeHeld(lease, limit, out var remaining)) return (true, remaining);
        // One refill at a time per grant: the other calls wait for it and share its block.
        await lease.Refill.WaitAsync(ct);
        try
        {
            if (TryTakeHeld(lease, limit, out remaining)) return (true, remaining);
            var quota = http.RequestServices.GetRequiredService<QuotaCounter>();
            var day = quota.Today();
            var block = BlockFor(limit);
            var counted = await quota.ConsumeAsync(grantId, block, limit, ct);
            if (counted is null && block > 1)
            {
                // A whole block no longer fits: the last calls of the day are counted one by one.
                block = 1;
                counted = await quota.ConsumeAsync(grantId, 1, limit, ct);
            }
            if (counted is null) return (false, 0);
            lock (lease.Sync)
            {
                if (lease.Day != day)
                {
                    // What was held of an earlier day stays counted there: that day is over.
                    lease.Day = day;
                    lease.Held = 0;
                }
                lease.Held += block - 1;
                lease.CountedAtLastTake = counted.Value;
                lease.LastUsed = time.GetUtcNow();
                return (true, limit - counted.Value + lease.Held);
            }
        }
        finally
        {
            lease.Refill.Release();
        }
    }

    bool TryTakeHeld(Lease lease, long? limit, out long? remaining)
    {
        lock (lease.Sync)
        {
            remaining = null;
            if (lease.Held <= 0 || lease.Day != time.Today()) return false;
            lease.Held--;
            lease.LastUsed = time.GetUtcNow();
            remaining = limit - lease.CountedAtLastTake + lease.Held;
            return true;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(IdleGiveBack, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await GiveBackAsync(idleOnly: true, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Host stopping: StopAsync gives everything back.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await GiveBackAsync(idleOnly: false, cancellationToken);
    }

    /// <summary>Returns to the database what this node holds of grants idle for <see cref="IdleGiveBack"/> (all of it when stopping).</summary>
    internal async Task GiveBackAsync(bool idleOnly, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var today = time.Today();
        foreach (var (grantId, lease) in leases)
        {
            long held;
            lock (lease.Sync)
            {
                if (lease.Held <= 0 || lease.Day != today || (idleOnly && now - lease.LastUsed < IdleGiveBack)) continue;
                held = lease.Held;
                lease.Held = 0;
            }
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<QuotaCounter>().ConsumeAsync(grantId, -held, null, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Not given back: the quota stays counted that much higher today (never lower), as if the calls were made.
                LogGiveBackFailed(ex, held, grantId);
            }
        }
    }

    [LoggerMessage(EventId = 6401, Level = LogLevel.Warning, Message = "Could not give back {Held} quota calls of grant {GrantId}")]
    partial void LogGiveBackFailed(Exception ex, long held, Guid grantId);
}
