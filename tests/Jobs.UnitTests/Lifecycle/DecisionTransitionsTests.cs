using System.Text.Json;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;

namespace Jobs.UnitTests.Lifecycle;

/// <summary>Waiting for a decision (issue 31): the rules of asking, answering and timing out (pure logic).</summary>
public sealed class DecisionTransitionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly AuditActor Alice = AuditActor.User("alice", "Alice", "aad", null);

    private static Job Running() => new()
    {
        Id = "j1", Type = "demo.approval", Status = JobStatus.Running, Owner = "alice", Step = "prepare", StepIndex = 0, StepCount = 2, Attempt = 1,
        CreatedAt = Now, StartedAt = Now,
    };

    private static JobDecision Ask(DecisionTimeoutAction onTimeout = DecisionTimeoutAction.Fail, DateTimeOffset? at = null) =>
        new("deploy", "Deploy?", "deploy", 1, "approver", at ?? Now, (at ?? Now).AddHours(1), onTimeout);

    private static Job Waiting(DecisionTimeoutAction onTimeout = DecisionTimeoutAction.Fail) => JobTransitions.AwaitDecision(Running(), Ask(onTimeout), 2)!;

    [Fact]
    public void AwaitDecision_ShowsTheJobWaitingAtTheStepThatAsks_WithTheQuestion()
    {
        var waiting = Waiting();

        Assert.Equal(JobStatus.Waiting, waiting.Status);
        Assert.Equal(("deploy", 1, 0), (waiting.Step, waiting.StepIndex, waiting.Attempt));
        Assert.Equal("Waiting for a decision (deploy): Deploy?", waiting.Message);
        Assert.Null(waiting.Decision!.Answer);
        Assert.Null(JobTransitions.AwaitDecision(waiting, Ask(), 2)); // asked twice: written once
    }

    [Fact]
    public void AwaitDecision_NeverReopensAnAnsweredAsk_NorAsksForACancelledOrEndedJob()
    {
        var answered = JobTransitions.Decide(Waiting(), "deploy", DecisionAnswer.Approve, null, null, Alice, Now)!;
        Assert.Null(JobTransitions.AwaitDecision(answered, Ask(), 2));
        Assert.Null(JobTransitions.AwaitDecision(Running() with { CancelRequested = true }, Ask(), 2));
        Assert.Null(JobTransitions.AwaitDecision(Running() with { Status = JobStatus.Failed }, Ask(), 2));
    }

    [Fact]
    public void AwaitDecision_BeforeTheFirstStep_StartsTheJob()
    {
        var pending = Running() with { Status = JobStatus.Pending, StartedAt = null };

        var waiting = JobTransitions.AwaitDecision(pending, Ask(at: Now.AddMinutes(1)), 2)!;

        Assert.Equal(Now.AddMinutes(1), waiting.StartedAt);
    }

    [Fact]
    public void Decide_RecordsTheAnswerAndWhoGaveIt_AndTheJobRunsOn()
    {
        var payload = JsonSerializer.SerializeToElement(new { version = "1.2" });

        var decided = JobTransitions.Decide(Waiting(), "deploy", DecisionAnswer.Reject, "not today", payload, Alice, Now.AddMinutes(3))!;

        Assert.Equal(JobStatus.Running, decided.Status);
        Assert.Equal(DecisionAnswer.Reject, decided.Decision!.Answer);
        Assert.Equal(("not today", "alice", "Alice", Now.AddMinutes(3)), (decided.Decision.Comment, decided.Decision.DecidedBy, decided.Decision.DecidedByName, decided.Decision.DecidedAt));
        Assert.Equal("1.2", decided.Decision.Payload!.Value.GetProperty("version").GetString());
        Assert.False(decided.Decision.TimedOut);
        Assert.Equal("Rejected by Alice; continuing with deploy", decided.Message);
    }

    [Fact]
    public void Decide_IsRefused_ForAnotherName_ASecondAnswer_AJobNotWaiting()
    {
        var waiting = Waiting();
        Assert.Null(JobTransitions.Decide(waiting, "release", DecisionAnswer.Approve, null, null, Alice, Now));
        var decided = JobTransitions.Decide(waiting, "deploy", DecisionAnswer.Approve, null, null, Alice, Now)!;
        Assert.Null(JobTransitions.Decide(decided, "deploy", DecisionAnswer.Reject, null, null, Alice, Now));
        Assert.Null(JobTransitions.Decide(Running(), "deploy", DecisionAnswer.Approve, null, null, Alice, Now));
        Assert.Null(JobTransitions.Decide(waiting, "deploy", DecisionAnswer.Expired, null, null, Alice, Now));
    }

    [Theory]
    [InlineData(DecisionTimeoutAction.Fail, DecisionAnswer.Expired, JobStatus.Waiting)]
    [InlineData(DecisionTimeoutAction.Cancel, DecisionAnswer.Expired, JobStatus.Waiting)]
    [InlineData(DecisionTimeoutAction.Approve, DecisionAnswer.Approve, JobStatus.Running)]
    [InlineData(DecisionTimeoutAction.Reject, DecisionAnswer.Reject, JobStatus.Running)]
    public void ExpireDecision_AnswersAsTheHandlerSaid_ByTheTimeout(DecisionTimeoutAction onTimeout, DecisionAnswer answer, JobStatus status)
    {
        var expired = JobTransitions.ExpireDecision(Waiting(onTimeout), Ask(onTimeout), Now.AddHours(1))!;

        Assert.Equal(answer, expired.Decision!.Answer);
        Assert.True(expired.Decision.TimedOut);
        Assert.Equal(JobDecision.TimeoutActor, expired.Decision.DecidedBy);
        Assert.Equal(status, expired.Status);
        // Once expired, no answer is taken (the API's 409).
        Assert.Null(JobTransitions.Decide(expired, "deploy", DecisionAnswer.Approve, null, null, Alice, Now));
    }

    [Fact]
    public void ExpireDecision_IsRefused_WhenAPersonAnsweredFirst()
    {
        var decided = JobTransitions.Decide(Waiting(), "deploy", DecisionAnswer.Approve, null, null, Alice, Now)!;

        Assert.Null(JobTransitions.ExpireDecision(decided, Ask(), Now.AddHours(1)));
    }
}
