using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Handlers;

/// <summary>Input of <see cref="DemoLimitedHandler"/>.</summary>
public sealed record DemoLimitedInput
{
    /// <summary>How long the job works, in milliseconds.</summary>
    [Range(0, 600_000)]
    public int DelayMs { get; init; } = 1_000;
}

/// <summary>
/// <c>demo.limited</c>: a job type with concurrency limits, for demos, tests and the benchmark — at most
/// <see cref="MaxPerKey"/> running per <c>concurrencyKey</c> and <see cref="MaxRunning"/> in all; more wait <c>queued</c>.
/// Its one step works for <c>delayMs</c> and returns what it saw: when it ran (as the handler's clock says) and how many
/// jobs of its key this process was running as it started, itself included — the handler's own count of the limit.
/// </summary>
public sealed class DemoLimitedHandler : JobHandler<DemoLimitedInput>
{
    public const string TypeName = "demo.limited";
    public const int MaxPerKey = 3;
    public const int MaxRunning = 12;

    /// <summary>Jobs of each key running in this process now.</summary>
    private static readonly ConcurrentDictionary<string, int> Running = new(StringComparer.Ordinal);

    public override string Type => TypeName;

    public override string Description => $"Works for delayMs; at most {MaxPerKey} run at once per concurrencyKey and {MaxRunning} in all, the rest wait queued.";

    public override JobConcurrency Concurrency { get; } = new(MaxRunning, MaxPerKey);

    protected override IReadOnlyList<JobStep<DemoLimitedInput>> Steps(DemoLimitedInput input) => [new("work", RunAsync)];

    private static async Task<object?> RunAsync(DemoLimitedInput input, JobStepContext context)
    {
        var key = context.ConcurrencyKey ?? "";
        var startedAt = DateTimeOffset.UtcNow;
        var runningWithKey = Running.AddOrUpdate(key, 1, (_, n) => n + 1);
        try
        {
            await Task.Delay(input.DelayMs, context.CancellationToken);
        }
        finally
        {
            Running.AddOrUpdate(key, 0, (_, n) => n - 1);
        }
        return new { key, startedAt, endedAt = DateTimeOffset.UtcNow, runningWithKeyInProcess = runningWithKey };
    }
}
