using System.Text.Json;
using Lianqiao.Data;
using Lianqiao.Datasets;

namespace Lianqiao.Quality;

/// <summary>
/// Writes quarantine rows in batches on a connection of its own, so a load's rejects never sit in memory
/// (and, on PostgreSQL, do not compete with the COPY running on the load's connection). A load that holds
/// SQLite's one write lock passes its own <paramref name="shared"/> context, so the rows go into its transaction.
/// </summary>
internal sealed class QuarantineWriter(IServiceScopeFactory scopes, DatasetLoad load, DateTimeOffset now, LianqiaoDb? shared = null) : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
    const int Batch = 1000;
    readonly List<QuarantineRow> buffer = new(Batch);
    AsyncServiceScope? scope;

    public async Task AddAsync(long line, IReadOnlyList<RowIssue> issues, string raw, bool kept, CancellationToken ct)
    {
        var first = issues.FirstOrDefault(i => i.IsError) ?? issues[0];
        var reason = string.Join("；", issues.Select(i => i.MessageZh));
        buffer.Add(new QuarantineRow
        {
            LoadId = load.Id,
            ResourceId = load.ResourceId,
            DepartmentId = load.DepartmentId,
            Line = line,
            Rule = first.Rule,
            Column = first.Column,
            Severity = kept ? RuleSeverity.Warning : RuleSeverity.Error,
            Kept = kept,
            Reason = reason.Length > 2000 ? reason[..2000] : reason,
            Issues = JsonSerializer.Serialize(issues.Select(i => new { i.Rule, i.Column, i.Severity, zh = i.MessageZh, en = i.MessageEn }), Json),
            Raw = raw,
            CreatedAt = now,
        });
        if (buffer.Count >= Batch) await FlushAsync(ct);
    }

    public async Task FlushAsync(CancellationToken ct)
    {
        if (buffer.Count == 0) return;
        var db = shared;
        if (db is null)
        {
            scope ??= scopes.CreateAsyncScope();
            db = scope.Value.ServiceProvider.GetRequiredService<LianqiaoDb>();
        }
        db.AddRange(buffer);
        await db.SaveChangesAsync(ct);
        // Only these rows: a shared context also tracks the load itself.
        foreach (var row in buffer) db.Entry(row).State = Microsoft.EntityFrameworkCore.EntityState.Detached;
        buffer.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        if (scope is { } s) await s.DisposeAsync();
    }
}
