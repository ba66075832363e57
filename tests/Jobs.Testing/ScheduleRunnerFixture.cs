namespace Jobs.Testing;

/// <summary>
/// A runner whose schedule timer fires every second and that accepts seconds-level cron expressions, so schedule tests
/// see occurrences every second or two instead of every minute.
/// </summary>
public sealed class ScheduleRunnerFixture : RunnerFixture
{
    protected override bool TimerTriggers => true;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Runner:Schedules:FireSchedules", "*/1 * * * * *"),
        new("Jobs:Schedules:AllowSubMinute", "true"),
        new("Jobs:Schedules:HoldRecheckSeconds", "1"),
    ];
}
