using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Jobs.Testing;
using Microsoft.DurableTask;

namespace Jobs.UnitTests.Orchestration;

/// <summary>
/// A parallel step's fan-out and fan-in (<see cref="ParallelStep"/>) against a scripted context (no engine, no storage):
/// how items' failures, retries, the engine's own failures, a cancel and the deadline end it.
/// </summary>
public sealed class ParallelStepTests
{
    private static readonly DateTime Start = new(2026, 12, 8, 12, 0, 0, DateTimeKind.Utc);
    private static readonly DateTimeOffset Deadline = new DateTimeOffset(Start).AddMinutes(10);

    private static JobStepPlan Step(int parallelism = 2, ItemFailureMode onFailure = ItemFailureMode.FailFast, StepRetryPolicy? retry = null) =>
        new("items", retry ?? StepRetryPolicy.None, parallelism, onFailure);

    private static JobPlan Plan(JobStepPlan step) => new("job-1", "demo.fan-out", [step], Deadline, Revision: JobPlan.CurrentRevision);

    private static readonly IReadOnlyList<JsonElement> FiveItems = [.. Enumerable.Range(0, 5).Select(i => JsonSerializer.SerializeToElement(i))];

    private static ItemOutcome Done(ItemRequest request) => new(StepOutcomeKind.Completed, JsonSerializer.SerializeToElement($"item {request.ItemIndex} done"), null);

    private static TaskFailedException ItemFailure(string message = "boom") =>
        new(nameof(JobActivities.RunJobItem), 1, new TaskFailureDetails("System.InvalidOperationException", message, null, null, null));

    private static TaskFailedException BookkeepingFailure() =>
        new(nameof(JobActivities.RunJobItem), 1, new TaskFailureDetails(typeof(JobBookkeepingException).FullName!,
            JobBookkeepingException.MessagePrefix + "record the item: storage unreachable", null, null, null));

    /// <summary>A context whose items answer <paramref name="item"/>; progress records answer <paramref name="cancelled"/>.</summary>
    private static ScriptedOrchestrationContext Context(JobStepPlan step, Func<ItemRequest, ItemOutcome> item, Func<ItemsProgress, bool>? cancelled = null) =>
        new(Plan(step), Start)
        {
            Activity = (name, input) => name switch
            {
                nameof(JobActivities.RunJobItem) => item((ItemRequest)input!),
                nameof(JobActivities.RecordItemsProgress) => cancelled?.Invoke((ItemsProgress)input!) ?? false,
                _ => throw new InvalidOperationException($"unexpected activity {name}"),
            },
        };

    private static List<ItemRequest> ItemCalls(ScriptedOrchestrationContext context) =>
        [.. context.Calls.Where(c => c.Name == nameof(JobActivities.RunJobItem)).Select(c => (ItemRequest)c.Input!)];

    private static Task<ParallelResult> RunAsync(ScriptedOrchestrationContext context, JobStepPlan step, IReadOnlyList<JsonElement>? items = null) =>
        ParallelStep.RunAsync(context, Plan(step), 0, step, items ?? FiveItems, null);

