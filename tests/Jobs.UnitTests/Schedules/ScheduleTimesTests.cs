using System.Globalization;
using Jobs.Functions.Handlers;
using Jobs.Functions.Schedules;

namespace Jobs.UnitTests.Schedules;

/// <summary>
/// Occurrences in Europe/Paris across 2026's clock changes: 29 March, 02:00 CET → 03:00 CEST (01:00 UTC), and 25 October,
/// 03:00 CEST → 02:00 CET (01:00 UTC), so 02:00–02:59 happens twice.
/// </summary>
public sealed class ScheduleTimesTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    internal static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    [Fact]
    public void Next_DailyAtATimeTheSpringChangeSkips_RunsAtTheJump_ThenAtItsTimeInSummer()
    {
        var times = ScheduleTimes.Parse("30 2 * * *", Paris);
        Assert.Equal(Utc("2026-03-28T01:30:00Z"), times.Next(Utc("2026-03-27T12:00:00Z"))); // 02:30 CET
        Assert.Equal(Utc("2026-03-29T01:00:00Z"), times.Next(Utc("2026-03-28T12:00:00Z"))); // 02:30 does not exist: 03:00 CEST
        Assert.Equal(Utc("2026-03-30T00:30:00Z"), times.Next(Utc("2026-03-29T01:00:00Z"))); // 02:30 CEST
    }

    [Fact]
    public void Next_DailyAtATimeTheAutumnChangeRepeats_RunsOnce_OnTheFirstPass()
    {
        var times = ScheduleTimes.Parse("30 2 * * *", Paris);
        var first = times.Next(Utc("2026-10-24T12:00:00Z"));
        Assert.Equal(Utc("2026-10-25T00:30:00Z"), first); // 02:30 CEST
        Assert.Equal(Utc("2026-10-26T01:30:00Z"), times.Next(first!.Value)); // not 01:30Z (02:30 CET) the same night
    }

    [Fact]
    public void Next_AnIntervalThroughTheRepeatedHour_RunsInBothPasses()
    {
        var times = ScheduleTimes.Parse("*/30 * * * *", Paris);
        var seen = new List<DateTimeOffset>();
        for (var at = times.Next(Utc("2026-10-24T23:59:00Z")); seen.Count < 5; at = times.Next(at!.Value))
        {
            seen.Add(at!.Value);
        }
        // 02:00 and 02:30 CEST, then 02:00 and 02:30 CET, then 03:00 CET.
        Assert.Equal(
            [Utc("2026-10-25T00:00:00Z"), Utc("2026-10-25T00:30:00Z"), Utc("2026-10-25T01:00:00Z"), Utc("2026-10-25T01:30:00Z"), Utc("2026-10-25T02:00:00Z")],
            seen);
    }

    [Fact]
    public void NextLocal_GivesEachTimeAtTheZonesOffsetThen()
    {
        var local = ScheduleTimes.Parse("0 9 * * *", Paris).NextLocal(Utc("2026-10-24T12:00:00Z"), 2);
        Assert.Equal(["2026-10-25T09:00:00+01:00", "2026-10-26T09:00:00+01:00"], local.Select(t => t.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture)));
        var summer = ScheduleTimes.Parse("0 9 * * *", Paris).NextLocal(Utc("2026-10-23T12:00:00Z"), 1);
        Assert.Equal(TimeSpan.FromHours(2), summer[0].Offset);
    }

    [Theory]
    [InlineData("0 2 * * *", "Europe/Paris", false, null)]
    [InlineData("15 0 2 * * *", "Europe/Paris", false, null)]
    [InlineData("*/10 * * * * *", "UTC", true, null)]
    [InlineData("*/10 * * * * *", "UTC", false, "cron")]
    [InlineData("0,30 0 2 * * *", "UTC", false, "cron")]
    [InlineData("0 0 30 2 *", "UTC", false, "cron")]
    [InlineData("every day", "UTC", false, "cron")]
    [InlineData("0 0 0 1 1 * 2030", "UTC", false, "cron")]
    [InlineData("61 * * * *", "UTC", false, "cron")]
    [InlineData("0 2 * * *", "Mars/Olympus_Mons", false, "timeZone")]
    [InlineData("0 2 * * *", "Romance Standard Time", false, "timeZone")]
    [InlineData("0 2 * * *", "", false, "timeZone")]
    public void Check_NamesTheFieldThatIsWrong(string cron, string zone, bool allowSubMinute, string? field)
    {
        var errors = new List<InputError>();
        var times = ScheduleRules.Check(errors, cron, zone, allowSubMinute, Utc("2026-01-01T00:00:00Z"));
        if (field is null)
        {
            Assert.Empty(errors);
            Assert.NotNull(times);
        }
        else
        {
            Assert.Equal(field, Assert.Single(errors).Field);
            Assert.Null(times);
        }
    }
}
