using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Maintenance;

/// <summary>
/// Timer (daily at 03:00 UTC): deletes ended jobs created more than
/// <see cref="RetentionOptions.MaxAgeDays"/> ago — durable history, logs, export blob, index rows and record —
/// oldest first, reading the creation-ascending index range only. Jobs still live are left alone and logged.
/// </summary>
public sealed partial class RetentionFunction(
    JobStore store, JobListIndex index, JobLogStore logs, StorageClients clients, IOptions<RetentionOptions> options, ILogger<RetentionFunction> logger)
{
    /// <summary>Daily at 03:00 UTC; literal so it works with no app setting (see <see cref="TimeoutSweepFunction.Schedule"/>).</summary>
    public const string Schedule = "0 0 3 * * *";

    [Function(nameof(PurgeOldJobs))]
    public async Task PurgeOldJobs(
        [TimerTrigger(Schedule)] TimerInfo timer,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken) =>
        await PurgeAsync(durable, cancellationToken);

    public async Task<int> PurgeAsync(DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var cutoff = store.Now - TimeSpan.FromDays(settings.MaxAgeDays);
        var query = new JobListQuery { Scope = new JobListScope.All(), Descending = false, CreatedTo = cutoff, Limit = 100 };
        var removed = 0;
        while (removed < settings.MaxPerRun)
        {
            var page = await index.ListAsync(query, cancellationToken);
            foreach (var summary in page.Jobs)
            {
                if (await store.GetAsync(summary.Id, cancellationToken) is not { } job)
                {
                    continue;
                }
                if (!job.Status.IsTerminal())
                {
                    LogSkippedLive(job.Id, job.Status.ToWire());
                    continue;
                }
                if (await durable.GetInstanceAsync(job.Id, cancellationToken) is { } instance)
                {
                    if (!instance.IsCompleted)
                    {
                        // The record ended but its orchestration still runs (finishing its last write): the host's
                        // client refuses to purge a live instance, so this job waits for the next run.
                        LogSkippedLive(job.Id, $"{job.Status.ToWire()} (orchestration {instance.RuntimeStatus})");
                        continue;
                    }
                    await durable.PurgeInstanceAsync(job.Id, cancellation: cancellationToken);
                }
                var lines = await logs.DeleteAllAsync(job.Id, cancellationToken);
                await clients.ExportContainer.GetBlobClient($"{job.Id}.csv").DeleteIfExistsAsync(cancellationToken: cancellationToken);
                await store.DeleteAsync(job, cancellationToken);
                LogRemoved(job.Id, job.Type, job.Status.ToWire(), job.CreatedAt, lines);
                removed++;
            }
            if (page.Next is null)
            {
                break;
            }
            query = query with { After = page.Next };
        }
        LogRun(removed, cutoff);
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention removed job {JobId} ({Type}, {Status}, created {CreatedAt:O}) with {LogLines} log lines.")]
    private partial void LogRemoved(string jobId, string type, string status, DateTimeOffset createdAt, int logLines);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention kept job {JobId}: it is still {Status}.")]
    private partial void LogSkippedLive(string jobId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention run removed {Count} job(s) created before {Cutoff:O}.")]
    private partial void LogRun(int count, DateTimeOffset cutoff);
}
