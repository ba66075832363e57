using System.Text.Json;
using System.Text.Json.Serialization;

namespace Jobs.Functions.Metrics;

/// <summary>
/// What happened to jobs of one type in one slot (or a window of slots): how many were created, started and ended each
/// way, how long they waited to start (created → first start) and how long they ran (first start → end). Added up
/// from <see cref="MetricFact"/>s by the aggregator, and across slots, partitions and types by readers.
/// </summary>
public sealed class TypeMetrics
{
    public long Created { get; set; }
    public long Started { get; set; }
    public long Completed { get; set; }
    public long Failed { get; set; }
    public long Cancelled { get; set; }
    public long TimedOut { get; set; }
    public DurationHistogram QueueWait { get; private set; } = new();
    public DurationHistogram Duration { get; private set; } = new();

    public void Apply(MetricFact fact)
    {
        switch (fact.Kind)
        {
            case MetricKind.Created:
                Created++;
                return;
            case MetricKind.Started:
                Started++;
                QueueWait.Add(fact.Ms ?? 0);
                return;
            case MetricKind.Completed:
                Completed++;
                break;
            case MetricKind.Failed:
                Failed++;
                break;
            case MetricKind.Cancelled:
                Cancelled++;
                break;
            case MetricKind.TimedOut:
                TimedOut++;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fact), fact.Kind, "An unknown metric.");
        }
        if (fact.Ms is { } ran)
        {
            Duration.Add(ran); // an ending after a start: its run time
        }
    }

    public void Add(TypeMetrics other)
    {
        Created += other.Created;
        Started += other.Started;
        Completed += other.Completed;
        Failed += other.Failed;
        Cancelled += other.Cancelled;
        TimedOut += other.TimedOut;
        QueueWait.Add(other.QueueWait);
        Duration.Add(other.Duration);
    }

    /// <summary>The stored form: compact JSON (one column per type in a roll-up row).</summary>
    public string ToJson(string type) => JsonSerializer.Serialize(new Stored(type, Created, Started, Completed, Failed, Cancelled, TimedOut,
        new StoredHistogram(QueueWait.Buckets, QueueWait.SumMs, QueueWait.MaxMs), new StoredHistogram(Duration.Buckets, Duration.SumMs, Duration.MaxMs)));

    /// <summary>Reads <see cref="ToJson"/>'s form; the type it is of and its values.</summary>
    public static (string Type, TypeMetrics Metrics) FromJson(string json)
    {
        var stored = JsonSerializer.Deserialize<Stored>(json) ?? throw new JsonException("An empty metrics column.");
        return (stored.T, new TypeMetrics
        {
            Created = stored.Cr,
            Started = stored.St,
            Completed = stored.Co,
            Failed = stored.Fa,
            Cancelled = stored.Ca,
            TimedOut = stored.To,
            QueueWait = new DurationHistogram(stored.Qw.B, stored.Qw.S, stored.Qw.M),
            Duration = new DurationHistogram(stored.Du.B, stored.Du.S, stored.Du.M),
        });
    }

    private sealed record Stored(
        [property: JsonPropertyName("t")] string T,
        [property: JsonPropertyName("cr")] long Cr,
        [property: JsonPropertyName("st")] long St,
        [property: JsonPropertyName("co")] long Co,
        [property: JsonPropertyName("fa")] long Fa,
        [property: JsonPropertyName("ca")] long Ca,
        [property: JsonPropertyName("to")] long To,
        [property: JsonPropertyName("qw")] StoredHistogram Qw,
        [property: JsonPropertyName("du")] StoredHistogram Du);

    private sealed record StoredHistogram(
        [property: JsonPropertyName("b")] long[] B,
        [property: JsonPropertyName("s")] long S,
        [property: JsonPropertyName("m")] long M);
}
