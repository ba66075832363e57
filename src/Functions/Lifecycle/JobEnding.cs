using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// The one way a job reaches a terminal state — completion, failure, cancellation, termination, timeout, each as
/// <see cref="JobOutcome"/> decides and words it — so every ending behaves alike: the terminal state is written under
/// the ETag (a job ends once) in one transaction with the closing log line (a client that sees the end finds the whole
/// log) and its outbox row; the projector then sends it to <c>job-events</c> (at least once: a retry after a fault
/// settles what the fault left, the event included).
/// </summary>
public sealed class JobEnding(JobStore store, JobLogStore logs)
{
    /// <summary>
    /// Ends <paramref name="known"/> as <paramref name="outcome"/> says (<see cref="JobTransitions.End"/>), with its log
    /// line. <paramref name="guard"/> refuses this ending for the current record (null) or adds the caller's own fields.
    /// </summary>
    public async Task<JobUpdate> EndAsync(
        Job known, JobOutcome outcome, CancellationToken cancellationToken, JobWrite? write = null, Func<Job, Job?>? guard = null)
    {
        var line = logs.NewLine(outcome.LogLevel(), outcome.LogLine(), null);
        // The closing line is written in the same transaction as the terminal state, and only with it.
        write = (write ?? JobWrite.None) with { ChangeLines = [line] };
        var update = await store.UpdateAsync(known, current => JobTransitions.End(current, outcome, store.Now, guard), cancellationToken, write)
            ?? throw new InvalidOperationException($"Job {known.Id} vanished.");
        if (update.Changed && update.Job.Status.IsTerminal())
        {
            Observability.JobsTelemetry.JobEnded(update.Job);
        }
        return update;
    }
}
