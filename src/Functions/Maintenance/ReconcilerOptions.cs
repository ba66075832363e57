using System.ComponentModel.DataAnnotations;

namespace Jobs.Functions.Maintenance;

/// <summary>Reconciler settings, bound from <c>Jobs:Reconciler</c>.</summary>
public sealed class ReconcilerOptions
{
    public const string Section = "Jobs:Reconciler";

    /// <summary>
    /// How long a live job may go without a record write before its orchestration is checked, and how long a
    /// pending job may wait for its orchestration to appear before it is started by the reconciler.
    /// </summary>
    [Range(0.0, 86_400.0)]
    public double GraceSeconds { get; set; } = 60;

    /// <summary>Most live-job rows visited per run; the next run continues.</summary>
    [Range(1, 100_000)]
    public int MaxPerRun { get; set; } = 1_000;

    /// <summary>
    /// Minutes between recounts of the all-jobs counters from the list rows (a repair that reads one row per job; 0:
    /// never). Counts are kept with the transitions; this only catches drift (docs/storage.md, "Counts").
    /// </summary>
    [Range(0, 100_000)]
    public int RecountMinutes { get; set; } = 60;
}
