using System.Text.Json;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// Answers the decision a job waits for (issue 31): the answer is written to the record under its ETag — with its log
/// line and its audit entry, who decided, in the same transaction — so of two answers (or an answer and the timeout)
/// exactly one wins; then the job's orchestration is woken by the decision's event. The event carries nothing the
/// orchestration trusts (it reads the answer from the record), so a wake-up lost to a fault is sent again by the
/// reconciler (<see cref="WakeAsync"/>) without any risk of a second answer.
/// </summary>
public sealed partial class JobDecisions(JobStore store, JobLogStore logs, JobAuditLog audit, ILogger<JobDecisions> logger)
{
    /// <summary>
    /// Records <paramref name="answer"/> to the decision <paramref name="name"/> by <paramref name="actor"/> and wakes the
    /// job. Throws <see cref="JobStateException"/> (a 409 naming <c>name</c>) when the job does not wait for that decision.
    /// </summary>
    public async Task<Job> DecideAsync(
        Job job, string name, DecisionAnswer answer, string? comment, JsonElement? payload, AuditActor actor, DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        if (!JobTransitions.IsWaitingFor(job, name))
        {
            throw Refusal(job, name);
        }
        var now = store.Now;
        var wire = answer == DecisionAnswer.Approve ? "approve" : "reject";
        var write = new JobWrite
        {
            ChangeLines = [logs.NewLine(JobLogLevel.Information,
                $"Decision ({name}): {JobTransitions.Past(answer).ToLowerInvariant()} by {actor.Describe()}{(comment is null ? "" : $": {comment}")}.", job.Decision!.Step)],
            Audit = audit.NewEntry(AuditActions.Decided, actor, ("name", name), ("decision", wire), ("comment", comment)),
        };
        var update = await store.UpdateAsync(job, current => JobTransitions.Decide(current, name, answer, comment, payload, actor, now), cancellationToken, write)
            ?? throw new JobVanishedException(job.Id);
        if (!update.Changed)
        {
            throw Refusal(update.Job, name);
        }
        LogDecided(job.Id, name, wire, actor.Id);
        await WakeAsync(durable, update.Job, cancellationToken);
        return update.Job;
    }

    /// <summary>
    /// Sends the decision's event to the job's orchestration. A failure is logged, not thrown: the answer is recorded,
    /// and the reconciler sends the event again for a job whose decided step has not started.
    /// </summary>
    public async Task WakeAsync(DurableTaskClient durable, Job job, CancellationToken cancellationToken)
    {
        if (job.Decision is not { } decision)
        {
            return;
        }
        try
        {
            await durable.RaiseEventAsync(job.Id, JobDecision.EventName(decision.Name), decision.Answer?.ToString().ToLowerInvariant(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWakeFailed(ex, job.Id, decision.Name);
        }
    }

    /// <summary>
    /// True when the job was answered but its decided step has not started for longer than <paramref name="grace"/>: its
    /// wake-up may have been lost (the reconciler sends it again).
    /// </summary>
    public static bool NeedsWake(Job job, DateTimeOffset now, TimeSpan grace) =>
        job.Status == JobStatus.Running && job.Decision is { IsDecided: true, TimedOut: false } decision
        && job.StepIndex == decision.StepIndex && job.Attempt == 0 && now - job.UpdatedAt > grace;

    private static JobStateException Refusal(Job job, string name)
    {
        if (job.Decision is { } held && held.Name == name && held.IsAnswered)
        {
            var by = held.TimedOut ? "its timeout" : held.DecidedByName ?? held.DecidedBy;
            return new JobStateException($"The decision '{name}' of job {job.Id} was already answered ({held.Answer?.ToString().ToLowerInvariant()} by {by}).", "name");
        }
        if (job.Status == JobStatus.Waiting && job.Decision is { } other)
        {
            return new JobStateException($"Job {job.Id} waits for the decision '{other.Name}', not '{name}'.", "name");
        }
        return new JobStateException($"Job {job.Id} is {job.Status.ToWire()}, not waiting for the decision '{name}'.", "name");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: decision {Name} answered {Answer} by {DecidedBy}.")]
    private partial void LogDecided(string jobId, string name, string answer, string decidedBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the decision {Name} is recorded, but its orchestration could not be woken; the reconciler wakes it.")]
    private partial void LogWakeFailed(Exception exception, string jobId, string name);
}
