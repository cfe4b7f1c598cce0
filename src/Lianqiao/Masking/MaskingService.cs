using System.Security.Cryptography;
using System.Text;
using Lianqiao.Catalog;
using Lianqiao.Domain.Masking;
using Lianqiao.Hosting;

namespace Lianqiao.Masking;

/// <summary>How one output column leaves: as stored, or through a masking rule.</summary>
public sealed record ColumnMask(string Column, MaskingRule Rule)
{
    public bool Masked => Rule.Kind != MaskingKind.None;
}

/// <summary>
/// Applies the catalog's masking rule of each data item on every way data leaves. Keyed pseudonyms use
/// HMAC-SHA256 with a key per consumer department, derived from one master key held outside the database
/// (DATA/keys/masking.key or LIANQIAO_MASKING_KEY): two departments get unlinkable pseudonyms for one person.
/// </summary>
public sealed class MaskingService(KeyFolder keys, TimeProvider time)
{
    public const string KeyName = "masking";
    public const string KeyVariable = "LIANQIAO_MASKING_KEY";

    /// <summary>How long a derived key is reused before the master key is read again (a rotation reaches reads within it).</summary>
    static readonly TimeSpan KeyCacheFor = TimeSpan.FromSeconds(1);

    readonly System.Collections.Concurrent.ConcurrentDictionary<string, (byte[] Key, DateTimeOffset Until)> derived = new(StringComparer.Ordinal);

    /// <summary>The masks for <paramref name="columns"/> of a resource; <paramref name="unmasked"/> lists columns an approval unmasked explicitly.</summary>
    public static IReadOnlyList<ColumnMask> Plan(ResourceDto resource, IEnumerable<string> columns, IEnumerable<string> unmasked)
    {
        var lifted = unmasked.ToHashSet(StringComparer.Ordinal);
        var items = resource.Items.ToDictionary(i => i.ColumnName, StringComparer.Ordinal);
        return columns.Select(c =>
        {
            var item = items[c];
            var rule = lifted.Contains(c) ? MaskingRule.None : MaskingRules.ToRule(item.MaskingRule, item.MaskKeepFirst, item.MaskKeepLast, item.Kind);
            return new ColumnMask(c, rule);
        }).ToList();
    }

    /// <summary>The pseudonym key of one consumer (a department, or "public" for the open portal).</summary>
    /// <remarks>
    /// Every data call needs it, and the master key lives in a file: remembered per consumer for <see cref="KeyCacheFor"/>
    /// so a busy API reads the file once a second, not once a call. Consumers are departments: the map stays small.
    /// </remarks>
    public byte[] PseudonymKeyFor(string consumer)
    {
        var now = time.GetUtcNow();
        if (derived.TryGetValue(consumer, out var entry) && entry.Until > now) return entry.Key;
        var master = keys.GetOrCreate(KeyName, KeyVariable);
        var key = HMACSHA256.HashData(master.Material, Encoding.UTF8.GetBytes("lianqiao-pseudonym:" + consumer));
        derived[consumer] = (key, now + KeyCacheFor);
        return key;
    }

    /// <summary>The format of a stored date under a rule that generalises it to its year or month; null for any other rule.</summary>
    public static string? GeneralisedDateFormat(MaskingRule rule) => rule.GroupSize != 0 ? null : rule.Kind switch
    {
        MaskingKind.GeneraliseDateToYear => "yyyy",
        MaskingKind.GeneraliseDateToMonth => "yyyy-MM",
        _ => null,
    };

    /// <summary>Masks one value; values of masked columns always leave as text (or null when suppressed).</summary>
    public static object? Apply(ColumnMask mask, object? value, byte[] pseudonymKey)
    {
        if (!mask.Masked || value is null or DBNull) return value;
        // A stored date generalised to its year or month needs no text round trip (the same answer as the text rule gives).
        if (value is DateOnly or DateTime && GeneralisedDateFormat(mask.Rule) is { } format)
        {
            var date = value is DateOnly d ? d : DateOnly.FromDateTime((DateTime)value);
            return date.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
        }
        var text = value switch
        {
            DateOnly d => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            DateTime t => t.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
        return Masker.Apply(mask.Rule, text, pseudonymKey);
    }
}
