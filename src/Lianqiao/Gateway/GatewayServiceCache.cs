using System.Collections.Concurrent;
using Lianqiao.Data;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Gateway;

/// <summary>
/// The service rows the call path uses, remembered on this node for at most <see cref="MaxAge"/> (the bound of the API key
/// and allow-list caches; re-read past half of it by one call while the others go on, <see cref="Freshness"/>): a busy
/// service costs two reads a second instead of one per call. A change made on this node
/// (<see cref="GatewayRegistry"/>) applies at once; one made on another node, within <see cref="MaxAge"/>.
/// </summary>
internal sealed class GatewayServiceCache(TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    /// <summary>A service row as read, with its masking list parsed once. Shared between calls: read it, never change it.</summary>
    internal sealed record Entry(GatewayService Service, IReadOnlyList<FieldMask> Masks, Freshness Freshness);

    readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    /// <summary>The service registered for the resource; null when there is none (not remembered, so a registration works at once).</summary>
    /// <remarks>The request's services (a scope, opened on first use) give the database context only when the row is read.</remarks>
    public async ValueTask<Entry?> GetAsync(HttpContext http, string resourceId, CancellationToken ct)
    {
        var readAt = time.GetUtcNow();
        if (entries.TryGetValue(resourceId, out var entry) && entry.Freshness.Serves(readAt, MaxAge)) return entry;
        var service = await http.RequestServices.GetRequiredService<LianqiaoDb>().Set<GatewayService>().AsNoTracking().FirstOrDefaultAsync(s => s.ResourceId == resourceId, ct);
        if (service is null)
        {
            entries.TryRemove(resourceId, out _);
            return null;
        }
        entry = new Entry(service, service.Masks(), new Freshness(readAt));
        entries[resourceId] = entry;
        return entry;
    }

    /// <summary>This node reads the service afresh on its next call.</summary>
    public void Forget(string resourceId) => entries.TryRemove(resourceId, out _);
}
