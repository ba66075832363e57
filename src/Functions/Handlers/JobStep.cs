using System.Text.Json;
using Jobs.Functions.Model;

namespace Jobs.Functions.Handlers;

/// <summary>One named step of a handler: a durable activity the engine runs, retries and reports on.</summary>
/// <typeparam name="TInput">The handler's validated input type.</typeparam>
public sealed record JobStep<TInput>(string Name, Func<TInput, JobStepContext, Task<object?>> Run, StepRetryPolicy? Retry = null)
{
    /// <summary>Set for a parallel step (<see cref="ForEach{TItem}"/>): how its items run. <see cref="Run"/> then lists the items.</summary>
    public ParallelItems<TInput>? Parallel { get; private init; }

    /// <summary>
    /// Set for a step that waits for a person's decision before it runs (<see cref="JobDecisionRequest"/>); the step reads
    /// the answer from <see cref="JobStepContext.Decision"/>.
    /// </summary>
    public JobDecisionRequest? Decision { get; init; }

    /// <summary>
    /// A step that runs <paramref name="runItem"/> over a list of items in parallel (fan-out / fan-in): each item is a
    /// durable activity of its own (a crash never runs a finished item again), at most <paramref name="maxParallelism"/>
    /// at once, each retried by <paramref name="retry"/>. <paramref name="items"/> comes from the input or from the
    /// previous step's output (<see cref="JobStepContext.PreviousOutput"/>). The step's output, for the next step, is the
    /// items' results in item order.
    /// </summary>
    public static JobStep<TInput> ForEach<TItem>(
        string name,
        Func<TInput, JobStepContext, IReadOnlyList<TItem>> items,
        Func<TInput, TItem, JobStepContext, Task<object?>> runItem,
        int maxParallelism,
        ItemFailureMode onItemFailure = ItemFailureMode.FailFast,
        StepRetryPolicy? retry = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxParallelism, 1);
        return new JobStep<TInput>(name, (input, context) => Task.FromResult<object?>(items(input, context)), retry)
        {
            Parallel = new ParallelItems<TInput>(
                (input, item, context) => runItem(input, item.Deserialize<TItem>(JobJson.Options)!, context), maxParallelism, onItemFailure),
        };
    }
}

/// <summary>How a parallel step's items run: the work of one item, how many at once, and what a failed item does.</summary>
public sealed record ParallelItems<TInput>(Func<TInput, JsonElement, JobStepContext, Task<object?>> RunItem, int MaxParallelism, ItemFailureMode OnItemFailure);

/// <summary>What a parallel step does when an item fails for good (its retries spent).</summary>
public enum ItemFailureMode
{
    /// <summary>Fail the job at once, naming the item; no new item starts.</summary>
    FailFast,

    /// <summary>Let the other items finish, then fail the job listing every failed item.</summary>
    FinishOthers,
}
