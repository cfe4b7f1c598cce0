using System.Security.Cryptography;

namespace Lianqiao.Organizations;

internal static class Passwords
{
    // No 0/O/1/l/I: these get read aloud and typed from printouts.
    const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /// <summary>A random password that satisfies the Identity options (digit, upper, lower, length 16).</summary>
    public static string NewRandom()
    {
        while (true)
        {
            var chars = new char[16];
            for (var i = 0; i < chars.Length; i++) chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
            var p = new string(chars);
            if (p.Any(char.IsDigit) && p.Any(char.IsUpper) && p.Any(char.IsLower)) return p;
        }
    }
}
