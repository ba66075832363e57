using Jobs.Functions.Handlers;

namespace Jobs.Testing;

/// <summary>Input of <see cref="EventfulHandler"/>.</summary>
public sealed record EventfulInput
{
    /// <summary>Free text of any length, for input-size tests.</summary>
    public string? Note { get; init; }

    /// <summary>How long the one step holds the job running, in milliseconds (until cancelled).</summary>
    public int HoldMs { get; init; } = 60_000;
}

/// <summary>
/// <c>test.events</c>: registered only in tests. Declares that its jobs wait for the event <see cref="EventName"/>, and
/// holds a job running in its one step, so events can be raised on it.
/// </summary>
public sealed class EventfulHandler : JobHandler<EventfulInput>
{
    public const string TypeName = "test.events";
    public const string EventName = "decision";

    public override string Type => TypeName;

    public override IReadOnlyList<JobEventDeclaration> Events { get; } = [new(EventName, "A decision the job waits for.")];

    protected override IReadOnlyList<JobStep<EventfulInput>> Steps(EventfulInput input) =>
        [new("hold", async (i, context) =>
        {
            await Task.Delay(i.HoldMs, context.CancellationToken);
            return null;
        })];
}
