using System.ComponentModel.DataAnnotations;
using Jobs.Functions.Handlers;

namespace Jobs.Testing;

/// <summary>
/// <c>test.single-slot</c>: one job of the type runs at a time; its one step waits at its <c>gate</c> when it names one
/// (<see cref="StepGates"/>), then works for <c>delayMs</c>.
/// </summary>
public sealed class SingleSlotHandler : JobHandler<SingleSlotInput>
{
    public const string TypeName = "test.single-slot";

    public override string Type => TypeName;

    public override JobConcurrency Concurrency { get; } = new(MaxRunning: 1);

    protected override IReadOnlyList<JobStep<SingleSlotInput>> Steps(SingleSlotInput input) =>
        [new("work", async (i, c) =>
        {
            if (i.Gate is { } gate)
            {
                await StepGates.WaitAsync(gate, c.CancellationToken);
            }
            await Task.Delay(i.DelayMs, c.CancellationToken);
            return null;
        })];
}

/// <summary>Input of <see cref="SingleSlotHandler"/>.</summary>
public sealed record SingleSlotInput
{
    [Range(0, 600_000)]
    public int DelayMs { get; init; }

    /// <summary>A <see cref="StepGates"/> gate the step waits at before its delay (<see cref="SingleSlotHandler"/> only).</summary>
    public string? Gate { get; init; }
}

/// <summary><c>test.pausable</c>: a type without limits, one short step: for pausing and resuming a type.</summary>
public sealed class PausableHandler : JobHandler<SingleSlotInput>
{
    public const string TypeName = "test.pausable";

    public override string Type => TypeName;

    protected override IReadOnlyList<JobStep<SingleSlotInput>> Steps(SingleSlotInput input) =>
        [new("work", async (i, c) =>
        {
            await Task.Delay(i.DelayMs, c.CancellationToken);
            return null;
        })];
}
