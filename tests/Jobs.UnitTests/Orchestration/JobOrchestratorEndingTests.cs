using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Jobs.Testing;
using Microsoft.DurableTask;

namespace Jobs.UnitTests.Orchestration;

/// <summary>
/// The endings the orchestration decides, run against a scripted context (no engine, no storage): each is the one
/// <see cref="JobOutcome"/> gives — and a timeout, however the orchestration notices it, is the very ending the sweep
/// writes for the same job (<see cref="JobCommands.TimeOutAsync"/>), so a race between the two cannot change it.
/// </summary>
public sealed class JobOrchestratorEndingTests
{
    private static readonly DateTime Start = new(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);
    private static readonly DateTimeOffset Deadline = new DateTimeOffset(Start).AddSeconds(10).AddTicks(42);

    /// <summary>What the sweep writes for this job once its deadline passed.</summary>
    private static readonly JobOutcome SweepsEnding = JobOutcome.TimedOut(Deadline);

    private static JobPlan Plan(StepRetryPolicy? retry = null) => new("job-1", "demo.steps",
        [new JobStepPlan("step-1", retry ?? StepRetryPolicy.Default), new JobStepPlan("step-2", retry ?? StepRetryPolicy.Default)],
        Deadline, Revision: JobPlan.CurrentRevision);

    private static JobLogLine Line(string message) => new("c1", Start, JobLogLevel.Warning, message, "step-1");

    private static StepOutcome Completed(string output) => new(StepOutcomeKind.Completed, JsonSerializer.SerializeToElement(output), null, null);

    private static TaskFailedException HandlerFailure() =>
        new(nameof(JobActivities.RunJobStep), 1, new TaskFailureDetails("System.InvalidOperationException", "boom", "at Step", null, null));

    /// <summary>A context whose step activity answers <paramref name="step"/>, and whose FinishJob writes what it is given.</summary>
    private static ScriptedOrchestrationContext Context(Func<StepRequest, ScriptedOrchestrationContext, StepOutcome> step, DateTime? now = null, JobStatus? endedAs = null)
    {
        ScriptedOrchestrationContext? context = null;
        context = new ScriptedOrchestrationContext(Plan(), now ?? Start)
        {
            Activity = (name, input) => name switch
            {
                nameof(JobActivities.RunJobStep) => step((StepRequest)input!, context!),
                nameof(JobActivities.FinishJob) => endedAs ?? ((FinishRequest)input!).Status,
                _ => throw new InvalidOperationException($"unexpected activity {name}"),
            },
        };
        return context;
    }

    /// <summary>The ending FinishJob was asked to write, as the activity reads it (through the history's JSON).</summary>
    private static JobOutcome Finished(ScriptedOrchestrationContext context, out FinishRequest request)
    {
        var finish = Assert.Single(context.Calls, c => c.Name == nameof(JobActivities.FinishJob));
        request = JsonSerializer.Deserialize<FinishRequest>(JsonSerializer.Serialize(finish.Input, JobJson.Options), JobJson.Options)!;
        return request.Outcome();
    }

    [Fact]
    public async Task ADeadlineAlreadyPassed_BeforeTheFirstStep_EndsTimedOut_AsTheSweepWould()
    {
        var context = Context((_, _) => throw new InvalidOperationException("no step may run"), now: Start.AddSeconds(11));

        var output = await JobOrchestrator.RunAsync(context);

        Assert.Equal(SweepsEnding, Finished(context, out _));
        Assert.Equal(SweepsEnding, output);
        Assert.Equal(SweepsEnding.Message, ((JobCustomStatus)context.CustomStatus!).Message);
    }

    [Fact]
    public async Task AStepStoppedAtTheDeadline_EndsTimedOut_AsTheSweepWould_WithTheStepsLines()
    {
        var stopped = Line("Step step-1 stopped: the job's deadline passed.");
        var context = Context((request, ctx) =>
        {
            ctx.Now = Deadline.UtcDateTime;
            return new StepOutcome(StepOutcomeKind.TimedOut, null, null, null, Lines: [stopped]);
        });

        await JobOrchestrator.RunAsync(context);

        Assert.Equal(SweepsEnding, Finished(context, out var request));
        Assert.Equal([stopped], request.Carried!);
    }

