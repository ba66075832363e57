using System.ComponentModel.DataAnnotations;
using Jobs.Functions.Metrics;

namespace Jobs.Functions.Api;

/// <summary>
/// Durations of a set of jobs, from the roll-ups' fixed buckets: how many, their mean, and p50/p95 interpolated inside
/// the bucket that holds the rank (<see cref="DurationHistogram"/>), never above <see cref="MaxMs"/>. Absent when none.
/// </summary>
public sealed record DurationSummary(long Count, double? MeanMs, double? P50Ms, double? P95Ms, long? MaxMs)
{
    public static DurationSummary Of(DurationHistogram histogram) => histogram.Count == 0
        ? new DurationSummary(0, null, null, null, null)
        : new DurationSummary(histogram.Count, histogram.MeanMs, histogram.Percentile(0.5), histogram.Percentile(0.95), histogram.MaxMs);
}

/// <summary>
/// One slot of one job type: jobs created, started (created → first start: <see cref="QueueWait"/>) and ended each way
/// (first start → end: <see cref="Duration"/>) in [<see cref="At"/>, <see cref="At"/> + interval).
/// </summary>
public sealed record MetricPoint(
    DateTimeOffset At, long Created, long Started, long Completed, long Failed, long Cancelled, long TimedOut,
    DurationSummary QueueWait, DurationSummary Duration)
{
    public static MetricPoint Of(DateTimeOffset at, TypeMetrics m) => new(at, m.Created, m.Started, m.Completed, m.Failed, m.Cancelled, m.TimedOut,
        DurationSummary.Of(m.QueueWait), DurationSummary.Of(m.Duration));
}

/// <summary>A type's whole window: its points added up, percentiles over every duration in the window.</summary>
public sealed record MetricTotals(
    long Created, long Started, long Completed, long Failed, long Cancelled, long TimedOut, DurationSummary QueueWait, DurationSummary Duration)
{
    public static MetricTotals Of(TypeMetrics m) => new(m.Created, m.Started, m.Completed, m.Failed, m.Cancelled, m.TimedOut,
        DurationSummary.Of(m.QueueWait), DurationSummary.Of(m.Duration));
}

/// <summary>One job type's points (only slots where something happened, oldest first) and its totals over the window.</summary>
public sealed record MetricSeries(string Type, MetricTotals Totals, IReadOnlyList<MetricPoint> Points);

/// <summary>
/// The body of <c>GET /api/metrics</c>: the window [<see cref="From"/>, <see cref="To"/>) in slots of
/// <see cref="Interval"/>, for the caller's scope (as <c>GET /api/jobs/stats</c>: <c>all</c> for admins, or
/// <c>owner</c>). Rolled up from the jobs' changes by the aggregator on every reconciler run, so
/// <see cref="Consistency"/> is <c>periodic</c>: a change is counted within one reconciler period.
/// </summary>
public sealed record MetricsView(
    [property: AllowedValues(JobStatsView.AllScope, JobStatsView.OwnerScope)] string Scope,
    string? Owner,
    [property: AllowedValues("minute", "hour")] string Interval,
    DateTimeOffset From, DateTimeOffset To,
    [property: AllowedValues(JobStatsView.Periodic)] string Consistency,
    IReadOnlyList<MetricSeries> Series);
