using Jobs.Functions.Model;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// The events a subscription can ask for, and the status change each one is. Their CloudEvents <c>type</c> is the name
/// with the prefix <c>jobs.</c> (<c>jobs.job.completed</c>).
/// </summary>
public static class WebhookEvents
{
    public const string Started = "job.started";
    public const string Completed = "job.completed";
    public const string Failed = "job.failed";
    public const string Cancelled = "job.cancelled";
    public const string TimedOut = "job.timed_out";

    /// <summary>
    /// A running job's progress changed: optional, throttled to at most one per job per
    /// <see cref="WebhookOptions.ProgressIntervalSeconds"/>, not a status change (<see cref="Of"/> never returns it).
    /// </summary>
    public const string Progress = "job.progress";

    /// <summary>The prefix of the CloudEvents <c>type</c> (and of the <c>source</c>'s meaning: this service's jobs).</summary>
    public const string TypePrefix = "jobs.";

    public static IReadOnlyList<string> All { get; } = [Started, Completed, Failed, Cancelled, TimedOut, Progress];

    /// <summary>The event a change from <paramref name="from"/> to <paramref name="to"/> is, or null when it is none.</summary>
    public static string? Of(JobStatus? from, JobStatus to) => to switch
    {
        // A job starts once: at the first of running or waiting (a job whose first step to run asks a decision waits before
        // it runs, as the metrics and startedAt count it); back from waiting, or waiting again, is no new start.
        JobStatus.Running or JobStatus.Waiting when from is not (JobStatus.Running or JobStatus.Waiting) => Started,
        JobStatus.Completed => Completed,
        JobStatus.Failed => Failed,
        JobStatus.Cancelled => Cancelled,
        JobStatus.TimedOut => TimedOut,
        _ => null,
    };

    /// <summary>The CloudEvents <c>type</c> of an event name.</summary>
    public static string CloudEventType(string name) => TypePrefix + name;
}
