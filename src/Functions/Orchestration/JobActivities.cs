using System.Diagnostics;
using System.Text.Json;
using Jobs.Functions.Artifacts;
using Jobs.Functions.Concurrency;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Observability;
using Jobs.Functions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Orchestration;

/// <summary>
/// The engine's bookkeeping around a handler: every status, progress, attempt, log and error write happens here,
/// so handlers contain business logic only. Every bookkeeping call is guarded: its failure surfaces as a
/// <see cref="JobBookkeepingException"/>, which the orchestration retries instead of failing the job.
/// </summary>
public sealed partial class JobActivities(
    JobStore store, JobLogStore logs, JobAuditLog audit, JobHandlerRegistry handlers, JobEnding ending, JobSlots slots, ArtifactStore artifacts, TimeProvider time,
    ILogger<JobActivities> logger)
{
    /// <summary>
    /// Admits the job before its first step (<see cref="JobSlots.AdmitAsync"/>) — a limited type's job, or one of a type
    /// without limits whose first step found the type paused: true when it holds a slot (or its type
    /// has no limit and is not paused) and may start; false when it waits, which this activity records — pending →
    /// <c>queued</c>, through the one write path — before the orchestration waits for its slot. Other jobs granted on
    /// the way are woken. A job that ended or was asked to cancel meanwhile is let through: its first step sees that.
    /// </summary>
    [Function(nameof(AdmitJob))]
    public async Task<bool> AdmitJob([ActivityTrigger] AdmitRequest request, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope("JobId:{JobId}", request.JobId);
        var job = await JobBookkeepingException.Guard("read the job", () => store.GetForWriteAsync(request.JobId, cancellationToken));
        if (job is null || job.Status.IsTerminal() || job.CancelRequested)
        {
            return true;
        }
        var admission = await JobBookkeepingException.Guard("take a slot", () => slots.AdmitAsync(job, cancellationToken));
        await slots.WakeAsync(durable, admission.Woken, cancellationToken);
        if (admission.Granted)
        {
            return true;
        }
        var write = new JobWrite
        {
            OrchestratedAt = request.At,
            ChangeLines = [logs.NewLine(JobLogLevel.Information, JobTransitions.QueuedMessage(admission.Paused) + ".", null)],
        };
        var queued = await JobBookkeepingException.Guard("record the job queued", () =>
            store.UpdateAsync(job, current => JobTransitions.Queue(current, admission.Paused), cancellationToken, write));
        if (queued is null)
        {
            return true; // purged out of band
        }
        if (queued.Job.Status.IsTerminal())
        {
            // Ended meanwhile (a cancel): its ending may have come before this place in the queue was taken, so give it
            // back here too; the first step then sees the ending.
            var woken = await JobBookkeepingException.Guard("give the slot back", () => slots.ReleaseAsync(queued.Job, cancellationToken));
            await slots.WakeAsync(durable, woken, cancellationToken);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Records the job waiting for a decision before a step (<see cref="JobTransitions.AwaitDecision"/>, with the step
    /// before's lines and kept output, through the one write path), or finds it answered; with
    /// <see cref="AwaitDecisionRequest.Expire"/>, applies the decision's timeout unless an answer came first
    /// (<see cref="JobTransitions.ExpireDecision"/>). The record is the judge: whichever of the answer and the timeout
    /// changed it first under its ETag is the answer.
    /// </summary>
    [Function(nameof(AwaitDecision))]
    public async Task<DecisionOutcome> AwaitDecision([ActivityTrigger] AwaitDecisionRequest request, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope("JobId:{JobId}", request.JobId);
        var earlier = EarlierLines(request.Completed, request.Carried);
        var job = await JobBookkeepingException.Guard("read the job", () => store.GetForWriteAsync(request.JobId, cancellationToken));
        if (job is null)
        {
            return new DecisionOutcome(DecisionOutcomeKind.JobEnded);
        }
        var run = handlers.Get(job.Type).Prepare(job.Input);
        var decision = request.Decision;
        var asked = new JobDecision(decision.Name, decision.Question, request.StepName, request.StepIndex, decision.Role, request.AskedAt,
            decision.TimeoutAt(request.AskedAt), decision.OnTimeout);
        if (JobTransitions.IsAsked(job, asked) && !job.Status.IsTerminal())
        {
            if (job.Decision!.IsAnswered)
            {
                return new DecisionOutcome(DecisionOutcomeKind.Answered, job.Decision.Answer, asked.TimeoutAt);
            }
            if (!request.Expire)
            {
                return new DecisionOutcome(DecisionOutcomeKind.Waiting, null, asked.TimeoutAt);
            }
            var expire = new JobWrite
            {
                OrchestratedAt = asked.TimeoutAt,
                ChangeLines = [logs.NewLine(JobLogLevel.Warning, $"No decision ({asked.Name}) by its timeout: {DescribeTimeout(asked.OnTimeout)}.", request.StepName)],
                Audit = audit.NewEntry(AuditActions.DecisionTimedOut, AuditActor.System(JobDecision.TimeoutActor), ("name", asked.Name), ("onTimeout", asked.OnTimeout.ToString().ToLowerInvariant())),
            };
            var expired = await JobBookkeepingException.Guard("apply the decision's timeout", () =>
                store.UpdateAsync(job, current => JobTransitions.ExpireDecision(current, asked, store.Now), cancellationToken, expire));
            job = expired?.Job;
            if (job is not null && JobTransitions.IsAsked(job, asked) && job.Decision!.IsAnswered && !job.Status.IsTerminal())
            {
                return new DecisionOutcome(DecisionOutcomeKind.Answered, job.Decision.Answer, asked.TimeoutAt);
            }
            return job is null || job.Status.IsTerminal()
                ? new DecisionOutcome(DecisionOutcomeKind.JobEnded, EndedAs: job?.Status)
                : job.CancelRequested ? new DecisionOutcome(DecisionOutcomeKind.CancelRequested) : new DecisionOutcome(DecisionOutcomeKind.Waiting, null, asked.TimeoutAt);
        }
        if (job.Status.IsTerminal())
        {
            await JobBookkeepingException.Guard("write the previous step's lines", () => logs.WriteAsync(job.Id, earlier, cancellationToken));
            return new DecisionOutcome(DecisionOutcomeKind.JobEnded, EndedAs: job.Status);
        }
        if (job.CancelRequested)
        {
            return new DecisionOutcome(DecisionOutcomeKind.CancelRequested); // FinishJob writes the earlier lines
        }
        if (job.Deadline is { } deadline && JobDeadline.HasPassed(deadline, store.Now))
        {
            return new DecisionOutcome(DecisionOutcomeKind.TimedOut);
        }
        var who = decision.Role is null ? "its owner" : $"its owner or role {decision.Role}";
        var write = new JobWrite
        {
            Lines = earlier,
            ChangeLines = [logs.NewLine(JobLogLevel.Information,
                $"Waiting for a decision ({asked.Name}) before step {request.StepName}: {asked.Question} (answered by {who}; on no answer by {asked.TimeoutAt.UtcDateTime:O}: {DescribeTimeout(asked.OnTimeout)}).", request.StepName)],
            OrchestratedAt = request.AskedAt,
            StepOutput = request.Completed is { } done && done.Index == request.StepIndex - 1
                ? new KeptStepOutput(done.Index, done.Name, true, request.PreviousOutput)
                : null,
        };
        var waiting = await JobBookkeepingException.Guard("record the job waiting", () =>
            store.UpdateAsync(job, current => JobTransitions.AwaitDecision(current, asked, run.Steps.Count), cancellationToken, write));
        if (waiting is null)
        {
            return new DecisionOutcome(DecisionOutcomeKind.JobEnded);
        }
        var now = waiting.Job;
        if (now.Status.IsTerminal())
        {
            return new DecisionOutcome(DecisionOutcomeKind.JobEnded, EndedAs: now.Status);
        }
        if (!JobTransitions.IsAsked(now, asked))
        {
            return new DecisionOutcome(DecisionOutcomeKind.CancelRequested); // refused: a cancel was asked for meanwhile
        }
        return now.Decision!.IsAnswered
            ? new DecisionOutcome(DecisionOutcomeKind.Answered, now.Decision.Answer, asked.TimeoutAt)
            : new DecisionOutcome(DecisionOutcomeKind.Waiting, null, asked.TimeoutAt);
    }

    private static string DescribeTimeout(DecisionTimeoutAction action) => action switch
    {
        DecisionTimeoutAction.Approve => "approved",
        DecisionTimeoutAction.Reject => "rejected",
        DecisionTimeoutAction.Cancel => "the job is cancelled",
        _ => "the job fails",
    };

    /// <summary>
    /// Runs one attempt of one step. Throws when the step throws, so the orchestration's retry policy applies. The first
    /// step of a job of a type without limits admits it (<see cref="StepRequest.CheckPause"/>): a paused type's job is
    /// answered <see cref="StepOutcomeKind.NotAdmitted"/> before anything is recorded. (A job whose start is already
    /// recorded — this message delivered again — was admitted, and runs.)
    /// </summary>
    [Function(nameof(RunJobStep))]
    public async Task<StepOutcome> RunJobStep([ActivityTrigger] StepRequest request, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope("JobId:{JobId}", request.JobId);
        // Lines that happened before this activity: written with this activity's record change, whatever it is.
        var earlier = EarlierLines(request.Completed, request.Carried);
        var job = await JobBookkeepingException.Guard("read the job", () => store.GetForWriteAsync(request.JobId, cancellationToken));
        if (job is null)
        {
            return new StepOutcome(StepOutcomeKind.JobEnded, null, null, null); // purged out of band: nothing to record
        }
        if (job.Status.IsTerminal())
        {
            await JobBookkeepingException.Guard("write the previous step's lines", () => logs.WriteAsync(job.Id, earlier, cancellationToken));
            return new StepOutcome(StepOutcomeKind.JobEnded, null, null, job.Status);
        }
        if (job.CancelRequested)
        {
            return new StepOutcome(StepOutcomeKind.CancelRequested, null, null, null, Lines: earlier); // FinishJob writes them
        }
        using var overdue = Overdue(job);
        if (overdue is null)
        {
            return new StepOutcome(StepOutcomeKind.TimedOut, null, null, null, Lines: earlier); // FinishJob writes them
        }
        if (request.CheckPause && job.Status == JobStatus.Pending
            && await JobBookkeepingException.Guard("read whether the type is paused", () => slots.IsPausedAsync(job.Type, cancellationToken)))
        {
            // The admission of a type without limits: paused, it starts nothing. Nothing is written; the orchestration
            // admits the job (it waits queued) and sends this step again with the same earlier lines.
            return new StepOutcome(StepOutcomeKind.NotAdmitted, null, null, null);
        }

        using var span = JobsTelemetry.StartJobSpan("job.step", request.TraceParent, job);
        span?.SetTag("job.step", request.StepName);
        span?.SetTag("job.step.index", request.StepIndex);
        span?.SetTag("job.step.attempt", request.Attempt);
        var run = handlers.Get(job.Type).Prepare(job.Input);
        var stepCount = run.Steps.Count;
        if (!run.Has(request.StepName))
        {
            throw new InvalidOperationException(
                $"Job type {job.Type} has no step named '{request.StepName}' any more: its steps changed after this job started.");
        }

        var attempt = request.Attempt;
        var write = new JobWrite
        {
            Lines = earlier,
            ChangeLines = [logs.NewLine(JobLogLevel.Information, $"Step {request.StepName} started (attempt {attempt}).", request.StepName)],
            OrchestratedAt = request.At ?? store.Now,
            // The step before returned: its output is kept with the job (for a resume) in this start's transaction.
            StepOutput = request.Completed is { } done && done.Index == request.StepIndex - 1
                ? new KeptStepOutput(done.Index, done.Name, true, request.PreviousOutput)
                : null,
        };
        var started = await JobBookkeepingException.Guard("record the step's start", () =>
            store.UpdateAsync(job, current => JobTransitions.StartStep(current, request, stepCount, store.Now), cancellationToken, write));
        if (started is null)
        {
            return new StepOutcome(StepOutcomeKind.JobEnded, null, null, null);
        }
        if (started.Changed && (job.Status is JobStatus.Pending or JobStatus.Queued) && started.Job.Status == JobStatus.Running)
        {
            JobsTelemetry.JobStarted(started.Job);
        }
        if (!started.Changed && JobTransitions.IsBehind(started.Job, request))
        {
            // A message delivered again after the orchestration moved on. Its result is ignored; make sure it is
            // never read as a decision (a cancel) by failing it as the engine's, which at most retries it.
            throw new JobBookkeepingException($"step {request.StepName} attempt {request.Attempt} arrived after the job moved on", new InvalidOperationException("stale activity"));
        }
        if (!started.Changed && !JobTransitions.IsRunning(started.Job, request))
        {
            return started.Job.Status.IsTerminal()
                ? new StepOutcome(StepOutcomeKind.JobEnded, null, null, started.Job.Status)
                : new StepOutcome(StepOutcomeKind.CancelRequested, null, null, null);
        }

        if (!started.Changed)
        {
            // This attempt's start is already recorded: its earlier run was cut off (a host stop, a crash) and the
            // message came back. Say so, since the handler runs it again.
            await JobBookkeepingException.Guard("log the step's restart", () => logs.AppendAsync(job.Id, JobLogLevel.Warning,
                $"Step {request.StepName} started (attempt {attempt}) again: its earlier run was interrupted.", request.StepName, cancellationToken));
        }
        var reporter = new BufferedStepReporter(store, logs, started.Job, request.StepName, request.StepIndex, stepCount, time, logger);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, overdue.Token);
        using var context = new JobStepContext(job.Id, job.Owner, request.StepName, request.StepIndex, stepCount, attempt,
            request.PreviousOutput, reporter, stopping.Token, rerunOf: job.RerunOf)
        {
            ConcurrencyKey = job.ConcurrencyKey,
            Decision = job.Decision is { IsDecided: true } decided && decided.StepIndex == request.StepIndex && decided.Step == request.StepName ? decided : null,
            Artifacts = new StepArtifacts(artifacts, job.Id, stopping.Token),
        };
        var clock = Stopwatch.StartNew();
        object? output;
        try
        {
            output = await run.RunStepAsync(request.StepName, context);
            if (request.StepIndex == stepCount - 1 && await artifacts.SpillIfLargeAsync(job.Id, output, context.CancellationToken) is { } spilled)
            {
                // The result, too long to keep inline, goes to Blob storage here, so it never travels through the
                // orchestration's history; a failed write fails the step like its handler's own (a retry writes it again).
                output = spilled;
                context.AddResultMetadata(SpilledResult.MetadataKey, spilled.Artifact.Name);
            }
        }
        catch (OperationCanceledException) when (overdue.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            JobsTelemetry.StepRan(job.Type, request.StepName, "timed_out", clock.Elapsed.TotalMilliseconds);
            var stopped = logs.NewLine(JobLogLevel.Warning, $"Step {request.StepName} stopped: the job's deadline passed.", request.StepName);
            return new StepOutcome(StepOutcomeKind.TimedOut, null, null, null, Lines: [.. await reporter.CloseAsync(), stopped]);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            JobsTelemetry.StepRan(job.Type, request.StepName, "cancelled", clock.Elapsed.TotalMilliseconds);
            var stopped = logs.NewLine(JobLogLevel.Warning, $"Step {request.StepName} stopped: the job was cancelled.", request.StepName);
            return new StepOutcome(StepOutcomeKind.CancelRequested, null, null, null, Lines: [.. await reporter.CloseAsync(), stopped]);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host is stopping (a deployment, a scale-in, a restart): not the handler's failure. The work item comes
            // back to an instance that runs the attempt again ("started … again"), so say that, not "failed".
            JobsTelemetry.StepRan(job.Type, request.StepName, "interrupted", clock.Elapsed.TotalMilliseconds);
            await WriteClosingLineAsync(job.Id, reporter, JobLogLevel.Warning,
                $"Step {request.StepName} interrupted (attempt {attempt}): the host is stopping; the step runs again.", request.StepName);
            throw;
        }
        catch (Exception ex) when (reporter.Fault is { } fault && ex is not JobBookkeepingException)
        {
            // The handler failed after the engine could not write its lines: the engine's fault, not the handler's.
            throw new JobBookkeepingException($"while {request.StepName} ran: {fault.Message}", fault);
        }
        catch (Exception ex) when (ex is not JobBookkeepingException)
        {
            JobsTelemetry.Failed(span, ex);
            JobsTelemetry.StepRan(job.Type, request.StepName, "failed", clock.Elapsed.TotalMilliseconds);
            LogStepFailed(ex, job.Id, request.StepName, attempt);
            await WriteFailureAsync(job.Id, reporter, $"Step {request.StepName} failed (attempt {attempt}): {ex.Message}", request.StepName);
            throw;
        }
        // No write after the handler returned: its outcome is now the orchestration's to keep. Its unwritten lines and
        // its closing line go with the next activity's write, so no storage fault here can make a finished step run again.
        JobsTelemetry.StepRan(job.Type, request.StepName, "completed", clock.Elapsed.TotalMilliseconds);
        var unwritten = await reporter.CloseAsync();
        var serialized = output is null ? (JsonElement?)null : JsonSerializer.SerializeToElement(output, JobJson.Options);
        return new StepOutcome(StepOutcomeKind.Completed, serialized, new Dictionary<string, string>(context.ResultMetadata), null, clock.ElapsedMilliseconds,
            unwritten.Count > 0 ? unwritten : null);
    }

    /// <summary>
    /// Runs one attempt of one item of a parallel step. It writes nothing of its own before the handler runs (the step's
    /// start is recorded); its lines are written batched while it runs, and the rest go back to the orchestration.
    /// </summary>
    [Function(nameof(RunJobItem))]
    public async Task<ItemOutcome> RunJobItem([ActivityTrigger] ItemRequest request, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope("JobId:{JobId}", request.JobId);
        var job = await JobBookkeepingException.Guard("read the job", () => store.GetForWriteAsync(request.JobId, cancellationToken));
        if (job is null || job.Status.IsTerminal())
        {
            return new ItemOutcome(StepOutcomeKind.JobEnded, null, null);
        }
        if (job.CancelRequested)
        {
            return new ItemOutcome(StepOutcomeKind.CancelRequested, null, null);
        }
        using var overdue = Overdue(job);
        if (overdue is null)
        {
            return new ItemOutcome(StepOutcomeKind.TimedOut, null, null);
        }
        var run = handlers.Get(job.Type).Prepare(job.Input);
        var stepCount = run.Steps.Count;
        var label = $"item {request.ItemIndex + 1} of {request.ItemCount}";
        var reporter = new BufferedStepReporter(store, logs, job, request.StepName, request.StepIndex, stepCount, time, logger, label);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, overdue.Token);
        using var context = new JobStepContext(job.Id, job.Owner, request.StepName, request.StepIndex, stepCount, request.Attempt,
            null, reporter, stopping.Token, request.ItemIndex, request.ItemCount, job.RerunOf)
        {
            Durable = durable,
            Artifacts = new StepArtifacts(artifacts, job.Id, stopping.Token),
        };
        object? output;
        try
        {
            output = await run.RunItemAsync(request.StepName, request.Item, context);
        }
        catch (OperationCanceledException) when (overdue.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var stopped = logs.NewLine(JobLogLevel.Warning, $"[{label}] stopped: the job's deadline passed.", request.StepName);
            return new ItemOutcome(StepOutcomeKind.TimedOut, null, [.. await reporter.CloseAsync(), stopped]);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var stopped = logs.NewLine(JobLogLevel.Warning, $"[{label}] stopped: the job was cancelled.", request.StepName);
            return new ItemOutcome(StepOutcomeKind.CancelRequested, null, [.. await reporter.CloseAsync(), stopped]);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host is stopping: the item runs again where its work item comes back (as a step does, above).
            await WriteClosingLineAsync(job.Id, reporter, JobLogLevel.Warning,
                $"[{label}] interrupted (attempt {request.Attempt}): the host is stopping; the item runs again.", request.StepName);
            throw;
        }
        catch (Exception ex) when (reporter.Fault is { } fault && ex is not JobBookkeepingException)
        {
            throw new JobBookkeepingException($"while {label} of {request.StepName} ran: {fault.Message}", fault);
        }
        catch (Exception ex) when (ex is not JobBookkeepingException)
        {
            LogItemFailed(ex, job.Id, request.StepName, request.ItemIndex, request.Attempt);
            await WriteFailureAsync(job.Id, reporter, $"[{label}] failed (attempt {request.Attempt}): {ex.Message}", request.StepName);
            throw;
        }
        var unwritten = await reporter.CloseAsync();
        var serialized = output is null ? (JsonElement?)null : JsonSerializer.SerializeToElement(output, JobJson.Options);
        return new ItemOutcome(StepOutcomeKind.Completed, serialized, unwritten.Count > 0 ? unwritten : null);
    }

    /// <summary>
    /// Records how far a parallel step is (items done of items total, within the step's share of the job) with the
    /// items' lines so far; returns true when the job was asked to cancel or has ended, so no new item starts.
    /// </summary>
    [Function(nameof(RecordItemsProgress))]
    public async Task<bool> RecordItemsProgress([ActivityTrigger] ItemsProgress request, CancellationToken cancellationToken)
    {
        var overall = JobProgress.Within(request.StepIndex, request.StepCount, request.Total == 0 ? 100 : request.Done * 100 / request.Total);
        var message = $"Running {request.StepName}: {request.Done} of {request.Total} items done";
        var update = await JobBookkeepingException.Guard("record the items' progress", async () =>
            await store.GetForWriteAsync(request.JobId, cancellationToken) is { } known
                ? await store.UpdateAsync(known, current => JobTransitions.ReportItems(current, overall, message, request.StepIndex,
                    JobStepRuns.Count(request.Total, request.Done, request.Failed, request.States)), cancellationToken,
                    new JobWrite { Lines = request.Lines, OrchestratedAt = store.Now }) // so a refusal is checked against a fresh read
                : null);
        return update is null || update.Job.CancelRequested || update.Job.Status.IsTerminal();
    }

    /// <summary>Ends the job as the orchestration decided (see <see cref="JobEnding"/>), unless it already ended.</summary>
    [Function(nameof(FinishJob))]
    public async Task<JobStatus> FinishJob([ActivityTrigger] FinishRequest request, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope("JobId:{JobId}", request.JobId);
        var outcome = request.Outcome();
        if (outcome.Result is { } result && result.GetRawText().Length > JobResultLimit.MaxChars)
        {
            // A result must fit one Table column: a larger one (a parallel last step's gathered items; a last step's own
            // output was moved when it returned) goes to Blob storage, and the result links to it. Written again the
            // same on a retry; a kill before the record's write leaves a blob that retention deletes with the job.
            try
            {
                var spilled = await artifacts.SpillIfLargeAsync(request.JobId, result, cancellationToken);
                outcome = outcome with
                {
                    Result = JsonSerializer.SerializeToElement(spilled, JobJson.Options),
                    Metadata = new Dictionary<string, string>(outcome.Metadata ?? []) { [SpilledResult.MetadataKey] = ArtifactNames.Result },
                };
            }
            catch (ArtifactTooLargeException)
            {
                outcome = JobOutcome.ResultTooLarge(result.GetRawText().Length, JobResultLimit.MaxChars);
            }
        }
        var before = await JobBookkeepingException.Guard("read the job", () => store.GetForWriteAsync(request.JobId, cancellationToken));
        if (before is null)
        {
            return outcome.Status; // purged out of band: nothing left to record
        }
        using var span = JobsTelemetry.StartJobSpan("job.finish", request.TraceParent, before);
        span?.SetTag("job.status", outcome.Status.ToWire());
        var write = new JobWrite { Lines = EarlierLines(request.Completed, request.Carried), OrchestratedAt = request.At ?? store.Now };
        var update = await JobBookkeepingException.Guard("end the job", () => ending.EndAsync(before, outcome, cancellationToken, write, durable: durable));
        if (update.Changed)
        {
            LogFinished(update.Job.Id, update.Job.Status.ToWire());
        }
        return update.Job.Status;
    }

    /// <summary>
    /// A source cancelled at the job's deadline, which stops the handler through its cancellation token (the deadline has
    /// no durable timer: see <see cref="JobOrchestrator"/>); null when the deadline has already passed.
    /// </summary>
    private CancellationTokenSource? Overdue(Job job)
    {
        if (job.Deadline is not { } deadline)
        {
            return new CancellationTokenSource();
        }
        var now = store.Now;
        return JobDeadline.HasPassed(deadline, now) ? null : new CancellationTokenSource(deadline - now, time);
    }

    /// <summary>
    /// A failed attempt's unwritten lines and its failure line, written before the failure goes to the orchestration
    /// (a failure carries no output to hand them on in).
    /// </summary>
    private Task WriteFailureAsync(string jobId, BufferedStepReporter reporter, string failure, string step) =>
        WriteClosingLineAsync(jobId, reporter, JobLogLevel.Error, failure, step);

    /// <summary>The attempt's unwritten lines and the line that says how it ended, written before its exception goes on.</summary>
    private async Task WriteClosingLineAsync(string jobId, BufferedStepReporter reporter, JobLogLevel level, string text, string step)
    {
        IReadOnlyList<JobLogLine> lines = [.. await reporter.CloseAsync(), logs.NewLine(level, text, step)];
        await JobBookkeepingException.Guard("log how the attempt ended", () => logs.WriteAsync(jobId, lines, CancellationToken.None));
    }

    /// <summary>The lines the previous step made but did not write, then its closing line (keyed once: see <see cref="CompletedStep"/>).</summary>
    private static IReadOnlyList<JobLogLine> EarlierLines(CompletedStep? completed, IReadOnlyList<JobLogLine>? carried) =>
        [.. carried ?? [], .. completed is null ? [] : new[]
        {
            JobLogStore.OnceLine(completed.At, completed.Index, JobLogLevel.Information, $"Step {completed.Name} completed in {completed.DurationMs} ms.", completed.Name),
        }];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} step {Step} attempt {Attempt} failed.")]
    private partial void LogStepFailed(Exception exception, string jobId, string step, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} step {Step} item {Item} attempt {Attempt} failed.")]
    private partial void LogItemFailed(Exception exception, string jobId, string step, int item, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status}.")]
    private partial void LogFinished(string jobId, string status);
}
