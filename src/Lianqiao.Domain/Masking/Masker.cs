using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Lianqiao.Domain.Masking;

public static partial class Masker
{
    private const string Star = "*";
    private const int FallbackAdministrativeLength = 6;

    /// <summary>
    /// Masks one value. Characters are counted as text elements, so a Han character outside the
    /// BMP becomes one '*'. Suppression returns null. A value that a date rule cannot parse is
    /// masked whole rather than passed through.
    /// </summary>
    public static string? Apply(MaskingRule rule, string? value, ReadOnlySpan<byte> pseudonymKey)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (value is null)
        {
            return null;
        }

        if (rule.GroupSize > 0)
        {
            value = string.Concat(value.Where(c => !char.IsWhiteSpace(c)));
        }

        var masked = rule.Kind switch
        {
            MaskingKind.None => value,
            MaskingKind.KeepEnds => KeepEnds(value, rule.KeepFirst, rule.KeepLast),
            MaskingKind.Pseudonym => Pseudonymise(value, pseudonymKey),
            MaskingKind.GeneraliseDateToYear => GeneraliseDate(value, toMonth: false),
            MaskingKind.GeneraliseDateToMonth => GeneraliseDate(value, toMonth: true),
            MaskingKind.GeneraliseAddressToDistrict => GeneraliseAddress(value),
            MaskingKind.KeepEmailDomain => KeepEmailDomain(value, rule.KeepFirst),
            MaskingKind.Suppress => null,
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule.Kind, "Unknown masking kind."),
        };

        return masked is not null && rule.GroupSize > 0 ? Group(masked, rule.GroupSize) : masked;
    }

    /// <summary>
    /// Keyed HMAC-SHA256 as lower-case hex, truncated to 16 characters (64 bits): short enough for
    /// a display column, long enough that collisions stay negligible at the row counts of one
    /// dataset, and the same value under the same key still joins across datasets. Without the key
    /// a pseudonym cannot be recomputed by enumerating all ID or phone numbers.
    /// </summary>
    public static string Pseudonymise(string value, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (key.IsEmpty)
        {
            throw new ArgumentException("A pseudonym key is required.", nameof(key));
        }

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(value), mac);
        return Convert.ToHexStringLower(mac[..8]);
    }

    /// <summary>
    /// Keeps the administrative part of an address up to and including the first 区/县/旗
    /// (市辖区 included; 自治区, 地区, 小区 and 社区 are skipped), else the first six characters.
    /// Administrative names have no digits, so nothing from a house number on is ever kept.
    /// </summary>
    public static string GeneraliseAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var elements = TextElements(address);
        var firstDigit = elements.FindIndex(e => e.Length == 1 && char.IsDigit(e[0]));
        var limit = firstDigit < 0 ? elements.Count : firstDigit;
        for (var i = 0; i < limit; i++)
        {
            var e = elements[i];
            if (e is "县" or "旗" || (e == "区" && (i == 0 || elements[i - 1] is not ("治" or "地" or "小" or "社"))))
            {
                return MaskAfter(elements, i + 1);
            }
        }

        return limit >= elements.Count
            ? MaskEnds(elements, FallbackAdministrativeLength, 0)
            : MaskAfter(elements, Math.Min(FallbackAdministrativeLength, limit));
    }

    private static string KeepEnds(string value, int first, int last) => MaskEnds(TextElements(value), first, last);

    private static string KeepEmailDomain(string value, int first)
    {
        var at = value.LastIndexOf('@');
        return at < 0 ? KeepEnds(value, first, 0) : KeepEnds(value[..at], first, 0) + value[at..];
    }

    private static string GeneraliseDate(string value, bool toMonth)
    {
        var match = DatePattern().Match(value);
        if (match.Success)
        {
            var year = match.Groups["y"].Value;
            if (!toMonth)
            {
                return year;
            }

            if (match.Groups["m"].Success && int.Parse(match.Groups["m"].Value, CultureInfo.InvariantCulture) is >= 1 and <= 12 and var month)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{year}-{month:00}");
            }
        }

        return new string('*', TextElements(value).Count);
    }

    private static string MaskEnds(List<string> elements, int first, int last)
    {
        var n = elements.Count;
        if (first + last >= n)
        {
            // Too short for the rule: keep at most half, so a short value is never shown whole.
            first = Math.Min(first, (n - 1) / 2);
            last = Math.Min(last, (n - 1 - first) / 2);
        }

        var sb = new StringBuilder();
        for (var i = 0; i < n; i++)
        {
            sb.Append(i < first || i >= n - last ? elements[i] : Star);
        }

        return sb.ToString();
    }

    private static string MaskAfter(List<string> elements, int keep)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < elements.Count; i++)
        {
            sb.Append(i < keep ? elements[i] : Star);
        }

        return sb.ToString();
    }

    private static string Group(string value, int size)
    {
        var elements = TextElements(value);
        var sb = new StringBuilder();
        for (var i = 0; i < elements.Count; i++)
        {
            if (i > 0 && i % size == 0)
            {
                sb.Append(' ');
            }

            sb.Append(elements[i]);
        }

        return sb.ToString();
    }

    private static List<string> TextElements(string value)
    {
        var list = new List<string>(value.Length);
        var e = StringInfo.GetTextElementEnumerator(value);
        while (e.MoveNext())
        {
            list.Add(e.GetTextElement());
        }

        return list;
    }

    [GeneratedRegex(@"^\s*(?<y>[0-9]{4})(?:[-/.年]?(?<m>[0-9]{1,2}))?", RegexOptions.CultureInvariant)]
    private static partial Regex DatePattern();
}
