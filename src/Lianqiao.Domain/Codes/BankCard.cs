namespace Lianqiao.Domain.Codes;

/// <summary>Bank card number: 13–19 digits passing the Luhn check. Spaces and hyphens are ignored.</summary>
public static class BankCard
{
    public static CodeValidation Validate(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CodeValidation.Required("银行卡号", "Bank card number");
        }

        var digits = string.Concat(value.Where(c => c is not (' ' or '-')));
        if (!ResidentIdNumber.IsDigits(digits))
        {
            return CodeValidation.Invalid(CodeReason.Format, "银行卡号只能包含数字", "Bank card number must contain digits only");
        }

        if (digits.Length is < 13 or > 19)
        {
            return CodeValidation.Invalid(CodeReason.Length, "银行卡号应为13–19位", "Bank card number must have 13-19 digits");
        }

        return PassesLuhn(digits)
            ? CodeValidation.Valid(digits)
            : CodeValidation.Invalid(CodeReason.Checksum, "银行卡号校验位错误", "Bank card number fails the Luhn check");
    }

    public static bool PassesLuhn(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
        }

        return sum % 10 == 0;
    }
}
