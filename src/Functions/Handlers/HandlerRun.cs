using System.Text.Json;

namespace Jobs.Functions.Handlers;

/// <summary>
/// One job's input, parsed and validated once, with its steps planned once, bound to its handler
/// (<see cref="IJobHandler.Prepare(JsonElement?)"/>): an activity runs its step or item through it, and a submission
/// takes the step count and the timeout from it, without parsing or planning again.
/// </summary>
public sealed class HandlerRun(
    IJobHandler handler,
    object input,
    IReadOnlyList<JobStepPlan> steps,
    TimeSpan timeout,
    Func<string, JobStepContext, Task<object?>> runStep,
    Func<string, JsonElement, JobStepContext, Task<object?>> runItem)
{
    public IJobHandler Handler { get; } = handler;

    /// <summary>The validated input.</summary>
    public object Input { get; } = input;

    /// <summary>The steps of this input, in order.</summary>
    public IReadOnlyList<JobStepPlan> Steps { get; } = steps;

    /// <summary>How long a job with this input may run (see <see cref="IJobHandler.TimeoutFor"/>).</summary>
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>True when this input has a step of that name.</summary>
    public bool Has(string stepName) => Steps.Any(s => s.Name == stepName);

    /// <summary>Runs the step of that name (see <see cref="IJobHandler.RunStepAsync"/>).</summary>
    public Task<object?> RunStepAsync(string stepName, JobStepContext context) => runStep(stepName, context);

    /// <summary>Runs one item of the parallel step of that name (see <see cref="IJobHandler.RunItemAsync"/>).</summary>
    public Task<object?> RunItemAsync(string stepName, JsonElement item, JobStepContext context) => runItem(stepName, item, context);
}
