using System.Diagnostics.CodeAnalysis;

namespace Lianqiao.Domain.Codes;

/// <summary>Outcome of checking a code: the normalised value when valid, otherwise a stable reason and a message in Chinese and English.</summary>
public sealed class CodeValidation
{
    private CodeValidation(string? value, string? reason, string? messageZh, string? messageEn)
    {
        Value = value;
        Reason = reason;
        MessageZh = messageZh;
        MessageEn = messageEn;
    }

    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Reason), nameof(MessageZh), nameof(MessageEn))]
    public bool IsValid => Reason is null;

    public string? Value { get; }

    /// <summary>One of the <see cref="CodeReason"/> constants.</summary>
    public string? Reason { get; }

    public string? MessageZh { get; }

    public string? MessageEn { get; }

    public static CodeValidation Valid(string value) => new(value, null, null, null);

    public static CodeValidation Invalid(string reason, string messageZh, string messageEn) =>
        new(null, reason, messageZh, messageEn);

    public override string ToString() => IsValid ? Value : $"{Reason}: {MessageZh} / {MessageEn}";

    internal static CodeValidation Required(string zhName, string enName) =>
        Invalid(CodeReason.Required, $"{zhName}不能为空", $"{enName} is required");
}

/// <summary>Stable reason codes, suitable for a ProblemDetails extension or a quality-rule result.</summary>
public static class CodeReason
{
    public const string Required = "required";
    public const string Length = "length";
    public const string Format = "format";
    public const string Region = "region";
    public const string BirthDate = "birth-date";
    public const string BirthDateInFuture = "birth-date-in-future";
    public const string Checksum = "checksum";
    public const string OrganizationCode = "organization-code";
}
