using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Triggers;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;

namespace Jobs.RunnerTests;

/// <summary>
/// Schedules as the host reads them (Azure/azure-webjobs-sdk-extensions, src/WebJobs.Extensions/Extensions/Timers/
/// Scheduling: TimerSchedule.Create, CronSchedule, ConstantSchedule), and the time zone they run in.
/// </summary>
public sealed class TimerScheduleTests
{
    private static readonly DateTimeOffset Noon = new(2025, 6, 2, 12, 1, 30, TimeSpan.Zero);

    private static TimeZoneInfo Zone(string id) => TimeZoneInfo.FindSystemTimeZoneById(id);

    [Theory]
    [InlineData("0 */5 * * * *", "2025-06-02T12:05:00Z")]
    [InlineData("*/5 * * * *", "2025-06-02T12:05:00Z")]
    [InlineData("15 * * * * *", "2025-06-02T12:02:15Z")]
    [InlineData("0 9 * * *", "2025-06-03T09:00:00Z")]
    [InlineData("00:00:30", "2025-06-02T12:02:00Z")]
    [InlineData("01:00:00", "2025-06-02T13:01:30Z")]
    public void Expression_SixFieldsFiveFieldsOrTimeSpan_GivesTheHostsNextOccurrence(string expression, string next)
    {
        var schedule = TimerSchedule.Create(expression, TimeZoneInfo.Utc);
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), schedule.GetNextOccurrence(Noon));
    }

    [Fact]
    public void Expression_NeitherCronNorTimeSpan_IsRefusedWithTheHostsMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => TimerSchedule.Create("every day", TimeZoneInfo.Utc));
        Assert.StartsWith("The schedule expression 'every day' was not recognized as a valid cron expression or timespan string.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*/2 * * * * *", true)]
    [InlineData("*/1 * * * * *", true)]
    [InlineData("0,30 * * * * *", true)]
    [InlineData("0 * * * * *", false)]
    [InlineData("0 */5 * * * *", false)]
    [InlineData("* * * * *", false)]
    [InlineData("00:00:30", true)]
    [InlineData("00:01:00", false)]
    public void Monitor_IsTurnedOff_OnlyForSchedulesThatFireMoreThanOncePerMinute(string expression, bool moreThanOnce) =>
        // The host counts occurrences in the minute after start-up (end excluded), so start off the half minute.
        Assert.Equal(moreThanOnce, TimerSchedule.Create(expression, TimeZoneInfo.Utc).FiresMoreThanOncePerMinute(Noon.AddSeconds(-20)));

    [Theory]
    [InlineData("2025-01-10T00:00:00Z", "2025-01-10T08:30:00Z", 1)]
    [InlineData("2025-07-10T00:00:00Z", "2025-07-10T07:30:00Z", 2)]
    public void Cron_RunsOnTheWallClockOfItsZone_InWinterAndSummer(string now, string next, int offsetHours)
    {
        var schedule = TimerSchedule.Create("0 30 9 * * *", Zone("Europe/Berlin"));
        var occurrence = schedule.GetNextOccurrence(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), occurrence);
        Assert.Equal(TimeSpan.FromHours(offsetHours), occurrence.Offset);
    }

    [Fact]
    public void Cron_AtATimeThatDoesNotExist_RunsAnHourLater()
    {
        // 02:30 does not exist in Los Angeles on 9 March 2025 (02:00 PST jumps to 03:00 PDT).
        var schedule = TimerSchedule.Create("0 30 2 * * *", Zone("America/Los_Angeles"));
        Assert.Equal(DateTimeOffset.Parse("2025-03-09T10:30:00Z", System.Globalization.CultureInfo.InvariantCulture),
            schedule.GetNextOccurrence(DateTimeOffset.Parse("2025-03-09T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Cron_PointInTime_InTheRepeatedHour_RunsOnce()
    {
        // 01:00–01:59 happens twice in Los Angeles on 2 November 2025; a 01:30 schedule runs on the first pass only.
        var schedule = TimerSchedule.Create("0 30 1 * * *", Zone("America/Los_Angeles"));
        var first = schedule.GetNextOccurrence(DateTimeOffset.Parse("2025-11-02T07:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateTimeOffset.Parse("2025-11-02T08:30:00Z", System.Globalization.CultureInfo.InvariantCulture), first);
        Assert.Equal(DateTimeOffset.Parse("2025-11-03T09:30:00Z", System.Globalization.CultureInfo.InvariantCulture), schedule.GetNextOccurrence(first));
    }

    [Fact]
    public void Cron_PointInTime_StartedInTheSecondPassOfTheRepeatedHour_WaitsForTheNextDay()
    {
        // 01:29 PST is the second 01:29 that day: 01:30 already ran on daylight time.
        var schedule = TimerSchedule.Create("0 30 1 * * *", Zone("America/Los_Angeles"));
        Assert.Equal(DateTimeOffset.Parse("2025-11-03T09:30:00Z", System.Globalization.CultureInfo.InvariantCulture),
            schedule.GetNextOccurrence(DateTimeOffset.Parse("2025-11-02T09:29:00Z", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Cron_Interval_RunsThroughTheRepeatedHour()
    {
        var schedule = TimerSchedule.Create("0 */30 * * * *", Zone("America/Los_Angeles"));
        var at = DateTimeOffset.Parse("2025-11-02T07:30:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var seen = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            at = schedule.GetNextOccurrence(at);
            seen.Add(at.ToString("HH:mmzzz", System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal(["01:00-07:00", "01:30-07:00", "01:00-08:00", "01:30-08:00", "02:00-08:00"], seen);
    }

    [Fact]
    public void TimeSpan_IgnoresTheClockChange()
    {
        var schedule = TimerSchedule.Create("01:00:00", Zone("America/Los_Angeles"));
        var before = DateTimeOffset.Parse("2025-11-02T08:30:00Z", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(before.AddHours(1), schedule.GetNextOccurrence(before));
    }

    [Theory]
    [InlineData(null, null, "UTC")]
    [InlineData(null, ":Europe/Paris", "Europe/Paris")]
    [InlineData("Asia/Tokyo", "America/New_York", "Asia/Tokyo")]
    [InlineData("W. Europe Standard Time", null, "W. Europe Standard Time")]
    public void TimeZone_IsWebsiteTimeZone_ElseTz_ElseUtc(string? website, string? tz, string expected)
    {
        var zone = TimerTimeZone.Resolve(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["WEBSITE_TIME_ZONE"] = website, ["TZ"] = tz }).Build());
        Assert.Equal(TimeZoneInfo.FindSystemTimeZoneById(expected).Id, zone.Id);
    }

    [Fact]
    public void TimeZone_Unknown_StopsTheTrigger()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["TZ"] = "Nowhere/Else" }).Build();
        Assert.Throws<InvalidOperationException>(() => TimerTimeZone.Resolve(configuration));
    }

    [Fact]
    public void Listener_ReadsItsZone_AndTheRunnersScheduleOverride()
    {
        var probe = new TimerProbe("x", new());
        var zoned = TimerTriggerListenerTests.Create("0 0 9 * * *", "h", probe, TimeProvider.System,
            new Dictionary<string, string?> { ["WEBSITE_TIME_ZONE"] = "Asia/Tokyo" });
        Assert.Equal("Asia/Tokyo", zoned.Schedule.Zone.Id);
        Assert.Equal("Host.Functions.ProbeTimer", zoned.TimerName);
        Assert.True(zoned.UseMonitor);
        Assert.Equal(DateTimeOffset.Parse("2025-06-03T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), zoned.Schedule.GetNextOccurrence(Noon));

        var overridden = TimerTriggerListenerTests.Create("0 0 9 * * *", "h", probe, TimeProvider.System,
            new Dictionary<string, string?> { ["Jobs:Runner:Schedules:ProbeTimer"] = "*/1 * * * * *" });
        Assert.False(overridden.UseMonitor);
        Assert.Equal(Noon.AddSeconds(1), overridden.Schedule.GetNextOccurrence(Noon));
    }

    [Fact]
    public void HostId_IsTheConfiguredOne_ElseMachineAndScriptRootLikeTheHost()
    {
        var configured = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [HostId.Setting] = "my-app" }).Build();
        Assert.Equal("my-app", HostId.Resolve(configured, RepoPaths.Root));

        var none = new ConfigurationBuilder().Build();
        var id = HostId.Resolve(none, RepoPaths.Root);
        Assert.Equal(id, HostId.Resolve(none, RepoPaths.Root));
        Assert.NotEqual(id, HostId.Resolve(none, RepoPaths.Root + "/other"));
        Assert.True(id.Length <= 32, id);
        Assert.Equal(id.ToLowerInvariant(), id);
        Assert.False(id.EndsWith('-'), id);
    }
}
