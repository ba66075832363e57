using Microsoft.Azure.Functions.Worker;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// A timer's schedule status as the host stores it (<c>ScheduleStatus</c>: <c>Last</c>, <c>Next</c>,
/// <c>LastUpdated</c>), times in the schedule's zone. <see cref="Unset"/> (the minimum time) means never: a timer that
/// has not fired yet has no <c>Last</c>.
/// </summary>
public sealed record ScheduleStatusRecord(DateTimeOffset Last, DateTimeOffset Next, DateTimeOffset LastUpdated)
{
    public static readonly DateTimeOffset Unset = DateTimeOffset.MinValue;

    /// <summary>The host counts anything within a year of the minimum as unset (<c>GetSafeStatusAsync</c>).</summary>
    public static bool IsUnset(DateTimeOffset value) => value < DateTimeOffset.MinValue.AddYears(1);

    /// <summary>The same status with near-minimum values made <see cref="Unset"/>.</summary>
    public ScheduleStatusRecord Sanitized() => new(
        IsUnset(Last) ? Unset : Last, IsUnset(Next) ? Unset : Next, IsUnset(LastUpdated) ? Unset : LastUpdated);

    /// <summary>
    /// What <c>TimerInfo.ScheduleStatus</c> carries to the function: local times of the process, as the worker reads
    /// the host's (in Azure the process's zone is the schedule's zone).
    /// </summary>
    public ScheduleStatus ToWorker() => new() { Last = Local(Last), Next = Local(Next), LastUpdated = Local(LastUpdated) };

    private static DateTime Local(DateTimeOffset value) => IsUnset(value) ? DateTime.MinValue : value.LocalDateTime;
}
