using System.ComponentModel.DataAnnotations;
using Jobs.Functions.Model;

namespace Jobs.Functions.Handlers;

/// <summary>Input of <see cref="DemoStepsHandler"/>.</summary>
public sealed record DemoStepsInput
{
    /// <summary>How many steps the job has.</summary>
    [Range(1, 50)]
    public int Steps { get; init; } = 5;

    /// <summary>How long each step works, in milliseconds (reported in quarters).</summary>
    [Range(0, 600_000)]
    public int DelayMs { get; init; }

    /// <summary>1-based number of a step that fails on every attempt.</summary>
    public int? FailAtStep { get; init; }

    /// <summary>
    /// With <see cref="FailAtStep"/>: the step fails only in the original job, not in a rerun of it — a downstream that
    /// has come back by the time someone reruns the job.
    /// </summary>
    public bool RecoverOnRerun { get; init; }

    /// <summary>When true, the first attempt of every step fails and the retry succeeds.</summary>
    public bool Flaky { get; init; }

    /// <summary>Characters of padding added to the result, to exercise result-size limits and payload costs.</summary>
    [Range(0, 100_000)]
    public int ResultPadding { get; init; }

    /// <summary>Overrides the type's two-hour timeout, e.g. to watch a job time out.</summary>
    [Range(1, 86_400)]
    public int? TimeoutSeconds { get; init; }
}

/// <summary>
/// <c>demo.steps</c>: a configurable job for demos, tests and benchmarks. Each step waits, reporting
/// progress in quarters, and can be told to fail for good or once.
/// </summary>
public sealed class DemoStepsHandler : JobHandler<DemoStepsInput>
{
    public const string TypeName = "demo.steps";

    public override string Type => TypeName;

    public override string Description => "Runs a configurable number of timed steps; can fail or be flaky on demand.";

    public override IReadOnlyDictionary<string, string> StaticMetadata { get; } = new Dictionary<string, string> { ["operation"] = "demo" };

    public override TimeSpan Timeout => TimeSpan.FromHours(2);

    protected override StepRetryPolicy DefaultRetry { get; } = new(3, TimeSpan.FromMilliseconds(500));

    protected override TimeSpan TimeoutFor(DemoStepsInput input) =>
        input.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : Timeout;

    protected override IEnumerable<InputError> Validate(DemoStepsInput input)
    {
        if (input.FailAtStep is { } fail && (fail < 1 || fail > input.Steps))
        {
            yield return new InputError("failAtStep", $"must be between 1 and steps ({input.Steps})");
        }
    }

    protected override IReadOnlyList<JobStep<DemoStepsInput>> Steps(DemoStepsInput input) =>
        [.. Enumerable.Range(1, input.Steps).Select(n => new JobStep<DemoStepsInput>($"step-{n}", (i, c) => RunStepAsync(n, i, c)))];

    private static async Task<object?> RunStepAsync(int number, DemoStepsInput input, JobStepContext context)
    {
        if (input.Flaky && context.Attempt == 1)
        {
            throw new InvalidOperationException($"Step {number} is flaky: its first attempt fails.");
        }
        if (input.DelayMs > 0)
        {
            var slice = TimeSpan.FromMilliseconds(input.DelayMs / 4.0);
            for (var quarter = 1; quarter <= 4; quarter++)
            {
                await Task.Delay(slice, context.CancellationToken);
                await context.ReportProgressAsync(quarter * 25, $"Step {number} of {input.Steps}: {quarter * 25}%");
            }
        }
        await context.LogAsync($"Step {number} of {input.Steps} did its work.");
        if (input.FailAtStep == number && !(input.RecoverOnRerun && context.RerunOf is not null))
        {
            throw new InvalidOperationException($"Step {number} failed because failAtStep is {number}.");
        }
        // Counted along the chain of outputs (each step adds one to what the step before returned), so a resumed job
        // shows whether it was handed its original's outputs.
        var completed = (context.GetPreviousOutput<DemoStepOutput>()?.StepsCompleted ?? 0) + 1;
        if (number < input.Steps)
        {
            return new { stepsCompleted = completed };
        }
        return input.ResultPadding == 0
            ? new { stepsCompleted = completed, message = $"All {number} steps completed." }
            : new { stepsCompleted = completed, message = $"All {number} steps completed.", padding = new string('x', input.ResultPadding) };
    }

    private sealed record DemoStepOutput(int StepsCompleted);
}