    [Fact]
    public async Task EveryItemDone_Completes_WithTheOutputsInItemOrder_AndTheTimelineAllDone()
    {
        var step = Step();
        var context = Context(step, Done);

        var result = await RunAsync(context, step);

        Assert.Equal(ParallelEnd.Completed, result.End);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"item {i} done"), result.Outputs!.Value.EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([0, 1, 2, 3, 4], ItemCalls(context).Select(r => r.ItemIndex).Order());
        var last = (ItemsProgress)context.Calls.Last(c => c.Name == nameof(JobActivities.RecordItemsProgress)).Input!;
        Assert.Equal((5, 5, "ddddd"), (last.Done, last.Total, last.States));
    }

    [Fact]
    public async Task AFailedItem_FailFast_EndsTheStepAtOnce_StartingNoMoreItems()
    {
        var step = Step(parallelism: 1);
        var context = Context(step, r => r.ItemIndex == 1 ? throw ItemFailure() : Done(r));

        var result = await RunAsync(context, step);

        Assert.Equal(ParallelEnd.Failed, result.End);
        var (item, error) = Assert.Single(result.Failures);
        Assert.Equal((1, "Item 2 of 5: boom", "items"), (item, error.Message, error.Step));
        Assert.Equal([0, 1], ItemCalls(context).Select(r => r.ItemIndex)); // items 3–5 never started
    }

    [Fact]
    public async Task FailedItems_FinishOthers_RunEveryItem_AndReportEachFailure()
    {
        var step = Step(onFailure: ItemFailureMode.FinishOthers);
        var context = Context(step, r => r.ItemIndex is 1 or 3 ? throw ItemFailure($"bad {r.ItemIndex}") : Done(r));

        var result = await RunAsync(context, step);

        Assert.Equal(ParallelEnd.Failed, result.End);
        Assert.Equal([(1, "Item 2 of 5: bad 1"), (3, "Item 4 of 5: bad 3")], result.Failures.Select(f => (f.Item, f.Error.Message)).Order());
        Assert.Equal(5, ItemCalls(context).Count);
        var last = (ItemsProgress)context.Calls.Last(c => c.Name == nameof(JobActivities.RecordItemsProgress)).Input!;
        Assert.Equal((3, 2, "dfdfd"), (last.Done, last.Failed, last.States));
    }

    [Fact]
    public async Task AFailedItem_IsRetriedAsItsNextAttempt_AfterThePolicysInterval()
    {
        var step = Step(parallelism: 1, retry: new StepRetryPolicy(3, TimeSpan.FromSeconds(5)));
        var failures = 0;
        var context = Context(step, r => r.ItemIndex == 0 && failures++ < 2 ? throw ItemFailure() : Done(r));

        var result = await RunAsync(context, step, FiveItems.Take(1).ToList());

        Assert.Equal(ParallelEnd.Completed, result.End);
        Assert.Equal([1, 2, 3], ItemCalls(context).Select(r => r.Attempt));
        Assert.Equal(Start.AddSeconds(5 + 10), context.Now); // 5 s, then 5 s × the default back-off coefficient of 2
    }

    [Fact]
    public async Task TheEnginesOwnFailure_IsRetriedAsTheSameAttempt_AndNeverChargedToTheItem()
    {
        var step = Step(parallelism: 1); // no retries for the handler's failures
        var failures = 0;
        var context = Context(step, r => r.ItemIndex == 0 && failures++ < 2 ? throw BookkeepingFailure() : Done(r));

        var result = await RunAsync(context, step, FiveItems.Take(1).ToList());

        Assert.Equal(ParallelEnd.Completed, result.End);
        Assert.Equal([1, 1, 1], ItemCalls(context).Select(r => r.Attempt));
        Assert.Equal(Start.AddSeconds(1 + 2), context.Now); // the engine's back-offs
    }

    [Fact]
    public async Task ACancelSeenWhenProgressIsRecorded_StartsNoMoreItems_AndEndsCancelled()
    {
        var step = Step(parallelism: 1);
        var context = Context(step, Done, cancelled: _ => true);

        var result = await RunAsync(context, step);

        Assert.Equal(ParallelEnd.Cancelled, result.End);
        Assert.Equal([0, 1], ItemCalls(context).Select(r => r.ItemIndex)); // the second was started before the record said cancel
    }

    [Fact]
    public async Task AnItemStoppedAtTheDeadline_EndsTheStepTimedOut_WithItsLines()
    {
        var step = Step(parallelism: 1);
        var stopped = new JobLogLine("c1", Start, JobLogLevel.Warning, "Item 1 stopped: the job's deadline passed.", "items");
        var context = Context(step, r => new ItemOutcome(StepOutcomeKind.TimedOut, null, [stopped]));

        var result = await RunAsync(context, step);

        Assert.Equal(ParallelEnd.TimedOut, result.End);
        Assert.Equal([stopped], result.Lines);
        Assert.Single(ItemCalls(context));
    }

    [Fact]
    public async Task ARetryWhoseBackOffReachesTheDeadline_RunsNoMore_AndEndsTimedOut()
    {
        var step = Step(parallelism: 1, retry: new StepRetryPolicy(3, TimeSpan.FromHours(1)));
        var context = Context(step, _ => throw ItemFailure());

        var result = await RunAsync(context, step, FiveItems.Take(1).ToList());

        Assert.Equal(ParallelEnd.TimedOut, result.End);
        Assert.Single(ItemCalls(context));
        Assert.Equal(Deadline.UtcDateTime, context.Now);
    }

    [Fact]
    public async Task AJobEndedElsewhere_EndsTheStepAtOnce()
    {
        var step = Step(parallelism: 1);
        var context = Context(step, r => r.ItemIndex == 2 ? new ItemOutcome(StepOutcomeKind.JobEnded, null, null) : Done(r));

        var result = await RunAsync(context, step);

        Assert.Equal(ParallelEnd.JobEnded, result.End);
        Assert.Equal([0, 1, 2], ItemCalls(context).Select(r => r.ItemIndex));
    }
}
