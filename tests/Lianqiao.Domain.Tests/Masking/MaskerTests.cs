using System.Text;
using Lianqiao.Domain.Masking;

namespace Lianqiao.Domain.Tests.Masking;

public class MaskerTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("test-pseudonym-key");

    // The examples of standards.md §5.
    [Theory]
    [InlineData(ItemKind.PersonName, "段正淳", "段**")]
    [InlineData(ItemKind.IdNumber, "440401199001011768", "440401********1768")]
    [InlineData(ItemKind.Mobile, "18049531999", "180****1999")]
    [InlineData(ItemKind.Landline, "09157518479", "0915*****79")]
    [InlineData(ItemKind.Email, "duan@126.com", "d***@126.com")]
    [InlineData(ItemKind.BankCard, "11011111222233333256", "1101 **** **** **** 3256")]
    [InlineData(ItemKind.LicensePlate, "苏D40000", "苏D4***0")]
    public void Default_rule_reproduces_the_display_convention(ItemKind kind, string value, string expected) =>
        Assert.Equal(expected, Masker.Apply(MaskingDefaults.For(kind), value, Key));

    // standards.md shows 北京市海淀区马******** (mask the last 8); the district rule is stricter and
    // keeps nothing past the district, so a long street part is never partly revealed.
    [Theory]
    [InlineData("北京市海淀区马连洼街道289号", "北京市海淀区*********")]
    [InlineData("上海市市辖区浦东新区世纪大道100号", "上海市市辖区************")]
    [InlineData("广西壮族自治区南宁市青秀区民族大道1号", "广西壮族自治区南宁市青秀区******")]
    [InlineData("内蒙古自治区呼伦贝尔市鄂温克族自治旗巴彦托海镇", "内蒙古自治区呼伦贝尔市鄂温克族自治旗*****")]
    [InlineData("浙江省淳安县千岛湖镇", "浙江省淳安县****")]
        public void Address_keeps_the_administrative_part_up_to_the_district(string address, string expected) =>
        Assert.Equal(expected, Masker.Apply(MaskingDefaults.For(ItemKind.Address), address, Key));

    [Theory]
    [InlineData("江苏省昆山市玉山镇前进路8号", "江苏省昆山市********")]
    [InlineData("阳光小区三栋五单元", "阳光小区三栋***")]
    [InlineData("阳光路12号", "阳光路***")]
    [InlineData("某村", "**")]
    public void Address_without_a_district_keeps_at_most_six_characters_and_nothing_from_the_house_number(string address, string expected) =>
        Assert.Equal(expected, Masker.GeneraliseAddress(address));

    [Fact]
    public void Two_character_name_keeps_the_surname() =>
        Assert.Equal("段*", Masker.Apply(MaskingDefaults.For(ItemKind.PersonName), "段誉", Key));

    [Fact]
    public void Han_characters_outside_the_bmp_count_as_one_character()
    {
        var name = "𠀋𠀌𠀍";

        Assert.Equal("𠀋**", Masker.Apply(MaskingRule.KeepEnds(1, 0), name, Key));
    }

    // Text outside printable ASCII and the common Han block is segmented into text elements; the rest is one per char.
    [Theory]
    [InlineData("Zoe\u0301Li", 1, 1, "Z***i")]          // e + combining acute is one element
    [InlineData("王𠀋明", 1, 1, "王*明")]                  // a surrogate pair in the middle
    [InlineData("1\r\n234", 1, 1, "1***4")]              // CR LF is one element of five
    public void Characters_are_text_elements_whatever_the_script(string value, int first, int last, string expected) =>
        Assert.Equal(expected, Masker.Apply(MaskingRule.KeepEnds(first, last), value, Key));

    [Fact]
    public void Address_with_a_character_outside_the_bmp_still_keeps_up_to_the_district() =>
        Assert.Equal("𠀋城市海淀区*****", Masker.GeneraliseAddress("𠀋城市海淀区马连洼街道"));

    [Theory]
    [InlineData("段", "*")]
    [InlineData("12345", "12**5")]
    [InlineData("123", "1**")]
    public void Value_shorter_than_the_kept_ends_is_never_shown_whole(string value, string expected) =>
        Assert.Equal(expected, Masker.Apply(MaskingRule.KeepEnds(6, 4), value, Key));

    [Fact]
    public void Pseudonym_is_16_lower_case_hex_characters_stable_per_key()
    {
        var a = Masker.Apply(MaskingRule.Pseudonym, "11010519491231002X", Key);
        var again = Masker.Apply(MaskingRule.Pseudonym, "11010519491231002X", Key);
        var otherKey = Masker.Apply(MaskingRule.Pseudonym, "11010519491231002X", "another-key"u8);

        Assert.Matches("^[0-9a-f]{16}$", a);
        Assert.Equal(a, again);
        Assert.NotEqual(a, otherKey);
    }

    [Fact]
    public void Pseudonym_is_the_truncated_hmac_sha256() =>
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
        Assert.Equal("5bdcc146bf60754e", Masker.Pseudonymise("what do ya want for nothing?", "Jefe"u8));

    [Fact]
    public void Pseudonym_without_a_key_is_refused() =>
        Assert.Throws<ArgumentException>(() => Masker.Apply(MaskingRule.Pseudonym, "x", ReadOnlySpan<byte>.Empty));

    [Theory]
    [InlineData("1990-05-12", "1990", "1990-05")]
    [InlineData("19900512", "1990", "1990-05")]
    [InlineData("1990/5/12", "1990", "1990-05")]
    [InlineData("1990年5月12日", "1990", "1990-05")]
    [InlineData("1990-05-12T08:30:00", "1990", "1990-05")]
    public void Date_generalises_to_year_or_month(string date, string year, string month)
    {
        Assert.Equal(year, Masker.Apply(MaskingRule.DateToYear, date, Key));
        Assert.Equal(month, Masker.Apply(MaskingRule.DateToMonth, date, Key));
    }

    [Theory]
    [InlineData("unknown")]
    [InlineData("1990-13-01")]
    public void Unparseable_date_is_masked_whole(string value) =>
        Assert.Equal(new string('*', value.Length), Masker.Apply(MaskingRule.DateToMonth, value, Key));

    [Fact]
    public void Suppression_and_null_yield_null()
    {
        Assert.Null(Masker.Apply(MaskingRule.Suppress, "secret", Key));
        Assert.Null(Masker.Apply(MaskingRule.KeepEnds(1, 1), null, Key));
    }

    [Fact]
    public void None_and_other_items_pass_through() =>
        Assert.Equal("公开数据", Masker.Apply(MaskingDefaults.For(ItemKind.Other), "公开数据", Key));

    [Fact]
    public void Bank_card_typed_with_spaces_is_regrouped() =>
        Assert.Equal("6222 **** **** ***0 128", Masker.Apply(MaskingDefaults.For(ItemKind.BankCard), "6222 0212 3456 7890 128", Key));

    [Fact]
    public void Email_with_one_character_local_part_masks_it() =>
        Assert.Equal("*@126.com", Masker.Apply(MaskingDefaults.For(ItemKind.Email), "d@126.com", Key));

    [Fact]
    public void Negative_keep_counts_are_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MaskingRule.KeepEnds(-1, 0));

    [Fact]
    public void Span_path_masks_exactly_as_the_text_element_path()
    {
        // Random values from the characters the span path covers (and a few it hands back), under every rule.
        const string alphabet = "0123456789XABCxyz@.-_ 省市区县旗自治地小社村路号栋张王李段正淳广东天河";
        MaskingRule[] rules =
        [
            MaskingRule.KeepEnds(6, 4), MaskingRule.KeepEnds(1, 0), MaskingRule.KeepEnds(3, 4), MaskingRule.KeepEnds(0, 0), MaskingRule.KeepEnds(9, 9),
            MaskingRule.AddressToDistrict, MaskingRule.EmailDomain(1), MaskingRule.EmailDomain(3), MaskingRule.Pseudonym, MaskingRule.Suppress,
            MaskingRule.None, MaskingRule.DateToYear, MaskingRule.KeepEnds(4, 4, groupSize: 4),
        ];
        var random = new Random(7);
        var covered = 0;
        Span<char> destination = stackalloc char[Masker.MaxSpanLength];
        for (var n = 0; n < 20_000; n++)
        {
            var chars = new char[random.Next(0, 40)];
            for (var i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
            if (n % 50 == 0 && chars.Length > 0) chars[random.Next(chars.Length)] = '\u00E9';   // outside the span path's characters
            var value = new string(chars);
            foreach (var rule in rules)
            {
                var expected = Masker.ApplyByTextElements(rule, value, Key);
                if (Masker.TryApply(rule, value, destination, Key, out var written, out var suppressed))
                {
                    covered++;
                    Assert.Equal(expected, suppressed ? null : new string(destination[..written]));
                }

                Assert.Equal(expected, Masker.Apply(rule, value, Key));
            }
        }

        Assert.True(covered > 200_000, $"the span path took only {covered} values");
    }

    [Fact]
    public void Span_path_leaves_what_it_does_not_cover_to_the_text_element_path()
    {
        Span<char> destination = stackalloc char[Masker.MaxSpanLength];
        Assert.False(Masker.TryApply(MaskingRule.KeepEnds(1, 1), "𠀀𠀁𠀂", destination, Key, out _, out _));
        Assert.False(Masker.TryApply(MaskingRule.DateToYear, "1990-01-02", destination, Key, out _, out _));
        Assert.False(Masker.TryApply(MaskingRule.KeepEnds(4, 4, groupSize: 4), "6222021234567890", destination, Key, out _, out _));
        Assert.False(Masker.TryApply(MaskingRule.KeepEnds(1, 1), new string('x', Masker.MaxSpanLength + 1), destination, Key, out _, out _));
        Assert.Equal("𠀀*𠀂", Masker.Apply(MaskingRule.KeepEnds(1, 1), "𠀀𠀁𠀂", Key));
    }
}
