namespace Jobs.Testing;

/// <summary><c>test.stubborn</c>: one 10-s step that ignores its cancellation token, with a 1-s timeout.</summary>
public sealed class StubbornHandler : Jobs.Functions.Handlers.JobHandler<StubbornInput>
{
    public const string TypeName = "test.stubborn";

    public override string Type => TypeName;

    public override TimeSpan Timeout => TimeSpan.FromSeconds(1);

    protected override IReadOnlyList<Jobs.Functions.Handlers.JobStep<StubbornInput>> Steps(StubbornInput input) =>
        [new("ignore-the-token", async (_, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None); // deliberately deaf to the deadline
            return null;
        })];
}

/// <summary>Input of <see cref="StubbornHandler"/> (none).</summary>
public sealed record StubbornInput;
