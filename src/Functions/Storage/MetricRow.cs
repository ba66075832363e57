using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Metrics;

namespace Jobs.Functions.Storage;

/// <summary>
/// A roll-up row of a list partition (docs/storage.md, "Metrics"), in <see cref="StorageClients.MetricsTable"/>:
/// PartitionKey = the all-jobs bucket or the owner's partition whose count deltas it rolls up, RowKey =
/// <c>met-m-{yyyyMMddHHmm}</c> or <c>met-h-{yyyyMMddHH}</c> (<see cref="MetricSlots"/>), one column per job type (<c>T0</c>,
/// <c>T1</c>, …: <see cref="TypeMetrics"/> as JSON), and <c>FoldSeq</c>: the last fold of that partition whose increments
/// (<see cref="PendingMetrics"/>) it holds. Written only by the aggregator, after the fold transaction of the deltas.
/// </summary>
public sealed class MetricRow(string rowKey, ETag? etag, Dictionary<string, TypeMetrics> byType)
{
    private const string ColumnPrefix = "T";

    /// <summary>The column holding <see cref="FoldSeq"/>.</summary>
    public const string FoldSeqColumn = "FoldSeq";

    public string RowKey { get; } = rowKey;

    /// <summary>The ETag it was read with; null when it is not stored yet.</summary>
    public ETag? ETag { get; set; } = etag;

    public Dictionary<string, TypeMetrics> ByType { get; } = byType;

    /// <summary>The partition's last fold whose increments this row holds (0: none, or written before folds were numbered).</summary>
    public long FoldSeq { get; set; }

    public static MetricRow Empty(string rowKey) => new(rowKey, null, new Dictionary<string, TypeMetrics>(StringComparer.Ordinal));

    public static MetricRow Read(TableEntity row)
    {
        var byType = new Dictionary<string, TypeMetrics>(StringComparer.Ordinal);
        foreach (var (name, value) in row)
        {
            if (name.StartsWith(ColumnPrefix, StringComparison.Ordinal) && name.Length > 1 && char.IsAsciiDigit(name[1]) && value is string json)
            {
                var (type, metrics) = TypeMetrics.FromJson(json);
                byType[type] = metrics;
            }
        }
        return new MetricRow(row.RowKey, row.ETag, byType) { FoldSeq = row.GetInt64(FoldSeqColumn) ?? 0 };
    }

    public void Apply(string type, MetricFact fact) => Of(type).Apply(fact);

    /// <summary>Adds <paramref name="metrics"/> to the row's <paramref name="type"/>.</summary>
    public void Add(string type, TypeMetrics metrics) => Of(type).Add(metrics);

    private TypeMetrics Of(string type)
    {
        if (!ByType.TryGetValue(type, out var metrics))
        {
            ByType[type] = metrics = new TypeMetrics();
        }
        return metrics;
    }

    public MetricRow Copy()
    {
        var copy = Empty(RowKey);
        copy.ETag = ETag;
        copy.FoldSeq = FoldSeq;
        foreach (var (type, metrics) in ByType)
        {
            var clone = new TypeMetrics();
            clone.Add(metrics);
            copy.ByType[type] = clone;
        }
        return copy;
    }

    /// <summary>The write of this row in a roll-up transaction: added when new, else replaced under the ETag it was read with.</summary>
    public TableTransactionAction ToAction(string partition)
    {
        var entity = new TableEntity(partition, RowKey) { [FoldSeqColumn] = FoldSeq };
        var column = 0;
        foreach (var (type, metrics) in ByType.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            entity[ColumnPrefix + column++] = metrics.ToJson(type);
        }
        return ETag is { } match
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, match)
            : new TableTransactionAction(TableTransactionActionType.Add, entity);
    }

    /// <summary>The roll-up rows a fact is counted in: its minute's and its hour's.</summary>
    public static IEnumerable<string> KeysOf(MetricFact fact) =>
        [MetricSlots.RowKey(MetricInterval.Minute, fact.At), MetricSlots.RowKey(MetricInterval.Hour, fact.At)];
}
