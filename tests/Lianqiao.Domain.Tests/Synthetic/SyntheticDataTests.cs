using Lianqiao.Domain.Codes;
using Lianqiao.Domain.Synthetic;

namespace Lianqiao.Domain.Tests.Synthetic;

public class SyntheticDataTests
{
    private const int Count = 5000;
    private static readonly DateOnly Today = new(2025, 6, 1);
    private static readonly DateOnly BornFrom = new(1900, 1, 1);
    private static readonly DateOnly BornTo = new(2024, 12, 31);

    [Fact]
    public void Generated_id_numbers_are_valid_and_match_the_requested_region_range_and_gender()
    {
        var data = new SyntheticData(1);
        for (var i = 0; i < Count; i++)
        {
            var district = data.District();
            var gender = i % 2 == 0 ? Gender.Male : Gender.Female;
            var id = data.IdNumber(district.Code, BornFrom, BornTo, gender);

            Assert.True(ResidentIdNumber.Validate(id, Today).IsValid, id);
            Assert.StartsWith(district.Code, id, StringComparison.Ordinal);
            Assert.InRange(ResidentIdNumber.GetBirthDate(id)!.Value, BornFrom, BornTo);
            Assert.Equal(gender, ResidentIdNumber.GetGender(id));
        }
    }

    [Fact]
    public void Deliberately_invalid_id_numbers_fail_only_the_checksum()
    {
        var data = new SyntheticData(2);
        for (var i = 0; i < Count; i++)
        {
            var id = data.InvalidIdNumber("330106", BornFrom, BornTo);

            Assert.Equal(CodeReason.Checksum, ResidentIdNumber.Validate(id, Today).Reason);
        }
    }

    [Fact]
    public void Generated_credit_codes_are_valid_and_include_check_character_0()
    {
        var data = new SyntheticData(3);
        var checkChars = new HashSet<char>();
        for (var i = 0; i < Count; i++)
        {
            var code = data.CreditCode("440305");

            Assert.True(UnifiedSocialCreditCode.Validate(code).IsValid, code);
            checkChars.Add(code[17]);
        }

        Assert.Contains('0', checkChars);
    }

    [Fact]
    public void Generated_mobile_numbers_names_and_addresses_are_well_formed()
    {
        var data = new SyntheticData(4);
        for (var i = 0; i < Count; i++)
        {
            var mobile = data.MobileNumber();
            Assert.Equal(mobile, MobilePhone.Validate(mobile).Value);

            var name = data.PersonName();
            Assert.InRange(name.Length, 2, 4);

            var district = data.District();
            Assert.Matches($"^{district.City}{district.Name}\\p{{IsCJKUnifiedIdeographs}}{{2}}(路|街|大道)[1-9][0-9]{{0,2}}号$", data.Address(district));
        }
    }

    [Fact]
    public void Same_seed_gives_the_same_values()
    {
        var a = new SyntheticData(42);
        var b = new SyntheticData(42);

        Assert.Equal(
            [a.PersonName(), a.IdNumber("110108", BornFrom, BornTo), a.CreditCode("110108"), a.MobileNumber()],
            [b.PersonName(), b.IdNumber("110108", BornFrom, BornTo), b.CreditCode("110108"), b.MobileNumber()]);
    }

    [Fact]
    public void Region_code_must_be_six_digits() =>
        Assert.Throws<ArgumentException>(() => new SyntheticData(5).IdNumber("1101", BornFrom, BornTo));
}
