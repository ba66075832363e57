using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Lifecycle;

/// <summary>State changes clients ask for. Each is one conditional (ETag) update, so races end in one consistent state.</summary>
public sealed partial class JobCommands(JobStore store, JobLogStore logs, JobEventPublisher events, ILogger<JobCommands> logger)
{
    /// <summary>
    /// Cancels a job: drafts and pending jobs end <c>cancelled</c> at once; running jobs are flagged and stop at
    /// the next step boundary (or when the step reports progress and sees its token cancelled).
    /// </summary>
    public async Task<CancelOutcome> CancelAsync(Job job, string requestedBy, CancellationToken cancellationToken)
    {
        var update = await store.UpdateAsync(job, current => current.Status switch
        {
            _ when current.Status.IsTerminal() => null,
            JobStatus.Draft or JobStatus.Pending => current with
            {
                Status = JobStatus.Cancelled,
                CancelRequested = true,
                CompletedAt = store.Now,
                Message = $"Cancelled by {requestedBy} before it started",
            },
            _ when current.CancelRequested => null,
            _ => current with { CancelRequested = true, Message = $"Cancellation requested by {requestedBy}" },
        }, cancellationToken) ?? throw new InvalidOperationException($"Job {job.Id} vanished.");

        var stored = update.Job;
        if (!update.Changed)
        {
            return new CancelOutcome(stored, stored.Status.IsTerminal() ? CancelEffect.AlreadyEnded : CancelEffect.Requested);
        }
        await logs.AppendAsync(stored.Id, JobLogLevel.Warning, stored.Message ?? "Cancelled", null, cancellationToken);
        LogCancel(stored.Id, requestedBy, stored.Status.ToWire());
        if (stored.Status == JobStatus.Cancelled)
        {
            await events.PublishAsync(stored, cancellationToken);
            return new CancelOutcome(stored, CancelEffect.CancelledNow);
        }
        return new CancelOutcome(stored, CancelEffect.Requested);
    }

    /// <summary>
    /// Ends a job now: the record becomes <c>cancelled</c> first (so nothing reports it running), then the
    /// orchestration is terminated. A step already executing finishes its attempt but its outcome is ignored.
    /// </summary>
    public async Task<Job> TerminateAsync(Job job, string requestedBy, string reason, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var message = $"Terminated by {requestedBy}: {reason}";
        var update = await store.UpdateAsync(job, current => current.Status.IsTerminal() ? null : current with
        {
            Status = JobStatus.Cancelled,
            CancelRequested = true,
            CompletedAt = store.Now,
            Message = message.Length <= 500 ? message : message[..500],
        }, cancellationToken) ?? throw new InvalidOperationException($"Job {job.Id} vanished.");
        if (update.Changed)
        {
            await logs.AppendAsync(job.Id, JobLogLevel.Warning, update.Job.Message!, null, cancellationToken);
            await events.PublishAsync(update.Job, cancellationToken);
            LogCancel(job.Id, requestedBy, update.Job.Status.ToWire());
        }
        await durable.TerminateInstanceAsync(job.Id, reason, cancellationToken);
        return update.Job;
    }

    /// <summary>
    /// Ends a live job whose deadline has passed as <c>timed_out</c> (the sweep's backstop for the orchestration's
    /// own deadline timer, e.g. when a job never started), then terminates its orchestration if it still runs.
    /// </summary>
    public async Task<bool> TimeOutAsync(Job job, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var now = store.Now;
        var update = await store.UpdateAsync(job, current => current.Status.IsTerminal() || current.Deadline is not { } deadline || deadline > now
            ? null
            : current with
            {
                Status = JobStatus.TimedOut,
                CompletedAt = now,
                Message = $"Timed out: its deadline {deadline:O} passed",
            }, cancellationToken);
        if (update is not { Changed: true })
        {
            return false;
        }
        await logs.AppendAsync(job.Id, JobLogLevel.Warning, update.Job.Message!, null, cancellationToken);
        await events.PublishAsync(update.Job, cancellationToken);
        var instance = await durable.GetInstanceAsync(job.Id, cancellationToken);
        if (instance is { IsRunning: true } || instance?.RuntimeStatus == OrchestrationRuntimeStatus.Pending)
        {
            await durable.TerminateInstanceAsync(job.Id, "timed out", cancellationToken);
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cancel of job {JobId} by {RequestedBy}: now {Status}.")]
    private partial void LogCancel(string jobId, string requestedBy, string status);
}
