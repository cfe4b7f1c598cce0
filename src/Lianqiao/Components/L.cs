using System.Globalization;

namespace Lianqiao.Components;

/// <summary>Chinese first, English when the request culture asks for it (?culture=en or the language cookie).</summary>
public static class L
{
    public static bool IsEnglish => CultureInfo.CurrentUICulture.TwoLetterISOLanguageName == "en";

    public static string T(string zh, string en) => IsEnglish ? en : zh;
}
