using Jobs.Functions.Concurrency;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Maintenance;

/// <summary>What the reconciler did to one job.</summary>
public enum Reconciliation
{
    None,
    Healed,
    Started,
    Completed,
    Failed,
    Cancelled,
    TimedOut,
    Removed,

    /// <summary>A slot of a job that had ended was given back (<see cref="JobSlots.RecoverAsync"/>).</summary>
    SlotFreed,

    /// <summary>A job granted a slot was woken (again).</summary>
    Woken,
}

/// <summary>
/// Makes job records agree with their orchestrations, visiting only the live-job index (never all jobs):
/// <list type="bullet">
/// <item>a status change whose projection a crash or a fault left unsettled (its outbox row is still beside the
/// record, or an ended job is still watched) → settled by <see cref="JobProjector"/>;</item>
/// <item>an orchestration that ended without the record noticing — completed, failed, or terminated through the native
/// Durable API → the record takes that outcome (terminated → <c>cancelled</c> with the reason);</item>
/// <item>no orchestration for a pending job past the grace period → started; for a running job (purged out of
/// band) → <c>failed</c>, saying why (restarting would run finished steps again);</item>
/// <item>a deadline passed by more than the grace (the orchestration stops a job at its deadline itself) → <c>timed_out</c>
/// and the orchestration terminated;</item>
/// <item>a live-job row with no record (a create that failed before its record) → removed, with the list rows written with it;</item>
/// <item>a slot held by a job that has ended or is gone (its instance killed before it gave the slot back) → freed, and
/// the next queued jobs start; a job granted a slot but still queued (its wake-up lost) → woken again
/// (<see cref="JobSlots.RecoverAsync"/>);</item>
/// <item>a job whose decision was answered a grace ago but whose decided step has not started (the wake-up lost) → its
/// decision's event sent again (<see cref="JobDecisions.WakeAsync"/>).</item>
/// </list>
/// It is also the counters' aggregator (<see cref="JobCounters.FoldAsync(CancellationToken)"/>): each run folds the deltas
/// of the all-jobs buckets and of every partition they name, and writes the buckets' sum that admins' totals and stats
/// read (so those are exact within one run's period); every <see cref="ReconcilerOptions.RecountMinutes"/> the all-jobs
/// scope is recounted from its list rows, as a repair should a counter ever drift.
/// </summary>
public sealed partial class JobReconciler(
    JobStore store, LiveJobIndex live, JobProjector projector, JobCounters counters, JobEnding ending, JobCommands commands, JobSubmissionService submissions,
    JobHandlerRegistry handlers, JobAuditLog audit, JobSlots slots, JobDecisions decisions, IOptions<ReconcilerOptions> options, ILogger<JobReconciler> logger)
{
    /// <summary>Who the audit trail names for what the reconciler records on its own (a job terminated through the native Durable API).</summary>
    public static readonly AuditActor Actor = AuditActor.System("reconciler");

    private DateTimeOffset? _nextRecount;

    public async Task<IReadOnlyDictionary<Reconciliation, int>> RunAsync(DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<Reconciliation, int>();
        foreach (var row in await live.ReadAsync(null, options.Value.MaxPerRun, cancellationToken))
        {
            Reconciliation done;
            try
            {
                done = await ReconcileAsync(row, durable, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(ex, row.JobId); // one job's trouble must not stop the run; the next run tries again
                continue;
            }
            if (done != Reconciliation.None)
            {
                counts[done] = counts.GetValueOrDefault(done) + 1;
                LogReconciled(row.JobId, done.ToString());
            }
        }
        await RecoverSlotsAsync(durable, counts, cancellationToken);
        await KeepCountersAsync(cancellationToken);
        return counts;
    }

    /// <summary>Frees the slots of ended jobs and wakes granted jobs still queued (<see cref="JobSlots.RecoverAsync"/>).</summary>
    private async Task RecoverSlotsAsync(DurableTaskClient durable, Dictionary<Reconciliation, int> counts, CancellationToken cancellationToken)
    {
        try
        {
            var (freed, woken) = await slots.RecoverAsync(store.GetAsync, store.Now, TimeSpan.FromSeconds(options.Value.GraceSeconds), durable, cancellationToken);
            if (freed > 0)
            {
                counts[Reconciliation.SlotFreed] = freed;
            }
            if (woken > 0)
            {
                counts[Reconciliation.Woken] = woken;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSlotsFailed(ex); // the next run tries again
        }
    }

    /// <summary>Folds the counters' deltas, and recounts the all-jobs counters from the list rows when their time has come.</summary>
    private async Task KeepCountersAsync(CancellationToken cancellationToken)
    {
        var now = store.Now;
        _nextRecount ??= now + TimeSpan.FromMinutes(options.Value.RecountMinutes);
        try
        {
            if (options.Value.RecountMinutes > 0 && now >= _nextRecount)
            {
                var (done, corrected) = await counters.RecountAsync(new JobListScope.All(), cancellationToken);
                if (done)
                {
                    _nextRecount = now + TimeSpan.FromMinutes(options.Value.RecountMinutes);
                }
                LogRecount(done, corrected);
            }
            await counters.FoldAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCountersFailed(ex); // the next run tries again
        }
    }

    /// <summary>Reconciles one job of the live-job index.</summary>
    public async Task<Reconciliation> ReconcileAsync(LiveJobRow row, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var now = store.Now;
        var grace = TimeSpan.FromSeconds(options.Value.GraceSeconds);
        var job = await store.GetAsync(row.JobId, cancellationToken);
        if (job is null)
        {
            // Written before a record that never came; once past the grace no create can still be writing it. The list
            // rows written with it go first (the row says where they are), the row that finds them last.
            if (JobDeadline.HasPassed(row.Deadline, now) || row.WrittenAt is not { } written || now - written > grace)
            {
                if (row.Job is { } orphan)
                {
                    await projector.RemoveAsync(orphan, cancellationToken);
                }
                await live.RemoveAsync(row.JobId, row.Deadline, cancellationToken);
                if (await store.GetAsync(row.JobId, cancellationToken) is { } late)
                {
                    // A retry with the create's idempotency key wrote the record meanwhile: project it again from what
                    // each partition shows now (the removal may have taken rows the retry found there).
                    await SettleAsync(late, cancellationToken);
                    return Reconciliation.Healed;
                }
                return Reconciliation.Removed;
            }
            return Reconciliation.None;
        }
        if (!LiveJobIndex.IsLive(job))
        {
            // Ended but not fully projected (the live-job row goes last), or a draft whose change could not be projected
            // (watched for that): settle it — once the grace has passed, so that a visit landing between a change's record
            // and its projection does not race it (harmless, but needless). A row written just now may also be a draft's
            // submit, watched before its record says pending.
            if (now - job.UpdatedAt <= grace || (row.WrittenAt is { } written && now - written <= grace))
            {
                return Reconciliation.None;
            }
            await SettleAsync(job, cancellationToken);
            // Its partitions show the change now; the row has done its work (and one restored behind the engine's back goes too).
            await live.RemoveAsync(row.JobId, row.Deadline, cancellationToken);
            return Reconciliation.Healed;
        }
        if (job.Deadline != row.Deadline)
        {
            // A row of an earlier try of this job's create (its retry recorded another deadline, so its projection found
            // the markers there and wrote no row for its own): the job is watched by its own deadline first.
            if (job.Deadline is { } deadline)
            {
                await live.WatchAsync(job, deadline, row.ProjectedSeq, cancellationToken);
            }
            await live.RemoveAsync(row.JobId, row.Deadline, cancellationToken);
            return Reconciliation.Removed;
        }
        if (row.ProjectedSeq < JobStamp.Of(job)!.Seq && now - job.UpdatedAt > grace)
        {
            // A status change that is not projected everywhere (the live-job row, written last, says which one is).
            job = await SettleAsync(job, cancellationToken);
        }
        var quiet = now - job.UpdatedAt > grace;
        if (!quiet && job.Deadline is { } ahead && !JobDeadline.HasPassed(ahead, now))
        {
            // Written recently: its orchestration was alive then. But one terminated through the native API since (an
            // operator, Durable Functions Monitor) runs no more code, so it needs no grace: its ending is written now, on
            // this visit, not a grace and another period later (one status read, without inputs, per such job and run).
            var status = await durable.GetInstanceAsync(job.Id, getInputsAndOutputs: false, cancellationToken);
            if (status?.RuntimeStatus != OrchestrationRuntimeStatus.Terminated)
            {
                return Reconciliation.None;
            }
        }

        var instance = await durable.GetInstanceAsync(job.Id, getInputsAndOutputs: true, cancellationToken);
        switch (instance?.RuntimeStatus)
        {
            case OrchestrationRuntimeStatus.Completed:
                var outcome = instance.ReadOutputAs<JobOutcome>();
                return await EndAsync(job, outcome ?? JobOutcome.Completed(null, null), durable, cancellationToken);
            case OrchestrationRuntimeStatus.Failed:
                return await EndAsync(job, JobOutcome.OrchestrationFailed(job.Step, instance), durable, cancellationToken);
            case OrchestrationRuntimeStatus.Terminated:
                // Terminated through the native Durable API, which the host serves without the app seeing the request: who
                // asked is unknown here; what the app observes — the orchestration ended that way — is recorded as the reconciler's.
                var terminated = JobOutcome.TerminatedOutOfBand(instance);
                return await EndAsync(job, terminated, durable, cancellationToken,
                    new JobWrite { Audit = audit.NewEntry(AuditActions.Terminated, Actor, ("via", "native Durable API"), ("reason", terminated.Text())) });
        }
        if (job.Deadline is { } due && JobDeadline.HasPassed(instance is null ? due : due + grace, now))
        {
            // A running orchestration stops its job at the deadline itself (the step's handler is cancelled then), so it
            // has a grace to do so; past it, the handler ignored its token. With no orchestration, nothing else will.
            return await commands.TimeOutAsync(job, durable, cancellationToken) ? Reconciliation.TimedOut : Reconciliation.None;
        }
        if (instance is not null && JobDecisions.NeedsWake(job, now, grace))
        {
            // Answered a grace ago, and its step has not started: the decision's wake-up was lost (the answer is the record's).
            await decisions.WakeAsync(durable, job, cancellationToken);
            return Reconciliation.Woken;
        }
        if (instance is not null || !quiet)
        {
            return Reconciliation.None;
        }
        if ((job.Status is JobStatus.Pending or JobStatus.Queued) && handlers.TryGet(job.Type, out var handler))
        {
            return await submissions.StartIfMissingAsync(job, handler, durable, cancellationToken) ? Reconciliation.Started : Reconciliation.None;
        }
        return await EndAsync(job, JobOutcome.OrchestrationMissing(job), durable, cancellationToken);
    }

    /// <summary>Projects what the record's changes owe and removes their outbox rows (read with the record, only when needed).</summary>
    private async Task<Job> SettleAsync(Job job, CancellationToken cancellationToken)
    {
        var stored = await store.ReadAsync(job.Id, cancellationToken) ?? new StoredJob(job, []);
        await store.SettleAsync(stored, cancellationToken, force: true);
        return stored.Job;
    }

    private async Task<Reconciliation> EndAsync(Job job, JobOutcome outcome, DurableTaskClient durable, CancellationToken cancellationToken, JobWrite? write = null)
    {
        var update = await ending.EndAsync(job, outcome, cancellationToken, write, durable: durable);
        if (!update.Changed)
        {
            return Reconciliation.None;
        }
        return outcome.Status switch
        {
            JobStatus.Completed => Reconciliation.Completed,
            JobStatus.Cancelled => Reconciliation.Cancelled,
            JobStatus.TimedOut => Reconciliation.TimedOut,
            _ => Reconciliation.Failed,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciler: all-jobs counters recounted from the list rows (done: {Done}, corrected: {Corrected}).")]
    private partial void LogRecount(bool done, bool corrected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: the job types' slots could not be recovered this run.")]
    private partial void LogSlotsFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: the job counters could not be kept this run.")]
    private partial void LogCountersFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciler: job {JobId} {Action}.")]
    private partial void LogReconciled(string jobId, string action);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler: job {JobId} could not be reconciled this run.")]
    private partial void LogFailed(Exception exception, string jobId);
}
