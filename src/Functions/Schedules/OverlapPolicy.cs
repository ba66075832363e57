namespace Jobs.Functions.Schedules;

/// <summary>What an occurrence does while the schedule's previous run is still pending or running.</summary>
public enum OverlapPolicy
{
    /// <summary>The occurrence is skipped (counted in <see cref="Schedule.SkippedCount"/>).</summary>
    Skip,

    /// <summary>
    /// The occurrence is held and its run created as soon as the previous run ends (checked every
    /// <see cref="ScheduleOptions.HoldRecheckSeconds"/>). At most one is held: a newer occurrence replaces it, the older
    /// one is skipped.
    /// </summary>
    Queue,

    /// <summary>The run is created anyway; runs may overlap.</summary>
    Allow,
}
