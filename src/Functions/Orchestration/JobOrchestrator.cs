using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// Walks a job's steps, one durable activity each, within the job's deadline. It does no I/O: every record write
/// happens in <see cref="JobActivities"/>. The deadline is kept without a durable timer of its own: a step's activity
/// stops its handler at the deadline and says so (<see cref="StepOutcomeKind.TimedOut"/>), the orchestration checks it
/// at every step boundary and bounds every back-off by it, and the timeout sweep ends a job whose handler ignores its
/// cancellation token — with the same ending (<see cref="JobOutcome.TimedOut"/>), so it does not matter which of the
/// two gets there first. A timer per job would be a queue message kept for the job's whole timeout — hours — by every
/// job, which the storage backend pays for (docs/decisions.md). A finished step is never run again on replay.
/// Retries are the orchestration's own, so two kinds of failure stay apart: a handler's exception counts against
/// the step's <see cref="StepRetryPolicy"/> and, when that is spent, fails the job; a failure of the engine's own
/// bookkeeping (<see cref="JobBookkeepingException"/>) is retried with back-off until the deadline and never
/// decides the outcome.
/// </summary>
public static class JobOrchestrator
{
    /// <summary>Back-off of bookkeeping retries: 1, 2, 4 … seconds, at most this long.</summary>
    internal static readonly TimeSpan MaxBookkeepingBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Bound on a step's activity calls (handler attempts and bookkeeping retries): keeps the history finite.</summary>
    internal const int MaxTriesPerStep = 500;

    /// <summary>Tries of the final write. Its outcome is decided, so it is retried past the deadline too.</summary>
    internal const int MaxFinishAttempts = 400;

