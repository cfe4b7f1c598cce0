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

        // Most values (ID numbers, phones, names, addresses) take the span path: one string instead of a builder and its copy.
        Span<char> masked = stackalloc char[MaxSpanLength];
        if (TryApply(rule, value, masked, pseudonymKey, out var written, out var suppressed))
        {
            return suppressed ? null : new string(masked[..written]);
        }

        return ApplyByTextElements(rule, value, pseudonymKey);
    }

    /// <summary>The longest value (in chars) <see cref="TryApply"/> masks; a destination of this size always suffices.</summary>
    public const int MaxSpanLength = 256;

    /// <summary>
    /// Masks one value into <paramref name="destination"/> without allocating, with exactly the output of
    /// <see cref="Apply"/>, when the value is one the span path covers: at most <see cref="MaxSpanLength"/> chars of printable
    /// ASCII and common Han (one text element per char) and a rule without regrouping or date parsing. Returns false
    /// otherwise (nothing written): the caller then uses <see cref="Apply"/>. <paramref name="suppressed"/> means the value
    /// leaves as null.
    /// </summary>
    public static bool TryApply(MaskingRule rule, ReadOnlySpan<char> value, Span<char> destination, ReadOnlySpan<byte> pseudonymKey,
        out int written, out bool suppressed)
    {
        ArgumentNullException.ThrowIfNull(rule);
        written = 0;
        suppressed = false;
        if (rule.GroupSize > 0 || value.Length > MaxSpanLength || destination.Length < Math.Max(value.Length, PseudonymLength))
        {
            return false;
        }

        switch (rule.Kind)
        {
            case MaskingKind.Suppress:
                suppressed = true;
                return true;
            case MaskingKind.Pseudonym:
                written = Pseudonymise(value, pseudonymKey, destination);
                return true;
            case MaskingKind.None:
                value.CopyTo(destination);
                written = value.Length;
                return true;
        }

        if (!IsOneElementPerChar(value))
        {
            return false;
        }

        switch (rule.Kind)
        {
            case MaskingKind.KeepEnds:
                written = MaskEnds(value, rule.KeepFirst, rule.KeepLast, destination);
                return true;
            case MaskingKind.GeneraliseAddressToDistrict:
                written = GeneraliseAddress(value, destination);
                return true;
            case MaskingKind.KeepEmailDomain:
                var at = value.LastIndexOf('@');
                if (at < 0)
                {
                    written = MaskEnds(value, rule.KeepFirst, 0, destination);
                    return true;
                }

                written = MaskEnds(value[..at], rule.KeepFirst, 0, destination);
                value[at..].CopyTo(destination[written..]);
                written += value.Length - at;
                return true;
            default:
                return false;   // dates (parsed from text) take the string path
        }
    }

    /// <summary>The text-element implementation behind <see cref="Apply"/>, for any value (and the reference the span path is tested against).</summary>
    internal static string? ApplyByTextElements(MaskingRule rule, string value, ReadOnlySpan<byte> pseudonymKey)
    {

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
        Span<char> hex = stackalloc char[PseudonymLength];
        return new string(hex[..Pseudonymise(value.AsSpan(), key, hex)]);
    }

    private const int PseudonymLength = 16;

    private static int Pseudonymise(ReadOnlySpan<char> value, ReadOnlySpan<byte> key, Span<char> destination)
    {
        if (key.IsEmpty)
        {
            throw new ArgumentException("A pseudonym key is required.", nameof(key));
        }

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        Span<byte> utf8 = length <= 256 ? stackalloc byte[256] : new byte[length];
        HMACSHA256.HashData(key, utf8[..Encoding.UTF8.GetBytes(value, utf8)], mac);
        Convert.TryToHexStringLower(mac[..(PseudonymLength / 2)], destination, out var written);
        return written;
    }

    /// <summary>
    /// Keeps the administrative part of an address up to and including the first 区/县/旗
    /// (市辖区 included; 自治区, 地区, 小区 and 社区 are skipped), else the first six characters.
    /// Administrative names have no digits, so nothing from a house number on is ever kept.
    /// </summary>
    public static string GeneraliseAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var elements = TextElements.Of(address);
        var limit = elements.Count;
        for (var i = 0; i < elements.Count; i++)
        {
            if (elements.IsDigit(i))
            {
                limit = i;
                break;
            }
        }

        for (var i = 0; i < limit; i++)
        {
            if (elements.Is(i, '县') || elements.Is(i, '旗')
                || (elements.Is(i, '区') && (i == 0 || !(elements.Is(i - 1, '治') || elements.Is(i - 1, '地') || elements.Is(i - 1, '小') || elements.Is(i - 1, '社')))))
            {
                return MaskAfter(elements, i + 1);
            }
        }

        return limit >= elements.Count
            ? MaskEnds(elements, FallbackAdministrativeLength, 0)
            : MaskAfter(elements, Math.Min(FallbackAdministrativeLength, limit));
    }

    private static string KeepEnds(string value, int first, int last) => MaskEnds(TextElements.Of(value), first, last);

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

        return new string('*', TextElements.Of(value).Count);
    }

    private static string MaskEnds(TextElements elements, int first, int last)
    {
        var n = elements.Count;
        if (first + last >= n)
        {
            // Too short for the rule: keep at most half, so a short value is never shown whole.
            first = Math.Min(first, (n - 1) / 2);
            last = Math.Min(last, (n - 1 - first) / 2);
        }

        var sb = new StringBuilder(elements.Text.Length);
        for (var i = 0; i < n; i++)
        {
            if (i < first || i >= n - last)
            {
                elements.AppendTo(sb, i);
            }
            else
            {
                sb.Append(Star);
            }
        }

        return sb.ToString();
    }

    private static string MaskAfter(TextElements elements, int keep)
    {
        var sb = new StringBuilder(elements.Text.Length);
        for (var i = 0; i < elements.Count; i++)
        {
            if (i < keep)
            {
                elements.AppendTo(sb, i);
            }
            else
            {
                sb.Append(Star);
            }
        }

        return sb.ToString();
    }

    private static string Group(string value, int size)
    {
        var elements = TextElements.Of(value);
        var sb = new StringBuilder(value.Length + (value.Length / Math.Max(size, 1)));
        for (var i = 0; i < elements.Count; i++)
        {
            if (i > 0 && i % size == 0)
            {
                sb.Append(' ');
            }

            elements.AppendTo(sb, i);
        }

        return sb.ToString();
    }

    /// <summary>The same test as <see cref="TextElements.Of"/>: such text has one text element per char.</summary>
    private static bool IsOneElementPerChar(ReadOnlySpan<char> text)
    {
        // ID numbers, phones and codes are printable ASCII: one vectorised scan decides them.
        if (!text.ContainsAnyExceptInRange(' ', '~'))
        {
            return true;
        }

        foreach (var c in text)
        {
            if (c is not ((>= ' ' and <= '~') or (>= '\u4E00' and <= '\u9FFF')))
            {
                return false;
            }
        }

        return true;
    }

    // The span forms below mirror GeneraliseAddress, MaskEnds and MaskAfter over text of one element per char.
    private static int GeneraliseAddress(ReadOnlySpan<char> address, Span<char> destination)
    {
        var limit = address.Length;
        for (var i = 0; i < address.Length; i++)
        {
            if (char.IsDigit(address[i]))
            {
                limit = i;
                break;
            }
        }

        for (var i = 0; i < limit; i++)
        {
            var c = address[i];
            if (c is '县' or '旗' || (c == '区' && (i == 0 || address[i - 1] is not ('治' or '地' or '小' or '社'))))
            {
                return MaskAfter(address, i + 1, destination);
            }
        }

        return limit >= address.Length
            ? MaskEnds(address, FallbackAdministrativeLength, 0, destination)
            : MaskAfter(address, Math.Min(FallbackAdministrativeLength, limit), destination);
    }

    private static int MaskEnds(ReadOnlySpan<char> value, int first, int last, Span<char> destination)
    {
        var n = value.Length;
        if (first + last >= n)
        {
            first = Math.Min(first, (n - 1) / 2);
            last = Math.Min(last, (n - 1 - first) / 2);
        }

        value[..first].CopyTo(destination);
        destination[first..(n - last)].Fill('*');
        value[(n - last)..].CopyTo(destination[(n - last)..]);
        return n;
    }

    private static int MaskAfter(ReadOnlySpan<char> value, int keep, Span<char> destination)
    {
        keep = Math.Min(keep, value.Length);
        value[..keep].CopyTo(destination);
        destination[keep..value.Length].Fill('*');
        return value.Length;
    }

    /// <summary>
    /// The text elements (user-perceived characters) of a value, as positions in it rather than one string each: masking
    /// runs on every masked value of every row that leaves, so it must not allocate per character.
    /// </summary>
    private readonly struct TextElements
    {
        private readonly int[]? starts;

        private TextElements(string text, int[]? starts)
        {
            Text = text;
            this.starts = starts;
        }

        public string Text { get; }

        public int Count => starts?.Length ?? Text.Length;

        /// <summary>
        /// Printable ASCII and the CJK Unified Ideographs are never joined to a neighbour (UAX #29: none is Extend, Prepend,
        /// SpacingMark, Hangul or a regional indicator, and CR is not among them), so such text has one element per char
        /// and needs no segmentation, which covers nearly every ID number, phone, name and address.
        /// </summary>
        public static TextElements Of(string text)
        {
            foreach (var c in text)
            {
                if (c is not ((>= ' ' and <= '~') or (>= '\u4E00' and <= '\u9FFF')))
                {
                    return new TextElements(text, Segment(text));
                }
            }

            return new TextElements(text, null);
        }

        private static int[] Segment(string text)
        {
            var starts = new List<int>(text.Length);
            for (var at = 0; at < text.Length; at += StringInfo.GetNextTextElementLength(text, at))
            {
                starts.Add(at);
            }

            return [.. starts];
        }

        public bool Is(int i, char c) => Length(i) == 1 && Text[Start(i)] == c;

        public bool IsDigit(int i) => Length(i) == 1 && char.IsDigit(Text[Start(i)]);

        public void AppendTo(StringBuilder sb, int i) => sb.Append(Text, Start(i), Length(i));

        private int Start(int i) => starts?[i] ?? i;

        private int Length(int i) => starts is null ? 1 : (i + 1 < starts.Length ? starts[i + 1] : Text.Length) - starts[i];
    }

    [GeneratedRegex(@"^\s*(?<y>[0-9]{4})(?:[-/.年]?(?<m>[0-9]{1,2}))?", RegexOptions.CultureInvariant)]
    private static partial Regex DatePattern();
}
