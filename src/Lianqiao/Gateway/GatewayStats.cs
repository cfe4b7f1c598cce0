using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lianqiao.Gateway;

/// <summary>
/// Calls of one service counted by one node over one flush period. Append-only (no row is contended by two
/// nodes); statistics sum the rows of a window.
/// </summary>
public sealed class GatewayStatRow
{
    public long Id { get; set; }
    public required string ResourceId { get; set; }
    public DateTimeOffset PeriodStart { get; set; }
    public string Node { get; set; } = "";
    public long Calls { get; set; }
    /// <summary>Answers of 5xx, whether from the upstream or the gateway (timeout, circuit open, masking refused).</summary>
    public long Errors { get; set; }
    /// <summary>Calls the upstream did not answer properly (connect error, timeout, circuit open, 5xx): availability's complement.</summary>
    public long Unavailable { get; set; }
    public long BytesIn { get; set; }
    public long BytesOut { get; set; }
    /// <summary>JSON array of counts per <see cref="LatencyHistogram.BoundsMs"/> bucket (the last is unbounded).</summary>
    public string Histogram { get; set; } = "[]";
}

internal sealed class GatewayStatRowConfiguration : IEntityTypeConfiguration<GatewayStatRow>
{
    public void Configure(EntityTypeBuilder<GatewayStatRow> b)
    {
        b.ToTable("gateway_stats");
        b.Property(r => r.ResourceId).HasMaxLength(100);
        b.Property(r => r.Node).HasMaxLength(200);
        b.Property(r => r.Histogram).HasMaxLength(2000);
        b.HasIndex(r => new { r.ResourceId, r.PeriodStart });
    }
}

public sealed record GatewayStatsDto(string ResourceId, DateTimeOffset From, DateTimeOffset To, long Calls, long Errors, double? P50Ms, double? P95Ms,
    double? Availability, long BytesIn, long BytesOut, bool CircuitOpen, IReadOnlyList<UpstreamHealthDto> Upstreams);

public sealed record UpstreamHealthDto(string Url, bool? Healthy, DateTimeOffset? CheckedAt, string? Detail);

internal static class LatencyHistogram
{
    public static readonly double[] BoundsMs = [1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000, 30000];

    public static int BucketOf(double ms)
    {
        var i = Array.BinarySearch(BoundsMs, ms);
        return i >= 0 ? i : ~i;
    }

    /// <summary>The upper bound of the bucket holding the quantile: an over-estimate by at most one bucket.</summary>
    public static double? Quantile(long[] counts, double q)
    {
        var total = counts.Sum();
        if (total == 0) return null;
        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank) return i < BoundsMs.Length ? BoundsMs[i] : BoundsMs[^1] * 2;
        }
        return BoundsMs[^1] * 2;
    }
}

