using System.Collections.Concurrent;
using Lianqiao.Audit;
using Lianqiao.Datasets.Loading;

namespace Lianqiao.Datasets;

/// <summary>
/// Runs the wizard's loads off the request, so the steward watches progress on the load page instead of a
/// spinning browser. A load refused before its status row exists (busy resource, no schema) is remembered
/// here for an hour so the load page can say why.
/// </summary>
internal sealed partial class BackgroundLoads(DatasetLoader loader, IServiceScopeFactory scopes, TimeProvider time, IAuditLog audit,
    IHostApplicationLifetime lifetime, ILogger<BackgroundLoads> logger)
{
    readonly ConcurrentDictionary<Guid, byte> starting = new();
    readonly ConcurrentDictionary<Guid, (string Message, DateTimeOffset At)> refused = new();

    /// <summary>Starts the load and returns its id at once; <paramref name="finished"/> runs after it ends, however it ends.</summary>
    public Guid Start(LoadRequest request, AuditEntry auditAs, Action finished)
    {
        var id = Guid.CreateVersion7();
        request = request with { LoadId = id };
        starting[id] = 0;
        foreach (var old in refused.Where(r => time.GetUtcNow() - r.Value.At > TimeSpan.FromHours(1))) refused.TryRemove(old.Key, out _);
        _ = Task.Run(async () =>
        {
            try
            {
                var load = await loader.RunAsync(request, LoadProgressWriter.ForLoad(scopes, time, id), lifetime.ApplicationStopping);
                await audit.WriteAsync(auditAs with { Detail = new { load.Id, request.Mode, load.RowsRead, load.RowsAccepted, load.RowsQuarantined, via = "page" } }, CancellationToken.None);
            }
            catch (LoadRefusedException r)
            {
                if (r.LoadId is null) refused[id] = ($"{r.TitleZh} / {r.Message}", time.GetUtcNow());
                await audit.WriteAsync(auditAs with { Outcome = AuditOutcome.Failure, Detail = new { loadId = id, r.Code, via = "page" } }, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The loader has marked its status row failed with the reason; this keeps the process alive.
                refused.TryAdd(id, ("导入失败 / the load failed: " + ex.Message, time.GetUtcNow()));
                LogFailed(ex, id);
                await audit.WriteAsync(auditAs with { Outcome = AuditOutcome.Failure, Detail = new { loadId = id, via = "page" } }, CancellationToken.None);
            }
            finally
            {
                starting.TryRemove(id, out _);
                finished();
            }
        });
        return id;
    }

    /// <summary>Started on this node and not yet ended (its status row may not exist yet).</summary>
    public bool IsStarting(Guid loadId) => starting.ContainsKey(loadId);

    public string? RefusalOf(Guid loadId) => refused.TryGetValue(loadId, out var r) ? r.Message : null;

    [LoggerMessage(EventId = 4010, Level = LogLevel.Error, Message = "Background load {LoadId} failed")]
    partial void LogFailed(Exception ex, Guid loadId);
}
