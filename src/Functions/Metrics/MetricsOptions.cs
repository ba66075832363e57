using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Metrics;

/// <summary>Metrics settings, bound from <c>Jobs:Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Jobs:Metrics";

    /// <summary>How long roll-up rows are kept (by the slot they count); older ones are pruned by the aggregator and not served.</summary>
    [Range(1.0, 3650.0)]
    public double KeepDays { get; set; } = 30;
}
