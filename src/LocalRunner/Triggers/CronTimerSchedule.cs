using System.Globalization;
using NCrontab;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// An NCRONTAB schedule evaluated on the wall clock of its time zone, with the host's <c>CronSchedule</c> rules for
/// daylight saving time: a time that does not exist (spring forward) runs an hour later, at the same instant the
/// standard offset gives it; when the clock falls back, a point-in-time schedule (seconds, minutes and hours all
/// fixed) runs once, on daylight time, while an interval schedule keeps running through the repeated hour.
/// </summary>
public sealed class CronTimerSchedule : TimerSchedule
{
    private readonly CrontabSchedule _cron;
    private readonly bool _isInterval;

    private CronTimerSchedule(CrontabSchedule cron, TimeZoneInfo zone) : base(zone)
    {
        _cron = cron;
        // As the host decides it, on NCrontab's normalised text: an interval has *, / or - in its seconds, minutes
        // or hours (minutes or hours without seconds).
        var parts = cron.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        _isInterval = parts.Take(parts.Length == 6 ? 3 : 2).Any(part => part.IndexOfAny(['*', '/', '-']) >= 0);
    }

    /// <summary>Five fields are minutes first; any other count is read with seconds first, as the host does.</summary>
    public static CronTimerSchedule? TryCreate(string expression, TimeZoneInfo zone)
    {
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var cron = CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = fields != 5 });
        return cron is null ? null : new CronTimerSchedule(cron, zone);
    }

    public override DateTimeOffset GetNextOccurrence(DateTimeOffset now)
    {
        var nowInZone = InZone(now);
        var next = FromWallClock(_cron.GetNextOccurrence(nowInZone.DateTime));
        if (!Zone.SupportsDaylightSavingTime)
        {
            return next;
        }
        var nowAmbiguous = Zone.IsAmbiguousTime(nowInZone);
        var nextAmbiguous = Zone.IsAmbiguousTime(next);
        if (!nowAmbiguous && !nextAmbiguous)
        {
            return next;
        }
        // An ambiguous wall-clock time gets the standard offset. Crossing from daylight to standard time, move it back
        // to the daylight offset: a point-in-time schedule then runs on its first pass, an interval one at the right
        // instant of the repeated hour.
        if (next.Offset != nowInZone.Offset && (_isInterval || nextAmbiguous))
        {
            return InZone(next + (next.Offset - nowInZone.Offset));
        }
        // Already in standard time within the repeated hour: a point-in-time occurrence there ran on daylight time.
        if (!_isInterval && nextAmbiguous)
        {
            var wallClock = next.DateTime;
            while (Zone.IsAmbiguousTime(wallClock))
            {
                wallClock = _cron.GetNextOccurrence(wallClock);
            }
            return FromWallClock(wallClock);
        }
        return next;
    }

    public override bool FiresMoreThanOncePerMinute(DateTimeOffset now)
    {
        var fields = _cron.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!fields.Skip(1).All(field => field == "*"))
        {
            return false;
        }
        var start = InZone(now).DateTime;
        return _cron.GetNextOccurrences(start, start.AddMinutes(1)).Take(2).Count() > 1;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Cron: '{_cron}'");

    // A wall-clock time of the zone; one that is invalid or ambiguous there gets the standard offset, as
    // new DateTimeOffset(localTime) does in the host.
    private DateTimeOffset FromWallClock(DateTime wallClock) =>
        InZone(new DateTimeOffset(DateTime.SpecifyKind(wallClock, DateTimeKind.Unspecified), Zone.GetUtcOffset(wallClock)));
}
