using System.Text;
using Azure;
using Azure.Data.Tables;
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
    JobStore store, StorageClients clients, JobHandlerRegistry handlers, ILogger<JobSubmissionService> logger)
{
    /// <summary>Validates a submission; throws <see cref="InputValidationException"/> listing every problem.</summary>
    public (IJobHandler Handler, object Input) Validate(JobSubmission submission)
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
        SubmissionRules.CheckText(errors, "correlationId", submission.CorrelationId);
        SubmissionRules.CheckText(errors, "idempotencyKey", submission.IdempotencyKey);
        if (submission.Entity is { } entity)
        {
            SubmissionRules.CheckText(errors, "entity.type", entity.Type, required: true);
            SubmissionRules.CheckText(errors, "entity.id", entity.Id, required: true);
        }
        if (submission.Input is { } raw && Encoding.UTF8.GetByteCount(raw.GetRawText()) > SubmissionRules.MaxInputBytes)
        {
            errors.Add(new InputError("input", $"must be at most {SubmissionRules.MaxInputBytes} bytes of JSON"));
        }
        object? input = null;
        if (handler is not null && errors.Count == 0)
        {
            try
            {
                input = handler.ParseInput(submission.Input);
            }
            catch (InputValidationException ex)
            {
                errors.AddRange(ex.Errors);
            }
        }
        if (errors.Count > 0)
        {
            throw new InputValidationException(errors);
        }
        return (handler!, input!);
    }

    /// <summary>Creates (or, for a repeated idempotency key, finds) the job and starts it unless it is a draft.</summary>
    public async Task<CreateOutcome> CreateAsync(JobSubmission submission, string owner, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var (handler, input) = Validate(submission);
        var id = Guid.NewGuid().ToString("N");
        if (submission.IdempotencyKey is { } key)
        {
            var claimed = await ClaimIdempotencyKeyAsync(owner, key, id, cancellationToken);
            if (claimed != id)
            {
                var existing = await store.GetAsync(claimed, cancellationToken);
                if (existing is not null)
                {
                    return new CreateOutcome(existing, false);
                }
                // The first request claimed the key but has not written its record (yet, or ever): finish its work.
                id = claimed;
            }
        }

        var now = store.Now;
        var steps = handler.PlanSteps(input);
        var job = new Job
        {
            Id = id,
            Type = handler.Type,
            Status = submission.Draft ? JobStatus.Draft : JobStatus.Pending,
            Owner = owner,
            StepCount = steps.Count,
            Message = submission.Draft ? "Draft: not submitted" : "Waiting to start",
            Input = submission.Input,
            CorrelationId = submission.CorrelationId,
            Entity = submission.Entity,
            IdempotencyKey = submission.IdempotencyKey,
            CreatedAt = now,
            UpdatedAt = now,
            Deadline = submission.Draft ? null : now + handler.TimeoutFor(input),
        };
        try
        {
            job = await store.CreateAsync(job, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // A concurrent request with the same idempotency key wrote it first.
            var winner = await store.GetAsync(id, cancellationToken) ?? throw new InvalidOperationException($"Job {id} vanished after a conflict.", ex);
            return new CreateOutcome(winner, false);
        }
        if (!submission.Draft)
        {
            try
            {
                await StartAsync(job, handler, input, durable, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Nothing half-written: without its orchestration the job would never run, so it is removed.
                LogScheduleFailed(ex, job.Id);
                await store.DeleteAsync(job, CancellationToken.None);
                throw;
            }
        }
        LogCreated(job.Id, job.Type, owner, job.Status.ToWire());
        return new CreateOutcome(job, true);
    }

    /// <summary>Schedules the orchestration of a pending job (instance id = job id).</summary>
    private static Task StartAsync(Job job, IJobHandler handler, object input, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var plan = new JobPlan(job.Id, job.Type, handler.PlanSteps(input), job.Deadline ?? job.CreatedAt + handler.TimeoutFor(input));
        return durable.ScheduleNewOrchestrationInstanceAsync(nameof(JobOrchestrator), plan, new StartOrchestrationOptions(job.Id), cancellationToken);
    }

    /// <summary>Replaces a draft's input (and correlation id); the input is validated as on creation.</summary>
    public async Task<Job> UpdateDraftAsync(Job job, DraftPatch patch, CancellationToken cancellationToken)
    {
        var handler = handlers.Get(job.Type);
        var errors = new List<InputError>();
        SubmissionRules.CheckText(errors, "correlationId", patch.CorrelationId);
        if (errors.Count > 0)
        {
            throw new InputValidationException(errors);
        }
        var input = patch.Input ?? job.Input;
        var parsed = handler.ParseInput(input);
        var update = await store.UpdateAsync(job, current => current.Status != JobStatus.Draft ? null : current with
        {
            Input = input,
            CorrelationId = patch.CorrelationId ?? current.CorrelationId,
            StepCount = handler.PlanSteps(parsed).Count,
        }, cancellationToken) ?? throw new InvalidOperationException($"Job {job.Id} vanished.");
        return update.Job.Status == JobStatus.Draft
            ? update.Job
            : throw new JobStateException($"Job {job.Id} is {update.Job.Status.ToWire()}; only drafts can be edited.");
    }

    /// <summary>Validates a draft and starts it. If scheduling fails the job goes back to being a draft.</summary>
    public async Task<Job> SubmitDraftAsync(Job job, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var handler = handlers.Get(job.Type);
        var input = handler.ParseInput(job.Input);
        var update = await store.UpdateAsync(job, current => current.Status != JobStatus.Draft ? null : current with
        {
            Status = JobStatus.Pending,
            Message = "Waiting to start",
            Deadline = store.Now + handler.TimeoutFor(input),
        }, cancellationToken) ?? throw new InvalidOperationException($"Job {job.Id} vanished.");
        if (!update.Changed)
        {
            throw new JobStateException($"Job {job.Id} is {update.Job.Status.ToWire()}; only drafts can be submitted.");
        }
        try
        {
            await StartAsync(update.Job, handler, input, durable, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogScheduleFailed(ex, job.Id);
            await store.UpdateAsync(update.Job, current => current.Status == JobStatus.Pending
                ? current with { Status = JobStatus.Draft, Message = "Draft: submission failed, try again", Deadline = null }
                : null, CancellationToken.None);
            throw;
        }
        return update.Job;
    }

    /// <summary>Inserts the key's claim row naming <paramref name="jobId"/>; returns the job id that holds the key.</summary>
    private async Task<string> ClaimIdempotencyKeyAsync(string owner, string key, string jobId, CancellationToken cancellationToken)
    {
        var claim = new TableEntity(TableKeys.IdempotencyPartition(owner), TableKeys.IdempotencyRowKey(key)) { ["JobId"] = jobId };
        try
        {
            await clients.JobsTable.AddEntityAsync(claim, cancellationToken);
            return jobId;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await clients.JobsTable.GetEntityAsync<TableEntity>(claim.PartitionKey, claim.RowKey, cancellationToken: cancellationToken);
            return existing.Value.GetString("JobId");
        }
    }

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} of type {Type} created for {Owner} as {Status}.")]
    private partial void LogCreated(string jobId, string type, string owner, string status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} could not be scheduled; it was not started.")]
    private partial void LogScheduleFailed(Exception exception, string jobId);
}
