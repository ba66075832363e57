namespace Jobs.Functions.Schedules;

/// <summary>
/// What happens to occurrences missed while the service was down (due more than <see cref="ScheduleOptions.LateAfterSeconds"/>
/// ago when the timer finally saw them).
/// </summary>
public enum CatchUpPolicy
{
    /// <summary>Missed occurrences are skipped; the schedule goes on with the next one.</summary>
    None,

    /// <summary>One run for the most recent missed occurrence; the older ones are skipped.</summary>
    Latest,

    /// <summary>A run for each missed occurrence, at most <see cref="Schedule.CatchUpLimit"/> (the most recent ones).</summary>
    All,
}
