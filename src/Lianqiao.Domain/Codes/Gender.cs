namespace Lianqiao.Domain.Codes;

/// <summary>Values follow GB/T 2261.1 so they can be stored as the national code.</summary>
public enum Gender
{
    Unknown = 0,
    Male = 1,
    Female = 2,
}
