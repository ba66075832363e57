namespace Jobs.Functions.Lifecycle;

/// <summary>
/// A job's deadline, computed here only: the handler's timeout for the job's input, counted from when the job was
/// submitted (created pending, or a draft submitted) — or from its scheduled start (<c>notBefore</c>) when that is
/// later. A draft has none. Pure, so the orchestration may use it too.
/// </summary>
public static class JobDeadline
{
    /// <summary>When a job submitted at <paramref name="submittedAt"/> may start: its <c>notBefore</c> if that is later.</summary>
    public static DateTimeOffset StartAt(DateTimeOffset? notBefore, DateTimeOffset submittedAt) =>
        notBefore is { } time && time > submittedAt ? time : submittedAt;

    /// <summary>The deadline of a job with this <paramref name="timeout"/>, submitted at <paramref name="submittedAt"/>.</summary>
    public static DateTimeOffset For(TimeSpan timeout, DateTimeOffset submittedAt, DateTimeOffset? notBefore) =>
        StartAt(notBefore, submittedAt) + timeout;

    /// <summary>True from the deadline on: a job may run until just before it.</summary>
    public static bool HasPassed(DateTimeOffset deadline, DateTimeOffset now) => now >= deadline;
}
