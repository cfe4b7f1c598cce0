namespace Lianqiao.Quality;

/// <summary>
/// Counts for one load. Each rule evaluation on a value adds one to B of its dimension and, when it passes,
/// one to A; a dimension scores X = A/B (GB/T 36344-2018 §5, "elements meeting the requirement" over
/// "elements evaluated"). Values that are absent are not evaluated by format rules (only by 完整性).
/// 时效性 has one element per load: 1 if the load arrived within the declared update cycle.
/// </summary>
internal sealed class QualityTally
{
    readonly long[] met = new long[5];
    readonly long[] evaluated = new long[5];
    readonly Dictionary<string, RuleCount> failures = new(StringComparer.Ordinal);
    readonly List<string> notes = [];

    /// <summary>A finding about the load as a whole ("zh / en"), shown with its report.</summary>
    public void Note(string text) => notes.Add(text);

    public void Check(Dimension dimension, bool passed)
    {
        evaluated[(int)dimension]++;
        if (passed) met[(int)dimension]++;
    }

    /// <summary>Adds <paramref name="total"/> evaluations of which <paramref name="failed"/> failed (set-based rules).</summary>
    public void CheckMany(Dimension dimension, long total, long failed)
    {
        evaluated[(int)dimension] += total;
        met[(int)dimension] += total - failed;
    }

    public void Fail(string rule, string severity, long count = 1)
    {
        if (!failures.TryGetValue(rule, out var c)) c = new RuleCount(rule, severity, 0);
        failures[rule] = c with { Count = c.Count + count };
    }

    public QualityReport Report() => new(
        failures.Values.OrderByDescending(f => f.Count).ThenBy(f => f.Rule, StringComparer.Ordinal).ToList(),
        Enum.GetValues<Dimension>().Select(d => new DimensionScore(d, DimensionNames.Zh(d), met[(int)d], evaluated[(int)d],
            evaluated[(int)d] == 0 ? null : Math.Round((double)met[(int)d] / evaluated[(int)d], 6))).ToList(),
        notes.Count == 0 ? null : [.. notes]);
}

public sealed record RuleCount(string Rule, string Severity, long Count);

/// <summary>A = elements meeting the requirement, B = elements evaluated, Score = A/B (null when nothing was evaluated).</summary>
public sealed record DimensionScore(Dimension Dimension, string NameZh, long A, long B, double? Score);

/// <summary>Counts per rule, scores per dimension, and findings about the load as a whole (volume) as "zh / en" notes.</summary>
public sealed record QualityReport(IReadOnlyList<RuleCount> Rules, IReadOnlyList<DimensionScore> Dimensions, IReadOnlyList<string>? Notes = null);

public static class DimensionNames
{
    public static string Zh(Dimension d) => d switch
    {
        Dimension.Completeness => "完整性",
        Dimension.Conformity => "规范性",
        Dimension.Accuracy => "准确性",
        Dimension.Consistency => "一致性",
        Dimension.Timeliness => "时效性",
        _ => d.ToString(),
    };
}
