using System.Text.RegularExpressions;

namespace Lianqiao.Domain.Codes;

/// <summary>
/// A pragmatic address check: one @, no whitespace, a dotted domain of letter/digit/hyphen labels.
/// Full RFC 5322 accepts addresses that no mail system in use here delivers to.
/// </summary>
public static partial class Email
{
    public static CodeValidation Validate(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CodeValidation.Required("电子邮箱", "Email");
        }

        var email = value.Trim();
        var at = email.LastIndexOf('@');
        if (email.Length > 254 || at is < 1 or > 64 || !Pattern().IsMatch(email))
        {
            return CodeValidation.Invalid(CodeReason.Format, "电子邮箱格式无效", "Email address is not valid");
        }

        // Domains are case-insensitive; local parts are kept as typed.
        return CodeValidation.Valid(string.Concat(email.AsSpan(0, at + 1), email[(at + 1)..].ToLowerInvariant()));
    }

    [GeneratedRegex(@"^(?!\.)(?!.*\.\.)[^@\s""(),:;<>\[\\\]]+(?<!\.)@(?:(?!-)[\p{L}\p{N}-]{1,63}(?<!-)\.)+\p{L}{2,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
