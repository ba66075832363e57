using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// The one way a job reaches a terminal state — completion, failure, cancellation, termination, timeout — so every
/// ending behaves alike: the closing log line is written first (a client that sees the end finds the whole log),
/// the terminal state is written under the ETag (a job ends once), and the ending goes to <c>job-events</c>.
/// </summary>
public sealed class JobEnding(JobStore store, JobLogStore logs, JobEventPublisher events)
{
    /// <summary>
    /// Ends <paramref name="known"/> as <paramref name="status"/>. <paramref name="end"/> adds the ending's own fields
    /// to the current record, or returns null when this job must not end this way (the engine sets status and time).
    /// Publishing is at least once: a retried ending that finds the job already ended the same way publishes again.
    /// </summary>
    public async Task<JobUpdate> EndAsync(Job known, JobStatus status, string logLine, Func<Job, Job?> end, CancellationToken cancellationToken)
    {
        var ending = !known.Status.IsTerminal() && end(known) is not null;
        if (ending)
        {
            await logs.AppendAsync(known.Id, status == JobStatus.Completed ? JobLogLevel.Information : JobLogLevel.Warning, logLine, null, cancellationToken);
        }
        var update = await store.UpdateAsync(known, current => current.Status.IsTerminal() ? null
            : end(current) is { } ended ? ended with { Status = status, CompletedAt = store.Now } : null, cancellationToken)
            ?? throw new InvalidOperationException($"Job {known.Id} vanished.");
        if (ending && !update.Changed)
        {
            await logs.AppendAsync(known.Id, JobLogLevel.Warning,
                $"The line above does not apply: the job changed meanwhile and is {update.Job.Status.ToWire()}.", null, cancellationToken);
        }
        if (update.Job.Status == status)
        {
            await events.PublishAsync(update.Job, cancellationToken);
        }
        return update;
    }
}
