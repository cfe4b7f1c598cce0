using System.Globalization;
using System.Text;

namespace Lianqiao.Domain.Query;

internal enum TokenKind { Identifier, String, Number, Keyword, Operator, LeftParen, RightParen, Comma, End }

internal readonly record struct Token(TokenKind Kind, string Text, int Position)
{
    public bool IsKeyword(string keyword) => Kind == TokenKind.Keyword && Text == keyword;
}

/// <summary>
/// Splits a query into tokens, and refuses outright anything that is not part of the language:
/// semicolons, comments, typographic quotes, control characters.
/// </summary>
internal static class QueryLexer
{
    static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
        { "AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL", "TRUE", "FALSE", "ASC", "DESC" };

    public static List<Token> Tokenize(string text, QueryLimits limits)
    {
        if (text.Length > limits.MaxLength)
            throw Error("too-long", limits.MaxLength, $"查询过长（最多 {limits.MaxLength} 个字符）", $"the query is longer than {limits.MaxLength} characters");
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c is ' ' or '\t' or '\r' or '\n' or '\u3000') { i++; continue; }
            var start = i;
            switch (c)
            {
                case '(': tokens.Add(new(TokenKind.LeftParen, "(", i++)); continue;
                case ')': tokens.Add(new(TokenKind.RightParen, ")", i++)); continue;
                case ',': tokens.Add(new(TokenKind.Comma, ",", i++)); continue;
                case '\'': tokens.Add(ReadString(text, ref i)); continue;
                case '"': tokens.Add(ReadQuotedIdentifier(text, ref i)); continue;
                case '=': tokens.Add(new(TokenKind.Operator, "=", i++)); continue;
                case '<':
                    i++;
                    if (i < text.Length && text[i] is '=' or '>') i++;
                    tokens.Add(new(TokenKind.Operator, text[start..i], start));
                    continue;
                case '>':
                    i++;
                    if (i < text.Length && text[i] == '=') i++;
                    tokens.Add(new(TokenKind.Operator, text[start..i], start));
                    continue;
                case '!':
                    if (i + 1 < text.Length && text[i + 1] == '=') { tokens.Add(new(TokenKind.Operator, "!=", i)); i += 2; continue; }
                    break;
                case '-':
                    if (i + 1 < text.Length && text[i + 1] == '-')
                        throw Error("comment", i, "不允许注释（--）", "comments (--) are not allowed");
                    if (i + 1 < text.Length && (char.IsAsciiDigit(text[i + 1]) || text[i + 1] == '.')) { tokens.Add(ReadNumber(text, ref i)); continue; }
                    break;
                case '/':
                    if (i + 1 < text.Length && text[i + 1] == '*')
                        throw Error("comment", i, "不允许注释（/* */）", "comments (/* */) are not allowed");
                    break;
                case ';':
                    throw Error("semicolon", i, "不允许分号：只能写一个筛选条件", "a semicolon is not allowed: write one filter, not statements");
                case '\u2018' or '\u2019' or '\u201C' or '\u201D' or '\uFF07' or '\uFF02' or '`' or '\u00B4':
                    throw Error("bad-quote", i, $"不支持的引号「{c}」：字符串请用英文单引号 '…'", $"unsupported quote '{c}': write strings in ASCII single quotes '…'");
            }
            if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1]))) { tokens.Add(ReadNumber(text, ref i)); continue; }
            if (IsIdentifierStart(c))
            {
                while (i < text.Length && IsIdentifierPart(text[i])) i++;
                var word = text[start..i];
                var upper = word.ToUpperInvariant();
                tokens.Add(Keywords.Contains(upper) ? new(TokenKind.Keyword, upper, start) : new(TokenKind.Identifier, word, start));
                continue;
            }
            if (c is >= '\uFF01' and <= '\uFF5E')
            {
                // What a Chinese input method types for ( ) , = < > : name the half-width character meant.
                var half = (char)(c - 0xFEE0);
                throw Error("full-width", i, $"第 {i + 1} 个字符是全角符号「{c}」，请改用半角「{half}」", $"full-width '{c}' at {i + 1}: use the ASCII '{half}'");
            }
            throw Error("unexpected-character", i, $"第 {i + 1} 个字符「{Printable(c)}」无法识别", $"unexpected character '{Printable(c)}' at {i + 1}");
        }
        tokens.Add(new(TokenKind.End, "", text.Length));
        return tokens;
    }

    static bool IsIdentifierStart(char c) => c == '_' || char.IsLetter(c);

    static bool IsIdentifierPart(char c) => c == '_' || char.IsLetterOrDigit(c);

    static string Printable(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.Surrogate
            ? $"U+{(int)c:X4}" : c.ToString();

    /// <summary>'…' with '' for a quote inside. A backslash is an ordinary character (LIKE gives it meaning later).</summary>
    static Token ReadString(string text, ref int i)
    {
        var start = i++;
        var value = new StringBuilder();
        while (true)
        {
            if (i >= text.Length)
                throw Error("unterminated-string", start, $"第 {start + 1} 个字符开始的字符串没有结束引号", $"the string starting at {start + 1} has no closing quote");
            var c = text[i];
            if (c == '\'')
            {
                if (i + 1 < text.Length && text[i + 1] == '\'') { value.Append('\''); i += 2; continue; }
                i++;
                return new Token(TokenKind.String, value.ToString(), start);
            }
            if (char.IsControl(c) && c is not '\t')
                throw Error("control-character", i, "字符串中不允许控制字符", "control characters are not allowed in strings");
            value.Append(c);
            i++;
        }
    }

    /// <summary>"…" names a column whose name is not a plain word; "" for a quote inside.</summary>
    static Token ReadQuotedIdentifier(string text, ref int i)
    {
        var start = i++;
        var value = new StringBuilder();
        while (true)
        {
            if (i >= text.Length)
                throw Error("unterminated-identifier", start, $"第 {start + 1} 个字符开始的字段名没有结束引号", $"the quoted column name starting at {start + 1} has no closing quote");
            var c = text[i];
            if (c == '"')
            {
                if (i + 1 < text.Length && text[i + 1] == '"') { value.Append('"'); i += 2; continue; }
                i++;
                if (value.Length == 0) throw Error("empty-identifier", start, "字段名不能为空", "a column name cannot be empty");
                return new Token(TokenKind.Identifier, value.ToString(), start);
            }
            if (char.IsControl(c)) throw Error("control-character", i, "字段名中不允许控制字符", "control characters are not allowed in column names");
            value.Append(c);
            i++;
        }
    }

    static Token ReadNumber(string text, ref int i)
    {
        var start = i;
        if (text[i] == '-') i++;
        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        if (i < text.Length && text[i] == '.')
        {
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        }
        if (i < text.Length && text[i] is 'e' or 'E')
        {
            i++;
            if (i < text.Length && text[i] is '+' or '-') i++;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        }
        var raw = text[start..i];
        if (i < text.Length && IsIdentifierPart(text[i]))
            throw Error("bad-number", start, $"第 {start + 1} 个字符处的数字格式错误", $"malformed number at {start + 1}");
        if (!decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            throw Error("bad-number", start, $"第 {start + 1} 个字符处的数字格式错误或超出范围", $"malformed or out-of-range number '{raw}' at {start + 1}");
        return new Token(TokenKind.Number, raw, start);
    }

    internal static QueryException Error(string code, int position, string zh, string en) => new(new QueryError(code, position, zh, en));
}
