using Azure;
using Jobs.Functions.Concurrency;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// The one way a job reaches a terminal state — completion, failure, cancellation, termination, timeout, each as
/// <see cref="JobOutcome"/> decides and words it — so every ending behaves alike: the terminal state is written under
/// the ETag (a job ends once) in one transaction with the closing log line (a client that sees the end finds the whole
/// log) and its outbox row; the projector then sends it to <c>job-events</c> (at least once: a retry after a fault
/// settles what the fault left, the event included). An ended job then gives back its slot or its place in its
/// type's queue (<see cref="JobSlots.ReleaseAsync"/>), and the jobs that take the slot are woken.
/// </summary>
public sealed partial class JobEnding(JobStore store, JobLogStore logs, JobSlots slots, ILogger<JobEnding> logger)
{
    /// <summary>
    /// Ends <paramref name="known"/> as <paramref name="outcome"/> says (<see cref="JobTransitions.End"/>), with its log
    /// line. <paramref name="guard"/> refuses this ending for the current record (null) or adds the caller's own fields.
    /// <paramref name="durable"/> wakes the jobs granted the slot it frees (without one, the reconciler does).
    /// </summary>
    public async Task<JobUpdate> EndAsync(
        Job known, JobOutcome outcome, CancellationToken cancellationToken, JobWrite? write = null, Func<Job, Job?>? guard = null,
        DurableTaskClient? durable = null)
    {
        var line = logs.NewLine(outcome.LogLevel(), outcome.LogLine(), null);
        // The closing line is written in the same transaction as the terminal state, and only with it.
        write = (write ?? JobWrite.None) with { ChangeLines = [line] };
        var wasQueued = known.Status == JobStatus.Queued;
        var update = await store.UpdateAsync(known, current =>
        {
            wasQueued |= current.Status == JobStatus.Queued;
            return JobTransitions.End(current, outcome, store.Now, guard);
        }, cancellationToken, write) ?? throw new InvalidOperationException($"Job {known.Id} vanished.");
        if (update.Changed && update.Job.Status.IsTerminal())
        {
            Observability.JobsTelemetry.JobEnded(update.Job);
        }
        if (update.Job.Status.IsTerminal() && (wasQueued || slots.LimitsOf(update.Job.Type).IsLimited))
        {
            await ReleaseAsync(update.Job, write.Orchestrated, durable, cancellationToken);
        }
        return update;
    }

    /// <summary>
    /// Gives the ended job's slot (or place in the queue) back and wakes who takes it. Idempotent, so a retried ending
    /// repeats it. An activity's failure is thrown (the orchestration retries the ending, which lands here again); any
    /// other caller's is logged — the ending stands, and the reconciler frees a slot whose job has ended.
    /// </summary>
    private async Task ReleaseAsync(Job ended, bool orchestrated, DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> woken;
        try
        {
            woken = await slots.ReleaseAsync(ended, cancellationToken);
        }
        catch (RequestFailedException ex) when (!orchestrated)
        {
            LogReleaseLeft(ex, ended.Id);
            return;
        }
        await slots.WakeAsync(durable, woken, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ended, but its slot could not be given back; the reconciler frees it.")]
    private partial void LogReleaseLeft(Exception exception, string jobId);
}
