using Jobs.Functions.Handlers;
using Jobs.Functions.Maintenance;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Testing;

/// <summary>
/// A runner with job types that return large results and write artifacts, whose retention (no timer: the test runs it,
/// <see cref="RunRetentionAsync"/>) deletes every ended job.
/// </summary>
public sealed class ArtifactRunnerFixture : RunnerFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Retention:MaxAgeDays", "0"),
        // Small caps, so the cap tests need no large uploads; the 50 MB result still fits.
        new("Jobs:Artifacts:MaxArtifactBytes", (60L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Jobs:Artifacts:MaxPerJob", "3"),
    ];

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddJobHandler<LargeResultHandler>().AddJobHandler<ArtifactWriterHandler>();

    /// <summary>One run of the retention function, as its timer would run it.</summary>
    public Task<int> RunRetentionAsync() =>
        ActivatorUtilities.CreateInstance<RetentionFunction>(Services).PurgeAsync(Services.GetRequiredService<DurableTaskClient>(), CancellationToken.None);
}

/// <summary><c>test.large-result</c>: returns a JSON string of <see cref="LargeResultInput.Chars"/> characters (<c>x</c>…).</summary>
public sealed class LargeResultHandler : JobHandler<LargeResultInput>
{
    public const string TypeName = "test.large-result";

    public override string Type => TypeName;

    protected override IReadOnlyList<JobStep<LargeResultInput>> Steps(LargeResultInput input) =>
        [new("produce", (i, _) => Task.FromResult<object?>(new string('x', i.Chars)), StepRetryPolicy.None)];
}

/// <summary>Input of <see cref="LargeResultHandler"/>.</summary>
public sealed record LargeResultInput
{
    public int Chars { get; init; }
}

/// <summary>
/// <c>test.artifact-writer</c>: writes each of <see cref="ArtifactWriterInput.Names"/> with the text
/// <c>"{name} from attempt {n}"</c>, failing its first attempt after the writes when <see cref="ArtifactWriterInput.FailFirstAttempt"/>,
/// and returns what it wrote.
/// </summary>
public sealed class ArtifactWriterHandler : JobHandler<ArtifactWriterInput>
{
    public const string TypeName = "test.artifact-writer";

    public override string Type => TypeName;

    protected override IReadOnlyList<JobStep<ArtifactWriterInput>> Steps(ArtifactWriterInput input) =>
        [new("write", WriteAsync, new StepRetryPolicy(2, TimeSpan.FromMilliseconds(100)))];

    private static async Task<object?> WriteAsync(ArtifactWriterInput input, JobStepContext context)
    {
        var written = new List<Jobs.Functions.Artifacts.ArtifactInfo>();
        foreach (var name in input.Names)
        {
            using var content = new MemoryStream(System.Text.Encoding.UTF8.GetBytes($"{name} from attempt {context.Attempt}"));
            written.Add(await context.Artifacts.WriteAsync(name, content, "text/plain; charset=utf-8"));
        }
        if (input.FailFirstAttempt && context.Attempt == 1)
        {
            throw new InvalidOperationException("first attempt fails after its writes");
        }
        return new { artifacts = written };
    }
}

/// <summary>Input of <see cref="ArtifactWriterHandler"/>.</summary>
public sealed record ArtifactWriterInput
{
    public IReadOnlyList<string> Names { get; init; } = [];

    public bool FailFirstAttempt { get; init; }
}
