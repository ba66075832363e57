using System.Text.Json;
using Jobs.Functions.Model;

namespace Jobs.Functions.Handlers;

/// <summary>What a step sees of its job, and the only ways it talks back: progress, logs and result metadata.</summary>
public sealed class JobStepContext : IDisposable
{
    private readonly IJobStepReporter _reporter;
    private readonly CancellationTokenSource _cancellation;
    private readonly Dictionary<string, string> _resultMetadata = new(StringComparer.Ordinal);

    public JobStepContext(
        string jobId, string owner, string stepName, int stepIndex, int stepCount, int attempt,
        JsonElement? previousOutput, IJobStepReporter reporter, CancellationToken hostStopping, int? itemIndex = null, int? itemCount = null,
        string? rerunOf = null)
    {
        RerunOf = rerunOf;
        ItemIndex = itemIndex;
        ItemCount = itemCount;
        JobId = jobId;
        Owner = owner;
        StepName = stepName;
        StepIndex = stepIndex;
        StepCount = stepCount;
        Attempt = attempt;
        PreviousOutput = previousOutput;
        _reporter = reporter;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(hostStopping, reporter.Cancelled);
    }

    public string JobId { get; }

    /// <summary>
    /// The durable client of the activity running this step, for the service's own job types (bulk actions start and
    /// purge orchestrations); null outside an activity that has one.
    /// </summary>
    internal Microsoft.DurableTask.Client.DurableTaskClient? Durable { get; init; }

    /// <summary>The job this one reruns (<c>POST /api/jobs/{id}/rerun</c>), or null.</summary>
    public string? RerunOf { get; }
    public string Owner { get; }

    /// <summary>The job's <c>concurrencyKey</c> (null: none), which its type's per-key limit counts it against.</summary>
    public string? ConcurrencyKey { get; init; }
    public string StepName { get; }
    public int StepIndex { get; }
    public int StepCount { get; }

    /// <summary>In an item of a parallel step: its 0-based index, and how many items the step has.</summary>
    public int? ItemIndex { get; }

    public int? ItemCount { get; }

    /// <summary>1 on the first try of this step (or item), 2 on the first retry, and so on.</summary>
    public int Attempt { get; }

    /// <summary>
    /// For a step that waited for a decision (<see cref="JobStep{TInput}.Decision"/>): the answer — approve or reject, the
    /// comment and payload, who decided and when (<see cref="JobDecision.TimedOut"/> when the timeout answered). Null for
    /// other steps.
    /// </summary>
    public JobDecision? Decision { get; init; }

    /// <summary>The value the previous step returned (null for the first step).</summary>
    public JsonElement? PreviousOutput { get; }

    /// <summary>Signalled when the host stops or the job is cancelled (observed when progress is reported).</summary>
    public CancellationToken CancellationToken => _cancellation.Token;

    /// <summary>
    /// The files this step writes for its job (streamed to Blob storage, downloadable through the API): see
    /// <see cref="Artifacts.StepArtifacts"/>.
    /// </summary>
    public Artifacts.StepArtifacts Artifacts
    {
        get => _artifacts ?? throw new InvalidOperationException("This step context has no artifact store.");
        init => _artifacts = value;
    }

    private readonly Artifacts.StepArtifacts? _artifacts;

    /// <summary>Key/values the engine adds to the job's metadata when the job completes.</summary>
    public IReadOnlyDictionary<string, string> ResultMetadata => _resultMetadata;

    public T? GetPreviousOutput<T>() =>
        PreviousOutput is { } element ? element.Deserialize<T>(JobJson.Options) : default;

    /// <summary>Reports progress within this step (0–100); the engine maps it onto the job's overall progress.</summary>
    public async Task ReportProgressAsync(int percent, string? message = null)
    {
        var cancelRequested = await _reporter.ReportProgressAsync(percent, message, CancellationToken.None);
        if (cancelRequested)
        {
            await _cancellation.CancelAsync();
        }
    }

    public Task LogAsync(JobLogLevel level, string message) => _reporter.LogAsync(level, message, CancellationToken.None);

    public Task LogAsync(string message) => LogAsync(JobLogLevel.Information, message);

    public void AddResultMetadata(string key, string value) => _resultMetadata[key] = value;

    public void Dispose() => _cancellation.Dispose();
}
