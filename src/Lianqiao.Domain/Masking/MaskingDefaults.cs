namespace Lianqiao.Domain.Masking;

/// <summary>What an information item holds, as far as masking is concerned.</summary>
public enum ItemKind
{
    Other = 0,
    PersonName,
    IdNumber,
    Mobile,
    Landline,
    Address,
    Email,
    BankCard,
    LicensePlate,
    BirthDate,
}

/// <summary>Display-masking conventions of common government practice (standards.md §5).</summary>
public static class MaskingDefaults
{
    private static readonly MaskingRule PersonName = MaskingRule.KeepEnds(1, 0);
    private static readonly MaskingRule IdNumber = MaskingRule.KeepEnds(6, 4);
    private static readonly MaskingRule Mobile = MaskingRule.KeepEnds(3, 4);
    private static readonly MaskingRule Landline = MaskingRule.KeepEnds(4, 2);
    private static readonly MaskingRule Email = MaskingRule.EmailDomain(1);
    private static readonly MaskingRule BankCard = MaskingRule.KeepEnds(4, 4, groupSize: 4);
    private static readonly MaskingRule LicensePlate = MaskingRule.KeepEnds(3, 1);

    /// <summary>The default rule; <see cref="ItemKind.Other"/> is left unmasked.</summary>
    public static MaskingRule For(ItemKind kind) => kind switch
    {
        ItemKind.PersonName => PersonName,
        ItemKind.IdNumber => IdNumber,
        ItemKind.Mobile => Mobile,
        ItemKind.Landline => Landline,
        ItemKind.Address => MaskingRule.AddressToDistrict,
        ItemKind.Email => Email,
        ItemKind.BankCard => BankCard,
        ItemKind.LicensePlate => LicensePlate,
        ItemKind.BirthDate => MaskingRule.DateToYear,
        _ => MaskingRule.None,
    };
}
