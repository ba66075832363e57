using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// The one way a job reaches a terminal state — completion, failure, cancellation, termination, timeout — so every
/// ending behaves alike: the terminal state is written under the ETag (a job ends once) in one transaction with the
/// closing log line (a client that sees the end finds the whole log) and its outbox row; the projector then sends it
/// to <c>job-events</c> (at least once: a retry after a fault settles what the fault left, the event included).
/// </summary>
public sealed class JobEnding(JobStore store, JobLogStore logs)
{
    /// <summary>
    /// Ends <paramref name="known"/> as <paramref name="status"/>. <paramref name="fields"/> adds the ending's own fields
    /// to the current record, or returns null when this job must not end this way (the engine sets status and time).
    /// </summary>
    public async Task<JobUpdate> EndAsync(Job known, JobStatus status, string logLine, Func<Job, Job?> fields, CancellationToken cancellationToken, JobWrite? write = null)
    {
        var line = logs.NewLine(status == JobStatus.Completed ? JobLogLevel.Information : JobLogLevel.Warning, logLine, null);
        // The closing line is written in the same transaction as the terminal state, and only with it.
        write = (write ?? JobWrite.None) with { ChangeLines = [line] };
        var update = await store.UpdateAsync(known, current => JobTransitions.End(current, status, store.Now, fields), cancellationToken, write)
            ?? throw new InvalidOperationException($"Job {known.Id} vanished.");
        if (update.Changed && update.Job.Status.IsTerminal())
        {
            Observability.JobsTelemetry.JobEnded(update.Job);
        }
        return update;
    }

    /// <summary>Ends a job with the outcome its orchestration decided: status, result or error, message and result metadata.</summary>
    public Task<JobUpdate> EndAsync(Job known, JobOutcome outcome, CancellationToken cancellationToken, JobWrite? write = null)
    {
        var message = outcome.Message ?? outcome.Status.ToWire();
        return EndAsync(known, outcome.Status,
            $"Job {outcome.Status.ToWire()}: {message}{(outcome.Error is null ? "" : $" ({outcome.Error.Message})")}",
            current =>
            {
                var metadata = new Dictionary<string, string>(current.Metadata);
                foreach (var (key, value) in outcome.Metadata ?? [])
                {
                    metadata[key] = value;
                }
                return current with
                {
                    Message = message,
                    Result = outcome.Result,
                    Error = outcome.Error,
                    Metadata = metadata,
                    Progress = outcome.Status == JobStatus.Completed ? 100 : current.Progress,
                };
            }, cancellationToken, write);
    }
}
