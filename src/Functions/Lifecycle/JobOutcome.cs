using System.Globalization;
using System.Text.Json;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// How a job ended: its terminal status, message, error, result and result metadata. Every ending is decided and
/// worded by one of the factories here and nowhere else — the orchestration, its activities, the commands (cancel,
/// terminate, the sweep's timeout) and the reconciler each pick one — and <see cref="JobEnding"/> writes it with its
/// <see cref="LogLine"/>. The factories are pure (the orchestration calls them, replay after replay), and an ending's
/// words depend only on what was decided, never on who decided it: the orchestration that notices a job's deadline and
/// the sweep that ends it a grace later both give <see cref="TimedOut"/> of the same deadline, so whichever of them wins
/// the record's ETag (a job ends once), a client sees the same ending.
/// </summary>
/// <remarks>
/// It is also the orchestration's output, which the reconciler applies to a record that missed its ending: its JSON
/// shape is stored in durable histories, so members are only ever added, optional.
/// </remarks>
public sealed record JobOutcome(JobStatus Status, JsonElement? Result, JobError? Error, string? Message = null, Dictionary<string, string>? Metadata = null)
{
    /// <summary>Longest message an ending keeps (a terminate reason is the caller's text).</summary>
    public const int MaxMessageLength = 500;

    /// <summary>Every step returned: the last step's output is the result.</summary>
    public static JobOutcome Completed(JsonElement? result, Dictionary<string, string>? metadata) =>
        new(JobStatus.Completed, result, null, "Completed", metadata);

    /// <summary>The job failed in <paramref name="step"/> (null: no step is known) with <paramref name="error"/>.</summary>
    public static JobOutcome Failed(string? step, JobError error) =>
        new(JobStatus.Failed, null, error, step is null ? "Failed" : $"Failed in {step}");

    /// <summary>A step's handler threw on its last attempt (its retry policy spent).</summary>
    public static JobOutcome StepFailed(string step, TaskFailureDetails failure) =>
        Failed(step, new JobError(failure.ErrorMessage, failure.ErrorType, failure.StackTrace, step));

    /// <summary>The error of one item of a parallel step that failed on its last attempt (1-based in the message).</summary>
    public static JobError ItemError(string step, int item, int total, TaskFailureDetails failure) =>
        new($"Item {item + 1} of {total}: {failure.ErrorMessage}", failure.ErrorType, failure.StackTrace, step);

    /// <summary>Items of a parallel step failed: one error for the job, naming each.</summary>
    public static JobOutcome ItemsFailed(string step, IReadOnlyList<(int Item, JobError Error)> failures) => Failed(step, failures.Count == 1
        ? failures[0].Error
        : new JobError($"{failures.Count} items of {step} failed: {string.Join("; ", failures.Select(f => f.Error.Message))}",
            failures[0].Error.Type, failures[0].Error.StackTrace, step));

    /// <summary>A resumed job whose type's steps changed since it was created: the step it resumes at is not where it was.</summary>
    public static JobOutcome ResumePointChanged(JobResumePoint resumed) => Failed(resumed.Step, new JobError(
        $"This job resumes at step {resumed.Step} ({resumed.StepIndex + 1}), but its type's steps changed since it was created; rerun the original from the start.",
        "ResumePointChanged", null, resumed.Step));

    /// <summary>The engine could not record <paramref name="step"/> within its bound on tries.</summary>
    public static JobOutcome StepNotRecorded(string step, int tries) =>
        Failed(step, new JobError($"The engine could not record step {step} in {tries} tries.", typeof(JobBookkeepingException).FullName, null, step));

    /// <summary>The result does not fit one Table column (<paramref name="maxChars"/>).</summary>
    public static JobOutcome ResultTooLarge(int chars, int maxChars) => new(JobStatus.Failed, null, new JobError(
        $"The result is {chars} characters of JSON; at most {maxChars} can be stored. Write large results to Blob storage and return a reference.",
        "ResultTooLarge", null, null), "Failed: result too large");

    /// <summary>
    /// The orchestration failed without the record noticing: the handler's own failure, the innermost failure details
    /// (the orchestration rethrows the step's <c>TaskFailedException</c>). A backend that keeps only the failure's text in
    /// the output gives that text.
    /// </summary>
    public static JobOutcome OrchestrationFailed(string? step, OrchestrationMetadata instance)
    {
        if (instance.FailureDetails is { } failure)
        {
            while (failure.InnerFailure is { } inner)
            {
                failure = inner;
            }
            return Failed(step, new JobError(failure.ErrorMessage, failure.ErrorType, failure.StackTrace, step));
        }
        var text = instance.SerializedOutput is { Length: > 0 } output ? Unquote(output) : "The job's orchestration failed.";
        return Failed(step, new JobError(text.Length <= 4_000 ? text : text[..4_000], "OrchestrationFailed", null, step));
    }

