using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;

namespace Jobs.UnitTests.Lifecycle;

/// <summary>The rules of what may follow what (pure logic).</summary>
public sealed class JobTransitionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static Job Pending() => new() { Id = "j1", Type = "demo.steps", Status = JobStatus.Pending, Owner = "o", StepCount = 3, CreatedAt = Now };

    private static StepRequest Step(int index, int attempt, int total) => new("j1", index, $"step-{index + 1}", attempt, total, null, null);

    [Fact]
    public void StartStep_SameAttemptTwice_IsNoChange()
    {
        var running = JobTransitions.StartStep(Pending(), Step(1, 1, 2), 3, Now)!;
        Assert.Equal(running, JobTransitions.StartStep(running, Step(1, 1, 2), 3, Now.AddSeconds(5)));
        Assert.True(JobTransitions.IsRunning(running, Step(1, 1, 2)));
    }

    [Fact]
    public void StartStep_AnEarlierStepOrAttempt_IsRefused_AndSaidToBeBehind()
    {
        var running = JobTransitions.StartStep(Pending(), Step(2, 2, 4), 3, Now)!;
        Assert.Null(JobTransitions.StartStep(running, Step(1, 1, 2), 3, Now));
        Assert.Null(JobTransitions.StartStep(running, Step(2, 1, 3), 3, Now));
        Assert.True(JobTransitions.IsBehind(running, Step(1, 1, 2)));
        Assert.False(JobTransitions.IsBehind(running, Step(2, 2, 4)));
        Assert.NotNull(JobTransitions.StartStep(running, Step(2, 3, 5), 3, Now));
    }

    [Fact]
    public void StartStep_AfterCancelOrEnd_IsRefused()
    {
        Assert.Null(JobTransitions.StartStep(Pending() with { CancelRequested = true }, Step(0, 1, 1), 3, Now));
        Assert.Null(JobTransitions.StartStep(Pending() with { Status = JobStatus.Cancelled }, Step(0, 1, 1), 3, Now));
    }

    [Fact]
    public void End_IsOnceOnly_AndOnlyToATerminalStatus()
    {
        var ended = JobTransitions.End(Pending(), JobOutcome.Completed(null, null), Now)!;
        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Equal(Now, ended.CompletedAt);
        Assert.Null(JobTransitions.End(ended, JobOutcome.Failed("step-1", new JobError("boom", null, null, "step-1")), Now));
        Assert.Null(JobTransitions.End(Pending(), new JobOutcome(JobStatus.Running, null, null), Now));
    }

    [Fact]
    public void ReportProgress_NeverGoesDown_AndStopsAtTheEnd()
    {
        var job = Pending() with { Status = JobStatus.Running, Progress = 40 };
        Assert.Equal(40, JobTransitions.ReportProgress(job, 10, null)!.Progress);
        Assert.Equal(100, JobTransitions.ReportProgress(job, 250, "m")!.Progress);
        Assert.Null(JobTransitions.ReportProgress(job with { Status = JobStatus.Failed }, 90, null));
    }

    [Fact]
    public void Submit_OnlyADraft_StartsItsDeadline()
    {
        var draft = Pending() with { Status = JobStatus.Draft };
        var submitted = JobTransitions.Submit(draft, Now.AddHours(1), null, "Waiting to start")!;
        Assert.Equal(JobStatus.Pending, submitted.Status);
        Assert.Equal(Now.AddHours(1), submitted.Deadline);
        Assert.Null(JobTransitions.Submit(submitted, Now, null, "Waiting to start"));
    }
}
