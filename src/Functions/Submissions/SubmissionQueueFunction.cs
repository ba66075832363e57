using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Submissions;

/// <summary>Raised for a submission message that can never succeed; the host retries it, then poisons it.</summary>
public sealed class InvalidSubmissionException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>
/// <c>job-submissions</c>: the same body as <c>POST /api/jobs</c> plus <c>owner</c>. A message that fails is
/// retried up to <c>maxDequeueCount</c> (host.json) and then moved to <c>job-submissions-poison</c> by the host;
/// the exception message is the logged reason. Other messages keep flowing meanwhile. A message without an
/// <c>idempotencyKey</c> gets <c>queue:{message id}</c>: a message delivered again (its first run created the job but
/// never deleted it, e.g. the process was killed) is the same job.
/// </summary>
public sealed partial class SubmissionQueueFunction(JobSubmissionService submissions, ILogger<SubmissionQueueFunction> logger)
{
    /// <summary>Who a queued job's audit trail says created it: the queue (the message names the owner, not who sent it).</summary>
    public static readonly AuditActor Actor = AuditActor.System(QueueNames.Submissions + " queue");

    [Function(nameof(SubmitFromQueue))]
    public async Task SubmitFromQueue(
        [QueueTrigger(QueueNames.Submissions)] string message,
        string id,
        [DurableClient] DurableTaskClient durable,
        CancellationToken cancellationToken)
    {
        // The message id, bound by name from the trigger's binding data ("Id"); the same on every delivery.
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        var submission = Parse(message);
        try
        {
            var outcome = await submissions.CreateAsync(submission, submission.Owner!, SubmissionRules.QueueMessageKey(id), durable, cancellationToken, actor: Actor);
            LogAccepted(outcome.Job.Id, outcome.Created);
        }
        catch (InputValidationException ex)
        {
            throw new InvalidSubmissionException($"Rejected submission: {ex.Message}", ex);
        }
        catch (IdempotencyKeyReusedException ex)
        {
            // Another request holds the key: this message can never succeed (a redelivery of the one that claimed it matches).
            throw new InvalidSubmissionException($"Rejected submission: {ex.Message}", ex);
        }
    }

    /// <summary>Parses and checks the envelope; the handler-level checks run in <see cref="JobSubmissionService"/>.</summary>
    public static JobSubmission Parse(string message)
    {
        JobSubmission? submission;
        try
        {
            submission = JsonSerializer.Deserialize<JobSubmission>(message, JobJson.Strict);
        }
        catch (JsonException ex)
        {
            throw new InvalidSubmissionException($"Rejected submission: {JsonErrors.FieldOf(ex, "message")} {JsonErrors.Describe(ex)}", ex);
        }
        if (submission is null)
        {
            throw new InvalidSubmissionException("Rejected submission: the message is not a JSON object.");
        }
        var errors = new List<InputError>();
        SubmissionRules.CheckText(errors, "owner", submission.Owner, required: true, maxLength: 256);
        if (submission.Draft)
        {
            errors.Add(new InputError("draft", "queue submissions start at once; drafts are created over HTTP"));
        }
        if (errors.Count > 0)
        {
            throw new InvalidSubmissionException("Rejected submission: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
        }
        return submission;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue submission accepted as job {JobId} (new: {Created}).")]
    private partial void LogAccepted(string jobId, bool created);
}
