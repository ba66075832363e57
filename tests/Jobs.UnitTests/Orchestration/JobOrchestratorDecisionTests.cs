using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Jobs.Testing;

namespace Jobs.UnitTests.Orchestration;

/// <summary>
/// A step that waits for a person's decision (issue 31), against a scripted context: the ask is recorded, the
/// orchestration waits for the decision's event or its timeout, and the record (the activity's answer) decides what follows.
/// </summary>
public sealed class JobOrchestratorDecisionTests
{
    private static readonly DateTime Start = new(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);
    private const string Await = nameof(JobActivities.AwaitDecision);
    private const string Step = nameof(JobActivities.RunJobStep);
    private const string Finish = nameof(JobActivities.FinishJob);
    private static readonly string Event = JobDecision.EventName("deploy");

    private static JobPlan Plan(DecisionTimeoutAction onTimeout = DecisionTimeoutAction.Fail, TimeSpan? decisionTimeout = null, TimeSpan? jobTimeout = null) =>
        new("job-1", "demo.approval",
        [
            new JobStepPlan("prepare", StepRetryPolicy.None),
            new JobStepPlan("deploy", StepRetryPolicy.None, Decision: new JobDecisionRequest("deploy", "Deploy?", decisionTimeout ?? TimeSpan.FromHours(1), onTimeout)),
        ],
        new DateTimeOffset(Start).Add(jobTimeout ?? TimeSpan.FromHours(2)), Revision: JobPlan.CurrentRevision, Limited: false);

    /// <summary>
    /// A context whose decision activity answers from <paramref name="answers"/> in turn (the last one repeats), whose
    /// decision event arrives when <paramref name="eventArrives"/> says, and whose steps complete.
    /// </summary>
    private static ScriptedOrchestrationContext Context(JobPlan plan, List<string> order, bool eventArrives, params DecisionOutcome[] answers)
    {
        var next = 0;
        return new(plan, Start)
        {
            EventArrives = _ => eventArrives,
            Event = name =>
            {
                order.Add(name);
                return null;
            },
            Activity = (name, input) =>
            {
                order.Add(name);
                return name switch
                {
                    Finish => ((FinishRequest)input!).Status,
                    Await => answers[Math.Min(next++, answers.Length - 1)],
                    _ => new StepOutcome(StepOutcomeKind.Completed, JsonSerializer.SerializeToElement("done"), null, null),
                };
            },
        };
    }

    private static readonly DecisionOutcome Waiting = new(DecisionOutcomeKind.Waiting);

    private static DecisionOutcome Answered(DecisionAnswer answer) => new(DecisionOutcomeKind.Answered, answer);

