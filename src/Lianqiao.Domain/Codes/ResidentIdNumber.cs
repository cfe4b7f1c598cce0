using System.Diagnostics.CodeAnalysis;

namespace Lianqiao.Domain.Codes;

/// <summary>18-digit resident identity number, GB 11643-1999 (ISO 7064 MOD 11-2).</summary>
public static class ResidentIdNumber
{
    private static readonly int[] Weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string CheckChars = "10X98765432";

    // Obsolete region codes stay valid, so only the province prefix is checked.
    private static readonly HashSet<int> Provinces =
    [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
        41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
    ];

    public static CodeValidation Validate(string? value, DateOnly today)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CodeValidation.Required("身份证号码", "ID number");
        }

        var id = value.Trim().ToUpperInvariant();
        if (id.Length != 18)
        {
            return CodeValidation.Invalid(CodeReason.Length, "身份证号码应为18位", "ID number must have 18 characters");
        }

        if (!IsDigits(id.AsSpan(0, 17)) || !(char.IsAsciiDigit(id[17]) || id[17] == 'X'))
        {
            return CodeValidation.Invalid(CodeReason.Format, "身份证号码前17位应为数字，末位为数字或X", "ID number must be 17 digits followed by a digit or X");
        }

        if (!Provinces.Contains(((id[0] - '0') * 10) + (id[1] - '0')))
        {
            return CodeValidation.Invalid(CodeReason.Region, "身份证号码的省级行政区划代码无效", "ID number has an unknown province code");
        }

        if (!TryParseDate(id.AsSpan(6, 8), out var birth))
        {
            return CodeValidation.Invalid(CodeReason.BirthDate, "身份证号码中的出生日期无效", "ID number contains an invalid birth date");
        }

        if (birth > today)
        {
            return CodeValidation.Invalid(CodeReason.BirthDateInFuture, "身份证号码中的出生日期晚于今天", "ID number contains a birth date in the future");
        }

        if (ComputeCheckChar(id.AsSpan(0, 17)) != id[17])
        {
            return CodeValidation.Invalid(CodeReason.Checksum, "身份证号码校验码错误", "ID number check character is wrong");
        }

        return CodeValidation.Valid(id);
    }

    /// <summary>The check character for the first 17 digits.</summary>
    public static char ComputeCheckChar(ReadOnlySpan<char> first17)
    {
        if (first17.Length != 17 || !IsDigits(first17))
        {
            throw new ArgumentException("Expected 17 digits.", nameof(first17));
        }

        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            sum += (first17[i] - '0') * Weights[i];
        }

        return CheckChars[sum % 11];
    }

    /// <summary>Birth date encoded in positions 7–14, or null when the number is too short or the date is not real.</summary>
    public static DateOnly? GetBirthDate(string? id) =>
        id is { Length: 18 } && TryParseDate(id.AsSpan(6, 8), out var date) ? date : null;

    /// <summary>The 17th digit is odd for men and even for women.</summary>
    public static Gender GetGender(string? id) =>
        id is { Length: 18 } && char.IsAsciiDigit(id[16])
            ? ((id[16] - '0') % 2 == 1 ? Gender.Male : Gender.Female)
            : Gender.Unknown;

    /// <summary>Converts a legacy 15-digit number (YYMMDD, no check) by inserting "19" and appending the check character.</summary>
    public static bool TryConvertLegacy(string? legacy, [NotNullWhen(true)] out string? converted)
    {
        converted = null;
        var trimmed = legacy?.Trim();
        if (trimmed is not { Length: 15 } || !IsDigits(trimmed))
        {
            return false;
        }

        var body = string.Concat(trimmed.AsSpan(0, 6), "19", trimmed.AsSpan(6));
        if (!TryParseDate(body.AsSpan(6, 8), out _))
        {
            return false;
        }

        converted = body + ComputeCheckChar(body);
        return true;
    }

    private static bool TryParseDate(ReadOnlySpan<char> yyyymmdd, out DateOnly date)
    {
        date = default;
        if (!IsDigits(yyyymmdd))
        {
            return false;
        }

        var year = ParseInt(yyyymmdd[..4]);
        var month = ParseInt(yyyymmdd.Slice(4, 2));
        var day = ParseInt(yyyymmdd.Slice(6, 2));
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        date = new DateOnly(year, month, day);
        return true;
    }

    private static int ParseInt(ReadOnlySpan<char> digits)
    {
        var n = 0;
        foreach (var c in digits)
        {
            n = (n * 10) + (c - '0');
        }

        return n;
    }

    internal static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
