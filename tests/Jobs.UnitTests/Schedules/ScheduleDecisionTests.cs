using Jobs.Functions.Schedules;
using static Jobs.UnitTests.Schedules.ScheduleTimesTests;

namespace Jobs.UnitTests.Schedules;

/// <summary>Which occurrences get a run, which are held or skipped, as the timer would see them at a given time.</summary>
public sealed class ScheduleDecisionTests
{
    private static readonly ScheduleOptions Options = new() { LateAfterSeconds = 60, HoldRecheckSeconds = 5, CatchUpWindowHours = 24 };

    private static Schedule Hourly(DateTimeOffset nextAt, OverlapPolicy overlap = OverlapPolicy.Allow, CatchUpPolicy catchUp = CatchUpPolicy.Latest, int limit = 10) => new()
    {
        Id = "0123456789abcdef0123456789abcdef",
        Owner = "ann",
        Type = "demo.steps",
        Cron = "0 * * * *",
        TimeZone = "UTC",
        Overlap = overlap,
        CatchUp = catchUp,
        CatchUpLimit = limit,
        NextAt = nextAt,
    };

    private static Schedule Decide(Schedule schedule, string now, bool previousRunLive = false) =>
        ScheduleDecision.Decide(schedule, ScheduleTimes.Parse(schedule.Cron, TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone)), Utc(now), previousRunLive, Options);

    [Fact]
    public void Decide_OnTime_FiresTheOccurrence_AndMovesToTheNext()
    {
        var decided = Decide(Hourly(Utc("2026-01-01T10:00:00Z")), "2026-01-01T10:00:04Z");
        Assert.Equal([Utc("2026-01-01T10:00:00Z")], decided.Firing);
        Assert.Equal(Utc("2026-01-01T11:00:00Z"), decided.NextAt);
        Assert.Equal(0, decided.SkippedCount);
    }

    [Fact]
    public void Decide_BeforeItsTime_FiresNothing()
    {
        var schedule = Hourly(Utc("2026-01-01T10:00:00Z"));
        Assert.False(ScheduleDecision.IsDue(schedule, Utc("2026-01-01T09:59:59Z")));
        Assert.True(ScheduleDecision.IsDue(schedule, Utc("2026-01-01T10:00:00Z")));
        Assert.Empty(Decide(schedule, "2026-01-01T09:59:59Z").Firing);
    }

    [Fact]
    public void Decide_AfterDowntime_CatchUpNone_SkipsTheMissed_AndRunsOnlyTheOnTimeOne()
    {
        var decided = Decide(Hourly(Utc("2026-01-01T10:00:00Z"), catchUp: CatchUpPolicy.None), "2026-01-01T13:00:30Z");
        Assert.Equal([Utc("2026-01-01T13:00:00Z")], decided.Firing);
        Assert.Equal(3, decided.SkippedCount);

        var noneOnTime = Decide(Hourly(Utc("2026-01-01T10:00:00Z"), catchUp: CatchUpPolicy.None), "2026-01-01T12:30:00Z");
        Assert.Empty(noneOnTime.Firing);
        Assert.Equal(3, noneOnTime.SkippedCount);
        Assert.Equal(Utc("2026-01-01T13:00:00Z"), noneOnTime.NextAt);
    }

    [Fact]
    public void Decide_AfterDowntime_CatchUpLatest_RunsTheMostRecentMissedOne()
    {
        var decided = Decide(Hourly(Utc("2026-01-01T10:00:00Z"), catchUp: CatchUpPolicy.Latest), "2026-01-01T12:30:00Z");
        Assert.Equal([Utc("2026-01-01T12:00:00Z")], decided.Firing);
        Assert.Equal(2, decided.SkippedCount);
        Assert.Equal(Utc("2026-01-01T13:00:00Z"), decided.NextAt);
    }

    [Fact]
    public void Decide_AfterDowntime_CatchUpAll_RunsTheMostRecentUpToItsLimit()
    {
        var decided = Decide(Hourly(Utc("2026-01-01T08:00:00Z"), catchUp: CatchUpPolicy.All, limit: 3), "2026-01-01T12:30:00Z");
        Assert.Equal([Utc("2026-01-01T10:00:00Z"), Utc("2026-01-01T11:00:00Z"), Utc("2026-01-01T12:00:00Z")], decided.Firing);
        Assert.Equal(2, decided.SkippedCount);
    }

    [Fact]
    public void Decide_CatchUpAll_WithOverlapSkip_RunsTheFirst_TheOthersWouldOverlapIt()
    {
        var decided = Decide(Hourly(Utc("2026-01-01T10:00:00Z"), OverlapPolicy.Skip, CatchUpPolicy.All), "2026-01-01T12:30:00Z");
        Assert.Equal([Utc("2026-01-01T10:00:00Z")], decided.Firing);
        Assert.Equal(2, decided.SkippedCount);
    }

    [Fact]
    public void Decide_CatchUpAll_OlderThanTheWindow_IsNotLookedAt()
    {
        var decided = Decide(Hourly(Utc("2025-12-01T00:00:00Z"), catchUp: CatchUpPolicy.All, limit: 100), "2026-01-01T12:30:00Z");
        Assert.Equal(24, decided.Firing.Count);
        Assert.Equal(Utc("2025-12-31T13:00:00Z"), decided.Firing[0]);
    }

    [Fact]
    public void Decide_PreviousRunStillGoing_OverlapSkip_SkipsTheOccurrence()
    {
        var decided = Decide(Hourly(Utc("2026-01-01T10:00:00Z"), OverlapPolicy.Skip), "2026-01-01T10:00:02Z", previousRunLive: true);
        Assert.Empty(decided.Firing);
        Assert.Equal(1, decided.SkippedCount);
        Assert.Null(decided.HeldOccurrence);
        Assert.Equal(Utc("2026-01-01T11:00:00Z"), decided.DueAt);
    }

    [Fact]
    public void Decide_PreviousRunStillGoing_OverlapAllow_FiresAnyway()
    {
        var decided = Decide(Hourly(Utc("2026-01-01T10:00:00Z"), OverlapPolicy.Allow), "2026-01-01T10:00:02Z", previousRunLive: true);
        Assert.Equal([Utc("2026-01-01T10:00:00Z")], decided.Firing);
    }

    [Fact]
    public void Decide_PreviousRunStillGoing_OverlapQueue_HoldsTheOccurrence_AndFiresItWhenThePreviousEnds()
    {
        var held = Decide(Hourly(Utc("2026-01-01T10:00:00Z"), OverlapPolicy.Queue), "2026-01-01T10:00:02Z", previousRunLive: true);
        Assert.Empty(held.Firing);
        Assert.Equal(Utc("2026-01-01T10:00:00Z"), held.HeldOccurrence);
        Assert.Equal(Utc("2026-01-01T10:00:07Z"), held.DueAt); // looked at again after HoldRecheckSeconds

        var stillRunning = Decide(held, "2026-01-01T10:00:07Z", previousRunLive: true);
        Assert.Empty(stillRunning.Firing);
        Assert.Equal(Utc("2026-01-01T10:00:00Z"), stillRunning.HeldOccurrence);

        var ended = Decide(stillRunning, "2026-01-01T10:20:00Z", previousRunLive: false);
        Assert.Equal([Utc("2026-01-01T10:00:00Z")], ended.Firing);
        Assert.Null(ended.HeldOccurrence);
        Assert.Equal(Utc("2026-01-01T10:20:00Z"), ended.DueAt); // at once, until its run is created
        Assert.Equal(Utc("2026-01-01T11:00:00Z"), (ended with { Firing = [] }).DueAt);
        Assert.Equal(0, ended.SkippedCount);
    }

    [Fact]
    public void Decide_OverlapQueue_HoldsOneAtMost_TheNewerReplacesTheOlder()
    {
        var held = Decide(Hourly(Utc("2026-01-01T10:00:00Z"), OverlapPolicy.Queue), "2026-01-01T10:00:02Z", previousRunLive: true);
        var newer = Decide(held with { HeldCheckAt = null }, "2026-01-01T11:00:01Z", previousRunLive: true);
        Assert.Equal(Utc("2026-01-01T11:00:00Z"), newer.HeldOccurrence);
        Assert.Equal(1, newer.SkippedCount);
        Assert.Empty(newer.Firing);
    }

    [Fact]
    public void Decide_Paused_IsNeverDue()
    {
        var paused = Hourly(Utc("2026-01-01T10:00:00Z")) with { Paused = true };
        Assert.False(ScheduleDecision.IsDue(paused, Utc("2026-01-02T00:00:00Z")));
        Assert.Null(paused.DueAt);
    }

    /// <summary>The timer every 5 seconds through both of 2026's nights of a clock change in Paris, with a run that never overlaps.</summary>
    [Theory]
    [InlineData("2026-03-28T23:00:00Z", "2026-03-29T03:00:00Z", "2026-03-29T01:00:00Z")] // 02:30 skipped by the clock: at 03:00 CEST
    [InlineData("2026-10-24T22:00:00Z", "2026-10-25T03:00:00Z", "2026-10-25T00:30:00Z")] // 02:30 twice: once, at 02:30 CEST
    public void Decide_TimerEveryFiveSecondsThroughAClockChange_FiresDailyAt0230ParisOnce_AtTheRightInstant(string from, string to, string expected)
    {
        var times = ScheduleTimes.Parse("30 2 * * *", TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));
        var schedule = Hourly(times.Next(Utc(from))!.Value) with { Cron = "30 2 * * *", TimeZone = "Europe/Paris" };
        var fired = new List<(DateTimeOffset Occurrence, DateTimeOffset At)>();
        for (var now = Utc(from); now <= Utc(to); now += TimeSpan.FromSeconds(5))
        {
            if (ScheduleDecision.IsDue(schedule, now))
            {
                schedule = ScheduleDecision.Decide(schedule, times, now, previousRunLive: false, Options);
                fired.AddRange(schedule.Firing.Select(o => (o, now)));
                schedule = schedule with { Firing = [] };
            }
        }
        var (occurrence, at) = Assert.Single(fired);
        Assert.Equal(Utc(expected), occurrence);
        Assert.Equal(Utc(expected), at);
    }
}
