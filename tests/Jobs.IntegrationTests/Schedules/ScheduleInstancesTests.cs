using System.Globalization;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Schedules;

/// <summary>
/// A schedule fired by two instances of the app at once — each its own host id, so each runs the schedule timer every
/// second and nothing but the schedule's own writes keeps them apart — then one killed (<c>kill -9</c>) mid-work, then
/// both down and one started again: every occurrence from the first run to the last has exactly one run, the ones that
/// passed while nothing ran included (caught up, policy <c>all</c>).
/// </summary>
[TakesAbout(25)]
public sealed class ScheduleInstancesTests : IDisposable
{
    private readonly RunnerProcess _first = new(_ => { }, new Dictionary<string, string>
    {
        ["Jobs__Runner__Schedules__FireSchedules"] = "*/1 * * * * *",
        ["Jobs__Schedules__AllowSubMinute"] = "true",
        // Occurrences seen over a second late count as missed, so the restart's are decided by the catch-up policy.
        ["Jobs__Schedules__LateAfterSeconds"] = "1",
    });

    private readonly RunnerProcess _second;

    /// <summary>
    /// The instance started after both died: a host id of its own, as a new instance the platform starts has; the killed
    /// ones' timer locks (their host ids') stay leased for the host's listener lock period (a minute) either way.
    /// </summary>
    private readonly RunnerProcess _restarted;

    public ScheduleInstancesTests()
    {
        _second = new RunnerProcess(_first);
        _restarted = new RunnerProcess(_first);
    }

    [Fact]
    public async Task TwoInstancesFiring_OneKilled_ThenBothDownAndOneRestarted_EveryOccurrenceHasExactlyOneRun()
    {
        await Task.WhenAll(_first.StartAsync(), _second.StartAsync());
        var id = (string)(await SchedulesTests.CreateAsync(_first.Client, new
        {
            type = "demo.steps",
            input = new { steps = 1 },
            cron = "*/2 * * * * *",
            overlap = "allow",
            catchUp = "all",
            catchUpLimit = 100,
        }))["id"]!;

        await Conditions.WaitUntilAsync(async () => await SchedulesTests.RunCountAsync(_second.Client, id) >= 3, "three runs with both instances up");
        await _first.KillAsync();
        var atKill = await SchedulesTests.RunCountAsync(_second.Client, id);
        await Conditions.WaitUntilAsync(async () => await SchedulesTests.RunCountAsync(_second.Client, id) >= atKill + 3, "three runs after the kill");
        await _second.KillAsync();
        var downAt = DateTimeOffset.UtcNow;

        await _restarted.StartAsync();
        await Conditions.WaitUntilAsync(async () =>
            (await SchedulesTests.RunsAsync(_restarted.Client, id)).Any(r => Occurrence(r) > downAt.AddSeconds(4)), "a run of an occurrence after the restart");
        await SchedulesTests.PatchAsync(_restarted.Client, id, new { paused = true });

        var occurrences = (await SchedulesTests.SettledRunsAsync(_restarted.Client, id)).Select(Occurrence).Order().ToList();
        var expected = new List<DateTimeOffset>();
        for (var at = occurrences[0]; at <= occurrences[^1]; at = at.AddSeconds(2))
        {
            expected.Add(at);
        }
        Assert.Equal(expected, occurrences);
        Assert.Contains(occurrences, o => o > downAt && o < downAt.AddSeconds(2)); // one that passed while nothing ran
    }

    private static DateTimeOffset Occurrence(System.Text.Json.Nodes.JsonObject run) =>
        DateTimeOffset.Parse((string)run["notBefore"]!, CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _restarted.Dispose();
        _second.Dispose();
    }
}
