using Jobs.Functions.Lifecycle;
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
/// oldest first, reading the creation-ascending index range only. Jobs still live are left alone and logged. Each deletion
/// is written to the deletion log (<see cref="JobAuditLog"/>), whose days older than
/// <see cref="RetentionOptions.DeletionLogDays"/> the same run removes.
/// </summary>
public sealed partial class RetentionFunction(
    JobStore store, JobListIndex index, JobCommands commands, JobAuditLog audit, IOptions<RetentionOptions> options, ILogger<RetentionFunction> logger)
{
    /// <summary>Daily at 03:00 UTC; literal so it works with no app setting (see <see cref="TimeoutSweepFunction.Schedule"/>).</summary>
    public const string Schedule = "0 0 3 * * *";

    /// <summary>Who the deletion log names for the jobs retention deletes.</summary>
    public static readonly AuditActor Actor = AuditActor.System("retention");

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
                var effect = await commands.DeleteAsync(job, durable, Actor, cancellationToken);
                if (effect != DeleteEffect.Deleted)
                {
                    // Still live, or its orchestration still finishing its last write: it waits for a later run.
                    LogSkippedLive(job.Id, effect == DeleteEffect.NotEnded ? job.Status.ToWire() : $"{job.Status.ToWire()} (orchestration still running)");
                    continue;
                }
                removed++;
            }
            if (page.Next is null)
            {
                break;
            }
            query = query with { After = page.Next };
        }
        var pruned = await audit.PruneDeletionsAsync(store.Now - TimeSpan.FromDays(settings.DeletionLogDays), settings.MaxPerRun, cancellationToken);
        LogRun(removed, cutoff, pruned);
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention kept job {JobId}: it is still {Status}.")]
    private partial void LogSkippedLive(string jobId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention run removed {Count} job(s) created before {Cutoff:O}, and {Pruned} deletion-log entries past their time.")]
    private partial void LogRun(int count, DateTimeOffset cutoff, int pruned);
}