    /// <summary>
    /// A live job has no orchestration and none can be started: a pending one's type is no longer deployed, or a running
    /// one's was purged (restarting it would run finished steps again).
    /// </summary>
    public static JobOutcome OrchestrationMissing(Job job)
    {
        var why = job.Status is JobStatus.Pending or JobStatus.Queued
            ? $"Its job type '{job.Type}' is no longer deployed, so it cannot start."
            : "Its orchestration no longer exists (it was purged while the job ran), so the job cannot go on; finished steps are not run again.";
        return new(JobStatus.Failed, null, new JobError(why, "OrchestrationMissing", null, job.Step), "Failed: orchestration missing");
    }

    /// <summary>A cancel request was seen at the boundary before <paramref name="step"/>.</summary>
    public static JobOutcome CancelledBefore(string step) => new(JobStatus.Cancelled, null, null, $"Cancelled before {step}");

    /// <summary>A cancel request stopped the items of the parallel step <paramref name="step"/>.</summary>
    public static JobOutcome CancelledDuring(string step) => new(JobStatus.Cancelled, null, null, $"Cancelled during {step}");

    /// <summary>A draft or pending job cancelled by <paramref name="requestedBy"/>: it never runs.</summary>
    public static JobOutcome CancelledBeforeStart(string requestedBy) =>
        new(JobStatus.Cancelled, null, null, $"Cancelled by {requestedBy} before it started");

    /// <summary>A job waiting for a decision, cancelled by <paramref name="requestedBy"/>: the step that waited never runs.</summary>
    public static JobOutcome CancelledWhileWaiting(string requestedBy, string? step) =>
        new(JobStatus.Cancelled, null, null, step is null ? $"Cancelled by {requestedBy} while waiting for a decision" : $"Cancelled by {requestedBy} while waiting for a decision before {step}");

    /// <summary>
    /// Nobody answered the decision <paramref name="name"/> by <paramref name="timeoutAt"/>, and its handler said to fail
    /// the job (error type <c>DecisionTimedOut</c>) or, with <paramref name="cancel"/>, to cancel it; <paramref name="step"/> never ran.
    /// </summary>
    public static JobOutcome DecisionTimedOut(string step, string name, DateTimeOffset timeoutAt, bool cancel)
    {
        var text = $"No decision ({name}) by {timeoutAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}";
        return cancel
            ? new(JobStatus.Cancelled, null, null, $"Cancelled: {text}")
            : Failed(step, new JobError($"{text}; step {step} did not run.", "DecisionTimedOut", null, step));
    }

    /// <summary>Ended now by <paramref name="requestedBy"/> through the job's terminate link.</summary>
    public static JobOutcome Terminated(string requestedBy, string reason) =>
        new(JobStatus.Cancelled, null, null, Shorten($"Terminated by {requestedBy}: {reason}"));

    /// <summary>The orchestration was terminated out of band (the native Durable API); its output is the reason.</summary>
    public static JobOutcome TerminatedOutOfBand(OrchestrationMetadata instance)
    {
        var reason = instance.SerializedOutput is { Length: > 0 } output ? Unquote(output) : "no reason given";
        return new(JobStatus.Cancelled, null, null, Shorten($"Terminated: {reason}"));
    }

    /// <summary>
    /// The job's <paramref name="deadline"/> passed before it ended. The same words whoever noticed it — the step's
    /// activity, the orchestration, or the sweep — so the step it was at is told by the record's <c>step</c> and its log,
    /// not here.
    /// </summary>
    public static JobOutcome TimedOut(DateTimeOffset deadline) => new(JobStatus.TimedOut, null, null,
        $"Timed out: its deadline {deadline.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)} passed");

    /// <summary>The job had already ended another way (or was purged): the orchestration reports how, and writes nothing.</summary>
    public static JobOutcome EndedElsewhere(JobStatus status) => new(status, null, null);

    /// <summary>The record's message for this ending.</summary>
    public string Text() => Message ?? Status.ToWire();

    /// <summary>The log line written with the ending, in the same transaction.</summary>
    public string LogLine() => $"Job {Status.ToWire()}: {Text()}{(Error is null ? "" : $" ({Error.Message})")}";

    /// <summary>The level of <see cref="LogLine"/>.</summary>
    public JobLogLevel LogLevel() => Status == JobStatus.Completed ? JobLogLevel.Information : JobLogLevel.Warning;

    private static string Shorten(string text) => text.Length <= MaxMessageLength ? text : text[..MaxMessageLength];

    private static string Unquote(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<string>(json) ?? json;
        }
        catch (JsonException)
        {
            return json;
        }
    }
}
