using Lianqiao.Domain.Codes;

namespace Lianqiao.Domain.Tests.Codes;

public class ResidentIdNumberTests
{
    private static readonly DateOnly Today = new(2025, 6, 1);

    [Theory]
    [InlineData("11010519491231002X")]
    [InlineData("440524188001010014")]
    [InlineData("130503196704010016")]
    public void Well_formed_id_number_is_valid(string id) =>
        Assert.True(ResidentIdNumber.Validate(id, Today).IsValid);

    [Fact]
    public void Id_number_with_lower_case_x_is_valid_and_normalised_to_upper_case()
    {
        var result = ResidentIdNumber.Validate(" 11010519491231002x ", Today);

        Assert.True(result.IsValid);
        Assert.Equal("11010519491231002X", result.Value);
    }

    [Theory]
    [InlineData("11010520000229123")]
    [InlineData("11010520240229001")]
    public void Birth_date_of_29_February_in_a_leap_year_is_valid(string first17) =>
        Assert.True(ResidentIdNumber.Validate(WithCheck(first17), Today).IsValid);

    [Theory]
    [InlineData("11010519000229123")]
    [InlineData("11010520230229001")]
    public void Birth_date_of_29_February_outside_a_leap_year_is_rejected(string first17) =>
        Assert.Equal(CodeReason.BirthDate, ResidentIdNumber.Validate(WithCheck(first17), Today).Reason);

    [Theory]
    [InlineData("11010519901301001")]
    [InlineData("11010519900100001")]
    [InlineData("11010519900431001")]
    public void Impossible_birth_date_is_rejected(string first17) =>
        Assert.Equal(CodeReason.BirthDate, ResidentIdNumber.Validate(WithCheck(first17), Today).Reason);

    [Fact]
    public void Birth_date_after_today_is_rejected()
    {
        var id = WithCheck("11010520250602001");

        Assert.Equal(CodeReason.BirthDateInFuture, ResidentIdNumber.Validate(id, Today).Reason);
        Assert.True(ResidentIdNumber.Validate(id, new DateOnly(2025, 6, 2)).IsValid);
    }

    [Fact]
    public void Wrong_check_character_is_rejected_with_a_bilingual_message()
    {
        var result = ResidentIdNumber.Validate("110105194912310021", Today);

        Assert.False(result.IsValid);
        Assert.Equal(CodeReason.Checksum, result.Reason);
        Assert.Contains("校验码", result.MessageZh, StringComparison.Ordinal);
        Assert.Contains("check character", result.MessageEn, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00010519491231002")]
    [InlineData("16010519491231002")]
    [InlineData("90010519491231002")]
    public void Unknown_province_prefix_is_rejected(string first17) =>
        Assert.Equal(CodeReason.Region, ResidentIdNumber.Validate(WithCheck(first17), Today).Reason);

    [Fact]
    public void Obsolete_region_code_inside_a_known_province_is_accepted() =>
        Assert.True(ResidentIdNumber.Validate(WithCheck("11990019800101001"), Today).IsValid);

    [Theory]
    [InlineData(null, CodeReason.Required)]
    [InlineData("  ", CodeReason.Required)]
    [InlineData("1101051949123100", CodeReason.Length)]
    [InlineData("1101051949123100211", CodeReason.Length)]
    [InlineData("1101051949123100AX", CodeReason.Format)]
    [InlineData("11010519491231002Y", CodeReason.Format)]
    public void Malformed_id_number_is_rejected_with_its_reason(string? id, string reason) =>
        Assert.Equal(reason, ResidentIdNumber.Validate(id, Today).Reason);

    [Theory]
    [InlineData("11010519491231002", 'X')]
    [InlineData("44052418800101001", '4')]
    [InlineData("11010520000229123", '5')]
    public void Check_character_is_computed_with_iso_7064_mod_11_2(string first17, char expected) =>
        Assert.Equal(expected, ResidentIdNumber.ComputeCheckChar(first17));

    [Fact]
    public void Computing_a_check_character_needs_17_digits()
    {
        Assert.Throws<ArgumentException>(() => ResidentIdNumber.ComputeCheckChar("1101051949123100"));
        Assert.Throws<ArgumentException>(() => ResidentIdNumber.ComputeCheckChar("1101051949123100A"));
    }

    [Fact]
    public void Birth_date_and_gender_are_read_from_the_number()
    {
        Assert.Equal(new DateOnly(1949, 12, 31), ResidentIdNumber.GetBirthDate("11010519491231002X"));
        Assert.Equal(Gender.Female, ResidentIdNumber.GetGender("11010519491231002X"));
        Assert.Equal(Gender.Male, ResidentIdNumber.GetGender("440524188001010014"));
        Assert.Null(ResidentIdNumber.GetBirthDate("11010519491331002X"));
        Assert.Equal(Gender.Unknown, ResidentIdNumber.GetGender("123"));
    }

    [Fact]
    public void Legacy_15_digit_number_converts_to_18_digits()
    {
        Assert.True(ResidentIdNumber.TryConvertLegacy("130503670401001", out var converted));
        Assert.Equal("130503196704010016", converted);
        Assert.True(ResidentIdNumber.Validate(converted, Today).IsValid);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("13050367040100")]
    [InlineData("13050367023000A")]
    [InlineData("130503670230001")]
    public void Legacy_number_that_is_malformed_does_not_convert(string? legacy) =>
        Assert.False(ResidentIdNumber.TryConvertLegacy(legacy, out _));

    private static string WithCheck(string first17) => first17 + ResidentIdNumber.ComputeCheckChar(first17);
}
