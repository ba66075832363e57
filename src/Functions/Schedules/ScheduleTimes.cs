using Cronos;

namespace Jobs.Functions.Schedules;

/// <summary>
/// The occurrences of a cron expression in a time zone (Cronos), with the zone's daylight-saving rules: a time that the
/// spring change skips runs at the jump (02:30 in Paris on the last Sunday of March runs at 03:00 CEST), a time the
/// autumn change repeats runs once, on its first pass, unless the seconds, minutes or hours field is an interval (then
/// it runs in both passes).
/// </summary>
public sealed class ScheduleTimes
{
    private readonly CronExpression _cron;

    private ScheduleTimes(CronExpression cron, TimeZoneInfo zone)
    {
        _cron = cron;
        Zone = zone;
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>Five fields are minute first; six are second first. Throws <see cref="CronFormatException"/> otherwise.</summary>
    public static ScheduleTimes Parse(string cron, TimeZoneInfo zone)
    {
        var fields = FieldCount(cron);
        if (fields is not (5 or 6))
        {
            throw new CronFormatException($"has {fields} fields; 5 (minute hour day month weekday) or 6 (second first) are expected");
        }
        return new ScheduleTimes(CronExpression.Parse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard), zone);
    }

    public static int FieldCount(string cron) => cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>The first occurrence strictly after <paramref name="after"/>, in UTC; null if there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) =>
        _cron.GetNextOccurrence(after.UtcDateTime, Zone, inclusive: false) is { } next ? new DateTimeOffset(next, TimeSpan.Zero) : null;

    /// <summary>The next <paramref name="count"/> occurrences after <paramref name="after"/>, each at the zone's offset of that instant.</summary>
    public IReadOnlyList<DateTimeOffset> NextLocal(DateTimeOffset after, int count)
    {
        var times = new List<DateTimeOffset>(count);
        var at = after;
        while (times.Count < count && Next(at) is { } next)
        {
            times.Add(TimeZoneInfo.ConvertTime(next, Zone));
            at = next;
        }
        return times;
    }
}
