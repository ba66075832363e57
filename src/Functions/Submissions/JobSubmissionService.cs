using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using DurableTask.Core.Exceptions;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Jobs.Functions.Storage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Submissions;

/// <summary>The job and whether this call created it (false: an idempotent repeat returned the original).</summary>
public sealed record CreateOutcome(Job Job, bool Created);

/// <summary>
/// Creates jobs for HTTP and queue submissions alike: validates, claims the idempotency key, writes the record,
/// then schedules the orchestration (instance id = job id). Shared so both doors behave the same.
/// </summary>
public sealed partial class JobSubmissionService(
    JobStore store, StorageClients clients, JobHandlerRegistry handlers, JobEnding ending, JobAuditLog audit, ILogger<JobSubmissionService> logger)
{
    /// <summary>
    /// Validates a submission and plans its steps; throws <see cref="InputValidationException"/> listing every problem.
    /// </summary>
    public HandlerRun Validate(JobSubmission submission, bool byService = false)
    {
        var errors = new List<InputError>();
        IJobHandler? handler = null;
        if (string.IsNullOrWhiteSpace(submission.Type))
        {
            errors.Add(new InputError("type", $"is required; known types: {string.Join(", ", handlers.TypeNames)}"));
        }
        else if (!handlers.TryGet(submission.Type, out handler))
        {
            errors.Add(new InputError("type", $"'{Shorten(submission.Type)}' is not a known job type; known types: {string.Join(", ", handlers.TypeNames)}"));
        }
        else if (handler.CreatedThrough is { } route && !byService)
        {
            errors.Add(new InputError("type", $"jobs of type {handler.Type} are created through {route}"));
            handler = null;
        }
        SubmissionRules.CheckText(errors, "correlationId", submission.CorrelationId);
        SubmissionRules.CheckIdempotencyKey(errors, submission.IdempotencyKey);
        SubmissionRules.CheckNotBefore(errors, submission.NotBefore, store.Now);
        SubmissionRules.CheckPriority(errors, submission.Priority);
        SubmissionRules.CheckText(errors, "concurrencyKey", submission.ConcurrencyKey);
        errors.AddRange(JobTags.Check(submission.Tags, "tags"));
        if (submission.Entity is { } entity)
        {
            SubmissionRules.CheckText(errors, "entity.type", entity.Type, required: true);
            SubmissionRules.CheckText(errors, "entity.id", entity.Id, required: true);
        }
        var run = handler is null ? null : PrepareInput(handler, submission.Input, errors);
        if (errors.Count > 0)
        {
            throw new InputValidationException(errors);
        }
        return run!;
    }

    /// <summary>
    /// The one check of a job's input, on create, draft edit and submit alike: its size (<see cref="SubmissionRules.CheckInputSize"/>),
    /// then, when nothing is wrong so far, the handler's validation and plan. Adds every problem to <paramref name="errors"/>;
    /// returns the run only when there are none.
    /// </summary>
    private static HandlerRun? PrepareInput(IJobHandler handler, JsonElement? input, List<InputError> errors)
    {
        SubmissionRules.CheckInputSize(errors, input);
        if (errors.Count > 0)
        {
            return null;
        }
        try
        {
            return handler.Prepare(input);
        }
        catch (InputValidationException ex)
        {
            errors.AddRange(ex.Errors);
            return null;
        }
    }

    /// <summary>As <see cref="PrepareInput"/>, throwing the problems found (with those already in <paramref name="errors"/>).</summary>
    private static HandlerRun PrepareInputOrThrow(IJobHandler handler, JsonElement? input, List<InputError> errors)
    {
        var run = PrepareInput(handler, input, errors);
        return errors.Count == 0 && run is not null ? run : throw new InputValidationException(errors);
    }

    /// <summary>
    /// Creates (or, for a repeated idempotency key, finds) the job and starts it unless it is a draft.
    /// Crash-consistent: the list rows with the live-job row (the creation's projection), then the record, then the
    /// orchestration. Once the record is written the job is accepted — a later failure (scheduling) is left to the
    /// reconciler, which starts a pending job that has no orchestration — so the 202 is true. Before that, a failure
    /// answers 503 (rows written so far are removed by the reconciler, their live-job row leading it to them); a retry with
    /// the same <c>Idempotency-Key</c> finishes the work.
    /// </summary>
    /// <remarks><paramref name="actor"/>: who asked, for the creation's audit entry; none given, the service itself.</remarks>
    public Task<CreateOutcome> CreateAsync(JobSubmission submission, string owner, DurableTaskClient durable, CancellationToken cancellationToken, AuditActor? actor = null) =>
        CreateAsync(submission, owner, null, durable, cancellationToken, actor: actor);

    /// <summary>
    /// As <see cref="CreateAsync(JobSubmission, string, DurableTaskClient, CancellationToken, AuditActor)"/>, with the key the service
    /// derived for a submission that names none (<see cref="SubmissionRules.QueueMessageKey"/>). It is used, and shown
    /// as the job's <c>idempotencyKey</c>, only when the submission has no key of its own; it is not checked as a
    /// client's key is, since it lies in the namespace clients may not use.
    /// </summary>
    public async Task<CreateOutcome> CreateAsync(
        JobSubmission submission, string owner, string? derivedIdempotencyKey, DurableTaskClient durable, CancellationToken cancellationToken,
        JobLineage? lineage = null, bool byService = false, string? scheduleId = null, AuditActor? actor = null)
    {
        // The job's trace: its steps' spans are children of this one (its traceparent goes into the orchestration's input).
        using var span = Observability.JobsTelemetry.StartCreate(submission.Type, submission.CorrelationId);
        var outcome = await CreateCoreAsync(submission, owner, derivedIdempotencyKey, durable, lineage, byService, scheduleId, actor ?? AuditActor.Service, cancellationToken);
        span?.SetTag("job.id", outcome.Job.Id);
        return outcome;
    }

    private async Task<CreateOutcome> CreateCoreAsync(
        JobSubmission submission, string owner, string? derivedIdempotencyKey, DurableTaskClient durable, JobLineage? lineage, bool byService,
        string? scheduleId, AuditActor actor, CancellationToken cancellationToken)
    {
        if (scheduleId is null && lineage is null && submission.Entity?.Type == SubmissionRules.ScheduleEntityType)
        {
            // A schedule's runs are listed as its entity's jobs: only the schedule files jobs there.
            throw new InputValidationException("entity.type", $"'{SubmissionRules.ScheduleEntityType}' is reserved for the runs of recurring schedules");
        }
        // A rerun of a service-created job (a bulk action) is the service's too.
        var run = Validate(submission, byService || lineage is not null);
        var handler = run.Handler;
        var id = Guid.NewGuid().ToString("N");
        var now = store.Now;
        var idempotencyKey = submission.IdempotencyKey ?? derivedIdempotencyKey;
        if (idempotencyKey is { } key)
        {
            var (claimed, claimedAt) = await ClaimIdempotencyKeyAsync(owner, key, SubmissionFingerprint.Of(submission), id, now, cancellationToken);
            if (claimed != id)
            {
                var existing = await store.ReadAsync(claimed, cancellationToken);
                if (existing is not null)
                {
                    return new CreateOutcome(await EnsureAcceptedAsync(existing, durable, cancellationToken), false);
                }
                // The first request claimed the key but has not written its record (yet, or ever): finish its work,
                // as of its time, so the list rows and live-job row it may have written are the ones written again.
                id = claimed;
                now = claimedAt ?? now;
            }
        }

        var job = new Job
        {
            Id = id,
            Type = handler.Type,
            Status = submission.Draft ? JobStatus.Draft : JobStatus.Pending,
            Owner = owner,
            StepCount = run.Steps.Count,
            Message = submission.Draft ? "Draft: not submitted" : WaitingMessage(submission.NotBefore, now),
            NotBefore = submission.NotBefore,
            Metadata = new Dictionary<string, string>(handler.StaticMetadata),
            Input = submission.Input,
            CorrelationId = submission.CorrelationId,
            Entity = submission.Entity,
            Tags = [.. (submission.Tags ?? []).OfType<string>()],
            IdempotencyKey = idempotencyKey,
            CreatedBy = Guid.NewGuid().ToString("N"),
            CreatedAt = now,
            UpdatedAt = now,
            Deadline = submission.Draft ? null : JobDeadline.For(run.Timeout, now, submission.NotBefore),
            RerunOf = lineage?.Original.Id,
            ResumedAt = lineage?.ResumedAt,
            ScheduleId = scheduleId,
            Priority = submission.Priority ?? handler.DefaultPriority,
            ConcurrencyKey = submission.ConcurrencyKey,
        };
        try
        {
            var created = audit.NewEntry(AuditActions.Created, actor,
                ("status", job.Status.ToWire()), ("rerunOf", lineage?.Original.Id), ("resumedAt", lineage?.ResumedAt?.Step));
            job = await store.CreateAsync(job, cancellationToken, (lineage?.Creation(job, now) ?? JobWrite.None) with { Audit = created });
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // A concurrent request with the same idempotency key wrote it first, or the storage client retried
            // our own insert after its answer was lost: either way the record is there; make sure it runs.
            var winner = await store.ReadAsync(id, cancellationToken) ?? throw new InvalidOperationException($"Job {id} vanished after a conflict.", ex);
            return new CreateOutcome(await EnsureAcceptedAsync(winner, durable, cancellationToken), winner.Job.CreatedBy == job.CreatedBy);
        }
        LogCreated(job.Id, job.Type, owner, job.Status.ToWire());
        return new CreateOutcome(await EnsureAcceptedAsync(new StoredJob(job, []), durable, cancellationToken, isNew: true, prepared: run), true);
    }

    /// <summary>
    /// Finishes what accepting a recorded job takes — the changes it left unsettled (a draft's projection), and its
    /// orchestration when it is pending and has none — tolerating failures (the reconciler or the next write finishes
    /// it then). Idempotent, so repeats and retries use it. <paramref name="prepared"/>: the job's input as this request
    /// already parsed and planned it, so it is not parsed again.
    /// </summary>
    private async Task<Job> EnsureAcceptedAsync(StoredJob stored, DurableTaskClient durable, CancellationToken cancellationToken, bool isNew = false,
        HandlerRun? prepared = null)
    {
        var job = stored.Job;
        try
        {
            await store.SettleAsync(stored, cancellationToken, orchestrated: false);
        }
        catch (RequestFailedException ex)
        {
            LogAcceptPartial(ex, job.Id, "list rows");
        }
        if (job.Status != JobStatus.Pending || !handlers.TryGet(job.Type, out var handler))
        {
            return job;
        }
        try
        {
            await StartIfMissingAsync(job, handler, durable, cancellationToken, knownMissing: isNew, prepared: prepared);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAcceptPartial(ex, job.Id, "orchestration");
        }
        return job;
    }

    /// <summary>
    /// Schedules the orchestration of a pending job (instance id = job id) unless one exists. The Functions host refuses
    /// to start an instance id that is still live (<see cref="OrchestrationAlreadyExistsException"/>), so when another
    /// caller started it between the read and the start, it counts as already started: false, as for one found by the read.
    /// </summary>
    public async Task<bool> StartIfMissingAsync(Job job, IJobHandler handler, DurableTaskClient durable, CancellationToken cancellationToken, bool knownMissing = false,
        HandlerRun? prepared = null)
    {
        if (!knownMissing && await durable.GetInstanceAsync(job.Id, cancellationToken) is not null)
        {
            return false;
        }
        var run = prepared ?? handler.Prepare(job.Input);
        // A pending job has its deadline from its submission; one recorded without (an old record) counts from its creation.
        var plan = new JobPlan(job.Id, job.Type, run.Steps, job.Deadline ?? JobDeadline.For(run.Timeout, job.CreatedAt, job.NotBefore), job.NotBefore,
            Observability.JobsTelemetry.CurrentTraceParent, JobPlan.CurrentRevision, Limited: handler.Concurrency.IsLimited);
        if (job.ResumedAt is { } resumePoint && !JobReruns.StillAt(run.Steps, resumePoint))
        {
            // Its type's steps changed after it was created (a deployment): starting anywhere would run the wrong work.
            await ending.EndAsync(job, JobOutcome.ResumePointChanged(resumePoint), cancellationToken, durable: durable);
            return false;
        }
        if (job.ResumedAt is { StepIndex: > 0 } resumed)
        {
            // A resumed job starts at its original's failed step, with the output the step before returned: carried into
            // the job's own partition by its creation's transaction, so it is there whenever the job is started.
            var carried = await store.ReadStepOutputAsync(job.Id, resumed.StepIndex - 1, cancellationToken)
                ?? throw new InvalidOperationException($"Job {job.Id} resumes at step {resumed.Step}, but the output it carries is missing.");
            plan = plan with { StartAt = resumed.StepIndex, StartOutput = carried.Output };
        }
        try
        {
            await durable.ScheduleNewOrchestrationInstanceAsync(nameof(JobOrchestrator), plan, new StartOrchestrationOptions(job.Id), cancellationToken);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            LogAlreadyStarted(job.Id);
            return false;
        }
        return true;
    }

    /// <summary>Replaces a draft's input (and correlation id); the input is validated as on creation.</summary>
    public async Task<Job> UpdateDraftAsync(Job job, DraftPatch patch, AuditActor actor, CancellationToken cancellationToken)
    {
        var handler = handlers.Get(job.Type);
        var errors = new List<InputError>();
        SubmissionRules.CheckText(errors, "correlationId", patch.CorrelationId);
        var input = patch.Input ?? job.Input;
        var stepCount = PrepareInputOrThrow(handler, input, errors).Steps.Count;
        var write = new JobWrite { Audit = audit.NewEntry(AuditActions.DraftEdited, actor, ("input", patch.Input is null ? null : "replaced"), ("correlationId", patch.CorrelationId)) };
        var update = await store.UpdateAsync(job, current => JobTransitions.EditDraft(current, input, patch.CorrelationId, stepCount), cancellationToken, write)
            ?? throw new InvalidOperationException($"Job {job.Id} vanished.");
        return update.Job.Status == JobStatus.Draft
            ? update.Job
            : throw new JobStateException($"Job {job.Id} is {update.Job.Status.ToWire()}; only drafts can be edited.");
    }

    /// <summary>
    /// Validates a draft and starts it. Once it is recorded pending it is accepted: if scheduling fails here the
    /// reconciler starts it (see <see cref="CreateAsync(JobSubmission, string, DurableTaskClient, CancellationToken, AuditActor)"/>).
    /// </summary>
    public async Task<Job> SubmitDraftAsync(Job job, AuditActor actor, DurableTaskClient durable, CancellationToken cancellationToken, DateTimeOffset? notBefore = null)
    {
        var now = store.Now;
        var errors = new List<InputError>();
        SubmissionRules.CheckNotBefore(errors, notBefore, now);
        var run = PrepareInputOrThrow(handlers.Get(job.Type), job.Input, errors);
        // A time given on submit replaces one the draft was created with.
        notBefore ??= job.NotBefore;
        var deadline = JobDeadline.For(run.Timeout, now, notBefore);
        var write = new JobWrite { Audit = audit.NewEntry(AuditActions.Submitted, actor, ("notBefore", notBefore?.ToString("O", System.Globalization.CultureInfo.InvariantCulture))) };
        var update = await store.UpdateAsync(job, current => JobTransitions.Submit(current, deadline, notBefore, WaitingMessage(notBefore, now)), cancellationToken, write)
            ?? throw new InvalidOperationException($"Job {job.Id} vanished.");
        if (!update.Changed)
        {
            throw new JobStateException($"Job {job.Id} is {update.Job.Status.ToWire()}; only drafts can be submitted.");
        }
        // The input parsed above is the one submitted unless the draft was edited meanwhile (the update read it again).
        var unchanged = update.Job.Input is { } submitted ? job.Input is { } parsed && JsonElement.DeepEquals(parsed, submitted) : job.Input is null;
        return await EnsureAcceptedAsync(new StoredJob(update.Job, []), durable, cancellationToken, prepared: unchanged ? run : null);
    }

    /// <summary>
    /// Inserts the key's claim row naming <paramref name="jobId"/>, its creation time and the request's
    /// <paramref name="fingerprint"/> (<see cref="SubmissionFingerprint"/>); returns the job id that holds the key and the
    /// creation time it claimed (null for claims written before claims kept it). A key claimed by a request with another
    /// fingerprint throws <see cref="IdempotencyKeyReusedException"/>, having written nothing; a claim written before
    /// claims kept a fingerprint matches any request.
    /// </summary>
    private async Task<(string JobId, DateTimeOffset? CreatedAt)> ClaimIdempotencyKeyAsync(
        string owner, string key, string fingerprint, string jobId, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        var claim = new TableEntity(TableKeys.IdempotencyPartition(owner), TableKeys.IdempotencyRowKey(key))
        {
            ["JobId"] = jobId,
            ["CreatedAt"] = createdAt,
            [FingerprintColumn] = fingerprint,
        };
        try
        {
            await clients.JobsTable.AddEntityAsync(claim, cancellationToken);
            return (jobId, createdAt);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = (await clients.JobsTable.GetEntityAsync<TableEntity>(claim.PartitionKey, claim.RowKey, cancellationToken: cancellationToken)).Value;
            if (existing.GetString(FingerprintColumn) is { } stored && stored != fingerprint)
            {
                throw new IdempotencyKeyReusedException(key);
            }
            return (existing.GetString("JobId"), existing.GetDateTimeOffset("CreatedAt"));
        }
    }

    /// <summary>The claim row's column holding the fingerprint of the request that claimed the key.</summary>
    private const string FingerprintColumn = "RequestFingerprint";

    private static string WaitingMessage(DateTimeOffset? notBefore, DateTimeOffset now) =>
        notBefore is { } time && time > now ? $"Scheduled to start at {time:O}" : "Waiting to start";

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} of type {Type} created for {Owner} as {Status}.")]
    private partial void LogCreated(string jobId, string type, string owner, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}'s orchestration was started by another caller meanwhile.")]
    private partial void LogAlreadyStarted(string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} is accepted, but writing its {Part} failed; the reconciler will finish it.")]
    private partial void LogAcceptPartial(Exception exception, string jobId, string part);
}
