using Azure.Data.Tables;
using Jobs.Functions.Metrics;

namespace Jobs.Functions.Storage;

/// <summary>
/// Reads the roll-ups (<see cref="MetricRow"/>, in <see cref="StorageClients.MetricsTable"/>) of a scope: the all-jobs
/// buckets for all jobs, the owner's partitions for an owner — one range read of one family per partition, never the jobs. They are what the aggregator folded on its
/// last run (the reconciler's, every minute): a change is in them within one reconciler period.
/// </summary>
public sealed class JobMetrics(StorageClients clients, IndexLayout layout)
{
    private readonly TableClient _table = clients.MetricsTable;

    /// <summary>The slots [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="interval"/>, for <paramref name="types"/> (empty: every type).</summary>
    public async Task<MetricSeriesSet> ReadAsync(JobListScope scope, MetricInterval interval, DateTimeOffset from, DateTimeOffset to,
        IReadOnlySet<string> types, CancellationToken cancellationToken)
    {
        if (scope is JobListScope.Entity or JobListScope.Tag)
        {
            throw new ArgumentException("Entity and tag partitions keep no metrics.", nameof(scope));
        }
        var (first, end) = (MetricSlots.RowKey(interval, from), MetricSlots.RowKey(interval, to));
        var parts = await Task.WhenAll(layout.PartitionsOf(scope).Select(async partition =>
        {
            var rows = new List<MetricRow>();
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {first} and RowKey lt {end}");
            await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                rows.Add(MetricRow.Read(row));
            }
            return rows;
        }));
        var byType = new Dictionary<string, SortedDictionary<DateTimeOffset, TypeMetrics>>(StringComparer.Ordinal);
        foreach (var row in parts.SelectMany(p => p))
        {
            if (!MetricSlots.TryParseRowKey(row.RowKey, out _, out var slot))
            {
                continue;
            }
            foreach (var (type, metrics) in row.ByType)
            {
                if (types.Count > 0 && !types.Contains(type))
                {
                    continue;
                }
                if (!byType.TryGetValue(type, out var series))
                {
                    byType[type] = series = [];
                }
                if (!series.TryGetValue(slot, out var sum))
                {
                    series[slot] = sum = new TypeMetrics();
                }
                sum.Add(metrics);
            }
        }
        return new MetricSeriesSet(byType);
    }
}
