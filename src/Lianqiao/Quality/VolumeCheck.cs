using System.Globalization;
using Lianqiao.Data;
using Lianqiao.Datasets;
using Lianqiao.Datasets.Loading;
using Microsoft.EntityFrameworkCore;

namespace Lianqiao.Quality;

/// <summary>
/// 数据量波动: a load whose row count differs from the mean of the last <see cref="History"/> successful loads of
/// the same mode by more than the rule's percent is flagged (a warning on the load, never a quarantined row).
/// Counts one 完整性 element per evaluated load. Loads of other modes are not comparable (an append is a delta,
/// a replace the whole set), and a first load has nothing to compare with.
/// </summary>
internal static class VolumeCheck
{
    public const int History = 5;

    public sealed record Outcome(bool Passed, double Baseline, double ChangePercent);

    /// <summary>Null when there is nothing to compare with.</summary>
    public static Outcome? Evaluate(long rows, IReadOnlyCollection<long> previous, double allowedPercent)
    {
        if (previous.Count == 0) return null;
        var baseline = previous.Average();
        var change = baseline == 0 ? (rows == 0 ? 0 : double.PositiveInfinity) : (rows - baseline) / baseline * 100;
        return new Outcome(Math.Abs(change) <= allowedPercent, baseline, change);
    }

    public static async Task ApplyAsync(LianqiaoDb db, TableSchema schema, DatasetLoad load, QualityTally tally, CancellationToken ct)
    {
        if (load.Mode == LoadModes.Delete) return;
        var rule = schema.Rules.FirstOrDefault(r => r.Kind == RuleKinds.Volume);
        if (rule is null || !double.TryParse(rule.Max, NumberStyles.Float, CultureInfo.InvariantCulture, out var allowed)) return;
        var previous = await db.Set<DatasetLoad>().AsNoTracking()
            .Where(l => l.ResourceId == load.ResourceId && l.Status == LoadStatus.Succeeded && l.Mode == load.Mode && l.Id != load.Id)
            .OrderByDescending(l => l.StartedAt).Take(History).Select(l => l.RowsRead).ToListAsync(ct);
        var outcome = Evaluate(load.RowsRead, previous, allowed);
        if (outcome is null) return;
        tally.CheckMany(Dimension.Completeness, 1, outcome.Passed ? 0 : 1);
        if (outcome.Passed) return;
        tally.Fail(RuleKinds.Volume, RuleSeverity.Warning);
        var change = double.IsInfinity(outcome.ChangePercent) ? "∞" : outcome.ChangePercent.ToString("+0.#;-0.#", CultureInfo.InvariantCulture);
        tally.Note(rule.Message ?? string.Create(CultureInfo.InvariantCulture,
            $"数据量波动：本次读取 {load.RowsRead} 行，前 {previous.Count} 次同方式导入平均 {outcome.Baseline:0.#} 行，变化 {change}%（允许 ±{allowed}%） / volume: {load.RowsRead} rows read against a mean of {outcome.Baseline:0.#} over the previous {previous.Count} {load.Mode} loads, {change}% (allowed ±{allowed}%)"));
    }
}
