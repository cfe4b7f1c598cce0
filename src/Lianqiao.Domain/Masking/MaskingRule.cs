namespace Lianqiao.Domain.Masking;

public enum MaskingKind
{
    None = 0,
    KeepEnds,
    Pseudonym,
    GeneraliseDateToYear,
    GeneraliseDateToMonth,
    GeneraliseAddressToDistrict,
    Suppress,

    /// <summary>Keeps <see cref="MaskingRule.KeepFirst"/> characters of the local part and the whole domain.</summary>
    KeepEmailDomain,
}

/// <summary>
/// How one value is masked. <see cref="GroupSize"/> &gt; 0 drops whitespace before masking and
/// regroups the output (bank cards are shown in groups of four).
/// </summary>
public sealed record MaskingRule
{
    public MaskingRule(MaskingKind kind, int keepFirst = 0, int keepLast = 0, int groupSize = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepFirst);
        ArgumentOutOfRangeException.ThrowIfNegative(keepLast);
        ArgumentOutOfRangeException.ThrowIfNegative(groupSize);
        Kind = kind;
        KeepFirst = keepFirst;
        KeepLast = keepLast;
        GroupSize = groupSize;
    }

    public MaskingKind Kind { get; }

    public int KeepFirst { get; }

    public int KeepLast { get; }

    public int GroupSize { get; }

    public static MaskingRule None { get; } = new(MaskingKind.None);

    public static MaskingRule Pseudonym { get; } = new(MaskingKind.Pseudonym);

    public static MaskingRule Suppress { get; } = new(MaskingKind.Suppress);

    public static MaskingRule DateToYear { get; } = new(MaskingKind.GeneraliseDateToYear);

    public static MaskingRule DateToMonth { get; } = new(MaskingKind.GeneraliseDateToMonth);

    public static MaskingRule AddressToDistrict { get; } = new(MaskingKind.GeneraliseAddressToDistrict);

    public static MaskingRule KeepEnds(int keepFirst, int keepLast, int groupSize = 0) =>
        new(MaskingKind.KeepEnds, keepFirst, keepLast, groupSize);

    public static MaskingRule EmailDomain(int keepFirst = 1) => new(MaskingKind.KeepEmailDomain, keepFirst);
}
