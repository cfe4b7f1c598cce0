namespace Lianqiao.Domain.Synthetic;

/// <summary>A county-level division: its GB/T 2260 code, city and name.</summary>
public sealed record SampleDistrict(string Code, string City, string Name)
{
    /// <summary>A few real districts, enough for demo data spread over several provinces.</summary>
    public static IReadOnlyList<SampleDistrict> All { get; } =
    [
        new("110108", "北京市", "海淀区"),
        new("110105", "北京市", "朝阳区"),
        new("310115", "上海市", "浦东新区"),
        new("320106", "南京市", "鼓楼区"),
        new("330106", "杭州市", "西湖区"),
        new("420106", "武汉市", "武昌区"),
        new("440106", "广州市", "天河区"),
        new("440305", "深圳市", "南山区"),
        new("510107", "成都市", "武侯区"),
        new("610113", "西安市", "雁塔区"),
    ];
}
