using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobs.Functions.Schedules;

/// <summary>
/// A recurring schedule: a job type and input, run at each occurrence of a cron expression in a time zone. Immutable;
/// every change is a <c>with</c> expression. How it is stored is <c>Storage/ScheduleStore</c>'s.
/// </summary>
public sealed record Schedule
{
    public required string Id { get; init; }
    public required string Owner { get; init; }
    public required string Type { get; init; }
    public JsonElement? Input { get; init; }

    /// <summary>Five fields (minute first) or six (second first), as <see cref="ScheduleTimes"/> reads them.</summary>
    public required string Cron { get; init; }

    /// <summary>An IANA time zone id; occurrences follow its daylight-saving rules.</summary>
    public required string TimeZone { get; init; }

    public OverlapPolicy Overlap { get; init; } = OverlapPolicy.Skip;
    public CatchUpPolicy CatchUp { get; init; } = CatchUpPolicy.Latest;

    /// <summary>With <see cref="CatchUpPolicy.All"/>: the most missed occurrences run after downtime.</summary>
    public int CatchUpLimit { get; init; } = ScheduleRules.DefaultCatchUpLimit;

    public bool Paused { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The first occurrence not decided yet (null while paused).</summary>
    public DateTimeOffset? NextAt { get; init; }

    /// <summary>With <see cref="OverlapPolicy.Queue"/>: the occurrence waiting for the previous run to end.</summary>
    public DateTimeOffset? HeldOccurrence { get; init; }

    /// <summary>The occurrence of the schedule's latest run, and its job.</summary>
    public DateTimeOffset? LastOccurrence { get; init; }
    public string? LastJobId { get; init; }

    /// <summary>Occurrences that got no run (overlap, catch-up policy, or a newer held one).</summary>
    public long SkippedCount { get; init; }

    /// <summary>
    /// Occurrences decided to run whose jobs may not be created yet: written with the decision, cleared once the jobs
    /// exist. Whoever reads it non-empty creates them again, which their idempotency keys make harmless; storage only.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<DateTimeOffset> Firing { get; init; } = [];

    /// <summary>When the timer must look at the schedule next (its due row); null while paused; storage only.</summary>
    [JsonIgnore]
    public DateTimeOffset? DueAt => Paused ? null : Firing.Count > 0 ? UpdatedAt : Min(NextAt, HeldCheckAt);

    /// <summary>While an occurrence is held: when to look at the previous run again; storage only.</summary>
    [JsonIgnore]
    public DateTimeOffset? HeldCheckAt { get; init; }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;
}