    [Fact]
    public async Task TheLastStepReturningAfterTheDeadline_EndsTimedOut_AsTheSweepWould()
    {
        var context = Context((request, ctx) =>
        {
            if (request.StepIndex == 1)
            {
                ctx.Now = Start.AddSeconds(12); // a handler that ignored its token, and returned late
            }
            return Completed(request.StepName);
        });

        await JobOrchestrator.RunAsync(context);

        Assert.Equal(SweepsEnding, Finished(context, out _));
    }

    [Fact]
    public async Task ARetryBackOffReachingTheDeadline_EndsTimedOut_AsTheSweepWould()
    {
        // The first retry would wait a minute; the back-off ends at the deadline instead, and the job with it.
        ScriptedOrchestrationContext? context = null;
        context = new ScriptedOrchestrationContext(Plan(new StepRetryPolicy(3, TimeSpan.FromMinutes(1))), Start)
        {
            Activity = (name, input) => name == nameof(JobActivities.FinishJob) ? ((FinishRequest)input!).Status : throw HandlerFailure(),
        };

        await JobOrchestrator.RunAsync(context);

        Assert.Equal(SweepsEnding, Finished(context, out _));
        Assert.Equal(Deadline.UtcDateTime, context.Now);
    }

    [Fact]
    public async Task ACancelSeenAtAStepBoundary_EndsCancelledBeforeThatStep()
    {
        var context = Context((request, _) => request.StepIndex == 0
            ? Completed("one")
            : new StepOutcome(StepOutcomeKind.CancelRequested, null, null, null));

        var output = await JobOrchestrator.RunAsync(context);

        Assert.Equal(JobOutcome.CancelledBefore("step-2"), Finished(context, out _));
        Assert.Equal(JobOutcome.CancelledBefore("step-2"), output);
    }

    [Fact]
    public async Task AStepFailingOnItsLastAttempt_EndsFailedInThatStep_WithTheHandlersError()
    {
        var context = new ScriptedOrchestrationContext(Plan(StepRetryPolicy.None), Start)
        {
            Activity = (name, input) => name == nameof(JobActivities.FinishJob) ? ((FinishRequest)input!).Status : throw HandlerFailure(),
        };

        await Assert.ThrowsAsync<TaskFailedException>(() => JobOrchestrator.RunAsync(context));

        var failed = Finished(context, out _);
        Assert.Equal(JobOutcome.StepFailed("step-1", HandlerFailure().FailureDetails), failed);
        Assert.Equal(("Failed in step-1", "boom", "System.InvalidOperationException"), (failed.Message, failed.Error!.Message, failed.Error.Type));
    }

    [Fact]
    public async Task EveryStepReturningInTime_EndsCompleted_WithTheLastOutput()
    {
        var context = Context((request, _) => Completed($"{request.StepName} done"));

        var output = await JobOrchestrator.RunAsync(context);

        var completed = Finished(context, out _);
        Assert.Equal((JobStatus.Completed, "Completed"), (completed.Status, completed.Message));
        Assert.Equal("\"step-2 done\"", completed.Result!.Value.GetRawText());
        Assert.Equal(JobStatus.Completed, output.Status);
    }

    [Fact]
    public async Task AResumedPlan_StartsAtItsStep_HandedTheCarriedOutput_AndRunsNoStepBefore()
    {
        var plan = Plan() with { StartAt = 1, StartOutput = JsonSerializer.SerializeToElement(new { stepsCompleted = 1 }) };
        var context = new ScriptedOrchestrationContext(plan, Start)
        {
            Activity = (name, input) => name switch
            {
                nameof(JobActivities.RunJobStep) => Completed($"{((StepRequest)input!).StepName} done"),
                nameof(JobActivities.FinishJob) => ((FinishRequest)input!).Status,
                _ => throw new InvalidOperationException($"unexpected activity {name}"),
            },
        };

        var output = await JobOrchestrator.RunAsync(context);

        var step = (StepRequest)Assert.Single(context.Calls, c => c.Name == nameof(JobActivities.RunJobStep)).Input!;
        Assert.Equal(("step-2", 1), (step.StepName, step.StepIndex));
        Assert.Equal("{\"stepsCompleted\":1}", step.PreviousOutput!.Value.GetRawText());
        Assert.Null(step.Completed); // nothing ran before it here: the carried output is already kept with the job
        Assert.Equal(JobStatus.Completed, output.Status);
        Assert.Equal("\"step-2 done\"", Finished(context, out _).Result!.Value.GetRawText());
    }

