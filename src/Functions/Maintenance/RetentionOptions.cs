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

    /// <summary>
    /// Days the deletion log keeps the entry that says who deleted a job (and when, with its owner and type), after the
    /// job and its own audit trail are gone. Older days' entries are removed by the retention run, at most
    /// <see cref="MaxPerRun"/> a run.
    /// </summary>
    [Range(1, 3650)]
    public int DeletionLogDays { get; set; } = 365;
}
