using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Handlers;

/// <summary>Input of <see cref="DemoFanOutHandler"/>.</summary>
public sealed record DemoFanOutInput
{
    /// <summary>The items to process, one activity each.</summary>
    [Length(1, 1_000)]
    public IReadOnlyList<string> Items { get; init; } = ["a", "b", "c", "d"];

    /// <summary>How many items run at once.</summary>
    [Range(1, 64)]
    public int Parallelism { get; init; } = 4;

    /// <summary>How long each item works, in milliseconds.</summary>
    [Range(0, 600_000)]
    public int DelayMs { get; init; }

    /// <summary>1-based number of an item that fails on every attempt.</summary>
    public int? FailItem { get; init; }

    /// <summary>When an item fails: false fails the job at once; true lets the others finish first.</summary>
    public bool FinishOthers { get; init; }
}

/// <summary>What one item of <c>demo.fanout</c> returns: its item, and when it ran (to show the overlap).</summary>
public sealed record DemoFanOutItemResult(int Index, string Item, DateTimeOffset StartedAt, DateTimeOffset EndedAt);

/// <summary>
/// <c>demo.fanout</c>: a parallel step over <c>items</c> (each waits <c>delayMs</c>, at most <c>parallelism</c> at once), then
/// a step that gathers their results, in item order. For tests, demos and the benchmark.
/// </summary>
public sealed class DemoFanOutHandler(TimeProvider time) : JobHandler<DemoFanOutInput>
{
    public const string TypeName = "demo.fanout";

    public override string Type => TypeName;

    public override string Description => "Processes a list of items in parallel, then gathers their results in item order.";

    public override IReadOnlyDictionary<string, string> StaticMetadata { get; } = new Dictionary<string, string> { ["operation"] = "demo" };

    protected override StepRetryPolicy DefaultRetry { get; } = new(2, TimeSpan.FromMilliseconds(200));

    protected override IEnumerable<InputError> Validate(DemoFanOutInput input)
    {
        if (input.FailItem is { } fail && (fail < 1 || fail > input.Items.Count))
        {
            yield return new InputError("failItem", $"must be between 1 and the number of items ({input.Items.Count})");
        }
        // The gathered result holds every item twice with its times: known from the input, so a list whose result could
        // not be stored is refused now rather than failing ResultTooLarge after every item ran.
        var largest = JobResultLimit.CharsOf(Gathered([.. input.Items.Select((item, index) =>
            new DemoFanOutItemResult(index, item, JobResultLimit.WidestTime, JobResultLimit.WidestTime))]));
        if (largest > JobResultLimit.MaxChars)
        {
            yield return new InputError("items", $"would give a result of up to {largest} characters, more than the {JobResultLimit.MaxChars} a job's result may hold; send fewer or shorter items");
        }
    }

    protected override IReadOnlyList<JobStep<DemoFanOutInput>> Steps(DemoFanOutInput input) =>
    [
        JobStep<DemoFanOutInput>.ForEach<string>("process", (i, _) => i.Items, ProcessAsync, input.Parallelism,
            input.FinishOthers ? ItemFailureMode.FinishOthers : ItemFailureMode.FailFast),
        new("gather", GatherAsync),
    ];

    private async Task<object?> ProcessAsync(DemoFanOutInput input, string item, JobStepContext context)
    {
        var started = time.GetUtcNow();
        var number = context.ItemIndex!.Value + 1;
        if (input.DelayMs > 0)
        {
            await context.ReportProgressAsync(0);
            await Task.Delay(input.DelayMs, context.CancellationToken);
        }
        if (input.FailItem == number)
        {
            throw new InvalidOperationException($"Item {number} ('{item}') failed because failItem is {number}.");
        }
        await context.LogAsync($"processed '{item}'");
        return new DemoFanOutItemResult(context.ItemIndex.Value, item, started, time.GetUtcNow());
    }

    private static async Task<object?> GatherAsync(DemoFanOutInput input, JobStepContext context)
    {
        var results = context.GetPreviousOutput<List<DemoFanOutItemResult>>() ?? [];
        await context.LogAsync($"Gathered {results.Count} results.");
        return Gathered(results);
    }

    /// <summary>The job's result: the items' results in item order.</summary>
    private static object Gathered(IReadOnlyList<DemoFanOutItemResult> results) =>
        new { count = results.Count, items = results.Select(r => r.Item), results };
}