    [Fact]
    public void APlanFromBeforeResumes_ReadsBackStartingAtTheFirstStep()
    {
        var json = JsonSerializer.Serialize(Plan(), JobJson.Options);
        Assert.DoesNotContain("startAt\":1", json, StringComparison.Ordinal);
        var read = JsonSerializer.Deserialize<JobPlan>(json.Replace("\"startAt\":0,", "", StringComparison.Ordinal), JobJson.Options)!;
        Assert.Equal((0, (JsonElement?)null), (read.StartAt, read.StartOutput));
    }

    private static TaskFailedException BookkeepingFailure() =>
        new(nameof(JobActivities.RunJobStep), 1, new TaskFailureDetails(typeof(JobBookkeepingException).FullName!,
            JobBookkeepingException.MessagePrefix + "record the step's start: storage unreachable", null, null, null));

    [Fact]
    public async Task ABookkeepingFailure_IsRetriedAsTheSameAttempt_AndNeverChargedToTheHandler()
    {
        // The engine's own write failed twice before step 1 could start: the orchestration waits (1 s, 2 s) and asks for
        // the same attempt again; the handler's retry policy (none here) is not touched, and the job completes.
        var failures = 0;
        var context = new ScriptedOrchestrationContext(Plan(StepRetryPolicy.None), Start)
        {
            Activity = (name, input) => name switch
            {
                nameof(JobActivities.RunJobStep) when ((StepRequest)input!).StepIndex == 0 && failures++ < 2 => throw BookkeepingFailure(),
                nameof(JobActivities.RunJobStep) => Completed(((StepRequest)input!).StepName),
                _ => ((FinishRequest)input!).Status,
            },
        };

        var output = await JobOrchestrator.RunAsync(context);

        Assert.Equal(JobStatus.Completed, output.Status);
        var firstStep = context.Calls.Where(c => c.Name == nameof(JobActivities.RunJobStep)).Select(c => (StepRequest)c.Input!).Where(r => r.StepIndex == 0).ToList();
        Assert.Equal([1, 1, 1], firstStep.Select(r => r.Attempt));
        Assert.Equal([1, 1, 1], firstStep.Select(r => r.TotalAttempts));
        Assert.Equal(Start.AddSeconds(3), context.Now); // the two back-offs: 1 s, then 2 s
    }

    [Fact]
    public async Task ABookkeepingBackOffReachingTheDeadline_EndsTimedOut_AsTheSweepWould_NotFailed()
    {
        // The engine's writes keep failing (storage down): the back-offs (1, 2, 4 s, then 8 s cut at the deadline) run
        // the job into its deadline, which ends it as a timeout, never as the handler's failure.
        var context = new ScriptedOrchestrationContext(Plan(StepRetryPolicy.None), Start)
        {
            Activity = (name, input) => name == nameof(JobActivities.FinishJob) ? ((FinishRequest)input!).Status : throw BookkeepingFailure(),
        };

        var output = await JobOrchestrator.RunAsync(context);

        Assert.Equal(SweepsEnding, Finished(context, out _));
        Assert.Equal(SweepsEnding, output);
        Assert.Equal(Deadline.UtcDateTime, context.Now);
        Assert.Equal(4, context.Calls.Count(c => c.Name == nameof(JobActivities.RunJobStep))); // at 0, 1, 3 and 7 s
    }