    [Function(nameof(JobOrchestrator))]
    public static async Task<JobOutcome> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var plan = context.GetInput<JobPlan>() ?? throw new InvalidOperationException("The job orchestration needs a plan.");
        using var legacyDeadline = new CancellationTokenSource();
        if (plan.Revision == 0)
        {
            // Started by the earlier orchestration, whose first action was a deadline timer: replay creates it again (the
            // history must match) and drops it at the end as that one did; the deadline itself is kept as below.
            _ = context.CreateTimer(plan.Deadline.UtcDateTime, legacyDeadline.Token);
        }
        try
        {
            if (plan.NotBefore is { } notBefore && notBefore > context.CurrentUtcDateTime)
            {
                // A scheduled start: a durable timer, not a polling loop. The deadline counts from it, so it comes later;
                // a cancel meanwhile ends the record and terminates this instance.
                var count = plan.Steps.Count;
                context.SetCustomStatus(new JobCustomStatus(0, null, 0, count, $"Scheduled to start at {notBefore:O}"));
                // Queue-backed timers can fire up to a second early (message visibility is in whole seconds): a start
                // must never come before its time, so wait again, a second past it, when that happens.
                for (var wait = 0; wait < 3 && context.CurrentUtcDateTime < notBefore; wait++)
                {
                    await context.CreateTimer((notBefore + TimeSpan.FromSeconds(wait)).UtcDateTime, CancellationToken.None);
                }
            }
            // A limited type's job takes a slot before its first step; one of a type without limits is admitted by its
            // first step (RunStepsAsync), which saves an activity per job.
            if (plan.AdmitsBeforeFirstStep && !await AdmitAsync(context, plan))
            {
                return await FinishAsync(context, plan, plan.StartAt, JobOutcome.TimedOut(plan.Deadline), null);
            }
            return await RunStepsAsync(context, plan);
        }
        finally
        {
            // An instance with a timer still pending does not complete. Synchronous on purpose: CancelAsync would resume
            // on the thread pool, outside the orchestration's episode, and the instance would never complete.
#pragma warning disable CA1849
            legacyDeadline.Cancel();
#pragma warning restore CA1849
        }
    }

    private static async Task<JobOutcome> RunStepsAsync(TaskOrchestrationContext context, JobPlan plan)
    {
        JsonElement? previous = plan.StartOutput; // a resumed job starts with what its original's step before returned
        CompletedStep? completed = null;
        IReadOnlyList<JobLogLine>? carried = null; // lines the last step made and did not write
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var count = plan.Steps.Count;
        var totalAttempts = 0;
        var checkPause = plan.AdmitsInFirstStep; // until the first step has run or the job was admitted
        for (var index = plan.StartAt; index < count; index++)
        {
            var step = plan.Steps[index];
            if (step.Decision is { } decision)
            {
                if (await AwaitDecisionAsync(context, plan, index, step, decision, previous, completed, carried) is { } ending)
                {
                    return ending;
                }
                // The ask wrote the step before's lines and kept its output; the step's activity reads the answer.
                completed = null;
                carried = null;
            }
            context.SetCustomStatus(new JobCustomStatus(JobProgress.AtStepStart(index, count), step.Name, index, count, $"Running {step.Name}"));
            var stepAt = context.CurrentUtcDateTime;
            var attempt = 1;
            var bookkeepingFailures = 0;
            StepOutcome? outcome = null;
            for (var tries = 1; outcome is null && tries <= MaxTriesPerStep; tries++)
            {
                if (DeadlinePassed(context, plan))
                {
                    return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), completed, carried);
                }
                var request = new StepRequest(plan.JobId, index, step.Name, attempt, totalAttempts + 1, previous, completed, stepAt, carried, plan.TraceParent,
                    checkPause);
                try
                {
                    outcome = await context.CallActivityAsync<StepOutcome>(nameof(JobActivities.RunJobStep), request);
                    if (outcome.Kind != StepOutcomeKind.NotAdmitted)
                    {
                        totalAttempts++;
                        checkPause = false;
                    }
                }
                catch (TaskFailedException failure) when (IsBookkeeping(failure))
                {
                    bookkeepingFailures++;
                    if (!await DelayAsync(context, BookkeepingBackoff(bookkeepingFailures), plan))
                    {
                        return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), completed, carried);
                    }
                }
                catch (TaskFailedException failure)
                {
                    totalAttempts++;
                    checkPause = false; // the handler ran: the job was admitted
                    completed = null; // the attempt that failed wrote the lines before it and its own
                    carried = null;
                    if (attempt >= step.Retry.MaxAttempts)
                    {
                        await FinishAsync(context, plan, index, JobOutcome.StepFailed(step.Name, failure.FailureDetails), null);
                        throw; // Keeps the failure visible on the orchestration as well as on the record.
                    }
                    var wait = step.Retry.FirstRetryInterval * Math.Pow(step.Retry.BackoffCoefficient, attempt - 1);
                    attempt++;
                    if (!await DelayAsync(context, wait, plan))
                    {
                        return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), null);
                    }
                }
                if (outcome?.Kind == StepOutcomeKind.NotAdmitted)
                {
                    // The type is paused: the job waits queued for its turn as a limited type's does, then runs the step
                    // again (from a fresh start time: it starts now, not when it first tried).
                    outcome = null;
                    checkPause = false;
                    if (!await AdmitAsync(context, plan))
                    {
                        return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), completed, carried);
                    }
                    context.SetCustomStatus(new JobCustomStatus(JobProgress.AtStepStart(index, count), step.Name, index, count, $"Running {step.Name}"));
                    stepAt = context.CurrentUtcDateTime;
                }
            }

            if (outcome is null)
            {
                return await FinishAsync(context, plan, index, JobOutcome.StepNotRecorded(step.Name, MaxTriesPerStep), completed, carried);
            }
            switch (outcome.Kind)
            {
                case StepOutcomeKind.CancelRequested:
                    return await FinishAsync(context, plan, index, JobOutcome.CancelledBefore(step.Name), completed, [.. carried ?? [], .. outcome.Lines ?? []]);
                case StepOutcomeKind.JobEnded:
                    return JobOutcome.EndedElsewhere(outcome.EndedAs ?? JobStatus.Cancelled);
                case StepOutcomeKind.TimedOut:
                    // The activity wrote nothing after it stopped: what it did not write (the earlier lines too, when it
                    // stopped before the step's start) goes with the ending.
                    return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), null, outcome.Lines);
            }
            previous = outcome.Output;
            carried = outcome.Lines;
            var duration = outcome.DurationMs;
            if (step.IsParallel)
            {
                // The step listed its items; now each runs as an activity of its own.
                IReadOnlyList<JsonElement> items = outcome.Output is { ValueKind: JsonValueKind.Array } list ? [.. list.EnumerateArray().Select(e => e.Clone())] : [];
                var startedAt = context.CurrentUtcDateTime;
                var result = await ParallelStep.RunAsync(context, plan, index, step, items, carried);
                switch (result.End)
                {
                    case ParallelEnd.TimedOut:
                        return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), null, result.Lines);
                    case ParallelEnd.JobEnded:
                        return JobOutcome.EndedElsewhere(JobStatus.Cancelled);
                    case ParallelEnd.Cancelled:
                        return await FinishAsync(context, plan, index, JobOutcome.CancelledDuring(step.Name), null, result.Lines);
                    case ParallelEnd.Failed:
                        return await FinishAsync(context, plan, index, JobOutcome.ItemsFailed(step.Name, result.Failures), null, result.Lines);
                }
                previous = result.Outputs;
                carried = result.Lines;
                duration += (long)(context.CurrentUtcDateTime - startedAt).TotalMilliseconds;
            }
            completed = new CompletedStep(step.Name, index, duration, context.CurrentUtcDateTime);
            foreach (var (key, value) in outcome.ResultMetadata ?? [])
            {
                metadata[key] = value;
            }
        }
        if (count > 0 && DeadlinePassed(context, plan))
        {
            // The last step returned after the deadline: as with any step, the job did not end in time.
            return await FinishAsync(context, plan, count - 1, JobOutcome.TimedOut(plan.Deadline), completed, carried);
        }
        return await FinishAsync(context, plan, count, JobOutcome.Completed(previous, metadata), completed, carried);
    }

    /// <summary>
    /// Takes a slot of the job's type (<c>Concurrency/JobSlots</c>), or waits <c>queued</c> for one — before the first step
    /// for a limited type, after a first step found a type without limits paused (<see cref="StepOutcomeKind.NotAdmitted"/>,
    /// from plan revision <see cref="JobPlan.AdmittedInFirstStepRevision"/> on): the activity either
    /// grants it at once or records the job queued, and the job then waits — with no timer and no polling — for the
    /// event the instance that frees a slot (or resumes the type) sends; the reconciler sends it again should it be lost,
    /// and ends the job at its deadline (terminating this wait). Bookkeeping failures are retried until the deadline;
    /// false when that passed first.
    /// </summary>
    private static async Task<bool> AdmitAsync(TaskOrchestrationContext context, JobPlan plan)
    {
        var request = new AdmitRequest(plan.JobId, context.CurrentUtcDateTime);
        for (var failures = 0; ;)
        {
            if (DeadlinePassed(context, plan))
            {
                return false;
            }
            try
            {
                if (await context.CallActivityAsync<bool>(nameof(JobActivities.AdmitJob), request))
                {
                    return true;
                }
                break;
            }
            catch (TaskFailedException failure) when (IsBookkeeping(failure))
            {
                if (!await DelayAsync(context, BookkeepingBackoff(++failures), plan))
                {
                    return false;
                }
            }
        }
        var count = plan.Steps.Count;
        context.SetCustomStatus(new JobCustomStatus(0, null, 0, count, JobTransitions.QueuedMessage(paused: false)));
        await context.WaitForExternalEvent<object?>(Concurrency.JobSlots.GrantedEvent);
        return true;
    }

    /// <summary>
    /// Waits for a person's decision before <paramref name="step"/> (<see cref="JobDecisionRequest"/>): the activity records
    /// the job <c>waiting</c> (once: the ask is keyed by this orchestration time), then the orchestration waits — no
    /// activity, no poll — for the decision's event or a durable timer at its timeout (or the job's deadline, if that comes
    /// first), whichever is first. Either way it asks the record again: the record, changed under its ETag by the decision
    /// route or by the timeout's activity, says which answer won, so a decision and a timeout that cross end one way.
    /// Null when the step may run; otherwise the job's ending.
    /// </summary>
    private static async Task<JobOutcome?> AwaitDecisionAsync(TaskOrchestrationContext context, JobPlan plan, int index, JobStepPlan step,
        JobDecisionRequest decision, JsonElement? previous, CompletedStep? completed, IReadOnlyList<JobLogLine>? carried)
    {
        var count = plan.Steps.Count;
        var request = new AwaitDecisionRequest(plan.JobId, index, step.Name, decision, context.CurrentUtcDateTime, false, completed, carried, previous);
        var timeoutAt = decision.TimeoutAt(request.AskedAt);
        var bookkeepingFailures = 0;
        for (var round = 1; round <= MaxTriesPerStep; round++)
        {
            if (DeadlinePassed(context, plan))
            {
                return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), request.Completed, request.Carried);
            }
            DecisionOutcome outcome;
            try
            {
                outcome = await context.CallActivityAsync<DecisionOutcome>(nameof(JobActivities.AwaitDecision), request);
            }
            catch (TaskFailedException failure) when (IsBookkeeping(failure))
            {
                if (!await DelayAsync(context, BookkeepingBackoff(++bookkeepingFailures), plan))
                {
                    return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), request.Completed, request.Carried);
                }
                continue;
            }
            switch (outcome.Kind)
            {
                case DecisionOutcomeKind.Answered when outcome.Answer == DecisionAnswer.Expired:
                    return await FinishAsync(context, plan, index,
                        JobOutcome.DecisionTimedOut(step.Name, decision.Name, timeoutAt, decision.OnTimeout == DecisionTimeoutAction.Cancel), null);
                case DecisionOutcomeKind.Answered:
                    return null;
                case DecisionOutcomeKind.CancelRequested:
                    return await FinishAsync(context, plan, index, JobOutcome.CancelledBefore(step.Name), request.Completed, request.Carried);
                case DecisionOutcomeKind.JobEnded:
                    return JobOutcome.EndedElsewhere(outcome.EndedAs ?? JobStatus.Cancelled);
                case DecisionOutcomeKind.TimedOut:
                    return await FinishAsync(context, plan, index, JobOutcome.TimedOut(plan.Deadline), request.Completed, request.Carried);
            }
            // Waiting, and the ask is recorded with the step before's lines and output.
            request = request with { Completed = null, Carried = null, PreviousOutput = null, Expire = false };
            context.SetCustomStatus(new JobCustomStatus(JobProgress.AtStepStart(index, count), step.Name, index, count,
                $"Waiting for a decision ({decision.Name}): {decision.Question}"));
            var until = timeoutAt < plan.Deadline ? timeoutAt : plan.Deadline;
            using var stop = new CancellationTokenSource();
            var answered = context.WaitForExternalEvent<object?>(JobDecision.EventName(decision.Name), stop.Token);
            var timer = context.CreateTimer(until.UtcDateTime, stop.Token);
            var first = await Task.WhenAny(answered, timer);
            // Drops the other wait (a pending timer would keep the instance from completing). Synchronous on purpose, as in RunAsync.
