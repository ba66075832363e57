namespace Jobs.Functions.Model;

/// <summary>
/// The lifecycle of a job: draft → pending → (queued →) running (⇄ waiting) → one terminal state. A job waits
/// <see cref="Queued"/> while its type's concurrency limit or a pause holds it back (<c>Concurrency/JobSlots</c>), and
/// <see cref="Waiting"/> while a step waits for a person's decision (<see cref="JobDecision"/>).
/// </summary>
/// <remarks>Serialized in snake_case (<c>timed_out</c>) by <see cref="JobJson"/>.</remarks>
public enum JobStatus
{
    Draft,
    Pending,
    Queued,
    Running,
    Waiting,
    Completed,
    Failed,
    Cancelled,
    TimedOut,
}

/// <summary>Rules about states that every writer shares.</summary>
public static class JobStatusExtensions
{
    /// <summary>Terminal states never change again.</summary>
    public static bool IsTerminal(this JobStatus status) =>
        status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled or JobStatus.TimedOut;

    /// <summary>The wire name of a status, as clients send and receive it.</summary>
    public static string ToWire(this JobStatus status) => JobJson.EnumNaming.ConvertName(status.ToString());

    /// <summary>Every wire name, comma-separated, for error messages that list the valid statuses.</summary>
    public static string WireNames { get; } = string.Join(", ", Enum.GetValues<JobStatus>().Select(s => s.ToWire()));

    /// <summary>Parses a wire name (<c>timed_out</c>); false for anything else.</summary>
    public static bool TryParseWire(string? value, out JobStatus status)
    {
        foreach (var candidate in Enum.GetValues<JobStatus>())
        {
            if (string.Equals(candidate.ToWire(), value, StringComparison.Ordinal))
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }
}
