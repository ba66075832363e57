using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;

namespace Jobs.UnitTests.Lifecycle;

/// <summary>How every ending is decided and worded, in one place (pure logic).</summary>
public sealed class JobOutcomeTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset Deadline = new DateTimeOffset(2026, 12, 7, 12, 0, 10, TimeSpan.Zero).AddTicks(1234567);

    private static Job Running() => new()
    {
        Id = "j1", Type = "demo.steps", Status = JobStatus.Running, Owner = "o", StepCount = 3, Step = "step-2", StepIndex = 1, Progress = 40,
        CreatedAt = Now.AddMinutes(-1), Deadline = Deadline, Metadata = new Dictionary<string, string> { ["operation"] = "demo" },
    };

    /// <summary>What a client sees of an ended record.</summary>
    private static string Shown(Job job) => JsonSerializer.Serialize(job, JobJson.Options);

    private static T RoundTrip<T>(T value) => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, JobJson.Options), JobJson.Options)!;

    [Fact]
    public void TimedOut_IsWordedByItsDeadlineAlone_InUtc()
    {
        var outcome = JobOutcome.TimedOut(Deadline);
        Assert.Equal(JobStatus.TimedOut, outcome.Status);
        Assert.Equal("Timed out: its deadline 2026-12-07T12:00:10.1234567Z passed", outcome.Message);
        Assert.Null(outcome.Error);
        Assert.Equal(outcome, JobOutcome.TimedOut(Deadline.ToOffset(TimeSpan.FromHours(2))));
        Assert.Equal("Job timed_out: Timed out: its deadline 2026-12-07T12:00:10.1234567Z passed", outcome.LogLine());
        Assert.Equal(JobLogLevel.Warning, outcome.LogLevel());
    }

    [Fact]
    public void TimedOut_DecidedByTheOrchestration_OrByTheSweep_EndsTheRecordAlike()
    {
        // The orchestration has the deadline from its plan (through the durable history's JSON) and hands its ending to
        // FinishJob (JSON again); the sweep has it from the record. Whichever writes first, the record reads the same.
        var job = Running();
        var plan = RoundTrip(new JobPlan(job.Id, job.Type, [new JobStepPlan("step-1", StepRetryPolicy.Default)], job.Deadline!.Value, Revision: JobPlan.CurrentRevision));
        var decided = JobOutcome.TimedOut(plan.Deadline);
        var byOrchestration = RoundTrip(new FinishRequest(job.Id, decided.Status, decided.Text(), decided.Result, decided.Metadata, decided.Error)).Outcome();
        var bySweep = JobOutcome.TimedOut(job.Deadline!.Value);

        Assert.Equal(bySweep, byOrchestration);
        Assert.Equal(bySweep.LogLine(), byOrchestration.LogLine());
        var ended = JobTransitions.End(job, byOrchestration, Now)!;
        Assert.Equal(Shown(JobTransitions.End(job, bySweep, Now)!), Shown(ended));
        Assert.Equal((JobStatus.TimedOut, bySweep.Message, (JobError?)null, "step-2", 40), (ended.Status, ended.Message, ended.Error, ended.Step, ended.Progress));
        // The second decider finds the job ended: it ends once.
        Assert.Null(JobTransitions.End(ended, bySweep, Now.AddSeconds(1)));
    }

    [Fact]
    public void Failed_NamesItsStep_AndItsLogLineTheError()
    {
        var error = new JobError("boom", "System.InvalidOperationException", "at X", "step-2");
        var outcome = JobOutcome.Failed("step-2", error);
        Assert.Equal((JobStatus.Failed, "Failed in step-2", error), (outcome.Status, outcome.Message, outcome.Error));
        Assert.Equal("Job failed: Failed in step-2 (boom)", outcome.LogLine());
        Assert.Equal("Failed", JobOutcome.Failed(null, error).Message);
        Assert.Equal(outcome, JobOutcome.StepFailed("step-2", new Microsoft.DurableTask.TaskFailureDetails("System.InvalidOperationException", "boom", "at X", null, null)));
    }

    [Fact]
    public void ItemsFailed_OneItem_IsThatItemsError_SeveralAreNamedInOne()
    {
        var first = JobOutcome.ItemError("fan", 0, 4, new Microsoft.DurableTask.TaskFailureDetails("T", "no disk", null, null, null));
        var third = JobOutcome.ItemError("fan", 2, 4, new Microsoft.DurableTask.TaskFailureDetails("T", "no net", null, null, null));
        Assert.Equal("Item 1 of 4: no disk", first.Message);
        Assert.Equal(first, JobOutcome.ItemsFailed("fan", [(0, first)]).Error);
        var both = JobOutcome.ItemsFailed("fan", [(0, first), (2, third)]);
        Assert.Equal(("Failed in fan", "2 items of fan failed: Item 1 of 4: no disk; Item 3 of 4: no net", "fan"), (both.Message, both.Error!.Message, both.Error.Step));
    }

    [Fact]
    public void Cancellations_AndTerminations_SayWhoOrWhere()
    {
        Assert.Equal("Cancelled before step-2", JobOutcome.CancelledBefore("step-2").Message);
        Assert.Equal("Cancelled during fan", JobOutcome.CancelledDuring("fan").Message);
        Assert.Equal("Cancelled by alice before it started", JobOutcome.CancelledBeforeStart("alice").Message);
        Assert.Equal("Terminated by alice: stuck", JobOutcome.Terminated("alice", "stuck").Message);
        Assert.Equal(JobOutcome.MaxMessageLength, JobOutcome.Terminated("alice", new string('x', 600)).Message!.Length);
        Assert.All(new[] { JobOutcome.CancelledBefore("s"), JobOutcome.CancelledBeforeStart("a"), JobOutcome.Terminated("a", "r") },
            o => Assert.Equal((JobStatus.Cancelled, (JobError?)null), (o.Status, o.Error)));
    }

    [Fact]
    public void OrchestrationMissing_SaysWhyForAPendingAndForARunningJob()
    {
        var pending = JobOutcome.OrchestrationMissing(Running() with { Status = JobStatus.Pending, Step = null });
        Assert.Equal(("Failed: orchestration missing", "OrchestrationMissing"), (pending.Message, pending.Error!.Type));
        Assert.Contains("'demo.steps' is no longer deployed", pending.Error.Message, StringComparison.Ordinal);
        var running = JobOutcome.OrchestrationMissing(Running());
        Assert.Contains("purged while the job ran", running.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("step-2", running.Error.Step);
    }

    [Fact]
    public void ResultTooLarge_FailsWithAdvice()
    {
        var outcome = JobOutcome.ResultTooLarge(40_000, 30_000);
        Assert.Equal((JobStatus.Failed, "Failed: result too large", "ResultTooLarge"), (outcome.Status, outcome.Message, outcome.Error!.Type));
        Assert.Contains("Blob storage", outcome.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void End_Completed_TakesTheResultAndAddsItsMetadata_At100Percent()
    {
        var result = JsonSerializer.SerializeToElement(new { rows = 3 });
        var ended = JobTransitions.End(Running(), JobOutcome.Completed(result, new Dictionary<string, string> { ["rows"] = "3" }), Now)!;
        Assert.Equal((JobStatus.Completed, "Completed", 100, Now), (ended.Status, ended.Message, ended.Progress, ended.CompletedAt));
        Assert.Equal("""{"rows":3}""", ended.Result!.Value.GetRawText());
        Assert.Equal(new Dictionary<string, string> { ["operation"] = "demo", ["rows"] = "3" }, ended.Metadata);
        Assert.Equal(JobLogLevel.Information, JobOutcome.Completed(null, null).LogLevel());
    }

    [Fact]
    public void End_Guard_RefusesTheEnding_OrAddsTheCallersFields()
    {
        Assert.Null(JobTransitions.End(Running(), JobOutcome.CancelledBeforeStart("alice"), Now,
            current => current.Status is JobStatus.Draft or JobStatus.Pending ? current : null));
        var cancelled = JobTransitions.End(Running() with { Status = JobStatus.Pending }, JobOutcome.CancelledBeforeStart("alice"), Now,
            current => current with { CancelRequested = true })!;
        Assert.Equal((JobStatus.Cancelled, true, "Cancelled by alice before it started"), (cancelled.Status, cancelled.CancelRequested, cancelled.Message));
    }
}
