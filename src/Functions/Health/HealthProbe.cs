using System.Diagnostics;
using Jobs.Functions.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Health;

/// <summary>
/// Checks what the service needs to serve: its table (one point read of the layout record, which is also the layout
/// check), its queue and blob container (one properties read each) and the task hub (one instance read through the
/// durable client, so the hub's own storage is probed whichever account holds it). Five requests at most, all at once,
/// each cut off after <see cref="CheckTimeout"/> and without retries beyond the clients' own.
/// A report is shared for <see cref="Freshness"/>: however many probes and callers ask, an instance checks storage at
/// most once per period, and callers arriving while a check runs wait for that one.
/// </summary>
public sealed partial class HealthProbe(StorageClients clients, IndexLayout layout, TimeProvider time, ILogger<HealthProbe> logger)
{
    public const string Tables = "tables";
    public const string Queues = "queues";
    public const string Blobs = "blobs";
    public const string TaskHub = "taskHub";
    public const string Layout = "layout";

    /// <summary>An instance id no job has (ids are 32 hex digits): reading it proves the hub answers without touching a job.</summary>
    internal const string ProbeInstanceId = "health-probe";

    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private Task<HealthReport>? _latest;
    private long _latestStarted;

    public Task<HealthReport> CheckAsync(DurableTaskClient durable)
    {
        lock (_gate)
        {
            if (_latest is null || (_latest.IsCompleted && time.GetElapsedTime(_latestStarted) >= Freshness))
            {
                _latestStarted = time.GetTimestamp();
                _latest = RunChecksAsync(durable);
            }
            return _latest;
        }
    }

    private async Task<HealthReport> RunChecksAsync(DurableTaskClient durable)
    {
        using var timeout = new CancellationTokenSource(CheckTimeout, time);
        var token = timeout.Token;
        var layoutCheck = CheckLayoutAsync(token);
        var queues = CheckAsync(Queues, () => clients.SubmissionsQueue.GetPropertiesAsync(token));
        var blobs = CheckAsync(Blobs, () => clients.ArtifactContainer.GetPropertiesAsync(cancellationToken: token));
        // The durable clients do not all honour cancellation: the timeout is applied to the task instead.
        var hub = CheckAsync(TaskHub, () => durable.GetInstanceAsync(ProbeInstanceId, getInputsAndOutputs: false, token).WaitAsync(CheckTimeout, time, token));
        var (tables, layoutMatches) = await layoutCheck;
        var checks = new Dictionary<string, string>
        {
            [Tables] = tables,
            [Queues] = await queues,
            [Blobs] = await blobs,
            [TaskHub] = await hub,
            [Layout] = layoutMatches,
        };
        var healthy = checks.Values.All(v => v == HealthReport.Healthy);
        return new HealthReport(healthy ? HealthReport.Healthy : HealthReport.Unhealthy, checks, time.GetUtcNow());
    }

    private async Task<(string Tables, string Layout)> CheckLayoutAsync(CancellationToken token)
    {
        bool matches;
        try
        {
            matches = await layout.RecordMatchesAsync(clients.JobsTable, token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogCheckFailed(logger, ex, Tables);
            return (HealthReport.Unhealthy, HealthReport.Unknown);
        }
        if (!matches)
        {
            LogLayoutMismatch(logger, clients.JobsTable.Name);
        }
        return (HealthReport.Healthy, matches ? HealthReport.Healthy : HealthReport.Unhealthy);
    }

    private async Task<string> CheckAsync(string name, Func<Task> check)
    {
        try
        {
            await check();
            return HealthReport.Healthy;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogCheckFailed(logger, ex, name);
            return HealthReport.Unhealthy;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health check '{Check}' failed.")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception, string check);

    [LoggerMessage(Level = LogLevel.Error, Message = "Health check 'layout': the list rows of table '{Table}' were written with another layout than the configured one (or its layout record is gone); see IndexLayout.")]
    private static partial void LogLayoutMismatch(ILogger logger, string table);
}
