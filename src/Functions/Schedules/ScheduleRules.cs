using Cronos;
using Jobs.Functions.Handlers;

namespace Jobs.Functions.Schedules;

/// <summary>Checks on a schedule's timing fields, each problem naming its field.</summary>
public static class ScheduleRules
{
    public const int DefaultCatchUpLimit = 10;
    public const int MaxCatchUpLimit = 100;
    public const int MaxCronLength = 128;

    /// <summary>
    /// The zone's rules and the cron's occurrences, or problems naming <c>cron</c> / <c>timeZone</c>: a cron that is not
    /// 5 or 6 fields, does not parse, never fires, or fires more than once a minute (unless <paramref name="allowSubMinute"/>);
    /// a time zone that is not an IANA id the system knows.
    /// </summary>
    public static ScheduleTimes? Check(List<InputError> errors, string? cron, string zoneId, bool allowSubMinute, DateTimeOffset now)
    {
        var zone = FindZone(errors, zoneId);
        if (string.IsNullOrWhiteSpace(cron))
        {
            errors.Add(new InputError("cron", "is required"));
            return null;
        }
        if (cron.Length > MaxCronLength || cron.Any(char.IsControl))
        {
            errors.Add(new InputError("cron", $"must be at most {MaxCronLength} printable characters"));
            return null;
        }
        ScheduleTimes times;
        try
        {
            times = ScheduleTimes.Parse(cron, zone ?? TimeZoneInfo.Utc);
        }
        catch (CronFormatException ex)
        {
            errors.Add(new InputError("cron", $"is not a valid cron expression: {ex.Message}"));
            return null;
        }
        if (times.Next(now) is not { } first)
        {
            errors.Add(new InputError("cron", "never fires"));
            return null;
        }
        if (!allowSubMinute && ScheduleTimes.FieldCount(cron) == 6 && FiresTwiceInAMinute(times, first))
        {
            errors.Add(new InputError("cron", "fires more than once a minute; give the seconds field one value"));
            return null;
        }
        return zone is null ? null : times;
    }

    /// <summary>
    /// Whether some minute holds two occurrences: the seconds field is the same every minute, so one minute with an
    /// occurrence at its start tells (the next occurrence from there is in the same minute or not).
    /// </summary>
    private static bool FiresTwiceInAMinute(ScheduleTimes times, DateTimeOffset occurrence)
    {
        var minute = new DateTimeOffset(occurrence.Year, occurrence.Month, occurrence.Day, occurrence.Hour, occurrence.Minute, 0, TimeSpan.Zero);
        var firstInMinute = times.Next(minute.AddTicks(-1));
        return firstInMinute is { } a && times.Next(a) is { } b && b < minute.AddMinutes(1);
    }

    public static void CheckCatchUpLimit(List<InputError> errors, int? limit)
    {
        if (limit is < 1 or > MaxCatchUpLimit)
        {
            errors.Add(new InputError("catchUpLimit", $"must be between 1 and {MaxCatchUpLimit}"));
        }
    }

    /// <summary>An IANA id only (Windows ids are refused even where the system would map them), so a schedule reads the same everywhere.</summary>
    private static TimeZoneInfo? FindZone(List<InputError> errors, string zoneId)
    {
        if (zoneId.Length is 0 or > 64 || zoneId.Any(char.IsControl)
            || !TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out var zone)
            || (zoneId is not "UTC" && !TimeZoneInfo.TryConvertIanaIdToWindowsId(zoneId, out _)))
        {
            errors.Add(new InputError("timeZone", $"'{Api.Problems.Printable(zoneId)}' is not a known IANA time zone (e.g. Europe/Paris, UTC)"));
            return null;
        }
        return zone;
    }
}
