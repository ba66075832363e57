using System.Text.Json;
using Azure;
using Jobs.Functions.Schedules;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Storage;

public sealed class ScheduleEntityTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 29, 1, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RoundTrip_KeepsEveryField_AndTheDueTimeItsDueRowHas()
    {
        var schedule = new Schedule
        {
            Id = "0123456789abcdef0123456789abcdef",
            Owner = "ann/b-c",
            Type = "demo.steps",
            Input = JsonDocument.Parse("""{"steps":2}""").RootElement,
            Cron = "30 2 * * *",
            TimeZone = "Europe/Paris",
            Overlap = OverlapPolicy.Queue,
            CatchUp = CatchUpPolicy.All,
            CatchUpLimit = 7,
            CreatedAt = At,
            UpdatedAt = At,
            NextAt = At.AddDays(1),
            HeldOccurrence = At,
            HeldCheckAt = At.AddSeconds(5),
            LastOccurrence = At.AddDays(-1),
            LastJobId = "fedcba9876543210fedcba9876543210",
            SkippedCount = 3,
            Firing = [At.AddHours(-2), At.AddHours(-1)],
        };
        var entity = ScheduleEntity.From(schedule, new ETag("e"));
        Assert.Equal(TableKeys.SchedulePartition, entity.PartitionKey);
        Assert.Equal("s-ann%2Fb%2Dc-0123456789abcdef0123456789abcdef", entity.RowKey);
        Assert.Equal(("queue", "all"), (entity.Overlap, entity.CatchUp));
        Assert.Equal(At, entity.DueAt); // runs being created: due at once

        var back = entity.ToSchedule();
        Assert.Equal(schedule with { Input = null, Firing = [] }, back with { Input = null, Firing = [] });
        Assert.Equal(schedule.Firing, back.Firing);
        Assert.Equal("""{"steps":2}""", back.Input!.Value.GetRawText());
    }

    [Fact]
    public void UnknownStoredPolicy_IsAnError_NotADefault()
    {
        var entity = ScheduleEntity.From(new Schedule { Id = "x", Owner = "o", Type = "t", Cron = "* * * * *", TimeZone = "UTC" }, default);
        entity.Overlap = "sometimes";
        Assert.Throws<InvalidOperationException>(() => entity.ToSchedule());
    }
}
