using Lianqiao.Domain.Codes;

namespace Lianqiao.Domain.Tests.Codes;

public class ContactAndCardTests
{
    [Theory]
    [InlineData("4111111111111111", "4111111111111111")]
    [InlineData("6222021234567890128", "6222021234567890128")]
    [InlineData("4222222222222", "4222222222222")]
    [InlineData("6222 0212 3456 7890 128", "6222021234567890128")]
    public void Bank_card_passing_luhn_is_valid(string card, string normalised) =>
        Assert.Equal(normalised, BankCard.Validate(card).Value);

    [Theory]
    [InlineData("6222021234567890123", CodeReason.Checksum)]
    [InlineData("411111111111", CodeReason.Length)]
    [InlineData("41111111111111111111", CodeReason.Length)]
    [InlineData("4111a11111111111", CodeReason.Format)]
    public void Bank_card_is_rejected_with_its_reason(string card, string reason) =>
        Assert.Equal(reason, BankCard.Validate(card).Reason);

    [Theory]
    [InlineData("13812345678")]
    [InlineData("+8613812345678")]
    [InlineData("8613812345678")]
    [InlineData("+86 138-1234-5678")]
    public void Mobile_number_with_optional_country_prefix_is_valid(string number) =>
        Assert.Equal("13812345678", MobilePhone.Validate(number).Value);

    [Theory]
    [InlineData("12812345678")]
    [InlineData("1381234567")]
    [InlineData("+8513812345678")]
    [InlineData("010-12345678")]
    public void Mobile_number_not_matching_the_mainland_pattern_is_rejected(string number) =>
        Assert.Equal(CodeReason.Format, MobilePhone.Validate(number).Reason);

    [Theory]
    [InlineData("duan@126.com", "duan@126.com")]
    [InlineData("Li.Lei+data@Gov.CN", "Li.Lei+data@gov.cn")]
    [InlineData("张三@政务.中国", "张三@政务.中国")]
    public void Pragmatic_email_is_valid_and_domain_lower_cased(string email, string normalised) =>
        Assert.Equal(normalised, Email.Validate(email).Value);

    [Theory]
    [InlineData("plainaddress")]
    [InlineData("a@b")]
    [InlineData("a b@c.com")]
    [InlineData("a@@c.com")]
    [InlineData(".a@c.com")]
    [InlineData("a..b@c.com")]
    [InlineData("a@-c.com")]
    [InlineData("a@c..com")]
    public void Malformed_email_is_rejected(string email) =>
        Assert.Equal(CodeReason.Format, Email.Validate(email).Reason);
}
