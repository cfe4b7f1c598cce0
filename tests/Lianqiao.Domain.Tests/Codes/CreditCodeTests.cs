using Lianqiao.Domain.Codes;

namespace Lianqiao.Domain.Tests.Codes;

public class CreditCodeTests
{
    [Theory]
    [InlineData("91350100M000100Y43")]
    [InlineData("91110108551385082Q")]
    [InlineData("91440300MA5ELPB95W")]
    public void Well_formed_credit_code_is_valid(string code) =>
        Assert.True(UnifiedSocialCreditCode.Validate(code).IsValid);

    [Theory]
    [InlineData("9111010894Y6W19290")]
    [InlineData("911101086JWC69R360")]
    public void Credit_code_whose_check_character_is_0_is_valid(string code)
    {
        Assert.Equal('0', UnifiedSocialCreditCode.ComputeCheckChar(code.AsSpan(0, 17)));
        Assert.True(UnifiedSocialCreditCode.Validate(code).IsValid);
    }

    [Fact]
    public void Lower_case_credit_code_is_normalised() =>
        Assert.Equal("91350100M000100Y43", UnifiedSocialCreditCode.Validate("91350100m000100y43").Value);

    [Fact]
    public void Wrong_check_character_is_rejected() =>
        Assert.Equal(CodeReason.Checksum, UnifiedSocialCreditCode.Validate("91350100M000100Y44").Reason);

    [Theory]
    [InlineData("91350100M000100Y4I")]
    [InlineData("9135010OM000100Y43")]
    [InlineData("913501A0M000100Y43")]
    [InlineData("91350100M000100S43")]
    public void Character_outside_the_charset_or_letter_in_the_region_is_rejected(string code) =>
        Assert.Equal(CodeReason.Format, UnifiedSocialCreditCode.Validate(code).Reason);

    [Fact]
    public void Body_that_fails_the_organization_code_check_is_rejected()
    {
        var first17 = "91350100M000100Y5";
        var code = first17 + UnifiedSocialCreditCode.ComputeCheckChar(first17);

        Assert.Equal(CodeReason.OrganizationCode, UnifiedSocialCreditCode.Validate(code).Reason);
    }

    [Theory]
    [InlineData(null, CodeReason.Required)]
    [InlineData("91350100M000100Y4", CodeReason.Length)]
    public void Malformed_credit_code_is_rejected_with_its_reason(string? code, string reason) =>
        Assert.Equal(reason, UnifiedSocialCreditCode.Validate(code).Reason);
}
