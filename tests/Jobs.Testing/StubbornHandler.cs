namespace Jobs.Testing;

/// <summary>
/// <c>test.stubborn</c>: one step that ignores its cancellation token, with a 1-s timeout. It holds at its <c>gate</c>
/// (<see cref="StepGates"/>) until the test opens it when the input names one, else for 10 s.
/// </summary>
public sealed class StubbornHandler : Jobs.Functions.Handlers.JobHandler<StubbornInput>
{
    public const string TypeName = "test.stubborn";

    public override string Type => TypeName;

    public override TimeSpan Timeout => TimeSpan.FromSeconds(1);

    protected override IReadOnlyList<Jobs.Functions.Handlers.JobStep<StubbornInput>> Steps(StubbornInput input) =>
        [new("ignore-the-token", async (i, _) =>
        {
            // Deliberately deaf to the deadline.
            if (i.Gate is { } gate)
            {
                await StepGates.WaitAsync(gate, CancellationToken.None);
            }
            else
            {
                await Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None);
            }
            return null;
        })];
}

/// <summary>Input of <see cref="StubbornHandler"/>.</summary>
public sealed record StubbornInput
{
    /// <summary>A <see cref="StepGates"/> gate the step holds at, deaf to its token, instead of its 10 s.</summary>
    public string? Gate { get; init; }
}
