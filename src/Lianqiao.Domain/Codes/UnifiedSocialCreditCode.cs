namespace Lianqiao.Domain.Codes;

/// <summary>18-character unified social credit code, GB 32100-2015.</summary>
public static class UnifiedSocialCreditCode
{
    /// <summary>Characters with values 0–30; I, O, Z, S and V are excluded.</summary>
    public const string Charset = "0123456789ABCDEFGHJKLMNPQRTUWXY";

    private static readonly int[] Weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

    public static CodeValidation Validate(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CodeValidation.Required("统一社会信用代码", "Unified social credit code");
        }

        var code = value.Trim().ToUpperInvariant();
        if (code.Length != 18)
        {
            return CodeValidation.Invalid(CodeReason.Length, "统一社会信用代码应为18位", "Unified social credit code must have 18 characters");
        }

        if (!IsFormat(code))
        {
            return CodeValidation.Invalid(CodeReason.Format, "统一社会信用代码含有无效字符或第3–8位不是数字", "Unified social credit code has invalid characters or positions 3-8 are not digits");
        }

        if (ComputeCheckChar(code.AsSpan(0, 17)) != code[17])
        {
            return CodeValidation.Invalid(CodeReason.Checksum, "统一社会信用代码校验码错误", "Unified social credit code check character is wrong");
        }

        if (!OrganizationCode.Validate(code.Substring(8, 9)).IsValid)
        {
            return CodeValidation.Invalid(CodeReason.OrganizationCode, "统一社会信用代码第9–17位不是有效的组织机构代码", "Positions 9-17 of the unified social credit code are not a valid organization code");
        }

        return CodeValidation.Valid(code);
    }

    public static char ComputeCheckChar(ReadOnlySpan<char> first17)
    {
        if (first17.Length != 17)
        {
            throw new ArgumentException("Expected 17 characters.", nameof(first17));
        }

        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            var v = Charset.IndexOf(first17[i], StringComparison.Ordinal);
            if (v < 0)
            {
                throw new ArgumentException($"'{first17[i]}' is not in the credit-code character set.", nameof(first17));
            }

            sum += v * Weights[i];
        }

        // 31 - (S mod 31) is 31 when S is a multiple of 31, and the standard maps that to '0'.
        return Charset[(31 - (sum % 31)) % 31];
    }

    private static bool IsFormat(string code)
    {
        for (var i = 0; i < code.Length; i++)
        {
            var ok = i is >= 2 and <= 7
                ? char.IsAsciiDigit(code[i])
                : Charset.Contains(code[i], StringComparison.Ordinal);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
