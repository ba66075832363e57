using System.Diagnostics;
using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// The engine's bookkeeping around a handler: every status, progress, attempt, log and error write happens here,
/// so handlers contain business logic only.
/// </summary>
public sealed partial class JobActivities(
    JobStore store, JobLogStore logs, JobHandlerRegistry handlers, JobEnding ending, ILogger<JobActivities> logger)
{
    /// <summary>Runs one attempt of one step. Throws when the step throws, so the orchestration's retry policy applies.</summary>
    [Function(nameof(RunJobStep))]
    public async Task<StepOutcome> RunJobStep([ActivityTrigger] StepRequest request, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope("JobId:{JobId}", request.JobId);
        var job = await store.GetAsync(request.JobId, cancellationToken)
            ?? throw new InvalidOperationException($"Job {request.JobId} has no record.");
        if (job.Status.IsTerminal())
        {
            return new StepOutcome(StepOutcomeKind.JobEnded, null, null, job.Status);
        }
        if (job.CancelRequested)
        {
            return new StepOutcome(StepOutcomeKind.CancelRequested, null, null, null);
        }

        var handler = handlers.Get(job.Type);
        var input = handler.ParseInput(job.Input);
        var steps = handler.PlanSteps(input);
        var step = steps[request.StepIndex];

        var started = await store.UpdateAsync(job, current => current.Status.IsTerminal() || current.CancelRequested ? null : current with
        {
            Status = JobStatus.Running,
            StartedAt = current.StartedAt ?? store.Now,
            Step = step.Name,
            StepIndex = request.StepIndex,
            StepCount = steps.Count,
            Attempt = current.Status == JobStatus.Running && current.StepIndex == request.StepIndex ? current.Attempt + 1 : 1,
            TotalAttempts = current.TotalAttempts + 1,
            Progress = JobProgress.Advance(current.Progress, JobProgress.AtStepStart(request.StepIndex, steps.Count)),
            Message = $"Running {step.Name}",
        }, cancellationToken);
        if (started is not { Changed: true })
        {
            var now = started?.Job ?? job;
            return now.Status.IsTerminal()
                ? new StepOutcome(StepOutcomeKind.JobEnded, null, null, now.Status)
                : new StepOutcome(StepOutcomeKind.CancelRequested, null, null, null);
        }

        var attempt = started.Job.Attempt;
        await logs.AppendAsync(job.Id, JobLogLevel.Information, $"Step {step.Name} started (attempt {attempt}).", step.Name, cancellationToken);
        var reporter = new StoredStepReporter(store, logs, started.Job, step.Name, request.StepIndex, steps.Count);
        using var context = new JobStepContext(job.Id, job.Owner, step.Name, request.StepIndex, steps.Count, attempt,
            request.PreviousOutput, reporter, cancellationToken);
        var clock = Stopwatch.StartNew();
        object? output;
        try
        {
            output = await handler.RunStepAsync(request.StepIndex, input, context);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await logs.AppendAsync(job.Id, JobLogLevel.Warning, $"Step {step.Name} stopped: the job was cancelled.", step.Name, CancellationToken.None);
            return new StepOutcome(StepOutcomeKind.CancelRequested, null, null, null);
        }
        catch (Exception ex)
        {
            LogStepFailed(ex, job.Id, step.Name, attempt);
            await logs.AppendAsync(job.Id, JobLogLevel.Error, $"Step {step.Name} failed (attempt {attempt}): {ex.Message}", step.Name, CancellationToken.None);
            throw;
        }
        await logs.AppendAsync(job.Id, JobLogLevel.Information, $"Step {step.Name} completed in {clock.ElapsedMilliseconds} ms.", step.Name, cancellationToken);
        var serialized = output is null ? (JsonElement?)null : JsonSerializer.SerializeToElement(output, JobJson.Options);
        return new StepOutcome(StepOutcomeKind.Completed, serialized, new Dictionary<string, string>(context.ResultMetadata), null);
    }

    /// <summary>Ends the job as the orchestration decided (see <see cref="JobEnding"/>), unless it already ended.</summary>
    [Function(nameof(FinishJob))]
    public async Task<JobStatus> FinishJob([ActivityTrigger] FinishRequest request, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope("JobId:{JobId}", request.JobId);
        if (request.Result is { } result && result.GetRawText().Length > JobEntity.MaxColumnChars)
        {
            // A result must fit one Table column; a larger one belongs in Blob storage with a reference here.
            request = request with
            {
                Status = JobStatus.Failed,
                Result = null,
                Message = "Failed: result too large",
                Error = new JobError(
                    $"The result is {result.GetRawText().Length} characters of JSON; at most {JobEntity.MaxColumnChars} can be stored. Write large results to Blob storage and return a reference.",
                    "ResultTooLarge", null, null),
            };
        }
        var before = await store.GetAsync(request.JobId, cancellationToken)
            ?? throw new InvalidOperationException($"Job {request.JobId} has no record.");
        var update = await ending.EndAsync(before, request.Status,
            $"Job {request.Status.ToWire()}: {request.Message}{(request.Error is null ? "" : $" ({request.Error.Message})")}",
            current =>
            {
                var metadata = new Dictionary<string, string>(current.Metadata);
                foreach (var (key, value) in request.Metadata ?? [])
                {
                    metadata[key] = value;
                }
                return current with
                {
                    Message = request.Message,
                    Result = request.Result,
                    Error = request.Error,
                    Metadata = metadata,
                    Progress = request.Status == JobStatus.Completed ? 100 : current.Progress,
                };
            }, cancellationToken);
        if (update.Changed)
        {
            LogFinished(update.Job.Id, update.Job.Status.ToWire());
        }
        return update.Job.Status;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} step {Step} attempt {Attempt} failed.")]
    private partial void LogStepFailed(Exception exception, string jobId, string step, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status}.")]
    private partial void LogFinished(string jobId, string status);
}
