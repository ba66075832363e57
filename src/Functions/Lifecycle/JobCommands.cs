using Jobs.Functions.Artifacts;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Functions.Webhooks;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Lifecycle;

/// <summary>State changes clients ask for. Each is one conditional (ETag) update, so races end in one consistent state.</summary>
public sealed partial class JobCommands(
    JobStore store, JobLogStore logs, JobAuditLog audit, JobEnding ending, ArtifactStore artifacts, WebhookStore webhooks, ILogger<JobCommands> logger)
{
    /// <summary>
    /// Cancels a job: drafts, pending, queued and waiting jobs end <c>cancelled</c> at once; running jobs are flagged and stop at
    /// the next step boundary (or when the step reports progress and sees its token cancelled).
    /// </summary>
    /// <remarks>
    /// A pending job's orchestration, if <paramref name="durable"/> is given, is terminated once the record says
    /// cancelled: it may be waiting on a scheduled start (<see cref="Job.NotBefore"/>) for days, and it has run no step.
    /// An accepted cancel is in the job's audit trail, by <paramref name="actor"/>, in the same transaction; a refused one is not.
    /// </remarks>
    public async Task<CancelOutcome> CancelAsync(Job job, AuditActor actor, CancellationToken cancellationToken, DurableTaskClient? durable = null)
    {
        var requestedBy = actor.Describe();
        if (job.Status is JobStatus.Draft or JobStatus.Pending or JobStatus.Queued or JobStatus.Waiting)
        {
            // Nothing runs while a job waits (for a start, a slot or a decision): it ends now, and so does its wait.
            var waiting = job.Status == JobStatus.Waiting;
            var outcome = waiting ? JobOutcome.CancelledWhileWaiting(requestedBy, job.Decision?.Step) : JobOutcome.CancelledBeforeStart(requestedBy);
            var ended = await ending.EndAsync(job, outcome, cancellationToken,
                new JobWrite { Audit = audit.NewEntry(AuditActions.CancelRequested, actor, ("effect", "cancelled"), ("from", job.Status.ToWire())) },
                guard: current => current.Status is JobStatus.Draft or JobStatus.Pending or JobStatus.Queued
                    || (current.Status == JobStatus.Waiting && current.Decision is { IsAnswered: false })
                    ? current with { CancelRequested = true }
                    : null,
                durable: durable);
            if (ended.Changed)
            {
                LogCancel(job.Id, requestedBy, ended.Job.Status.ToWire());
                if (durable is not null && (job.Status is JobStatus.Pending or JobStatus.Queued or JobStatus.Waiting))
                {
                    await TerminateIfRunningAsync(durable, job.Id, outcome.Text(), cancellationToken);
                }
                return new CancelOutcome(ended.Job, CancelEffect.CancelledNow);
            }
            job = ended.Job; // it started, or ended, meanwhile
        }

        var write = new JobWrite
        {
            ChangeLines = [logs.NewLine(JobLogLevel.Warning, JobTransitions.CancelRequestedMessage(requestedBy), null)],
            Audit = audit.NewEntry(AuditActions.CancelRequested, actor, ("effect", "requested"), ("from", job.Status.ToWire())),
        };
        var update = await store.UpdateAsync(job, current => JobTransitions.RequestCancel(current, requestedBy), cancellationToken, write)
            ?? throw new JobVanishedException(job.Id);
        var stored = update.Job;
        if (!update.Changed)
        {
            return new CancelOutcome(stored, stored.Status.IsTerminal() ? CancelEffect.AlreadyEnded : CancelEffect.Requested);
        }
        LogCancel(stored.Id, requestedBy, stored.Status.ToWire());
        return new CancelOutcome(stored, CancelEffect.Requested);
    }

    /// <summary>
    /// Ends a job now: the record becomes <c>cancelled</c> first (so nothing reports it running), then the
    /// orchestration is terminated. A step already executing finishes its attempt but its outcome is ignored.
    /// </summary>
    public async Task<Job> TerminateAsync(Job job, AuditActor actor, string reason, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var outcome = JobOutcome.Terminated(actor.Describe(), reason);
        var update = await ending.EndAsync(job, outcome, cancellationToken,
            new JobWrite { Audit = audit.NewEntry(AuditActions.Terminated, actor, ("reason", reason), ("via", "terminate link")) },
            guard: current => current with { CancelRequested = true }, durable: durable);
        if (update.Changed)
        {
            LogCancel(job.Id, actor.Describe(), update.Job.Status.ToWire());
        }
        await TerminateIfRunningAsync(durable, job.Id, reason, cancellationToken);
        return update.Job;
    }

    /// <summary>
    /// Ends a live job whose deadline has passed as <c>timed_out</c> — the sweep's backstop for a handler that ignores
    /// its token, or a job whose orchestration never started — then terminates its orchestration if it still runs. The
    /// ending is the one the orchestration would write (<see cref="JobOutcome.TimedOut"/>), so it does not matter which
    /// of the two ends the job.
    /// </summary>
    public async Task<bool> TimeOutAsync(Job job, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        if (job.Deadline is not { } deadline)
        {
            return false;
        }
        var now = store.Now;
        var outcome = JobOutcome.TimedOut(deadline);
        var update = await ending.EndAsync(job, outcome, cancellationToken,
            guard: current => current.Deadline == deadline && JobDeadline.HasPassed(deadline, now) ? current : null, durable: durable);
        if (!update.Changed)
        {
            return false;
        }
        await TerminateIfRunningAsync(durable, job.Id, outcome.Text(), cancellationToken);
        return true;
    }

    /// <summary>
    /// Deletes an ended job and everything of it: its orchestration's history, its log lines, its artifacts, its
    /// webhook deliveries (they carry its status shape), its list rows and counts, and its record (retention, and bulk <c>delete</c>). A job that has not ended is kept
    /// (<see cref="DeleteEffect.NotEnded"/>), and so is one whose orchestration still runs its last write
    /// (<see cref="DeleteEffect.StillFinishing"/>): the host's client refuses to purge a live instance.
    /// The job's audit trail goes with it; that <paramref name="actor"/> deleted it goes to the deletion log
    /// (<see cref="JobAuditLog.RecordDeletionAsync"/>), written before the job's own rows are removed.
    /// </summary>
    public async Task<DeleteEffect> DeleteAsync(Job job, DurableTaskClient durable, AuditActor actor, CancellationToken cancellationToken)
    {
        if (!job.Status.IsTerminal())
        {
            return DeleteEffect.NotEnded;
        }
        if (await durable.GetInstanceAsync(job.Id, cancellationToken) is { } instance)
        {
            if (!instance.IsCompleted)
            {
                return DeleteEffect.StillFinishing;
            }
            await durable.PurgeInstanceAsync(job.Id, cancellation: cancellationToken);
        }
        await audit.RecordDeletionAsync(job, audit.NewEntry(AuditActions.Deleted, actor, ("status", job.Status.ToWire())), cancellationToken);
        var lines = await logs.DeleteAllAsync(job.Id, cancellationToken);
        await artifacts.DeleteAllAsync(job.Id, cancellationToken);
        await webhooks.DeleteJobDeliveriesAsync(job.Id, job.Owner, cancellationToken);
        await store.DeleteAsync(job, cancellationToken);
        LogDeleted(job.Id, job.Type, job.Status.ToWire(), job.CreatedAt, lines);
        return DeleteEffect.Deleted;
    }

    /// <summary>
    /// Terminates the job's orchestration if it still runs. Under the Functions host the durable client throws for an
    /// instance that has ended or does not exist (<see cref="DurableInstanceErrors"/>); the job's record already says
    /// how it ended, so losing that race is fine.
    /// </summary>
    public static async Task TerminateIfRunningAsync(DurableTaskClient durable, string id, string reason, CancellationToken cancellationToken)
    {
        var instance = await durable.GetInstanceAsync(id, cancellationToken);
        if (instance is null || instance.IsCompleted)
        {
            return;
        }
        try
        {
            await durable.TerminateInstanceAsync(id, reason, cancellationToken);
        }
        catch (Exception ex) when (DurableInstanceErrors.IsEnded(ex) || DurableInstanceErrors.IsUnknown(ex))
        {
            // Ended (or purged) between the read and the terminate.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted job {JobId} ({Type}, {Status}, created {CreatedAt:O}) with {LogLines} log lines.")]
    private partial void LogDeleted(string jobId, string type, string status, DateTimeOffset createdAt, int logLines);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cancel of job {JobId} by {RequestedBy}: now {Status}.")]
    private partial void LogCancel(string jobId, string requestedBy, string status);
}

/// <summary>What <see cref="JobCommands.DeleteAsync"/> did.</summary>
public enum DeleteEffect
{
    Deleted,

    /// <summary>The job is still draft, pending or running: cancel it first.</summary>
    NotEnded,

    /// <summary>The record ended but its orchestration still runs its last write; try again shortly.</summary>
    StillFinishing,
}
