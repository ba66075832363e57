using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;

namespace Jobs.UnitTests.Lifecycle;

/// <summary>The step timeline the record keeps (<see cref="Job.Steps"/>), written by the transitions a step makes anyway.</summary>
public sealed class JobStepRunsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static Job Pending() => new() { Id = "j1", Type = "demo.steps", Status = JobStatus.Pending, Owner = "o", StepCount = 2, CreatedAt = Now };

    private static StepRequest Step(int index, int attempt, int total, CompletedStep? completed = null) =>
        new("j1", index, $"step-{index + 1}", attempt, total, null, completed);

    [Fact]
    public void StartStep_OpensTheStep_AndTheNextStepsStartClosesItAtTheTimeItReturned()
    {
        var first = JobTransitions.StartStep(Pending(), Step(0, 1, 1), 2, Now)!;
        Assert.Equal([new JobStepRun("step-1", 0, "running", Now, null, 1)], first.Steps);

        var returned = Now.AddSeconds(3);
        var second = JobTransitions.StartStep(first, Step(1, 1, 2, new CompletedStep("step-1", 0, 3_000, returned)), 2, Now.AddSeconds(4))!;
        Assert.Equal(
            [new JobStepRun("step-1", 0, "completed", Now, returned, 1), new JobStepRun("step-2", 1, "running", Now.AddSeconds(4), null, 1)],
            second.Steps);
    }

    [Fact]
    public void StartStep_ARetry_KeepsTheFirstStart_AndCountsTheAttempts()
    {
        var first = JobTransitions.StartStep(Pending(), Step(0, 1, 1), 2, Now)!;
        var retry = JobTransitions.StartStep(first, Step(0, 2, 2), 2, Now.AddSeconds(10))!;
        Assert.Equal([new JobStepRun("step-1", 0, "running", Now, null, 2)], retry.Steps);
    }

    [Fact]
    public void StartStep_TheSameAttemptAgain_LeavesTheRecordEqual_SoNothingIsWritten()
    {
        var first = JobTransitions.StartStep(Pending(), Step(0, 1, 1), 2, Now)!;
        Assert.Equal(first, JobTransitions.StartStep(first, Step(0, 1, 1), 2, Now.AddSeconds(2)));
    }

    [Theory]
    [InlineData(JobStatus.Failed, "failed")]
    [InlineData(JobStatus.Cancelled, "cancelled")]
    [InlineData(JobStatus.TimedOut, "timed_out")]
    [InlineData(JobStatus.Completed, "completed")]
    public void End_ClosesTheRunningStep_AsTheJobEnded(JobStatus status, string expected)
    {
        var running = JobTransitions.StartStep(Pending(), Step(0, 1, 1), 2, Now)!;
        var ended = JobTransitions.End(running, new JobOutcome(status, null, null), Now.AddSeconds(7))!;
        Assert.Equal([new JobStepRun("step-1", 0, expected, Now, Now.AddSeconds(7), 1)], ended.Steps);
    }

    [Fact]
    public void ReportItems_SetsTheParallelStepsItems_AndTheSameReportIsNoChange()
    {
        var running = JobTransitions.StartStep(Pending(), Step(0, 1, 1), 2, Now)!;
        var items = JobStepRuns.Count(4, 2, 1, "ddfr");
        var reported = JobTransitions.ReportItems(running, 30, "Running step-1: 2 of 4 items done", 0, items)!;
        Assert.Equal(new JobStepItems(4, 2, 1, "ddfr"), reported.Steps[0].Items);
        Assert.Equal(reported, JobTransitions.ReportItems(reported, 30, "Running step-1: 2 of 4 items done", 0, JobStepRuns.Count(4, 2, 1, "ddfr")));
    }

    [Fact]
    public void Count_LeavesOutTheLetters_OverTheirCap()
    {
        Assert.Null(JobStepRuns.Count(JobStepItems.MaxStates + 1, 0, 0, new string('p', JobStepItems.MaxStates + 1)).States);
        Assert.Equal("pp", JobStepRuns.Count(2, 0, 0, "pp").States);
    }
}
