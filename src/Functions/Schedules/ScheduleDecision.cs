namespace Jobs.Functions.Schedules;

/// <summary>
/// What a schedule does at a moment: which occurrences get a run, which are held or skipped, and when it is looked at
/// next. Pure (no clock, no storage), so every policy is tested with plain values; <see cref="ScheduleFiring"/> applies it.
/// </summary>
public static class ScheduleDecision
{
    /// <summary>Whether the timer has something to do for the schedule at <paramref name="now"/>.</summary>
    public static bool IsDue(Schedule schedule, DateTimeOffset now) =>
        !schedule.Paused && (schedule.Firing.Count > 0 || schedule.NextAt <= now || schedule.HeldCheckAt <= now);

    /// <summary>
    /// Decides the occurrences due at <paramref name="now"/> (from <see cref="Schedule.NextAt"/>), and a held one, given
    /// whether the schedule's previous run is still pending or running. The result's <see cref="Schedule.Firing"/> lists
    /// the occurrences to create runs for, oldest first.
    /// <list type="bullet">
    /// <item>An occurrence seen within <see cref="ScheduleOptions.LateAfterSeconds"/> of its time is on time and runs.</item>
    /// <item>Older ones were missed (downtime): <see cref="CatchUpPolicy"/> picks none, the latest, or the most recent
    /// <see cref="Schedule.CatchUpLimit"/>; none older than <see cref="ScheduleOptions.CatchUpWindowHours"/> is looked at.</item>
    /// <item>Then, oldest first, each chosen occurrence meets <see cref="OverlapPolicy"/>: the run it would overlap is the
    /// previous run, or the one just chosen before it (catch-up runs created at once overlap each other).</item>
    /// </list>
    /// </summary>
    public static Schedule Decide(Schedule schedule, ScheduleTimes times, DateTimeOffset now, bool previousRunLive, ScheduleOptions options)
    {
        var due = new List<DateTimeOffset>();
        var nextAt = schedule.NextAt;
        if (nextAt is { } next && next <= now)
        {
            // Walked from one occurrence to the next (not a range query from NextAt): an occurrence moved by the spring
            // change (02:30 run at 03:00) is only found from before it, and NextAt already is it.
            var windowStart = now - TimeSpan.FromHours(options.CatchUpWindowHours);
            for (DateTimeOffset? at = next < windowStart ? times.Next(windowStart.AddTicks(-1)) : next; at <= now; at = times.Next(at.Value))
            {
                due.Add(at!.Value);
            }
            nextAt = times.Next(now);
        }
        var lateBefore = now - TimeSpan.FromSeconds(options.LateAfterSeconds);
        var onTime = due.Where(t => t >= lateBefore).ToList();
        var missed = due.Where(t => t < lateBefore).ToList();
        IEnumerable<DateTimeOffset> caughtUp = schedule.CatchUp switch
        {
            CatchUpPolicy.None => [],
            CatchUpPolicy.Latest => onTime.Count > 0 ? [] : missed.TakeLast(1),
            _ => missed.TakeLast(schedule.CatchUpLimit),
        };
        var chosen = caughtUp.Concat(onTime).ToList();
        var skipped = (long)due.Count - chosen.Count;

        var fire = new List<DateTimeOffset>();
        var held = schedule.Overlap == OverlapPolicy.Queue ? schedule.HeldOccurrence : null;
        var live = previousRunLive;
        if (held is { } waiting && !live)
        {
            fire.Add(waiting);
            held = null;
            live = true;
        }
        foreach (var occurrence in chosen)
        {
            if (!live || schedule.Overlap == OverlapPolicy.Allow)
            {
                fire.Add(occurrence);
                live = true;
            }
            else if (schedule.Overlap == OverlapPolicy.Queue)
            {
                // One held at most: the newer occurrence replaces it.
                skipped += held is null ? 0 : 1;
                held = occurrence;
            }
            else
            {
                skipped++;
            }
        }
        return schedule with
        {
            Firing = fire,
            NextAt = nextAt,
            HeldOccurrence = held,
            HeldCheckAt = held is null ? null : now + TimeSpan.FromSeconds(options.HoldRecheckSeconds),
            SkippedCount = schedule.SkippedCount + skipped,
            UpdatedAt = now,
        };
    }
}