    [Fact]
    public async Task ADecisionStep_RecordsTheAsk_WaitsForTheDecisionsEvent_ThenRunsTheStepOnceTheRecordSaysAnswered()
    {
        var order = new List<string>();
        var context = Context(Plan(), order, eventArrives: true, Waiting, Answered(DecisionAnswer.Approve));

        var outcome = await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, Await, Event, Await, Step, Finish], order);
        Assert.Equal(JobStatus.Completed, outcome.Status);
        var asks = context.Calls.Where(c => c.Name == Await).Select(c => (AwaitDecisionRequest)c.Input!).ToList();
        Assert.Equal("prepare", asks[0].Completed?.Name); // the step before's closing line goes with the ask
        Assert.Null(asks[1].Completed);                   // written once
        Assert.Equal(asks[0].AskedAt, asks[1].AskedAt);   // the same ask on every call
        Assert.All(asks, a => Assert.False(a.Expire));
        var deploy = (StepRequest)context.Calls.Last(c => c.Name == Step).Input!;
        Assert.Equal("deploy", deploy.StepName);
        Assert.Null(deploy.Completed);
    }

    [Fact]
    public async Task AnEventWithoutARecordedAnswer_OnlyMakesItLookAgain_AndWaitAgain()
    {
        var order = new List<string>();
        var context = Context(Plan(), order, eventArrives: true, Waiting, Waiting, Answered(DecisionAnswer.Approve));

        await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, Await, Event, Await, Event, Await, Step, Finish], order);
    }

    [Fact]
    public async Task NoAnswerByTheTimeout_AppliesItThroughTheRecord_AndFailsTheJobWithoutRunningTheStep()
    {
        var order = new List<string>();
        var context = Context(Plan(DecisionTimeoutAction.Fail), order, eventArrives: false, Waiting, Answered(DecisionAnswer.Expired));

        var outcome = await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, Await, Await, Finish], order);
        var expire = (AwaitDecisionRequest)context.Calls.Where(c => c.Name == Await).Last().Input!;
        Assert.True(expire.Expire);
        Assert.Equal(Start.AddHours(1), context.Now); // the timer fired at the decision's timeout
        var finish = (FinishRequest)context.Calls.Last().Input!;
        Assert.Equal(JobStatus.Failed, finish.Status);
        Assert.Equal("DecisionTimedOut", finish.Error?.Type);
        Assert.Equal("deploy", finish.Error?.Step);
        Assert.Equal(JobStatus.Failed, outcome.Status);
    }

    [Fact]
    public async Task NoAnswerByTheTimeout_WithCancel_CancelsTheJob()
    {
        var order = new List<string>();
        var context = Context(Plan(DecisionTimeoutAction.Cancel), order, eventArrives: false, Waiting, Answered(DecisionAnswer.Expired));

        var outcome = await JobOrchestrator.RunAsync(context);

        Assert.Equal(JobStatus.Cancelled, outcome.Status);
        Assert.StartsWith("Cancelled: no decision (deploy)", ((FinishRequest)context.Calls.Last().Input!).Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ATimeoutThatAnswersForThePerson_RunsTheStep()
    {
        var order = new List<string>();
        var context = Context(Plan(DecisionTimeoutAction.Reject), order, eventArrives: false, Waiting, Answered(DecisionAnswer.Reject));

        var outcome = await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, Await, Await, Step, Finish], order);
        Assert.Equal(JobStatus.Completed, outcome.Status); // what a rejection does is the step's to decide
    }

    [Fact]
    public async Task AnAnswerThatCrossedTheTimeout_Wins_WhenTheRecordHadItFirst()
    {
        var order = new List<string>();
        // The timer fired, but the person's approval reached the record first: the expiring call finds it.
        var context = Context(Plan(DecisionTimeoutAction.Fail), order, eventArrives: false, Waiting, Answered(DecisionAnswer.Approve));

        var outcome = await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, Await, Await, Step, Finish], order);
        Assert.Equal(JobStatus.Completed, outcome.Status);
    }

    [Fact]
    public async Task TheJobsDeadlineBeforeTheDecisionsTimeout_TimesTheJobOut_WithoutApplyingTheDecisionsTimeout()
    {
        var order = new List<string>();
        var context = Context(Plan(DecisionTimeoutAction.Approve, decisionTimeout: TimeSpan.FromHours(5), jobTimeout: TimeSpan.FromHours(2)), order,
            eventArrives: false, Waiting);

        var outcome = await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, Await, Finish], order);
        Assert.Equal(JobStatus.TimedOut, outcome.Status);
        Assert.Equal(Start.AddHours(2), context.Now);
    }

    [Fact]
    public async Task ACancelSeenByTheAsk_EndsTheJobCancelledBeforeTheStep()
    {
        var order = new List<string>();
        var context = Context(Plan(), order, eventArrives: true, new DecisionOutcome(DecisionOutcomeKind.CancelRequested));

        var outcome = await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, Await, Finish], order);
        Assert.Equal(JobStatus.Cancelled, outcome.Status);
        var finish = (FinishRequest)context.Calls.Last().Input!;
        Assert.Equal("prepare", finish.Completed?.Name); // the step before's closing line is not lost
    }
}
