using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Schedules;

/// <summary>
/// Creates, changes and removes schedules. Every value is checked before anything is written, each problem naming its
/// field (the job's type and input as a job's submission checks them); a refused request stores nothing.
/// </summary>
public sealed class ScheduleService(ScheduleStore store, JobListIndex index, JobSubmissionService submissions, IOptions<ScheduleOptions> options)
{
    /// <summary>Writes of one change tried before answering 409: each try re-reads and applies the change again.</summary>
    private const int MaxTries = 3;

    /// <summary>How many of its latest runs <c>GET /api/schedules/{id}</c> shows.</summary>
    public const int RecentRunCount = 10;

    public DateTimeOffset Now => store.Now;

    public async Task<Schedule> CreateAsync(ScheduleRequest request, string owner, CancellationToken cancellationToken)
    {
        var now = store.Now;
        var errors = new List<InputError>();
        var times = ScheduleRules.Check(errors, request.Cron, request.TimeZone ?? "UTC", options.Value.AllowSubMinute, now);
        ScheduleRules.CheckCatchUpLimit(errors, request.CatchUpLimit);
        CheckJob(errors, request.Type, request.Input);
        if (errors.Count > 0 || times is null)
        {
            throw new InputValidationException(errors);
        }
        var max = options.Value.MaxPerOwner;
        if (await store.CountAsync(owner, max, cancellationToken) >= max)
        {
            throw new JobStateException($"You have {max} schedules, the most one owner may have; remove one first.");
        }
        var schedule = new Schedule
        {
            Id = Guid.NewGuid().ToString("N"),
            Owner = owner,
            Type = request.Type!,
            Input = request.Input,
            Cron = request.Cron!.Trim(),
            TimeZone = request.TimeZone ?? "UTC",
            Overlap = request.Overlap ?? OverlapPolicy.Skip,
            CatchUp = request.CatchUp ?? CatchUpPolicy.Latest,
            CatchUpLimit = request.CatchUpLimit ?? ScheduleRules.DefaultCatchUpLimit,
            Paused = request.Paused ?? false,
            CreatedAt = now,
            UpdatedAt = now,
            NextAt = times.Next(now),
        };
        return (await store.CreateAsync(schedule, cancellationToken)).Schedule;
    }

    /// <summary>
    /// Applies a change. A new cron or time zone, and a resume, start again from the next occurrence after now (the
    /// occurrences of a pause are not caught up); a pause drops a held occurrence.
    /// </summary>
    public async Task<Schedule> UpdateAsync(StoredSchedule stored, SchedulePatch patch, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxTries; attempt++)
        {
            var schedule = stored.Schedule;
            var now = store.Now;
            var errors = new List<InputError>();
            var cron = patch.Cron ?? schedule.Cron;
            var zone = patch.TimeZone ?? schedule.TimeZone;
            var times = ScheduleRules.Check(errors, cron, zone, options.Value.AllowSubMinute, now);
            ScheduleRules.CheckCatchUpLimit(errors, patch.CatchUpLimit);
            if (patch.Type is not null || patch.Input is not null)
            {
                CheckJob(errors, patch.Type ?? schedule.Type, patch.Input ?? schedule.Input);
            }
            if (errors.Count > 0 || times is null)
            {
                throw new InputValidationException(errors);
            }
            var paused = patch.Paused ?? schedule.Paused;
            var overlap = patch.Overlap ?? schedule.Overlap;
            var restart = cron.Trim() != schedule.Cron || zone != schedule.TimeZone || (schedule.Paused && !paused);
            var keepHeld = !paused && overlap == OverlapPolicy.Queue;
            var updated = schedule with
            {
                Type = patch.Type ?? schedule.Type,
                Input = patch.Input ?? schedule.Input,
                Cron = cron.Trim(),
                TimeZone = zone,
                Overlap = overlap,
                CatchUp = patch.CatchUp ?? schedule.CatchUp,
                CatchUpLimit = patch.CatchUpLimit ?? schedule.CatchUpLimit,
                Paused = paused,
                UpdatedAt = now,
                NextAt = restart ? times.Next(now) : schedule.NextAt,
                HeldOccurrence = keepHeld ? schedule.HeldOccurrence : null,
                HeldCheckAt = keepHeld ? schedule.HeldCheckAt : null,
                Firing = paused ? [] : schedule.Firing,
            };
            if (await store.UpdateAsync(stored, updated, cancellationToken) is { } written)
            {
                return written.Schedule;
            }
            stored = await store.GetAsync(schedule.Owner, schedule.Id, cancellationToken) ?? throw new ScheduleGoneException(schedule.Id);
        }
        throw new JobStateException($"Schedule {stored.Schedule.Id} kept changing meanwhile; try again.");
    }

    /// <summary>Removes the schedule; its runs stay, as ordinary jobs.</summary>
    public async Task DeleteAsync(StoredSchedule stored, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxTries; attempt++)
        {
            if (await store.DeleteAsync(stored, cancellationToken))
            {
                return;
            }
            stored = await store.GetAsync(stored.Schedule.Owner, stored.Schedule.Id, cancellationToken) ?? throw new ScheduleGoneException(stored.Schedule.Id);
        }
        throw new JobStateException($"Schedule {stored.Schedule.Id} kept changing meanwhile; try again.");
    }

    /// <summary>The schedule's latest runs, newest first: one range read of its entity's list rows.</summary>
    public async Task<IReadOnlyList<JobSummary>> RecentRunsAsync(Schedule schedule, CancellationToken cancellationToken) =>
        (await index.ListAsync(new JobListQuery
        {
            Scope = new JobListScope.Entity(SubmissionRules.ScheduleEntityType, schedule.Id),
            Owner = schedule.Owner,
            Limit = RecentRunCount,
        }, cancellationToken)).Jobs;

    /// <summary>The type and input, as a job's submission checks them (unknown type, a service-only type, input the type refuses).</summary>
    private void CheckJob(List<InputError> errors, string? type, System.Text.Json.JsonElement? input)
    {
        try
        {
            submissions.Validate(new JobSubmission { Type = type, Input = input });
        }
        catch (InputValidationException invalid)
        {
            errors.AddRange(invalid.Errors);
        }
    }
}

/// <summary>The schedule was removed while a change to it was being written.</summary>
public sealed class ScheduleGoneException(string id) : Exception($"Schedule {id} does not exist.");
