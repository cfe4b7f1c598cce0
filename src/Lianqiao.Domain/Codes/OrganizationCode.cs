namespace Lianqiao.Domain.Codes;

/// <summary>Organization code, GB 11714-1997: 8 characters from 0–9/A–Z plus a check character, shown as XXXXXXXX-X.</summary>
public static class OrganizationCode
{
    private static readonly int[] Weights = [3, 7, 9, 10, 5, 8, 4, 2];

    /// <summary>Accepts the code with or without the hyphen; the normalised value has no hyphen.</summary>
    public static CodeValidation Validate(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CodeValidation.Required("组织机构代码", "Organization code");
        }

        var code = value.Trim().ToUpperInvariant();
        if (code.Length == 10 && code[8] == '-')
        {
            code = string.Concat(code.AsSpan(0, 8), code.AsSpan(9));
        }

        if (code.Length != 9)
        {
            return CodeValidation.Invalid(CodeReason.Length, "组织机构代码应为9位（可含连字符）", "Organization code must have 9 characters (hyphen optional)");
        }

        if (!IsBody(code.AsSpan(0, 8)) || !(char.IsAsciiDigit(code[8]) || code[8] == 'X'))
        {
            return CodeValidation.Invalid(CodeReason.Format, "组织机构代码只能包含数字和大写字母，校验码为数字或X", "Organization code must be digits and capital letters with a digit or X as check character");
        }

        if (ComputeCheckChar(code.AsSpan(0, 8)) != code[8])
        {
            return CodeValidation.Invalid(CodeReason.Checksum, "组织机构代码校验码错误", "Organization code check character is wrong");
        }

        return CodeValidation.Valid(code);
    }

    public static char ComputeCheckChar(ReadOnlySpan<char> body8)
    {
        if (body8.Length != 8 || !IsBody(body8))
        {
            throw new ArgumentException("Expected 8 characters from 0-9 and A-Z.", nameof(body8));
        }

        var sum = 0;
        for (var i = 0; i < 8; i++)
        {
            var c = body8[i];
            sum += (char.IsAsciiDigit(c) ? c - '0' : c - 'A' + 10) * Weights[i];
        }

        return (11 - (sum % 11)) switch
        {
            10 => 'X',
            11 => '0',
            var n => (char)('0' + n),
        };
    }

    /// <summary>The XXXXXXXX-X display form of a 9-character code.</summary>
    public static string Format(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return code.Length == 9 ? string.Concat(code.AsSpan(0, 8), "-", code.AsSpan(8)) : code;
    }

    private static bool IsBody(ReadOnlySpan<char> body)
    {
        foreach (var c in body)
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiLetterUpper(c))
            {
                return false;
            }
        }

        return true;
    }
}
