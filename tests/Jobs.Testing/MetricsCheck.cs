using System.Globalization;
using System.Text.Json.Nodes;
using Jobs.Functions.Metrics;
using Jobs.Functions.Storage;

namespace Jobs.Testing;

/// <summary>
/// Metrics judged against the jobs themselves: a walk of the records (created, started and ended times, statuses) counted
/// per type and slot as <c>GET /api/metrics</c> should count them, written as sorted lines so a mismatch shows where.
/// </summary>
public static class MetricsCheck
{
    /// <summary>What the roll-ups should say of <paramref name="jobs"/> (each as <c>GET /api/jobs/{id}</c> returns it), one line per type and slot.</summary>
    public static string Expected(IEnumerable<JsonNode> jobs, MetricInterval interval)
    {
        var counts = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        void Count(string type, DateTimeOffset at, int kind)
        {
            var key = type + " " + MetricSlots.Floor(at, interval).ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);
            if (!counts.TryGetValue(key, out var values))
            {
                counts[key] = values = new long[6];
            }
            values[kind]++;
        }
        foreach (var job in jobs)
        {
            var type = (string)job["type"]!;
            Count(type, Time(job, "createdAt")!.Value, 0);
            if (Time(job, "startedAt") is { } started)
            {
                Count(type, started, 1);
            }
            if (Time(job, "completedAt") is { } ended)
            {
                Count(type, ended, (string)job["status"]! switch
                {
                    "completed" => 2,
                    "failed" => 3,
                    "cancelled" => 4,
                    _ => 5,
                });
            }
        }
        return string.Join("\n", counts.Select(c => c.Key + " " + string.Join(",", c.Value)));
    }

    /// <summary>The same lines from a <c>GET /api/metrics</c> body.</summary>
    public static string Actual(JsonNode metrics) => string.Join("\n", metrics["series"]!.AsArray()
        .SelectMany(series => series!["points"]!.AsArray().Select(point =>
            (string)series["type"]! + " " + Time(point!, "at")!.Value.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture) + " "
            + string.Join(",", new[] { "created", "started", "completed", "failed", "cancelled", "timedOut" }.Select(k => (long)point![k]!))))
        .Order(StringComparer.Ordinal));

    /// <summary>The same lines from what <c>JobMetrics.ReadAsync</c> read (the roll-ups, without the API).</summary>
    public static string Actual(MetricSeriesSet metrics) => string.Join("\n", metrics.ByType
        .SelectMany(series => series.Value.Select(point =>
            series.Key + " " + point.Key.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture) + " "
            + string.Join(",", new[] { point.Value.Created, point.Value.Started, point.Value.Completed, point.Value.Failed, point.Value.Cancelled, point.Value.TimedOut })))
        .Order(StringComparer.Ordinal));

    /// <summary>Per type, the p50 and p95 of queue wait and duration the walk's times give, through the same buckets.</summary>
    public static string ExpectedPercentiles(IEnumerable<JsonNode> jobs) => string.Join("\n", jobs.GroupBy(j => (string)j["type"]!).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
    {
        var (wait, ran) = (new DurationHistogram(), new DurationHistogram());
        foreach (var job in g)
        {
            if (Time(job, "startedAt") is { } started)
            {
                wait.Add((long)(started - Time(job, "createdAt")!.Value).TotalMilliseconds);
                if (Time(job, "completedAt") is { } ended)
                {
                    ran.Add((long)(ended - started).TotalMilliseconds);
                }
            }
        }
        return $"{g.Key} wait {Format(wait.Percentile(0.5))}/{Format(wait.Percentile(0.95))} ran {Format(ran.Percentile(0.5))}/{Format(ran.Percentile(0.95))}";
    }));

    /// <summary>The same from a <c>GET /api/metrics</c> body's totals.</summary>
    public static string ActualPercentiles(JsonNode metrics) => string.Join("\n", metrics["series"]!.AsArray().Select(s =>
    {
        var totals = s!["totals"]!;
        return $"{s["type"]} wait {Format((double?)totals["queueWait"]!["p50Ms"])}/{Format((double?)totals["queueWait"]!["p95Ms"])} ran {Format((double?)totals["duration"]!["p50Ms"])}/{Format((double?)totals["duration"]!["p95Ms"])}";
    }));

    private static string Format(double? ms) => ms is { } value ? value.ToString("F1", CultureInfo.InvariantCulture) : "-";

    private static DateTimeOffset? Time(JsonNode node, string name) =>
        node[name] is { } value ? DateTimeOffset.Parse((string)value!, CultureInfo.InvariantCulture) : null;
}
