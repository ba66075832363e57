using Jobs.Functions.Metrics;

namespace Jobs.Functions.Storage;

/// <summary>What a metrics read returns: per job type, its roll-ups by slot start.</summary>
public sealed class MetricSeriesSet(IReadOnlyDictionary<string, SortedDictionary<DateTimeOffset, TypeMetrics>> byType)
{
    public IReadOnlyDictionary<string, SortedDictionary<DateTimeOffset, TypeMetrics>> ByType { get; } = byType;
}
