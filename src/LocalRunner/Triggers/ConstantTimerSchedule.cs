using System.Globalization;

namespace Jobs.LocalRunner.Triggers;

/// <summary>A TimeSpan schedule: every occurrence is the previous one plus the period, whatever the time zone does.</summary>
public sealed class ConstantTimerSchedule(TimeSpan period, TimeZoneInfo zone) : TimerSchedule(zone)
{
    public TimeSpan Period { get; } = period > TimeSpan.Zero ? period : throw new ArgumentOutOfRangeException(nameof(period), "A timer period must be positive.");

    public override DateTimeOffset GetNextOccurrence(DateTimeOffset now) => InZone(now + Period);

    public override bool FiresMoreThanOncePerMinute(DateTimeOffset now) => Period < TimeSpan.FromMinutes(1);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Constant: {Period}");
}
