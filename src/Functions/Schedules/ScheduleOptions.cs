using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Schedules;

/// <summary>Schedule settings, bound from <c>Jobs:Schedules</c>.</summary>
public sealed class ScheduleOptions
{
    public const string Section = "Jobs:Schedules";

    /// <summary>
    /// An occurrence the timer sees later than this after its time was missed (the service was down): the schedule's
    /// catch-up policy decides it. Sooner, it runs as usual.
    /// </summary>
    [Range(1, 86_400)]
    public int LateAfterSeconds { get; set; } = 60;

    /// <summary>How far back missed occurrences are looked for; older ones are skipped whatever the policy.</summary>
    [Range(1, 24 * 31)]
    public int CatchUpWindowHours { get; set; } = 24;

    /// <summary>While an occurrence is held (<see cref="OverlapPolicy.Queue"/>): how often the previous run is looked at.</summary>
    [Range(1, 3_600)]
    public int HoldRecheckSeconds { get; set; } = 5;

    /// <summary>Most schedules one owner may have.</summary>
    [Range(1, 10_000)]
    public int MaxPerOwner { get; set; } = 100;

    /// <summary>Most schedules one timer run handles; the next run (seconds later) continues.</summary>
    [Range(1, 10_000)]
    public int MaxPerRun { get; set; } = 200;

    /// <summary>
    /// Accept cron expressions that fire more than once a minute (a seconds field with more than one value). Off by
    /// default: a job per second is rarely meant. Tests turn it on for seconds-level schedules.
    /// </summary>
    public bool AllowSubMinute { get; set; }
}
