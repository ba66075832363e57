using System.Text.Json;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Storage;

public sealed class JobEntityTests
{
    [Fact]
    public void FromJob_ToJob_RoundTripsEveryField()
    {
        var now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
        var job = new Job
        {
            Id = "0123456789abcdef0123456789abcdef",
            Type = "demo.steps",
            Status = JobStatus.TimedOut,
            Owner = "alice",
            Progress = 42,
            Step = "step-2",
            StepIndex = 1,
            StepCount = 3,
            Message = "m",
            Input = JsonDocument.Parse("""{"steps":3}""").RootElement,
            Result = JsonDocument.Parse("""{"ok":true}""").RootElement,
            Error = new JobError("boom", "System.Exception", "at x", "step-2"),
            CorrelationId = "c",
            Entity = new EntityRef("release", "42"),
            IdempotencyKey = "k",
            Metadata = new Dictionary<string, string> { ["rows"] = "3" },
            Attempt = 2,
            TotalAttempts = 4,
            CancelRequested = true,
            CreatedAt = now,
            StartedAt = now.AddSeconds(1),
            UpdatedAt = now.AddSeconds(2),
            CompletedAt = now.AddSeconds(3),
            Deadline = now.AddHours(1),
        };

        var stamp = new JobStamp(new Azure.ETag("W/\"1\""), 3, now.AddSeconds(2));
        var entity = JobEntity.FromJob(job, stamp);
        var back = entity.ToJob();

        Assert.Equal(JsonSerializer.Serialize(job, JobJson.Options), JsonSerializer.Serialize(back, JobJson.Options));
        // The stored shape is the store's: the stamp comes back beside the record, not in it.
        Assert.Equal(stamp, JobStamp.Of(back));
        Assert.Null(JobStamp.Of(back with { Progress = 1 }));
    }

    [Fact]
    public void ToJob_UnknownStoredStatus_Throws()
    {
        var entity = new JobEntity { PartitionKey = "x", Status = "exploded" };
        Assert.Throws<InvalidDataException>(() => entity.ToJob());
    }

    [Fact]
    public void Status_WireNames_AreSnakeCase()
    {
        Assert.Equal("timed_out", JobStatus.TimedOut.ToWire());
        Assert.True(JobStatusExtensions.TryParseWire("timed_out", out var status));
        Assert.Equal(JobStatus.TimedOut, status);
        Assert.False(JobStatusExtensions.TryParseWire("TimedOut", out _));
    }
}
