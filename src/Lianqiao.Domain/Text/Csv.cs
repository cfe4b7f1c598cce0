namespace Lianqiao.Domain.Text;

/// <summary>
/// RFC 4180 cells that a spreadsheet will not execute: a text cell starting with = + - @ (or a tab or
/// carriage return, which some spreadsheets skip before reading a formula) gets a leading apostrophe.
/// Every CSV the platform hands out goes through here.
/// </summary>
public static class Csv
{
    public static bool LooksLikeFormula(string value) =>
        value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r';

    /// <summary>A text cell: formula-guarded, then quoted when it holds a separator, a quote or a line break.</summary>
    public static string Cell(string? value, char separator = ',')
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (LooksLikeFormula(value)) value = "'" + value;
        var quote = value.Contains(separator, StringComparison.Ordinal) || value.AsSpan().IndexOfAny('"', '\r', '\n') >= 0;
        return quote ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    /// <summary>One line of cells, without the line break.</summary>
    public static string Line(IEnumerable<string?> cells, char separator = ',') =>
        string.Join(separator, cells.Select(c => Cell(c, separator)));
}