    [Fact]
    public async Task AStepTheEngineCannotRecordInItsBoundOfTries_EndsFailed_NamingTheEngine_NotTheHandler()
    {
        var plan = Plan(StepRetryPolicy.None) with { Deadline = new DateTimeOffset(Start).AddDays(30) };
        var context = new ScriptedOrchestrationContext(plan, Start)
        {
            Activity = (name, input) => name == nameof(JobActivities.FinishJob) ? ((FinishRequest)input!).Status : throw BookkeepingFailure(),
        };

        var output = await JobOrchestrator.RunAsync(context);

        var ending = Finished(context, out _);
        Assert.Equal(JobOutcome.StepNotRecorded("step-1", JobOrchestrator.MaxTriesPerStep), ending);
        Assert.Equal(ending, output);
        Assert.Equal((JobStatus.Failed, typeof(JobBookkeepingException).FullName, "step-1"), (ending.Status, ending.Error!.Type, ending.Error.Step));
        Assert.Equal(JobOrchestrator.MaxTriesPerStep, context.Calls.Count(c => c.Name == nameof(JobActivities.RunJobStep)));
        Assert.All(context.Calls.Where(c => c.Name == nameof(JobActivities.RunJobStep)), c => Assert.Equal(1, ((StepRequest)c.Input!).Attempt));
    }

    [Fact]
    public async Task AFailedWriteOfTheEnding_IsRetriedWithTheSameEnding_UntilItIsWritten()
    {
        var finishes = 0;
        var context = new ScriptedOrchestrationContext(Plan(), Start)
        {
            Activity = (name, input) => name switch
            {
                nameof(JobActivities.RunJobStep) => Completed(((StepRequest)input!).StepName),
                nameof(JobActivities.FinishJob) when finishes++ < 2 => throw BookkeepingFailure(),
                _ => ((FinishRequest)input!).Status,
            },
        };

        var output = await JobOrchestrator.RunAsync(context);

        Assert.Equal(JobStatus.Completed, output.Status);
        var requests = context.Calls.Where(c => c.Name == nameof(JobActivities.FinishJob)).Select(c => (FinishRequest)c.Input!).ToList();
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Same(requests[0], r)); // the ending was decided once; only its write is retried
        Assert.Equal(Start.AddSeconds(3), context.Now); // the steps take no time here; then the two back-offs, 1 s and 2 s
        Assert.Equal(100, ((JobCustomStatus)context.CustomStatus!).Progress);
    }

    [Fact]
    public async Task AHandlerFailure_IsRetriedAsTheNextAttempt_AfterItsPolicysInterval_AndCanStillComplete()
    {
        var failures = 0;
        var context = new ScriptedOrchestrationContext(Plan(new StepRetryPolicy(3, TimeSpan.FromSeconds(2))), Start)
        {
            Activity = (name, input) => name switch
            {
                nameof(JobActivities.RunJobStep) when ((StepRequest)input!).StepIndex == 0 && failures++ < 2 => throw HandlerFailure(),
                nameof(JobActivities.RunJobStep) => Completed(((StepRequest)input!).StepName),
                _ => ((FinishRequest)input!).Status,
            },
        };

        var output = await JobOrchestrator.RunAsync(context);

        Assert.Equal(JobStatus.Completed, output.Status);
        var requests = context.Calls.Where(c => c.Name == nameof(JobActivities.RunJobStep)).Select(c => (StepRequest)c.Input!).ToList();
        Assert.Equal([(0, 1, 1), (0, 2, 2), (0, 3, 3), (1, 1, 4)], requests.Select(r => (r.StepIndex, r.Attempt, r.TotalAttempts)));
    }

    [Fact]
    public async Task AJobThatEndedAnotherWayMeanwhile_ReportsThatEnding_NotItsOwn()
    {
        // The sweep ended it first: FinishJob finds it timed out, and the orchestration says so rather than what it decided.
        var context = Context((request, _) => Completed(request.StepName), endedAs: JobStatus.TimedOut);

        var output = await JobOrchestrator.RunAsync(context);

        Assert.Equal(JobOutcome.EndedElsewhere(JobStatus.TimedOut), output);
    }
}
