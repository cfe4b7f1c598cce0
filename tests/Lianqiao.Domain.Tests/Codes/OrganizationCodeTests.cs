using Lianqiao.Domain.Codes;

namespace Lianqiao.Domain.Tests.Codes;

public class OrganizationCodeTests
{
    [Theory]
    [InlineData("D2143569-X", "D2143569X")]
    [InlineData("D2143569X", "D2143569X")]
    [InlineData("d2143569-x", "D2143569X")]
    [InlineData("BKB8WWNW-0", "BKB8WWNW0")]
    [InlineData("12345678-8", "123456788")]
    public void Organization_code_is_valid_with_or_without_hyphen(string code, string normalised) =>
        Assert.Equal(normalised, OrganizationCode.Validate(code).Value);

    [Theory]
    [InlineData("D2143569", 'X')]
    [InlineData("00000000", '0')]
    [InlineData("A0000001", '1')]
    public void Check_character_maps_10_to_X_and_11_to_0(string body, char expected) =>
        Assert.Equal(expected, OrganizationCode.ComputeCheckChar(body));

    [Theory]
    [InlineData("D2143569-1", CodeReason.Checksum)]
    [InlineData("D214356-9X", CodeReason.Length)]
    [InlineData("D21435_9-X", CodeReason.Format)]
    [InlineData("", CodeReason.Required)]
    public void Malformed_organization_code_is_rejected_with_its_reason(string code, string reason) =>
        Assert.Equal(reason, OrganizationCode.Validate(code).Reason);

    [Fact]
    public void Format_inserts_the_hyphen() => Assert.Equal("D2143569-X", OrganizationCode.Format("D2143569X"));
}
