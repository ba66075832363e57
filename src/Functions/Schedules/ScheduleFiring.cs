using System.Globalization;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Schedules;

/// <summary>
/// Turns due occurrences into jobs, exactly once each however many instances run it and whenever one dies:
/// <list type="number">
/// <item>the decision (<see cref="ScheduleDecision"/>) is written under the record's ETag, with the occurrences it
/// fires (<see cref="Schedule.Firing"/>) and the next due time, in one transaction — of two instances deciding the
/// same occurrence one wins, the other re-reads;</item>
/// <item>then each occurrence's job is submitted with the idempotency key <c>schedule:{id}:{occurrence}</c>, so
/// submitting it again (a retry, another instance, a restart) returns the same job;</item>
/// <item>then the record is written again without them, naming the latest run. Until then the schedule stays due, and
/// whoever reads it next submits the same keys again.</item>
/// </list>
/// </summary>
public sealed partial class ScheduleFiring(
    ScheduleStore store, JobStore jobs, JobSubmissionService submissions, IOptions<ScheduleOptions> options, ILogger<ScheduleFiring> logger)
{
    /// <summary>Reads and writes of one schedule per visit; a decision and its clearing take three.</summary>
    private const int MaxStepsPerSchedule = 6;

    /// <summary>Visits every due schedule (at most <see cref="ScheduleOptions.MaxPerRun"/>); returns the runs created.</summary>
    public async Task<int> RunAsync(DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var due = await store.DueAsync(store.Now, options.Value.MaxPerRun, cancellationToken);
        var created = 0;
        foreach (var (id, owner) in due)
        {
            try
            {
                created += await FireAsync(owner, id, durable, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One schedule's failure (storage, a bug) does not hold the others; it stays due and is tried again.
                LogFailed(ex, id);
            }
        }
        return created;
    }

    /// <summary>Does whatever one schedule has due now; returns the runs created.</summary>
    public async Task<int> FireAsync(string owner, string id, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var created = 0;
        for (var step = 0; step < MaxStepsPerSchedule; step++)
        {
            if (await store.GetAsync(owner, id, cancellationToken) is not { } stored)
            {
                return created;
            }
            var schedule = stored.Schedule;
            var now = store.Now;
            if (schedule.Firing.Count > 0)
            {
                var (count, lastJobId) = await SubmitRunsAsync(schedule, durable, cancellationToken);
                created += count;
                await store.UpdateAsync(stored, schedule with
                {
                    Firing = [],
                    LastOccurrence = schedule.Firing[^1],
                    LastJobId = lastJobId ?? schedule.LastJobId,
                    UpdatedAt = now,
                }, cancellationToken);
                continue;
            }
            if (!ScheduleDecision.IsDue(schedule, now))
            {
                return created;
            }
            var previousRunLive = schedule.LastJobId is { } last && await jobs.GetAsync(last, cancellationToken) is { } run && !run.Status.IsTerminal();
            var times = ScheduleTimes.Parse(schedule.Cron, TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone));
            var decided = ScheduleDecision.Decide(schedule, times, now, previousRunLive, options.Value);
            if (decided.SkippedCount > schedule.SkippedCount)
            {
                LogSkipped(id, decided.SkippedCount - schedule.SkippedCount, schedule.Overlap.ToString(), schedule.CatchUp.ToString());
            }
            // A conflict means another instance decided first: the next step reads what it decided.
            await store.UpdateAsync(stored, decided, cancellationToken);
        }
        return created;
    }

    /// <summary>The idempotency key of an occurrence's run: the same on every instance and every try.</summary>
    public static string RunKey(string scheduleId, DateTimeOffset occurrence) =>
        SubmissionRules.ScheduleKeyPrefix + scheduleId + ":" + occurrence.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private async Task<(int Created, string? LastJobId)> SubmitRunsAsync(Schedule schedule, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var created = 0;
        string? lastJobId = null;
        foreach (var occurrence in schedule.Firing)
        {
            var submission = new JobSubmission
            {
                Type = schedule.Type,
                Input = schedule.Input,
                Entity = new EntityRef(SubmissionRules.ScheduleEntityType, schedule.Id),
                // The occurrence is the job's scheduled start: it shows when the run was due (a past time starts at once).
                NotBefore = occurrence,
            };
            try
            {
                var outcome = await submissions.CreateAsync(
                    submission, schedule.Owner, RunKey(schedule.Id, occurrence), durable, cancellationToken, scheduleId: schedule.Id, actor: AuditActor.Scheduler);
                lastJobId = outcome.Job.Id;
                if (outcome.Created)
                {
                    created++;
                    LogFired(schedule.Id, occurrence, outcome.Job.Id);
                }
            }
            catch (IdempotencyKeyReusedException)
            {
                // The schedule's input changed between the decision and this try: the occurrence's run exists already.
                LogAlreadyRun(schedule.Id, occurrence);
            }
            catch (InputValidationException invalid)
            {
                // The type was removed or its rules changed after the schedule was saved: this occurrence gets no run.
                LogRefused(schedule.Id, occurrence, invalid.Message);
            }
        }
        return (created, lastJobId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: the run of {Occurrence:O} is job {JobId}.")]
    private partial void LogFired(string scheduleId, DateTimeOffset occurrence, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: {Count} occurrence(s) skipped (overlap {Overlap}, catch-up {CatchUp}).")]
    private partial void LogSkipped(string scheduleId, long count, string overlap, string catchUp);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId}: the occurrence {Occurrence:O} already has its run.")]
    private partial void LogAlreadyRun(string scheduleId, DateTimeOffset occurrence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule {ScheduleId}: the occurrence {Occurrence:O} got no run, its job was refused: {Problem}")]
    private partial void LogRefused(string scheduleId, DateTimeOffset occurrence, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Schedule {ScheduleId} could not be fired; it stays due and is tried again.")]
    private partial void LogFailed(Exception exception, string scheduleId);
}
