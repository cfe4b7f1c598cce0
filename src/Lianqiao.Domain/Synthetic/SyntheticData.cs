using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Lianqiao.Domain.Codes;

namespace Lianqiao.Domain.Synthetic;

/// <summary>
/// Deterministic synthetic personal and organisation data: the same seed gives the same values,
/// and every generated code passes the validators in <see cref="Codes"/>. Not for security use.
/// </summary>
[SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification = "Seeded and reproducible by design; never used for secrets.")]
public sealed class SyntheticData(int seed)
{
    private const string Surnames =
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";

    private static readonly string[] CompoundSurnames = ["欧阳", "司马", "诸葛", "上官", "东方"];

    private const string GivenNameChars =
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚英华慧建国玉萍红娥玲芬燕彬鑫斌宇浩凯秀梅鹏辉晨欣怡婷雪琳博文轩子涵睿泽昊然思雨嘉豪佳";

    private const string RoadChars = "人民解放建设中山和平文化新华胜利长江黄河朝阳光明幸福振兴东风友谊";

    private static readonly string[] MobilePrefixes =
    [
        "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
        "157", "158", "159", "166", "173", "177", "180", "181", "182", "183", "186", "187", "188", "189", "191", "199",
    ];

    // 登记管理部门 + 机构类别 pairs from GB 32100 that all sources agree on.
    private static readonly string[] CreditCodePrefixes = ["11", "12", "13", "19", "51", "52", "53", "59", "91", "92", "93"];

    private readonly Random random = new(seed);

    public string PersonName()
    {
        var surname = random.Next(20) == 0
            ? CompoundSurnames[random.Next(CompoundSurnames.Length)]
            : Surnames[random.Next(Surnames.Length)].ToString();
        var given = GivenNameChars[random.Next(GivenNameChars.Length)].ToString();
        return random.Next(3) == 0 ? surname + given : surname + given + GivenNameChars[random.Next(GivenNameChars.Length)];
    }

    public DateOnly Date(DateOnly from, DateOnly to)
    {
        if (to < from)
        {
            throw new ArgumentException("The range ends before it starts.", nameof(to));
        }

        return from.AddDays(random.Next(to.DayNumber - from.DayNumber + 1));
    }

    /// <summary>A valid 18-digit ID number for a 6-digit region code and a birth date in [bornFrom, bornTo].</summary>
    public string IdNumber(string regionCode, DateOnly bornFrom, DateOnly bornTo, Gender gender = Gender.Unknown)
    {
        var body = IdBody(regionCode, bornFrom, bornTo, gender);
        return body + ResidentIdNumber.ComputeCheckChar(body);
    }

    /// <summary>Like <see cref="IdNumber"/> but with a wrong check character, for negative tests and dirty demo data.</summary>
    public string InvalidIdNumber(string regionCode, DateOnly bornFrom, DateOnly bornTo)
    {
        var body = IdBody(regionCode, bornFrom, bornTo, Gender.Unknown);
        const string checkChars = "0123456789X";
        var right = checkChars.IndexOf(ResidentIdNumber.ComputeCheckChar(body), StringComparison.Ordinal);
        return body + checkChars[(right + 1 + random.Next(checkChars.Length - 1)) % checkChars.Length];
    }

    /// <summary>A valid unified social credit code: random organisation body with its GB 11714 check, then C18.</summary>
    public string CreditCode(string regionCode)
    {
        RequireRegion(regionCode);
        var chars = new char[17];
        CreditCodePrefixes[random.Next(CreditCodePrefixes.Length)].CopyTo(chars);
        regionCode.CopyTo(0, chars, 2, 6);
        for (var i = 8; i < 16; i++)
        {
            chars[i] = UnifiedSocialCreditCode.Charset[random.Next(UnifiedSocialCreditCode.Charset.Length)];
        }

        chars[16] = OrganizationCode.ComputeCheckChar(chars.AsSpan(8, 8));
        return new string(chars) + UnifiedSocialCreditCode.ComputeCheckChar(chars);
    }

    public string MobileNumber() =>
        MobilePrefixes[random.Next(MobilePrefixes.Length)] + random.Next(100_000_000).ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>A street address inside the district, like 杭州市西湖区文化路88号.</summary>
    public string Address(string city, string district)
    {
        var road = string.Concat(RoadChars[random.Next(RoadChars.Length)], RoadChars[random.Next(RoadChars.Length)]);
        var suffix = random.Next(4) switch { 0 => "街", 1 => "大道", _ => "路" };
        return string.Create(CultureInfo.InvariantCulture, $"{city}{district}{road}{suffix}{random.Next(1, 1000)}号");
    }

    public string Address(SampleDistrict district)
    {
        ArgumentNullException.ThrowIfNull(district);
        return Address(district.City, district.Name);
    }

    public SampleDistrict District() => SampleDistrict.All[random.Next(SampleDistrict.All.Count)];

    private string IdBody(string regionCode, DateOnly bornFrom, DateOnly bornTo, Gender gender)
    {
        RequireRegion(regionCode);
        var birth = Date(bornFrom, bornTo);
        var sequence = random.Next(1000);
        if (gender != Gender.Unknown && (sequence % 2 == 1) != (gender == Gender.Male))
        {
            sequence ^= 1;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{regionCode}{birth:yyyyMMdd}{sequence:000}");
    }

    private static void RequireRegion(string regionCode)
    {
        ArgumentNullException.ThrowIfNull(regionCode);
        if (regionCode.Length != 6 || !ResidentIdNumber.IsDigits(regionCode))
        {
            throw new ArgumentException("Expected a 6-digit region code.", nameof(regionCode));
        }
    }
}