/// <summary>
/// Counts calls in memory and appends them to <c>gateway_stats</c> every few seconds; also feeds the
/// OpenTelemetry meter the Prometheus endpoint exports.
/// </summary>
internal sealed partial class GatewayStats : BackgroundService
{
    public const string MeterName = "Lianqiao.Gateway";
    static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);

    readonly IServiceScopeFactory scopes;
    readonly TimeProvider time;
    readonly ILogger<GatewayStats> logger;
    readonly Counter<long> calls;
    readonly Histogram<double> latency;
    readonly Counter<long> bytes;
    readonly string node = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    ConcurrentDictionary<string, Accumulator> pending = new(StringComparer.Ordinal);
    readonly SemaphoreSlim flushGate = new(1, 1);
    DateTimeOffset periodStart;

    sealed class Accumulator
    {
        public long Calls, Errors, Unavailable, BytesIn, BytesOut;
        public readonly long[] Buckets = new long[LatencyHistogram.BoundsMs.Length + 1];
    }

    public GatewayStats(IServiceScopeFactory scopes, TimeProvider time, IMeterFactory meters, ILogger<GatewayStats> logger)
    {
        this.scopes = scopes;
        this.time = time;
        this.logger = logger;
        periodStart = time.GetUtcNow();
        var meter = meters.Create(MeterName);
        calls = meter.CreateCounter<long>("lianqiao_gateway_calls", description: "Calls through the gateway by service and status");
        latency = meter.CreateHistogram<double>("lianqiao_gateway_latency", unit: "ms", description: "Gateway call latency");
        bytes = meter.CreateCounter<long>("lianqiao_gateway_bytes", unit: "By", description: "Bytes through the gateway by service and direction");
    }

    // A tag's value is an object: the status codes boxed once, not on every call.
    static readonly object[] BoxedStatus = Enumerable.Range(0, 600).Select(code => (object)code).ToArray();

    public void Record(string resourceId, int status, bool unavailable, double latencyMs, long bytesIn, long bytesOut)
    {
        var a = pending.GetOrAdd(resourceId, _ => new Accumulator());
        Interlocked.Increment(ref a.Calls);
        if (status >= 500) Interlocked.Increment(ref a.Errors);
        if (unavailable) Interlocked.Increment(ref a.Unavailable);
        Interlocked.Add(ref a.BytesIn, bytesIn);
        Interlocked.Add(ref a.BytesOut, bytesOut);
        Interlocked.Increment(ref a.Buckets[LatencyHistogram.BucketOf(latencyMs)]);

        var service = new KeyValuePair<string, object?>("service", resourceId);
        calls.Add(1, service, new KeyValuePair<string, object?>("status", (uint)status < BoxedStatus.Length ? BoxedStatus[status] : status));
        latency.Record(latencyMs, service);
        bytes.Add(bytesIn, service, new KeyValuePair<string, object?>("direction", "in"));
        bytes.Add(bytesOut, service, new KeyValuePair<string, object?>("direction", "out"));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the final flush below keeps the last seconds' counts.
        }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Appends what this node counted since the last flush.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        await flushGate.WaitAsync(ct);
        try
        {
            var taken = Interlocked.Exchange(ref pending, new ConcurrentDictionary<string, Accumulator>(StringComparer.Ordinal));
            var start = periodStart;
            periodStart = time.GetUtcNow();
            if (taken.IsEmpty) return;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LianqiaoDb>();
            foreach (var (id, a) in taken)
            {
                db.Add(new GatewayStatRow
                {
                    ResourceId = id, PeriodStart = start, Node = node, Calls = a.Calls, Errors = a.Errors, Unavailable = a.Unavailable,
                    BytesIn = a.BytesIn, BytesOut = a.BytesOut, Histogram = JsonSerializer.Serialize(a.Buckets),
                });
            }
            await db.SaveChangesAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFlushFailed(ex);
        }
        finally
        {
            flushGate.Release();
        }
    }

    public static async Task<GatewayStatsDto> ReadAsync(LianqiaoDb db, string resourceId, DateTimeOffset from, DateTimeOffset to, UpstreamState state,
        IReadOnlyList<string> upstreams, CancellationToken ct)
    {
        var rows = await db.Set<GatewayStatRow>().AsNoTracking()
            .Where(r => r.ResourceId == resourceId && r.PeriodStart >= from && r.PeriodStart < to).ToListAsync(ct);
        var buckets = new long[LatencyHistogram.BoundsMs.Length + 1];
        foreach (var r in rows)
        {
            var counts = JsonSerializer.Deserialize<long[]>(r.Histogram) ?? [];
            for (var i = 0; i < Math.Min(counts.Length, buckets.Length); i++) buckets[i] += counts[i];
        }
        var total = rows.Sum(r => r.Calls);
        var unavailable = rows.Sum(r => r.Unavailable);
        return new GatewayStatsDto(resourceId, from, to, total, rows.Sum(r => r.Errors), LatencyHistogram.Quantile(buckets, 0.5),
            LatencyHistogram.Quantile(buckets, 0.95), total == 0 ? null : Math.Round(1 - (double)unavailable / total, 4),
            rows.Sum(r => r.BytesIn), rows.Sum(r => r.BytesOut), state.IsOpen(resourceId),
            upstreams.Select(u => state.HealthOf(u) is { } h ? new UpstreamHealthDto(u, h.Healthy, h.CheckedAt, h.Detail) : new UpstreamHealthDto(u, null, null, null)).ToList());
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Gateway statistics flush failed; those counts are lost")]
    partial void LogFlushFailed(Exception ex);
}
