namespace Lianqiao.Quality;

/// <summary>
/// 更新周期 codes (reference table "update-cycle") as a number of days a resource may go without a load.
/// Daily and real-time cycles count working days (a city's offices do not load on holidays); longer cycles
/// count calendar days. 不定期 and 其他 have no deadline.
/// </summary>
public static class Timeliness
{
    public static int? CycleDays(string? updateCycle) => updateCycle switch
    {
        "1" or "2" => 1,
        "3" => 7,
        "4" => 31,
        "5" => 92,
        "6" => 183,
        "7" => 366,
        _ => null,
    };

    public static bool InWorkingDays(string? updateCycle) => updateCycle is "1" or "2";
}