#pragma warning disable CA1849
            stop.Cancel();
#pragma warning restore CA1849
            if (first != answered && until == timeoutAt)
            {
                request = request with { Expire = true };
            }
        }
        return await FinishAsync(context, plan, index, JobOutcome.StepNotRecorded(step.Name, MaxTriesPerStep), null);
    }

    /// <summary>
    /// Writes the ending the orchestration decided (<see cref="JobOutcome"/>), retrying bookkeeping failures: the outcome
    /// is already fixed. Returns it, or how the job ended instead when it had ended another way.
    /// </summary>
    private static async Task<JobOutcome> FinishAsync(
        TaskOrchestrationContext context, JobPlan plan, int stepsDone, JobOutcome outcome, CompletedStep? completed, IReadOnlyList<JobLogLine>? carried = null)
    {
        var status = outcome.Status;
        var request = new FinishRequest(plan.JobId, status, outcome.Text(), outcome.Result, outcome.Metadata, outcome.Error, completed, context.CurrentUtcDateTime,
            carried, plan.TraceParent);
        JobStatus finalStatus;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                finalStatus = await context.CallActivityAsync<JobStatus>(nameof(JobActivities.FinishJob), request);
                break;
            }
            catch (TaskFailedException failure) when (IsBookkeeping(failure) && attempt < MaxFinishAttempts)
            {
                await context.CreateTimer(BookkeepingBackoff(attempt), CancellationToken.None);
            }
        }
        var count = plan.Steps.Count;
        var progress = status == JobStatus.Completed ? 100 : JobProgress.AtStepStart(stepsDone, count);
        context.SetCustomStatus(new JobCustomStatus(progress, null, Math.Min(stepsDone, count), count, outcome.Text()));
        return finalStatus == status ? outcome : JobOutcome.EndedElsewhere(finalStatus);
    }

    /// <summary>True when the job's deadline has passed, in the orchestration's replay-safe time.</summary>
    internal static bool DeadlinePassed(TaskOrchestrationContext context, JobPlan plan) =>
        JobDeadline.HasPassed(plan.Deadline, DateTime.SpecifyKind(context.CurrentUtcDateTime, DateTimeKind.Utc));

    /// <summary>
    /// Waits <paramref name="delay"/> on a durable timer, or only until the deadline when that comes first; false when
    /// the deadline has passed. The timer fires within the wait, so no message outlives it.
    /// </summary>
    internal static async Task<bool> DelayAsync(TaskOrchestrationContext context, TimeSpan delay, JobPlan plan)
    {
        var until = context.CurrentUtcDateTime + delay;
        await context.CreateTimer(until < plan.Deadline.UtcDateTime ? until : plan.Deadline.UtcDateTime, CancellationToken.None);
        return !DeadlinePassed(context, plan);
    }

    /// <summary>
    /// True when the activity failed in the engine's bookkeeping: by type where the host keeps it (at any level of the
    /// failure chain), else by the message prefix every <see cref="JobBookkeepingException"/> carries.
    /// </summary>
    internal static bool IsBookkeeping(TaskFailedException failure)
    {
        for (var details = failure.FailureDetails; details is not null; details = details.InnerFailure)
        {
            if (details.IsCausedBy<JobBookkeepingException>()
                || details.ErrorMessage.StartsWith(JobBookkeepingException.MessagePrefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    internal static TimeSpan BookkeepingBackoff(int failures) =>
        TimeSpan.FromSeconds(Math.Min(MaxBookkeepingBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 16))));
}
