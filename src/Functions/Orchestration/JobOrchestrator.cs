using System.Text.Json;
using Jobs.Functions.Model;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// Walks a job's steps, one durable activity each, racing them against the job's deadline. It does no I/O:
/// every record write happens in <see cref="JobActivities"/>. A finished step is never run again on replay.
/// </summary>
public static class JobOrchestrator
{
    [Function(nameof(JobOrchestrator))]
    public static async Task<JobOutcome> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var plan = context.GetInput<JobPlan>() ?? throw new InvalidOperationException("The job orchestration needs a plan.");
        using var deadlineCancellation = new CancellationTokenSource();
        var deadline = context.CreateTimer(plan.Deadline.UtcDateTime, deadlineCancellation.Token);
        try
        {
            return await RunStepsAsync(context, plan, deadline);
        }
        finally
        {
            // Drop the deadline timer now the job is over. Synchronous on purpose: CancelAsync would resume
            // on the thread pool, outside the orchestration's episode, and the instance would never complete.
#pragma warning disable CA1849
            deadlineCancellation.Cancel();
#pragma warning restore CA1849
        }
    }

    private static async Task<JobOutcome> RunStepsAsync(TaskOrchestrationContext context, JobPlan plan, Task deadline)
    {
        JsonElement? previous = null;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var count = plan.Steps.Count;
        for (var index = 0; index < count; index++)
        {
            var step = plan.Steps[index];
            context.SetCustomStatus(new JobCustomStatus(JobProgress.AtStepStart(index, count), step.Name, index, count, $"Running {step.Name}"));
            var retry = new RetryPolicy(step.Retry.MaxAttempts, step.Retry.FirstRetryInterval, step.Retry.BackoffCoefficient);
            var work = context.CallActivityAsync<StepOutcome>(
                nameof(JobActivities.RunJobStep), new StepRequest(plan.JobId, index, previous), TaskOptions.FromRetryPolicy(retry));

            if (await Task.WhenAny(work, deadline) == deadline)
            {
                return await FinishAsync(context, plan, index, JobStatus.TimedOut, $"Timed out during {step.Name}", null, null, null);
            }

            StepOutcome outcome;
            try
            {
                outcome = await work;
            }
            catch (TaskFailedException failure)
            {
                var details = failure.FailureDetails;
                var error = new JobError(details.ErrorMessage, details.ErrorType, details.StackTrace, step.Name);
                await FinishAsync(context, plan, index, JobStatus.Failed, $"Failed in {step.Name}", null, null, error);
                throw; // Keeps the failure visible on the orchestration as well as on the record.
            }

            switch (outcome.Kind)
            {
                case StepOutcomeKind.CancelRequested:
                    return await FinishAsync(context, plan, index, JobStatus.Cancelled, $"Cancelled before {step.Name}", null, null, null);
                case StepOutcomeKind.JobEnded:
                    return new JobOutcome(outcome.EndedAs ?? JobStatus.Cancelled, null, null);
            }
            previous = outcome.Output;
            foreach (var (key, value) in outcome.ResultMetadata ?? [])
            {
                metadata[key] = value;
            }
        }
        return await FinishAsync(context, plan, count, JobStatus.Completed, "Completed", previous, metadata, null);
    }

    private static async Task<JobOutcome> FinishAsync(
        TaskOrchestrationContext context, JobPlan plan, int stepsDone, JobStatus status, string message,
        JsonElement? result, Dictionary<string, string>? metadata, JobError? error)
    {
        var finalStatus = await context.CallActivityAsync<JobStatus>(
            nameof(JobActivities.FinishJob), new FinishRequest(plan.JobId, status, message, result, metadata, error));
        var count = plan.Steps.Count;
        var progress = status == JobStatus.Completed ? 100 : JobProgress.AtStepStart(stepsDone, count);
        context.SetCustomStatus(new JobCustomStatus(progress, null, Math.Min(stepsDone, count), count, message));
        return new JobOutcome(finalStatus, finalStatus == status ? result : null, finalStatus == status ? error : null);
    }
}
