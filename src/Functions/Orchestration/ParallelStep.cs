using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Microsoft.DurableTask;

namespace Jobs.Functions.Orchestration;

/// <summary>How a parallel step's items ended.</summary>
internal enum ParallelEnd
{
    Completed,
    Failed,
    Cancelled,
    TimedOut,
    JobEnded,
}

/// <summary>The items' results in item order (when completed), their failures, and their lines not yet written.</summary>
internal sealed record ParallelResult(ParallelEnd End, JsonElement? Outputs, IReadOnlyList<(int Item, JobError Error)> Failures, IReadOnlyList<JobLogLine> Lines);

/// <summary>
/// Fan-out / fan-in inside <see cref="JobOrchestrator"/>: one <see cref="JobActivities.RunJobItem"/> activity per item,
/// at most the step's parallelism at once, each with the step's retry policy for its handler's failures and the
/// engine's back-off for bookkeeping ones. Finished items are in the history, so a replay or a crash never runs them
/// again. Progress (items done / total, within the step's share) goes to the custom status at once and to the record at
/// most once a second, with the items' lines; a cancel seen there stops new items from starting.
/// </summary>
internal static class ParallelStep
{
    private static readonly TimeSpan RecordEvery = TimeSpan.FromSeconds(1);

    public static async Task<ParallelResult> RunAsync(
        TaskOrchestrationContext context, JobPlan plan, int stepIndex, JobStepPlan step, IReadOnlyList<JsonElement> items,
        IReadOnlyList<JobLogLine>? earlierLines)
    {
        var total = items.Count;
        var outputs = new JsonNode?[total];
        var attempts = new int[total];
        var states = new char[total]; // one letter per item for the record's timeline (JobStepItems)
        Array.Fill(states, 'p');
        var bookkeepingFailures = new int[total];
        var failures = new List<(int Item, JobError Error)>();
        var lines = new List<JobLogLine>(earlierLines ?? []);
        var waiting = new Queue<int>(Enumerable.Range(0, total));
        var running = new Dictionary<Task<ItemOutcome>, int>();
        var done = 0;
        var stop = false;
        var cancelled = false;
        var lastRecorded = DateTime.MinValue; // the first item done is recorded at once, then at most once a second

        void Start(int item, TimeSpan delay)
        {
            attempts[item] = Math.Max(attempts[item], 1);
            states[item] = 'r';
            running[RunItemAsync(context, plan, new ItemRequest(plan.JobId, stepIndex, step.Name, item, total, items[item], attempts[item], plan.TraceParent), delay)] = item;
        }

        void Fill()
        {
            while (!stop && waiting.Count > 0 && running.Count < step.MaxParallelism)
            {
                Start(waiting.Dequeue(), TimeSpan.Zero);
            }
        }

        Fill();
        while (running.Count > 0)
        {
            // Each item's activity stops at the deadline itself (ItemOutcome TimedOut); an item still waiting for its
            // retry's back-off wakes at the deadline at the latest.
            var task = await Task.WhenAny(running.Keys);
            var item = running[task];
            running.Remove(task);
            try
            {
                var outcome = await task;
                lines.AddRange(outcome.Lines ?? []);
                switch (outcome.Kind)
                {
                    case StepOutcomeKind.JobEnded:
                        return new ParallelResult(ParallelEnd.JobEnded, null, failures, lines);
                    case StepOutcomeKind.TimedOut:
                        return new ParallelResult(ParallelEnd.TimedOut, null, failures, lines);
                    case StepOutcomeKind.CancelRequested:
                        stop = cancelled = true;
                        break;
                    default:
                        outputs[item] = outcome.Output is { } output ? JsonNode.Parse(output.GetRawText()) : null;
                        done++;
                        states[item] = 'd';
                        break;
                }
            }
            catch (TaskFailedException failure) when (JobOrchestrator.IsBookkeeping(failure) && bookkeepingFailures[item] < JobOrchestrator.MaxTriesPerStep)
            {
                // The engine's own failure: tried again after a back-off, never charged to the item (bounded, like a step's tries).
                Start(item, JobOrchestrator.BookkeepingBackoff(++bookkeepingFailures[item]));
            }
            catch (TaskFailedException failure)
            {
                if (attempts[item] < step.Retry.MaxAttempts)
                {
                    var wait = step.Retry.FirstRetryInterval * Math.Pow(step.Retry.BackoffCoefficient, attempts[item] - 1);
                    attempts[item]++;
                    Start(item, wait);
                }
                else
                {
                    failures.Add((item, JobOutcome.ItemError(step.Name, item, total, failure.FailureDetails)));
                    states[item] = 'f';
                    if (step.OnItemFailure == ItemFailureMode.FailFast)
                    {
                        return new ParallelResult(ParallelEnd.Failed, null, failures, lines);
                    }
                }
            }
            Fill();
            var count = plan.Steps.Count;
            var percent = total == 0 ? 100 : done * 100 / total;
            context.SetCustomStatus(new JobCustomStatus(JobProgress.Within(stepIndex, count, percent), step.Name, stepIndex, count, $"Running {step.Name}: {done} of {total} items done"));
            if (!stop && (running.Count == 0 || context.CurrentUtcDateTime - lastRecorded >= RecordEvery))
            {
                lastRecorded = context.CurrentUtcDateTime;
                try
                {
                    var written = lines.ToList();
                    stop = cancelled = await context.CallActivityAsync<bool>(nameof(JobActivities.RecordItemsProgress),
                        new ItemsProgress(plan.JobId, stepIndex, count, step.Name, done, total, written, failures.Count,
                            total <= JobStepItems.MaxStates ? new string(states) : null));
                    lines.RemoveRange(0, written.Count);
                }
                catch (TaskFailedException)
                {
                    // Only progress: the lines stay for the next record or the next step's write.
                }
            }
        }
        if (cancelled)
        {
            return new ParallelResult(ParallelEnd.Cancelled, null, failures, lines);
        }
        if (failures.Count > 0)
        {
            return new ParallelResult(ParallelEnd.Failed, null, failures, lines);
        }
        return new ParallelResult(ParallelEnd.Completed, JsonSerializer.SerializeToElement(new JsonArray(outputs), JobJson.Options), failures, lines);
    }

    /// <summary>
    /// One try of one item, after <paramref name="delay"/> (a retry's back-off) on a durable timer that ends at the
    /// deadline at the latest; past the deadline the item does not run.
    /// </summary>
    private static async Task<ItemOutcome> RunItemAsync(TaskOrchestrationContext context, JobPlan plan, ItemRequest request, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
        {
            await JobOrchestrator.DelayAsync(context, delay, plan);
        }
        if (JobOrchestrator.DeadlinePassed(context, plan))
        {
            return new ItemOutcome(StepOutcomeKind.TimedOut, null, null);
        }
        return await context.CallActivityAsync<ItemOutcome>(nameof(JobActivities.RunJobItem), request);
    }
}
