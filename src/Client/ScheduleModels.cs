using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobs.Client;

/// <summary>What an occurrence does while the schedule's previous run is still going.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScheduleOverlap>))]
public enum ScheduleOverlap
{
    /// <summary>Skipped.</summary>
    [JsonStringEnumMemberName("skip")] Skip,

    /// <summary>Held (one at most, the newest) and run when the previous run ends.</summary>
    [JsonStringEnumMemberName("queue")] Queue,

    /// <summary>Run anyway.</summary>
    [JsonStringEnumMemberName("allow")] Allow,
}

/// <summary>What occurrences missed while the service was down get.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScheduleCatchUp>))]
public enum ScheduleCatchUp
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("latest")] Latest,
    [JsonStringEnumMemberName("all")] All,
}

/// <summary>The body of <see cref="JobsClient.CreateScheduleAsync"/>.</summary>
public sealed record CreateScheduleRequest
{
    public required string Type { get; init; }
    public JsonElement? Input { get; init; }

    /// <summary>Five fields (<c>minute hour day month weekday</c>) or six (second first).</summary>
    public required string Cron { get; init; }

    /// <summary>An IANA time zone (<c>Europe/Paris</c>); UTC when null.</summary>
    public string? TimeZone { get; init; }
    public ScheduleOverlap? Overlap { get; init; }
    public ScheduleCatchUp? CatchUp { get; init; }
    public int? CatchUpLimit { get; init; }
    public bool? Paused { get; init; }
}

/// <summary>The body of <see cref="JobsClient.UpdateScheduleAsync"/>: what is set replaces the schedule's value.</summary>
public sealed record SchedulePatch
{
    public string? Type { get; init; }
    public JsonElement? Input { get; init; }
    public string? Cron { get; init; }
    public string? TimeZone { get; init; }
    public ScheduleOverlap? Overlap { get; init; }
    public ScheduleCatchUp? CatchUp { get; init; }
    public int? CatchUpLimit { get; init; }
    public bool? Paused { get; init; }
}

/// <summary>An occurrence: the instant, and the wall-clock time of the schedule's zone with its offset then.</summary>
public sealed record ScheduleTime(DateTimeOffset At, string Local);

/// <summary>A recurring schedule as the API returns it.</summary>
public sealed record Schedule
{
    public required string Id { get; init; }
    public string Owner { get; init; } = "";
    public required string Type { get; init; }
    public JsonElement? Input { get; init; }
    public required string Cron { get; init; }
    public required string TimeZone { get; init; }
    public ScheduleOverlap Overlap { get; init; }
    public ScheduleCatchUp CatchUp { get; init; }
    public int CatchUpLimit { get; init; }
    public bool Paused { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The next five occurrences (none while paused).</summary>
    public IReadOnlyList<ScheduleTime> NextRuns { get; init; } = [];
    public DateTimeOffset? HeldOccurrence { get; init; }
    public DateTimeOffset? LastOccurrence { get; init; }
    public string? LastJobId { get; init; }
    public long SkippedCount { get; init; }

    /// <summary>The latest runs, newest first (<see cref="JobsClient.GetScheduleAsync"/> only).</summary>
    public IReadOnlyList<JobSummary>? RecentRuns { get; init; }
    public string? RunsUrl { get; init; }
}

/// <summary>A page of schedules; <see cref="Next"/> is the cursor of the next one.</summary>
public sealed record SchedulePage(IReadOnlyList<Schedule> Schedules, string? Next);
