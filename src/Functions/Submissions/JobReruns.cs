using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Functions.Lifecycle;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Submissions;

/// <summary>
/// The body of <c>POST /api/jobs/{id}/rerun</c>: optionally a new <see cref="Input"/> (a whole rerun only), or
/// <see cref="From"/> = <c>failed-step</c> to resume at the step that failed.
/// </summary>
public sealed record RerunRequest
{
    /// <summary>The one value <see cref="From"/> takes.</summary>
    public const string FromFailedStep = "failed-step";

    public JsonElement? Input { get; init; }
    public string? From { get; init; }
}

/// <summary>
/// Where a rerun comes from: the original job and, for a resume, the step it starts at and the output the step before
/// returned there. It becomes part of the new job's creation (its record's transaction).
/// </summary>
public sealed record JobLineage(Job Original, JobResumePoint? ResumedAt, KeptStepOutput? Carried)
{
    /// <summary>What the new job's creation writes besides its record: the carried output and the line saying where it came from.</summary>
    public JobWrite Creation(Job job, DateTimeOffset now)
    {
        var message = ResumedAt is { } resumed
            ? $"Resumed from job {Original.Id} at step {resumed.Step} ({resumed.StepIndex + 1} of {job.StepCount}): "
              + (resumed.StepIndex == 0 ? "no step before it ran again." : $"the {resumed.StepIndex} step(s) before it are the original's and do not run again.")
            : $"Rerun of job {Original.Id}.";
        return new JobWrite
        {
            ChangeLines = [JobLogStore.OnceLine(now, 0, JobLogLevel.Information, message, null)],
            StepOutput = Carried,
        };
    }
}

/// <summary>
/// Reruns an ended job as a new one linked to it (<see cref="Job.RerunOf"/>; the original shows its latest
/// <see cref="Job.RerunBy"/>), from the start or — for a failed job whose type allows it — from the step that failed.
/// </summary>
public sealed class JobReruns(JobStore store, JobSubmissionService submissions, JobHandlerRegistry handlers, JobAuditLog audit)
{
    /// <summary>
    /// Creates the rerun (an <paramref name="idempotencyKey"/> repeated returns the first), then marks the original.
    /// Refusals change nothing: 400 (<see cref="InputValidationException"/>) for a malformed request, 409
    /// (<see cref="JobStateException"/>) for one the original's state does not allow.
    /// </summary>
    /// <remarks>
    /// <paramref name="derivedIdempotencyKey"/>: a key the service made (a bulk rerun's), used when the caller gave none.
    /// Both jobs' audit trails get an entry by <paramref name="actor"/>, each in its own job's write: the new job's
    /// <c>created</c> (naming <c>rerunOf</c>), the original's <c>rerun</c> (naming the new job) with its link.
    /// </remarks>
    public async Task<CreateOutcome> RerunAsync(
        Job original, RerunRequest request, string? idempotencyKey, AuditActor actor, DurableTaskClient durable, CancellationToken cancellationToken,
        string? derivedIdempotencyKey = null)
    {
        var lineage = await PlanAsync(original, request, cancellationToken);
        var submission = new JobSubmission
        {
            Type = original.Type,
            Input = request.Input ?? original.Input,
            CorrelationId = original.CorrelationId,
            Entity = original.Entity,
            Tags = [.. original.Tags],
            IdempotencyKey = idempotencyKey,
            Priority = original.Priority,
            ConcurrencyKey = original.ConcurrencyKey,
        };
        var outcome = await submissions.CreateAsync(submission, original.Owner, derivedIdempotencyKey, durable, cancellationToken, lineage, actor: actor);
        if (!outcome.Created && (outcome.Job.RerunOf != original.Id || outcome.Job.ResumedAt != lineage.ResumedAt))
        {
            // The key's first request made the same job by another way (a create, or a rerun from elsewhere): not this request.
            throw new IdempotencyKeyReusedException(idempotencyKey ?? derivedIdempotencyKey ?? "");
        }
        if (outcome.Job.RerunOf == original.Id)
        {
            // Not a status change: the record alone, and nothing listed moves. A crash before it leaves the original
            // without its link; a repeat of the request (same key) writes it.
            var write = new JobWrite { Audit = audit.NewEntry(AuditActions.Rerun, actor, ("rerunJob", outcome.Job.Id), ("from", lineage.ResumedAt is null ? "start" : RerunRequest.FromFailedStep)) };
            await store.UpdateAsync(original, current => current.RerunBy == outcome.Job.Id ? null : current with { RerunBy = outcome.Job.Id }, cancellationToken, write);
        }
        return outcome;
    }

    /// <summary>Whether <paramref name="steps"/> still have the resumed step where it was (a deployment may have changed them).</summary>
    public static bool StillAt(IReadOnlyList<JobStepPlan> steps, JobResumePoint resumed) =>
        resumed.StepIndex < steps.Count && steps[resumed.StepIndex].Name == resumed.Step;

    private async Task<JobLineage> PlanAsync(Job original, RerunRequest request, CancellationToken cancellationToken)
    {
        if (request.From is not null && request.From != RerunRequest.FromFailedStep)
        {
            throw new InputValidationException("from", $"must be '{RerunRequest.FromFailedStep}' (or left out to rerun from the start)");
        }
        if (!original.Status.IsTerminal())
        {
            throw new JobStateException($"Job {original.Id} is {original.Status.ToWire()}; only a job that has ended can be rerun.", "id");
        }
        if (!handlers.TryGet(original.Type, out var handler))
        {
            throw new JobStateException($"Job {original.Id}'s type {original.Type} is no longer known here; it cannot be rerun.", "id");
        }
        if (handler.CreatedThrough is { } route)
        {
            // Its input carries what the service decided for the caller who made it (a bulk action's reach): a rerun would
            // replay — or, with a new input, forge — that decision. It is made again through its own route.
            throw new JobStateException($"Jobs of type {original.Type} are not rerun: make a new one with {route}.", "id");
        }
        if (request.From is null)
        {
            return new JobLineage(original, null, null);
        }
        if (request.Input is not null)
        {
            throw new InputValidationException("input", "cannot be changed when resuming: the steps that do not run again ran on the original's input");
        }
        if (original.Status != JobStatus.Failed || original.Error?.Step is not { } failedStep)
        {
            throw new JobStateException($"Job {original.Id} ended {original.Status.ToWire()} with no failed step to resume at; rerun it from the start.", "from");
        }
        if (handler.NotResumableReason is { } reason)
        {
            throw new JobStateException($"Jobs of type {original.Type} cannot be resumed: {reason}", "from");
        }
        var steps = handler.Prepare(original.Input).Steps;
        var index = steps.Select(s => s.Name).ToList().IndexOf(failedStep);
        if (index < 0)
        {
            throw new JobStateException($"Job type {original.Type} has no step '{failedStep}' any more; rerun the job from the start.", "from");
        }
        KeptStepOutput? carried = null;
        if (index > 0)
        {
            carried = await store.ReadStepOutputAsync(original.Id, index - 1, cancellationToken);
            if (carried is null || carried.StepName != steps[index - 1].Name)
            {
                throw new JobStateException(
                    $"Job {original.Id} has no kept output of step {steps[index - 1].Name} (it ran before outputs were kept, or the step after it never started); rerun it from the start.", "from");
            }
            if (!carried.Kept)
            {
                throw new JobStateException(
                    $"The output of step {carried.StepName} was larger than the {StepOutputs.MaxChars:N0} characters kept; rerun job {original.Id} from the start.", "from");
            }
        }
        return new JobLineage(original, new JobResumePoint(failedStep, index), carried);
    }
}
