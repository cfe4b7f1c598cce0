using Lianqiao.Data;
using Lianqiao.Sharing;

namespace Lianqiao.OpenData;

/// <summary>
/// The portal's statistics — views, downloads and API calls per dataset and day (<see cref="OpenCounter"/>) — buffered
/// and written once a second (see <see cref="CounterBuffer{TKey}"/> for what a crash may lose). Pages and the API read
/// the database, so counts show within a second on every node.
/// </summary>
internal sealed class OpenCounterBuffer(IServiceScopeFactory scopes, TimeProvider time, ILogger<OpenCounterBuffer> logger)
    : CounterBuffer<(string ResourceId, DateOnly Day)>(scopes, time, logger)
{
    /// <summary>A page view or a metadata read of an open dataset.</summary>
    public void View(string resourceId) => Add((resourceId, Reference.ChinaTime.Today(Time)), 1, 0, 0);

    /// <summary>Rows read through the open API (a call) or a download.</summary>
    public void Read(string resourceId, bool download) => Add((resourceId, Reference.ChinaTime.Today(Time)), 0, download ? 1 : 0, download ? 0 : 1);

    protected override async Task WriteAsync(LianqiaoDb db, IReadOnlyDictionary<(string ResourceId, DateOnly Day), long[]> sums)
    {
        foreach (var ((resourceId, day), s) in sums)
            await CounterUpsert.AddAsync(db, new OpenCounter { ResourceId = resourceId, Day = day, Views = s[0], Downloads = s[1], ApiCalls = s[2] },
                [nameof(OpenCounter.Views), nameof(OpenCounter.Downloads), nameof(OpenCounter.ApiCalls)], ceiling: null, CancellationToken.None);
    }
}
