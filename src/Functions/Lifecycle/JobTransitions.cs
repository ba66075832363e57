using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;

namespace Jobs.Functions.Lifecycle;

/// <summary>
/// Every change a job's state may go through, and the rules of what may follow what — in one place. Each
/// transition takes the current record and returns the next one, or null when the change is not allowed (or
/// already made: every transition is idempotent, so a retried write after a storage fault changes nothing twice).
/// Storage applies them under the record's ETag; the engine sets <c>updatedAt</c>.
/// </summary>
public static class JobTransitions
{
    /// <summary>draft → pending: the deadline counts from now, or from the scheduled start.</summary>
    public static Job? Submit(Job current, DateTimeOffset deadline, DateTimeOffset? notBefore, string message) => current.Status != JobStatus.Draft ? null : current with
    {
        Status = JobStatus.Pending,
        Message = message,
        Deadline = deadline,
        NotBefore = notBefore,
    };

    /// <summary>A draft's input (and correlation id) replaced; nothing else may be edited.</summary>
    public static Job? EditDraft(Job current, System.Text.Json.JsonElement? input, string? correlationId, int stepCount) =>
        current.Status != JobStatus.Draft ? null : current with
        {
            Input = input,
            CorrelationId = correlationId ?? current.CorrelationId,
            StepCount = stepCount,
        };

    /// <summary>
    /// pending → queued: the job waits for a slot of its type (its concurrency limit is reached, or the type is paused).
    /// Refused once it was asked to cancel or left pending.
    /// </summary>
    public static Job? Queue(Job current, bool paused) => current.Status != JobStatus.Pending || current.CancelRequested ? null : current with
    {
        Status = JobStatus.Queued,
        Message = QueuedMessage(paused),
    };

    /// <summary>What a queued job says while it waits.</summary>
    public static string QueuedMessage(bool paused) => paused ? "Queued: type paused" : "Queued: waiting for a free slot of its type";

    /// <summary>
    /// pending/queued/running → running one attempt of a step. Refused once the job ended or a cancel was asked for, and
    /// for an earlier step or attempt than the record shows (an activity message delivered again after the
    /// orchestration moved on: its result will be ignored, so it must not rewind the record either).
    /// The attempt numbers come from the orchestration, so writing the same attempt twice is no change.
    /// </summary>
    public static Job? StartStep(Job current, StepRequest step, int stepCount, DateTimeOffset now) =>
        current.Status.IsTerminal() || current.CancelRequested || IsBehind(current, step) ? null : current with
        {
            Status = JobStatus.Running,
            StartedAt = current.StartedAt ?? now,
            Step = step.StepName,
            StepIndex = step.StepIndex,
            StepCount = stepCount,
            Attempt = step.Attempt,
            TotalAttempts = Math.Max(current.TotalAttempts, step.TotalAttempts),
            Progress = JobProgress.Advance(current.Progress, JobProgress.AtStepStart(step.StepIndex, stepCount)),
            Message = $"Running {step.StepName}",
            Steps = JobStepRuns.Start(current.Steps, step.StepIndex, step.StepName, step.Attempt,
                step.Completed is { } done ? (done.Index, done.At) : null, now),
        };

    /// <summary>True when the record is already past this step attempt (see <see cref="StartStep"/>).</summary>
    public static bool IsBehind(Job current, StepRequest step) =>
        current.Status == JobStatus.Running
        && (current.StepIndex > step.StepIndex || (current.StepIndex == step.StepIndex && current.Attempt > step.Attempt));

    /// <summary>True when <paramref name="current"/> already is this attempt of this step running (our own earlier write).</summary>
    public static bool IsRunning(Job current, StepRequest step) =>
        current.Status == JobStatus.Running && current.StepIndex == step.StepIndex && current.Step == step.StepName && current.Attempt == step.Attempt;

    /// <summary>
    /// pending/queued/running → waiting for <paramref name="asked"/> before its step runs (the record shows that step,
    /// not yet attempted). Refused once the job ended or a cancel was asked for, and when this ask is already recorded —
    /// waiting, or answered since — so a retried ask never reopens an answered decision.
    /// </summary>
    public static Job? AwaitDecision(Job current, JobDecision asked, int stepCount) =>
        current.Status.IsTerminal() || current.CancelRequested || IsAsked(current, asked) ? null : current with
        {
            Status = JobStatus.Waiting,
            StartedAt = current.StartedAt ?? asked.AskedAt, // waiting is part of the job's run, even before its first step
            Step = asked.Step,
            StepIndex = asked.StepIndex,
            StepCount = stepCount,
            Attempt = 0,
            Progress = JobProgress.Advance(current.Progress, JobProgress.AtStepStart(asked.StepIndex, stepCount)),
            Message = WaitingMessage(asked),
            Decision = asked,
        };

    /// <summary>True when the record holds this ask (the same decision, asked at the same orchestration time).</summary>
    public static bool IsAsked(Job current, JobDecision asked) =>
        current.Decision is { } held && held.Name == asked.Name && held.StepIndex == asked.StepIndex && held.AskedAt == asked.AskedAt;

    /// <summary>What a waiting job says.</summary>
    public static string WaitingMessage(JobDecision asked) => $"Waiting for a decision ({asked.Name}): {asked.Question}";

