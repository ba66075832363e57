using Jobs.Functions.Model;

namespace Jobs.Functions.Metrics;

/// <summary>What a metric counts.</summary>
public enum MetricKind
{
    Created,
    Started,
    Completed,
    Failed,
    Cancelled,
    TimedOut,
}

/// <summary>
/// One thing that happened to a job, when it happened, and the duration it measures: queue wait for
/// <see cref="MetricKind.Started"/>, run time for an ending (null when the job never started).
/// </summary>
public sealed record MetricFact(MetricKind Kind, DateTimeOffset At, long? Ms)
{
    /// <summary>
    /// The facts one projected status change adds, in a partition that showed <paramref name="from"/> (null: the job was
    /// not there) and now shows <paramref name="to"/> (null: the job left it, which un-happens nothing). A partition sees
    /// each job's statuses in lifecycle order, but may skip some (a late projection goes from pending straight to an
    /// ending), so facts follow from the statuses crossed, timed by the record: created at <c>createdAt</c>, started at
    /// <c>startedAt</c> with its wait since creation, ended at <c>endedAt</c> with its run since the start. Every
    /// crossing is projected once per partition (the marker), so each fact is counted once.
    /// </summary>
    public static IReadOnlyList<MetricFact> Of(JobStatus? from, JobStatus? to, DateTimeOffset? createdAt, DateTimeOffset? startedAt, DateTimeOffset? endedAt)
    {
        if (to is not { } reached || createdAt is not { } created)
        {
            return [];
        }
        var facts = new List<MetricFact>();
        if (from is null)
        {
            facts.Add(new MetricFact(MetricKind.Created, created, null));
        }
        // A job has started once it ran a step or waited for a decision (waiting is part of its run).
        var startedBefore = from is JobStatus.Running or JobStatus.Waiting || (from?.IsTerminal() ?? false);
        if (!startedBefore && startedAt is { } started && (reached is JobStatus.Running or JobStatus.Waiting || reached.IsTerminal()))
        {
            facts.Add(new MetricFact(MetricKind.Started, started, Milliseconds(started - created)));
        }
        if (reached.IsTerminal() && !(from?.IsTerminal() ?? false) && endedAt is { } ended)
        {
            facts.Add(new MetricFact(EndingOf(reached), ended, startedAt is { } ran ? Milliseconds(ended - ran) : null));
        }
        return facts;
    }

    private static MetricKind EndingOf(JobStatus status) => status switch
    {
        JobStatus.Completed => MetricKind.Completed,
        JobStatus.Failed => MetricKind.Failed,
        JobStatus.Cancelled => MetricKind.Cancelled,
        _ => MetricKind.TimedOut,
    };

    private static long Milliseconds(TimeSpan span) => Math.Max(0, (long)span.TotalMilliseconds);
}
