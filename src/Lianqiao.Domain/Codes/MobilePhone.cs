using System.Text.RegularExpressions;

namespace Lianqiao.Domain.Codes;

/// <summary>Mainland mobile number; an optional +86 or 86 prefix, spaces and hyphens are removed.</summary>
public static partial class MobilePhone
{
    public static CodeValidation Validate(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CodeValidation.Required("手机号码", "Mobile number");
        }

        // Checked once per cell in a load: a copy only when there is a separator to drop.
        var number = value.AsSpan().IndexOfAny(' ', '-') < 0 ? value : string.Concat(value.Where(c => c is not (' ' or '-')));
        if (number.StartsWith('+'))
        {
            number = number.StartsWith("+86", StringComparison.Ordinal) ? number[3..] : number;
        }
        else if (number.Length == 13 && number.StartsWith("86", StringComparison.Ordinal))
        {
            number = number[2..];
        }

        return Pattern().IsMatch(number)
            ? CodeValidation.Valid(number)
            : CodeValidation.Invalid(CodeReason.Format, "手机号码应为以13–19开头的11位数字", "Mobile number must be 11 digits starting with 13-19");
    }

    [GeneratedRegex(@"^1[3-9][0-9]{9}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
