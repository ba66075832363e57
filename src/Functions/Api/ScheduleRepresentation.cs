using System.Globalization;
using System.Text.Json;
using Jobs.Functions.Model;
using Jobs.Functions.Schedules;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Api;

/// <summary>An occurrence: the instant (UTC) and the wall-clock time of the schedule's zone, with its offset then.</summary>
public sealed record ScheduleTimeView(DateTimeOffset At, string Local);

/// <summary>A schedule on the wire.</summary>
public sealed record ScheduleView
{
    public required string Id { get; init; }
    public required string Owner { get; init; }
    public required string Type { get; init; }
    public JsonElement? Input { get; init; }
    public required string Cron { get; init; }
    public required string TimeZone { get; init; }
    public required OverlapPolicy Overlap { get; init; }
    public required CatchUpPolicy CatchUp { get; init; }
    public required int CatchUpLimit { get; init; }
    public required bool Paused { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The next five occurrences (none while paused).</summary>
    public required IReadOnlyList<ScheduleTimeView> NextRuns { get; init; }

    /// <summary>An occurrence waiting for the previous run to end (overlap <c>queue</c>).</summary>
    public DateTimeOffset? HeldOccurrence { get; init; }
    public DateTimeOffset? LastOccurrence { get; init; }
    public string? LastJobId { get; init; }

    /// <summary>Occurrences that got no run (overlap, catch-up, a newer held one).</summary>
    public required long SkippedCount { get; init; }

    /// <summary>The schedule's most recent runs, newest first (<c>GET /api/schedules/{id}</c> only).</summary>
    public IReadOnlyList<JobSummary>? RecentRuns { get; init; }

    /// <summary>Every run, paged: <c>GET /api/jobs?scheduleId={id}</c>.</summary>
    public required string RunsUrl { get; init; }
}

/// <summary>A page of schedules.</summary>
public sealed record ScheduleListView(IReadOnlyList<ScheduleView> Schedules, string? Next, string? NextLink);

/// <summary>How schedules look on the wire.</summary>
public static class ScheduleRepresentation
{
    public const int NextRunCount = 5;

    public static ScheduleView Of(Schedule schedule, string baseUrl, DateTimeOffset now, IReadOnlyList<JobSummary>? recentRuns = null)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone);
        var next = schedule.Paused
            ? []
            : ScheduleTimes.Parse(schedule.Cron, zone).NextLocal(now, NextRunCount)
                .Select(t => new ScheduleTimeView(t.ToUniversalTime(), t.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture))).ToList();
        return new ScheduleView
        {
            Id = schedule.Id,
            Owner = schedule.Owner,
            Type = schedule.Type,
            Input = schedule.Input,
            Cron = schedule.Cron,
            TimeZone = schedule.TimeZone,
            Overlap = schedule.Overlap,
            CatchUp = schedule.CatchUp,
            CatchUpLimit = schedule.CatchUpLimit,
            Paused = schedule.Paused,
            CreatedAt = schedule.CreatedAt,
            UpdatedAt = schedule.UpdatedAt,
            NextRuns = next,
            HeldOccurrence = schedule.HeldOccurrence,
            LastOccurrence = schedule.LastOccurrence,
            LastJobId = schedule.LastJobId,
            SkippedCount = schedule.SkippedCount,
            RecentRuns = recentRuns,
            RunsUrl = $"{baseUrl}/api/jobs?scheduleId={schedule.Id}",
        };
    }
}
