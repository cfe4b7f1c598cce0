using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Lianqiao.Gateway;

/// <summary>
/// Per-node, in-memory state of each service's upstreams: circuit breaker, health and round-robin position.
/// Deliberately not shared between nodes: each node learns an upstream is down from its own calls within
/// <see cref="GatewayService.BreakerFailures"/> failures, which costs less than a database write per call.
/// </summary>
internal sealed class UpstreamState(TimeProvider time)
{
    readonly ConcurrentDictionary<string, Breaker> breakers = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, HealthRecord> health = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, StrongBox> cursors = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<(string App, string Service, int Rate), RateLimiter> limiters = new();

    sealed class StrongBox { public int Value; }

    public enum Admission { Closed, Probe, Open }

    sealed class Breaker
    {
        public readonly Lock Gate = new();
        public int Failures;
        public DateTimeOffset OpenUntil;
        public bool Open;
        public bool ProbeInFlight;
    }

    /// <summary>May a call go to the service now? Open answers with how long until a probe is let through.</summary>
    public (Admission Admission, TimeSpan RetryAfter) Admit(GatewayService service)
    {
        var b = breakers.GetOrAdd(service.ResourceId, _ => new Breaker());
        lock (b.Gate)
        {
            if (!b.Open) return (Admission.Closed, TimeSpan.Zero);
            var now = time.GetUtcNow();
            // Half-open: after the open period one call goes through; the rest keep failing fast until it answers.
            if (now >= b.OpenUntil && !b.ProbeInFlight)
            {
                b.ProbeInFlight = true;
                return (Admission.Probe, TimeSpan.Zero);
            }
            var wait = b.OpenUntil - now;
            return (Admission.Open, wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1));
        }
    }

    public void Record(GatewayService service, bool success)
    {
        var b = breakers.GetOrAdd(service.ResourceId, _ => new Breaker());
        lock (b.Gate)
        {
            b.ProbeInFlight = false;
            if (success)
            {
                b.Failures = 0;
                b.Open = false;
                return;
            }
            b.Failures++;
            if (b.Open || b.Failures >= Math.Max(1, service.BreakerFailures))
            {
                b.Open = true;
                b.OpenUntil = time.GetUtcNow().AddSeconds(Math.Max(1, service.BreakerOpenSeconds));
            }
        }
    }

    /// <summary>A probe that never reached the upstream (refused before forwarding) frees the half-open slot.</summary>
    public void CancelProbe(GatewayService service)
    {
        if (!breakers.TryGetValue(service.ResourceId, out var b)) return;
        lock (b.Gate) b.ProbeInFlight = false;
    }

    public bool IsOpen(string resourceId) => breakers.TryGetValue(resourceId, out var b) && b.Open;

    public sealed record HealthRecord(bool Healthy, DateTimeOffset CheckedAt, string? Detail);

    public void SetHealth(string upstream, bool healthy, string? detail) => health[upstream] = new HealthRecord(healthy, time.GetUtcNow(), detail);

    public HealthRecord? HealthOf(string upstream) => health.GetValueOrDefault(upstream);

    /// <summary>Round-robin or first-healthy over the upstreams the health checks have not marked down (all of them if every one is down).</summary>
    public string Pick(GatewayService service)
    {
        var all = service.Upstreams;
        if (all.Count == 1) return all[0];
        var healthy = all.Where(u => HealthOf(u)?.Healthy != false).ToList();
        if (healthy.Count == 0) healthy = all;
        if (service.LoadBalancing == LoadBalancing.FirstHealthy) return healthy[0];
        var cursor = cursors.GetOrAdd(service.ResourceId, _ => new StrongBox());
        var i = (uint)Interlocked.Increment(ref cursor.Value);
        return healthy[(int)(i % (uint)healthy.Count)];
    }

    /// <summary>Per application and service on this node: a token bucket refilled every second.</summary>
    public bool TryAcquireRate(string appId, GatewayService service)
    {
        if (service.RateLimitPerSecond is not { } rate || rate <= 0) return true;
        var limiter = limiters.GetOrAdd((appId, service.ResourceId, rate), k => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = k.Rate,
            TokensPerPeriod = k.Rate,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        using var lease = limiter.AttemptAcquire();
        return lease.IsAcquired;
    }
}
