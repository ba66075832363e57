using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Maintenance;

/// <summary>Retention settings, bound from <c>Jobs:Retention</c>.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Jobs:Retention";

    /// <summary>Ended jobs older than this (by creation) are deleted with their logs, blobs and durable history.</summary>
    [Range(0.0, 3650.0)]
    public double MaxAgeDays { get; set; } = 30;

    /// <summary>Most jobs removed per run, so one run stays short; the next run continues.</summary>
    [Range(1, 100_000)]
    public int MaxPerRun { get; set; } = 5_000;
}
