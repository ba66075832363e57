using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Jobs.Functions.Schedules;

/// <summary>The body of <c>POST /api/schedules</c>.</summary>
public sealed record ScheduleRequest
{
    /// <summary>The job type each run gets (<c>GET /api/job-types</c>).</summary>
    [Required]
    public string? Type { get; init; }

    /// <summary>The input each run gets, checked by the type as a job's would be.</summary>
    public JsonElement? Input { get; init; }

    /// <summary>Five fields (<c>minute hour day month weekday</c>) or six (second first).</summary>
    [Required]
    public string? Cron { get; init; }

    /// <summary>An IANA time zone (<c>Europe/Paris</c>); UTC when left out.</summary>
    public string? TimeZone { get; init; }

    /// <summary>Skip (the default), queue or allow an occurrence while the previous run is still going.</summary>
    public OverlapPolicy? Overlap { get; init; }

    /// <summary>What missed occurrences get after downtime: none, latest (the default) or all (at most <see cref="CatchUpLimit"/>).</summary>
    public CatchUpPolicy? CatchUp { get; init; }

    /// <summary>With <c>catchUp: all</c>: the most missed occurrences run (1–100, default 10).</summary>
    public int? CatchUpLimit { get; init; }

    /// <summary>Create the schedule paused.</summary>
    public bool? Paused { get; init; }
}

/// <summary>The body of <c>PATCH /api/schedules/{id}</c>: what is given replaces the schedule's value.</summary>
public sealed record SchedulePatch
{
    public string? Type { get; init; }
    public JsonElement? Input { get; init; }
    public string? Cron { get; init; }
    public string? TimeZone { get; init; }
    public OverlapPolicy? Overlap { get; init; }
    public CatchUpPolicy? CatchUp { get; init; }
    public int? CatchUpLimit { get; init; }

    /// <summary>true pauses (no runs until resumed); false resumes from the next occurrence after now.</summary>
    public bool? Paused { get; init; }
}
