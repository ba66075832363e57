using System.Globalization;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// A timer trigger's schedule, as the host's <c>TimerSchedule.Create</c> reads it: an NCRONTAB expression (six fields,
/// seconds first, or five without seconds), else a <see cref="TimeSpan"/> ("00:00:30"), else an error. Occurrences
/// are computed in the schedule's time zone (<see cref="TimerTimeZone"/>) and returned as times in that zone.
/// </summary>
public abstract class TimerSchedule
{
    protected TimerSchedule(TimeZoneInfo zone) => Zone = zone;

    public TimeZoneInfo Zone { get; }

    /// <summary>The first occurrence after <paramref name="now"/>.</summary>
    public abstract DateTimeOffset GetNextOccurrence(DateTimeOffset now);

    /// <summary>
    /// The host turns <c>UseMonitor</c> off for schedules that can fire more than once a minute (a cron whose fields
    /// above the seconds are all <c>*</c> and that has two occurrences in the next minute; a TimeSpan under a minute).
    /// </summary>
    public abstract bool FiresMoreThanOncePerMinute(DateTimeOffset now);

    public static TimerSchedule Create(string expression, TimeZoneInfo zone)
    {
        if (CronTimerSchedule.TryCreate(expression, zone) is { } cron)
        {
            return cron;
        }
        if (TimeSpan.TryParse(expression, CultureInfo.InvariantCulture, out var period))
        {
            return new ConstantTimerSchedule(period, zone);
        }
        throw new ArgumentException($"The schedule expression '{expression}' was not recognized as a valid cron expression or timespan string.", nameof(expression));
    }

    /// <summary>The same instant as a time in <see cref="Zone"/>.</summary>
    public DateTimeOffset InZone(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Zone);
}
