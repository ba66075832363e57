namespace Jobs.Functions.Handlers;

/// <summary>How often a failing step is tried again before the job fails, and how long to wait between tries.</summary>
public sealed record StepRetryPolicy(int MaxAttempts, TimeSpan FirstRetryInterval, double BackoffCoefficient = 2.0)
{
    /// <summary>Three tries, one second apart, doubling: good for transient I/O faults.</summary>
    public static StepRetryPolicy Default { get; } = new(3, TimeSpan.FromSeconds(1));

    /// <summary>One try: for steps that must not repeat their side effects.</summary>
    public static StepRetryPolicy None { get; } = new(1, TimeSpan.FromSeconds(1));
}
