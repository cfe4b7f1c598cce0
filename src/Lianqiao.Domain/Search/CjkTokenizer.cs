using System.Globalization;
using System.Text;

namespace Lianqiao.Domain.Search;

/// <summary>
/// Tokens for Chinese full-text search without a dictionary: Latin words and digit runs whole,
/// runs of Han characters as overlapping bigrams. Input is NFKC-normalised first so full-width
/// letters and digits match their ASCII forms.
/// </summary>
public static class CjkTokenizer
{
    private enum Class
    {
        Separator,
        Letter,
        Digit,
        Han,
    }

    public static IEnumerable<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TokenizeCore(text);
    }

    /// <summary>
    /// The distinct tokens that a document must all contain to match the query. A one-character
    /// Han query yields that character, which only matches where it stood alone in the document
    /// unless the index is also searched by bigram prefix.
    /// </summary>
    public static IReadOnlyList<string> TokenizeQuery(string query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return TokenizeCore(query).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Tokens joined by single spaces, for a plain full-text index or a token table.</summary>
    public static string ToIndexText(string text) => string.Join(' ', Tokenize(text));

    private static IEnumerable<string> TokenizeCore(string text)
    {
        var normalised = text.Normalize(NormalizationForm.FormKC);
        var run = new List<Rune>();
        var runClass = Class.Separator;
        foreach (var rune in normalised.EnumerateRunes())
        {
            var c = Classify(rune, runClass);
            if (c != runClass && run.Count > 0)
            {
                foreach (var token in Emit(run, runClass))
                {
                    yield return token;
                }

                run.Clear();
            }

            runClass = c;
            if (c != Class.Separator)
            {
                run.Add(rune);
            }
        }

        foreach (var token in Emit(run, runClass))
        {
            yield return token;
        }
    }

    private static IEnumerable<string> Emit(List<Rune> run, Class runClass)
    {
        if (run.Count == 0)
        {
            yield break;
        }

        if (runClass != Class.Han)
        {
            var sb = new StringBuilder();
            foreach (var r in run)
            {
                sb.Append(Rune.ToLowerInvariant(r).ToString());
            }

            yield return sb.ToString();
            yield break;
        }

        if (run.Count == 1)
        {
            yield return run[0].ToString();
            yield break;
        }

        for (var i = 0; i + 1 < run.Count; i++)
        {
            yield return run[i].ToString() + run[i + 1].ToString();
        }
    }

    private static Class Classify(Rune rune, Class current)
    {
        if (IsHan(rune))
        {
            return Class.Han;
        }

        if (Rune.IsDigit(rune))
        {
            return Class.Digit;
        }

        if (Rune.IsLetter(rune))
        {
            return Class.Letter;
        }

        // Combining marks belong to the word they follow.
        var category = Rune.GetUnicodeCategory(rune);
        return current == Class.Letter && category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            ? Class.Letter
            : Class.Separator;
    }

    /// <summary>CJK unified and compatibility ideographs, 〇, and planes 2–3 (Extensions B–H).</summary>
    public static bool IsHan(Rune rune) => rune.Value switch
    {
        0x3007 => true,
        >= 0x3400 and <= 0x4DBF => true,
        >= 0x4E00 and <= 0x9FFF => true,
        >= 0xF900 and <= 0xFAFF => true,
        >= 0x20000 and <= 0x3FFFF => true,
        _ => false,
    };
}