    /// <summary>
    /// waiting → running: a person answered the decision <paramref name="name"/> the job waits for. Refused (null) when
    /// the job is not waiting for that decision — another answer (or the timeout) came first, it ended, or it waits for
    /// another one; that refusal is the API's 409.
    /// </summary>
    public static Job? Decide(Job current, string name, DecisionAnswer answer, string? comment, System.Text.Json.JsonElement? payload,
        AuditActor by, DateTimeOffset now) =>
        !IsWaitingFor(current, name) || answer == DecisionAnswer.Expired ? null : current with
        {
            Status = JobStatus.Running,
            StartedAt = current.StartedAt ?? now,
            Message = $"{Past(answer)} by {by.Name ?? by.Id}; continuing with {current.Decision!.Step}",
            Decision = current.Decision with
            {
                Answer = answer,
                Comment = comment,
                Payload = payload,
                DecidedBy = by.Id,
                DecidedByName = by.Name,
                DecidedAt = now,
            },
        };

    /// <summary>"Approved" or "Rejected".</summary>
    public static string Past(DecisionAnswer answer) => answer == DecisionAnswer.Approve ? "Approved" : "Rejected";

    /// <summary>True when the job waits, unanswered, for the decision <paramref name="name"/>.</summary>
    public static bool IsWaitingFor(Job current, string name) =>
        current.Status == JobStatus.Waiting && current.Decision is { IsAnswered: false } held && held.Name == name;

    /// <summary>
    /// The decision's timeout passed unanswered: approve or reject as the handler said (the job runs on), or
    /// <see cref="DecisionAnswer.Expired"/> (it stays waiting until the orchestration writes its ending, and no answer
    /// is taken meanwhile). Refused when it was answered first, or the job no longer waits for it.
    /// </summary>
    public static Job? ExpireDecision(Job current, JobDecision asked, DateTimeOffset now)
    {
        if (!IsAsked(current, asked) || !IsWaitingFor(current, asked.Name))
        {
            return null;
        }
        var answer = current.Decision!.OnTimeout switch
        {
            DecisionTimeoutAction.Approve => DecisionAnswer.Approve,
            DecisionTimeoutAction.Reject => DecisionAnswer.Reject,
            _ => DecisionAnswer.Expired,
        };
        var decision = current.Decision with { Answer = answer, TimedOut = true, DecidedBy = JobDecision.TimeoutActor, DecidedAt = now };
        return answer == DecisionAnswer.Expired
            ? current with { Decision = decision, Message = $"No decision ({asked.Name}) by its timeout" }
            : current with
            {
                Status = JobStatus.Running,
                StartedAt = current.StartedAt ?? now,
                Decision = decision,
                Message = $"No decision ({asked.Name}) by its timeout: {Past(answer).ToLowerInvariant()}; continuing with {asked.Step}",
            };
    }

    /// <summary>Progress within a live job: never down, never past 100.</summary>
    public static Job? ReportProgress(Job current, int overall, string? message) => current.Status.IsTerminal() ? null : current with
    {
        Progress = JobProgress.Advance(current.Progress, overall),
        Message = message ?? current.Message,
    };

    /// <summary>A parallel step's progress: the job's progress and message, and the step's items (see <see cref="JobStepItems"/>).</summary>
    public static Job? ReportItems(Job current, int overall, string message, int stepIndex, JobStepItems items) =>
        ReportProgress(current, overall, message) is { } reported ? reported with { Steps = JobStepRuns.Items(current.Steps, stepIndex, items) } : null;

    /// <summary>A running job is flagged; it stops at its next step boundary. Once only.</summary>
    public static Job? RequestCancel(Job current, string requestedBy) => current.Status.IsTerminal() || current.CancelRequested ? null : current with
    {
        CancelRequested = true,
        Message = CancelRequestedMessage(requestedBy),
    };

    public static string CancelRequestedMessage(string requestedBy) => $"Cancellation requested by {requestedBy}";

    /// <summary>
    /// Any live (or draft) job → the terminal state of <paramref name="outcome"/>, with its message, result, error and
    /// result metadata (added to the job's own); a completed job is at 100 %. <paramref name="guard"/> refuses the ending
    /// for this record (null) or adds the caller's own fields (a cancel's <c>cancelRequested</c>). Terminal states never
    /// change again.
    /// </summary>
    public static Job? End(Job current, JobOutcome outcome, DateTimeOffset now, Func<Job, Job?>? guard = null)
    {
        if (!outcome.Status.IsTerminal() || current.Status.IsTerminal() || (guard is null ? current : guard(current)) is not { } allowed)
        {
            return null;
        }
        var metadata = new Dictionary<string, string>(allowed.Metadata);
        foreach (var (key, value) in outcome.Metadata ?? [])
        {
            metadata[key] = value;
        }
        return allowed with
        {
            Status = outcome.Status,
            CompletedAt = now,
            Message = outcome.Text(),
            Result = outcome.Result,
            Error = outcome.Error,
            Metadata = metadata,
            Progress = outcome.Status == JobStatus.Completed ? 100 : allowed.Progress,
            Steps = JobStepRuns.End(allowed.Steps, outcome.Status, now),
        };
    }
}
